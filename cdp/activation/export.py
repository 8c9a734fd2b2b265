"""Exporting a segment: the orchestration of one export run, end to end.

``export_segment`` compiles the segment over the marts (``compiler``), splits treatment and
control (``split``), suppresses and chooses channels (``suppression``), writes the packs
(``packs``, ``dmp``) and the manifest (``manifest``) into
``<workspace>/exports/<segment>/<run id>/`` and records the run in gold (``history``). The run
id is the as-of day and the definition hash, so exporting again with the same definition,
rules and data rewrites byte-identical files. The folder appears complete, manifest included,
or not at all (``staging``). The other functions here are what the CLI and the daily schedule
call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cdp.activation import definitions as d
from cdp.activation import departures, history, packs, segments, split, staging, suppression
from cdp.activation.catalog import MartCatalog
from cdp.activation.compiler import compile_segment, members
from cdp.activation.inputs import identity_lookup, open_marts, suppression_inputs
from cdp.activation.manifest import build_manifest, write_manifest
from cdp.activation.rules import load_activation_rules
from cdp.config import ConfigError, Settings, segments_folder
from cdp.lakehouse import Lakehouse
from cdp.privacy import audit
from cdp.sql_literals import STANDARD

#: the customer_360 columns the packs carry
CONTACT_COLUMNS = ("one_id", "phone", "name", "member_card_no", "tier")
#: recommendations (customer_recommendations) named in the packs' recommended_items column
RECOMMENDED_ITEMS = 3


def exports_dir(settings: Settings) -> Path:
    """Where the export folders of a workspace are."""
    return settings.workspace / "exports"


@dataclass
class ExportResult:
    """One export run: where its folder is and its manifest."""

    segment: str
    run_id: str
    as_of: date
    folder: Path
    manifest: dict

    def summary(self) -> str:
        """What ``cdp segments export`` prints."""
        counts = self.manifest["counts"]
        reasons = ", ".join(f"{k} {v:,}" for k, v in counts["suppressed"].items()) or "none"
        channels = ", ".join(f"{c} {v['exported']:,}" for c, v in self.manifest["channels"].items())
        return (
            f"{self.segment} as of {self.as_of} (run {self.run_id}): {counts['segment']:,} "
            f"people = {counts['exported']:,} exported + suppressed ({reasons})\n"
            f"  channels: {channels}\n  -> {self.folder}"
        )


def _strata(
    con, people: pa.Table, stratify_by: str | None, catalog: MartCatalog, path: Path
) -> pa.Table:
    if stratify_by is None:
        return people
    mart, column = d.STRATA[stratify_by]
    catalog.column_type(mart, column, f"{path}: campaign.stratify_by")
    con.register("split_people", people)
    return con.sql(
        f"SELECT p.one_id, m.{column} AS stratum FROM split_people AS p "
        f"LEFT JOIN {mart} AS m USING (one_id) ORDER BY p.one_id"
    ).to_arrow_table()


def _contacts(con, groups: pa.Table, catalog: MartCatalog, path: Path) -> pa.Table:
    for column in CONTACT_COLUMNS:
        catalog.column_type("customer_360", column, f"{path}: (contacts for the packs)")
    catalog.column_type("customer_recommendations", "sku", f"{path}: (recommended items)")
    con.register("split_groups", groups)
    # "Name (SKU); ..." of the top recommendations: what a clerk or a message can offer.
    recommended = (
        "SELECT one_id, string_agg(coalesce(product_name, sku) || ' (' || sku || ')', '; ' "
        "ORDER BY recommendation_rank) AS recommended_items FROM customer_recommendations "
        f"WHERE recommendation_rank <= {RECOMMENDED_ITEMS} GROUP BY one_id"
    )
    return con.sql(
        f"SELECT {', '.join('c.' + c for c in CONTACT_COLUMNS)}, r.recommended_items "
        "FROM split_groups AS g JOIN customer_360 AS c USING (one_id) "
        f"LEFT JOIN ({recommended}) AS r USING (one_id) "
        f"WHERE g.{STANDARD.identifier('group')} = 'treatment' "
        "ORDER BY c.one_id"
    ).to_arrow_table()


def export_segment(
    settings: Settings,
    name: str,
    segments_dir: Path | None = None,
    progress: packs.Progress | None = None,
) -> ExportResult:
    """Export a segment's audience packs as of the marts' as-of day (see the module doc);
    segments are read from ``segments_dir``, by default the settings' segments folder."""
    say = progress or (lambda _message: None)
    segments_dir = segments_dir or segments_folder(settings)
    tz = settings.source_timezone
    rules = load_activation_rules(segments_dir)
    definition, path = d.find_segment(name, segments_dir)
    campaign = definition.campaign
    if campaign is None:
        raise ConfigError(
            f"{path}: campaign: a segment needs a campaign (channels, control group) to be exported"
        )
    lakehouse = Lakehouse(settings.lakehouse_dir)
    say(f"{name}: compiling against the marts")
    with open_marts(settings) as con:
        catalog = MartCatalog(con)
        compiled = compile_segment(definition, path, con, identity_lookup(lakehouse), catalog)
        people = members(con, compiled)
        digest = history.definition_hash(definition, rules, compiled.list_files)
        run_id = history.run_id_of(compiled.as_of, digest)
        say(
            f"{name}: {people.num_rows:,} people as of {compiled.as_of} (run {run_id}); "
            "treatment / control split"
        )
        stratum_column = "stratum" if campaign.stratify_by else None
        groups = split.assign_groups(
            _strata(con, people, campaign.stratify_by, catalog, path),
            campaign.salt or definition.name,
            campaign.control_ratio,
            stratum_column,
        )
        audience = _contacts(con, groups, catalog, path)
    say("reading consent, followers, WeChat events and touches")
    inputs = suppression_inputs(lakehouse, audience)
    say(f"suppression and channel choice for {audience.num_rows:,} people in treatment")
    outcome = suppression.suppress(inputs, rules, campaign, compiled.as_of, definition.name, tz)
    folder = exports_dir(settings) / name / run_id
    left = departures.left_since_last_export(
        lakehouse, folder.parent, inputs, rules, definition.name, compiled.as_of, tz
    )
    say(
        f"left since the last export ({left['previous_run'] or 'none'}): "
        f"{len(left['opted_out']):,} opted out, {left['erased']['people']:,} erased"
    )
    summary = split.split_summary(groups)
    send_at = suppression.send_moment(compiled.as_of, campaign.send_time or rules.send_time, tz)
    with staging.staged_folder(folder) as staged:
        say(f"assignment.csv: {groups.num_rows:,} rows")
        packs.write_assignment(staged, groups)
        files, dmp = packs.write_packs(staged, outcome, audience, compiled.as_of, name, say)
        say("manifest.json (checksums of every file)")
        manifest = build_manifest(
            compiled, digest, run_id, send_at, campaign, summary, outcome, files, dmp, staged, tz
        )
        # the receivers of the last packs must drop these people too
        manifest["left_since_last_export"] = left
        write_manifest(staged / "manifest.json", manifest)
    reached = outcome.people.filter(pc.is_null(outcome.people["reason"]))
    say(
        f"recording the run in {history.RUNS}, {groups.num_rows:,} members in "
        f"{history.MEMBERSHIP} and {reached.num_rows:,} touches in {history.TOUCHES}"
    )
    history.record_run(lakehouse, manifest, groups, reached.select(["one_id", "channel"]), send_at)
    audit.record_export(lakehouse, manifest)
    return ExportResult(name, run_id, compiled.as_of, folder, manifest)


def export_scheduled(
    settings: Settings, segments_dir: Path | None = None, progress: packs.Progress | None = None
) -> list[ExportResult]:
    """Export every segment whose campaign has ``schedule: daily`` (the daily DAG's step)."""
    segments_dir = segments_dir or segments_folder(settings)
    results = []
    for name, path in d.segment_paths(segments_dir).items():
        definition = d.load_segment(path)
        if definition.campaign is not None and definition.campaign.schedule == "daily":
            results.append(export_segment(settings, name, segments_dir, progress))
    return results


# -- CLI entry points ---------------------------------------------------------------------------
def segments_list(
    settings: Settings, segments_dir: Path | None = None
) -> list[segments.SegmentSummary]:
    """Every segment's size for ``cdp segments list``."""
    with open_marts(settings) as con:
        return segments.list_segments(
            con,
            segments_dir or segments_folder(settings),
            identity_lookup(Lakehouse(settings.lakehouse_dir)),
        )


def segment_preview(
    settings: Settings, name: str, segments_dir: Path | None = None, sample_size: int = 10
) -> segments.Preview:
    """One segment's size, overlaps and masked sample for ``cdp segments preview``."""
    with open_marts(settings) as con:
        return segments.preview(
            con,
            name,
            segments_dir or segments_folder(settings),
            identity_lookup(Lakehouse(settings.lakehouse_dir)),
            sample_size,
        )


def segment_changes(
    settings: Settings, name: str, segments_dir: Path | None = None
) -> history.MembershipChanges:
    """Who entered and left the segment between its two latest exports."""
    # an unknown name is an error, not "never exported"
    d.find_segment(name, segments_dir or segments_folder(settings))
    return history.membership_changes(Lakehouse(settings.lakehouse_dir), name)
