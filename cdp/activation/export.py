"""Exporting a segment: members, treatment / control, suppression, packs, manifest, history.

``export_segment`` runs the whole chain for one segment as of the marts' as-of day and writes
``<workspace>/exports/<segment>/<run id>/``; the run id is the as-of day and the definition
hash, so exporting again with the same definition, rules and data rewrites byte-identical
files. The folder appears complete, manifest included, or not at all (``staging``). It records the run in ``gold.segment_runs``, the members (with their group) in
``gold.segment_membership`` and the touches it plans in ``gold.touches``; each replaces what an
earlier export of the same segment for the same as-of day recorded (and leaves the tables
untouched when nothing changed), so re-running never counts twice.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp.activation import packs, segments, split, staging, suppression
from cdp.activation import rules as r
from cdp.config import ConfigError, Settings
from cdp.lakehouse import IDENTITY_MAP, Lakehouse, Table
from cdp.lakehouse import SEGMENT_MEMBERSHIP as MEMBERSHIP

RUNS = Table("gold", "segment_runs")
TOUCHES = Table("gold", "touches")
CONSENT = Table("silver", "consent")
FOLLOWERS = Table("silver", "followers")
EVENTS = Table("silver", "events")
MEMBERSHIP_SCHEMA = pa.schema([("segment", pa.string()), ("run_id", pa.string()),
                               ("as_of", pa.date32()), ("one_id", pa.string()),
                               ("group", pa.string()), ("stratum", pa.string())])
TOUCHES_SCHEMA = pa.schema([("one_id", pa.string()), ("channel", pa.string()),
                            ("touched_at", pa.timestamp("us", tz="UTC")),
                            ("run_id", pa.string()), ("segment", pa.string()),
                            ("as_of", pa.date32())])
RUNS_SCHEMA = pa.schema([("segment", pa.string()), ("run_id", pa.string()),
                         ("as_of", pa.date32()), ("definition_sha256", pa.string()),
                         ("send_at", pa.timestamp("us", tz="UTC")), ("members", pa.int64()),
                         ("treatment", pa.int64()), ("control", pa.int64()),
                         ("exported", pa.int64())])
CONTACT_COLUMNS = ("one_id", "phone", "name", "member_card_no", "tier")
Progress = Callable[[str], None]


def exports_dir(settings: Settings) -> Path:
    return settings.workspace / "exports"


@contextmanager
def open_marts(settings: Settings):
    """The marts DuckDB file, read-only."""
    if not settings.marts_db.exists():
        raise FileNotFoundError(f"{settings.marts_db}: no marts yet; run `cdp marts build`")
    con = duckdb.connect(str(settings.marts_db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def identity_lookup(lakehouse: Lakehouse) -> segments.IdentifierLookup:
    """Resolve identifier pairs to OneIDs through silver.identity_map."""

    def lookup(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found = lakehouse.scan(IDENTITY_MAP, ["identifier_type", "identifier_value", "one_id"],
                      pc.field("identifier_value").isin(sorted({v for _, v in pairs})))
        wanted = set(pairs)
        return {(t, v): o for t, v, o in zip(*(found.column(c).to_pylist() for c in
                                               ("identifier_type", "identifier_value", "one_id")))
                if (t, v) in wanted}

    return lookup


def _suppression_inputs(lakehouse: Lakehouse, audience: pa.Table) -> suppression.Inputs:
    wechat = pc.field("source") == "wechat"
    return suppression.Inputs(
        audience=audience,
        identity_map=lakehouse.scan(IDENTITY_MAP,
                           ["identifier_type", "identifier_value", "one_id"],
                           pc.field("identifier_type").isin(["phone", "openid", "email",
                                                             "member_card"])),
        consent=lakehouse.scan(CONSENT, ["identifier_type", "identifier_value",
                                           "identifier_is_valid", "channel", "status",
                                           "occurred_at"]),
        followers=lakehouse.scan(FOLLOWERS, ["app_id", "openid", "is_subscribed",
                                               "subscribed_at"]),
        wechat_events=lakehouse.scan(EVENTS, ["app_id", "openid", "event_type",
                                                "occurred_at"], wechat),
        touches=lakehouse.scan(TOUCHES, TOUCHES_SCHEMA.names, schema=TOUCHES_SCHEMA),
    )


# -- history ------------------------------------------------------------------------------------
def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def record_run(lakehouse: Lakehouse, manifest: dict, groups: pa.Table, touched: pa.Table,
               touched_at: datetime) -> None:
    """The run, its membership and its touches, replacing those of an earlier export of the
    same segment for the same as-of day (the run is recorded even when nobody is in it, so
    that everyone can be seen leaving)."""
    segment, run_id = manifest["segment"], manifest["run_id"]
    as_of = date.fromisoformat(manifest["as_of"])
    counts = manifest["counts"]
    same_day = f"segment = {_quoted(segment)} AND as_of = '{as_of.isoformat()}'"
    same_day_rows = (pc.field("segment") == segment) & (pc.field("as_of") == as_of)
    run = pa.table({"segment": [segment], "run_id": [run_id], "as_of": [as_of],
                    "definition_sha256": [manifest["definition_sha256"]],
                    "send_at": [touched_at], "members": [counts["segment"]],
                    "treatment": [counts["treatment"]], "control": [counts["control"]],
                    "exported": [counts["exported"]]}, schema=RUNS_SCHEMA)
    lakehouse.replace_rows(RUNS, run, same_day, same_day_rows)
    n = groups.num_rows
    membership = pa.table({
        "segment": pa.array([segment] * n, pa.string()),
        "run_id": pa.array([run_id] * n, pa.string()),
        "as_of": pa.array([as_of] * n, pa.date32()),
        "one_id": groups.column("one_id"), "group": groups.column("group"),
        "stratum": groups.column("stratum")}, schema=MEMBERSHIP_SCHEMA)
    lakehouse.replace_rows(MEMBERSHIP, membership, same_day, same_day_rows)
    m = touched.num_rows
    touches = pa.table({
        "one_id": touched.column("one_id"), "channel": touched.column("channel"),
        "touched_at": pa.array([touched_at] * m, pa.timestamp("us", tz="UTC")),
        "run_id": pa.array([run_id] * m, pa.string()),
        "segment": pa.array([segment] * m, pa.string()),
        "as_of": pa.array([as_of] * m, pa.date32())}, schema=TOUCHES_SCHEMA)
    lakehouse.replace_rows(TOUCHES, touches, same_day, same_day_rows)


@dataclass
class MembershipChanges:
    segment: str
    previous: tuple[str, date] | None  # (run id, as-of day)
    latest: tuple[str, date] | None
    entered: list[str]
    left: list[str]

    def summary(self) -> str:
        if self.latest is None:
            return f"{self.segment}: never exported"
        if self.previous is None:
            return f"{self.segment}: one run so far ({self.latest[0]}, as of {self.latest[1]})"
        return (f"{self.segment}: {len(self.entered):,} entered, {len(self.left):,} left between "
                f"{self.previous[0]} (as of {self.previous[1]}) and {self.latest[0]} "
                f"(as of {self.latest[1]})")


def membership_changes(lakehouse: Lakehouse, segment: str) -> MembershipChanges:
    """Who entered and who left the segment between its two latest runs (by as-of day)."""
    of_segment = pc.field("segment") == segment
    runs_of_segment = lakehouse.scan(RUNS, ["run_id", "as_of"], of_segment,
                            schema=RUNS_SCHEMA)
    with duckdb.connect() as con:
        con.register("runs", runs_of_segment)
        runs = con.sql("SELECT run_id, as_of FROM runs ORDER BY as_of DESC LIMIT 2").fetchall()
        if len(runs) < 2:
            return MembershipChanges(segment, None, tuple(runs[0]) if runs else None, [], [])
        (latest_run, _), (previous_run, _) = runs
        con.register("membership", lakehouse.scan(
            MEMBERSHIP, ["run_id", "one_id"],
            of_segment & pc.field("run_id").isin([latest_run, previous_run]),
            schema=MEMBERSHIP_SCHEMA))

        def difference(a: str, b: str) -> list[str]:
            return [one_id for (one_id,) in con.execute(
                "SELECT one_id FROM membership WHERE run_id = ? EXCEPT "
                "SELECT one_id FROM membership WHERE run_id = ? ORDER BY 1", [a, b]).fetchall()]

        return MembershipChanges(segment, tuple(runs[1]), tuple(runs[0]),
                                 difference(latest_run, previous_run),
                                 difference(previous_run, latest_run))


# -- packs --------------------------------------------------------------------------------------
#: marketer packs: channel -> (columns, column widths in the XLSX)
PACK_COLUMNS = {
    "sms": (("one_id", "phone", "name"), (20, 14, 12)),
    "pos": (("one_id", "member_card_no", "name", "tier"), (20, 16, 12, 10)),
    "wechat_template": (("one_id", "app_id", "openid", "name"), (20, 22, 32, 12)),
    "wechat_cs": (("one_id", "app_id", "openid", "name", "last_interaction_at"),
                  (20, 22, 32, 12, 20)),
}


def _pack_rows(con: duckdb.DuckDBPyConnection, channel: str) -> dict[str, list[tuple]]:
    """The rows of a marketer pack, per file stem, sorted by one_id."""
    select = {
        "sms": "r.one_id, r.address, a.name",
        "pos": "r.one_id, r.address, a.name, a.tier",
        "wechat_template": "r.one_id, r.app_id, r.address, a.name",
        "wechat_cs": ("r.one_id, r.app_id, r.address, a.name, strftime(r.last_interaction_at "
                      "AT TIME ZONE 'Asia/Shanghai', '%Y-%m-%d %H:%M:%S')"),
    }[channel]
    rows = con.execute(f"SELECT r.app_id, {select} FROM reached AS r JOIN audience AS a "
                       f"USING (one_id) WHERE r.channel = ? ORDER BY r.app_id, r.one_id",
                       [channel]).fetchall()
    files: dict[str, list[tuple]] = {}
    if channel in ("sms", "pos"):
        files[channel] = [row[1:] for row in rows]
    for row in rows if channel not in ("sms", "pos") else []:
        files.setdefault(f"{channel}_{row[0]}", []).append(row[1:])
    return files


def write_packs(folder: Path, outcome: suppression.Outcome, audience: pa.Table, as_of: date,
                segment: str, say: Progress) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """Every channel's files; returns the files per channel and the DMP writers' manifests."""
    files: dict[str, list[str]] = {}
    dmp: dict[str, dict] = {}
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("audience", audience)
        con.register("reached", outcome.people.filter(pc.is_null(outcome.people["reason"])))
        for channel in outcome.channels:
            if channel in r.DMP_CHANNELS:
                phones = [p for (p,) in con.execute(
                    "SELECT address FROM reached WHERE channel = ? ORDER BY one_id",
                    [channel]).fetchall()]
                say(f"{channel}: {len(phones):,} phones")
                out = folder / "dmp" / channel
                dmp[channel] = packs.write_dmp(channel, phones, out)
                written = dmp[channel].get("rows_written", dmp[channel].get("ids_written"))
                if written != len(phones):
                    raise RuntimeError(f"{channel}: the writer dropped {dmp[channel]['dropped']}"
                                       " of addresses suppression had accepted")
                files[channel] = [f"dmp/{channel}/{f['name']}" for f in dmp[channel]["files"]]
                continue
            header, widths = PACK_COLUMNS[channel]
            stems = _pack_rows(con, channel)
            files[channel] = []
            for stem, rows in sorted(stems.items()):
                say(f"{stem}: {len(rows):,} rows (CSV, XLSX)")
                packs.write_csv(folder / f"{stem}.csv", header, rows)
                packs.write_xlsx(folder / f"{stem}.xlsx", segment[:31], header, rows, as_of,
                                 widths)
                files[channel] += [f"{stem}.csv", f"{stem}.xlsx"]
    return files, dmp


# -- the export ---------------------------------------------------------------------------------
@dataclass
class ExportResult:
    segment: str
    run_id: str
    as_of: date
    folder: Path
    manifest: dict

    def summary(self) -> str:
        counts = self.manifest["counts"]
        reasons = ", ".join(f"{k} {v:,}" for k, v in counts["suppressed"].items()) or "none"
        channels = ", ".join(f"{c} {v['exported']:,}"
                             for c, v in self.manifest["channels"].items())
        return (f"{self.segment} as of {self.as_of} (run {self.run_id}): {counts['segment']:,} "
                f"people = {counts['exported']:,} exported + suppressed ({reasons})\n"
                f"  channels: {channels}\n  -> {self.folder}")


def _strata(con, people: pa.Table, stratify_by: str | None,
            catalog: segments.MartCatalog, path: Path) -> pa.Table:
    if stratify_by is None:
        return people
    mart, column = r.STRATA[stratify_by]
    catalog.column_type(mart, column, f"{path}: campaign.stratify_by")
    con.register("split_people", people)
    return con.sql(f"SELECT p.one_id, m.{column} AS stratum FROM split_people AS p "
                   f"LEFT JOIN {mart} AS m USING (one_id) ORDER BY p.one_id").to_arrow_table()


def _contacts(con, groups: pa.Table, catalog: segments.MartCatalog, path: Path) -> pa.Table:
    for column in CONTACT_COLUMNS:
        catalog.column_type("customer_360", column, f"{path}: (contacts for the packs)")
    con.register("split_groups", groups)
    return con.sql(f"SELECT {', '.join('c.' + c for c in CONTACT_COLUMNS)} "
                   "FROM split_groups AS g JOIN customer_360 AS c USING (one_id) "
                   "WHERE g.\"group\" = 'treatment' ORDER BY c.one_id").to_arrow_table()


def export_segment(settings: Settings, name: str, segments_dir: Path = r.SEGMENTS_DIR,
                   progress: Progress | None = None) -> ExportResult:
    """Export a segment's audience packs as of the marts' as-of day (see the module doc)."""
    say = progress or (lambda _message: None)
    rules = r.load_activation_rules(segments_dir)
    definition, path = r.find_segment(name, segments_dir)
    campaign = definition.campaign
    if campaign is None:
        raise ConfigError(f"{path}: campaign: a segment needs a campaign (channels, control "
                          "group) to be exported")
    lakehouse = Lakehouse(settings.lakehouse_dir)
    say(f"{name}: compiling against the marts")
    with open_marts(settings) as con:
        catalog = segments.MartCatalog(con)
        compiled = segments.compile_segment(definition, path, con, identity_lookup(lakehouse),
                                            catalog)
        people = segments.members(con, compiled)
        digest = r.definition_hash(definition, rules, compiled.list_files)
        run_id = r.run_id_of(compiled.as_of, digest)
        say(f"{name}: {people.num_rows:,} people as of {compiled.as_of} (run {run_id}); "
            "treatment / control split")
        stratum_column = "stratum" if campaign.stratify_by else None
        groups = split.assign_groups(
            _strata(con, people, campaign.stratify_by, catalog, path),
            campaign.salt or definition.name, campaign.control_ratio, stratum_column)
        audience = _contacts(con, groups, catalog, path)
    say("reading consent, followers, WeChat events and touches")
    inputs = _suppression_inputs(lakehouse, audience)
    say(f"suppression and channel choice for {audience.num_rows:,} people in treatment")
    outcome = suppression.suppress(inputs, rules, campaign, compiled.as_of, definition.name)
    folder = exports_dir(settings) / name / run_id
    summary = split.split_summary(groups)
    send_at = suppression.send_moment(compiled.as_of, campaign.send_time or rules.send_time)
    with staging.staged_folder(folder) as staged:
        say(f"assignment.csv: {groups.num_rows:,} rows")
        packs.write_csv(staged / "assignment.csv", ["one_id", "stratum", "group"],
                        zip(*(groups.column(c).to_pylist()
                              for c in ("one_id", "stratum", "group"))))
        files, dmp = write_packs(staged, outcome, audience, compiled.as_of, name, say)
        say("manifest.json (checksums of every file)")
        manifest = build_manifest(compiled, digest, run_id, send_at, campaign, summary,
                                  outcome, files, dmp, staged)
        packs.write_manifest(staged / "manifest.json", manifest)
    reached = outcome.people.filter(pc.is_null(outcome.people["reason"]))
    say(f"recording the run in {RUNS}, {groups.num_rows:,} members in {MEMBERSHIP} and "
        f"{reached.num_rows:,} touches in {TOUCHES}")
    record_run(lakehouse, manifest, groups, reached.select(["one_id", "channel"]), send_at)
    return ExportResult(name, run_id, compiled.as_of, folder, manifest)


def build_manifest(compiled: segments.CompiledSegment, digest: str, run_id: str,
                   send_at: datetime, campaign: r.Campaign, summary: dict,
                   outcome: suppression.Outcome, files: dict[str, list[str]],
                   dmp: dict[str, dict], folder: Path) -> dict:
    """Counts, suppression by reason, checksums of every file: nothing from the clock."""
    suppressed = dict(outcome.suppressed)
    if summary[split.CONTROL]:
        suppressed["control_group"] = summary[split.CONTROL]
    size = summary[split.TREATMENT] + summary[split.CONTROL]
    if outcome.exported + sum(suppressed.values()) != size:
        raise RuntimeError(f"{compiled.name}: {outcome.exported} exported + {suppressed} "
                           f"suppressed does not add up to the segment's {size} people")
    digests = sorted((packs.file_digest(p) | {"name": p.relative_to(folder).as_posix()}
                      for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"),
                     key=lambda d: d["name"])
    definition = compiled.definition
    return {
        "segment": definition.name,
        "owner": definition.owner,
        "description": definition.description,
        "definition_sha256": digest,
        "run_id": run_id,
        "as_of": compiled.as_of.isoformat(),
        "send_at": send_at.astimezone(suppression.CHINA).isoformat(),
        "counts": {"segment": size, "treatment": summary[split.TREATMENT],
                   "control": summary[split.CONTROL], "exported": outcome.exported,
                   "suppressed": dict(sorted(suppressed.items()))},
        "split": {"salt": campaign.salt or definition.name,
                  "control_ratio": campaign.control_ratio,
                  "stratify_by": campaign.stratify_by, "method": split.METHOD,
                  "strata": summary["strata"], "file": "assignment.csv"},
        "channels": {channel: {**counts, "files": files.get(channel, [])}
                     for channel, counts in outcome.channels.items()},
        "dmp": {channel: {k: v for k, v in m.items() if k != "files"}
                for channel, m in sorted(dmp.items())},
        "lists_unresolved": compiled.unresolved,
        "files": digests,
    }


def export_scheduled(settings: Settings, segments_dir: Path = r.SEGMENTS_DIR,
                     progress: Progress | None = None) -> list[ExportResult]:
    """Export every segment whose campaign has ``schedule: daily`` (the daily DAG's step)."""
    results = []
    for name, path in r.segment_paths(segments_dir).items():
        definition = r.load_segment(path)
        if definition.campaign is not None and definition.campaign.schedule == "daily":
            results.append(export_segment(settings, name, segments_dir, progress))
    return results


# -- CLI entry points ---------------------------------------------------------------------------
def segments_list(settings: Settings, segments_dir: Path = r.SEGMENTS_DIR
                  ) -> list[segments.SegmentSummary]:
    with open_marts(settings) as con:
        return segments.list_segments(con, segments_dir,
                                      identity_lookup(Lakehouse(settings.lakehouse_dir)))


def segment_preview(settings: Settings, name: str, segments_dir: Path = r.SEGMENTS_DIR,
                    sample_size: int = 10) -> segments.Preview:
    with open_marts(settings) as con:
        return segments.preview(con, name, segments_dir,
                                identity_lookup(Lakehouse(settings.lakehouse_dir)), sample_size)


def segment_changes(settings: Settings, name: str, segments_dir: Path = r.SEGMENTS_DIR
                    ) -> MembershipChanges:
    r.find_segment(name, segments_dir)  # an unknown name is an error, not "never exported"
    return membership_changes(Lakehouse(settings.lakehouse_dir), name)

