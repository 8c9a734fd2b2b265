"""Erasure (`cdp privacy erase`): a person's rows leave every table, old Delta versions, the
marts and the export history, and a tombstone keeps them out of later deliveries.

For each request the person is resolved through the identity map to every identifier they
have (``find_person``). Their rows are then found per table (``plan``): bronze lines whose
mapping to silver carries one of their keys (``rows.bronze_line_keys``), quarantined rows whose
raw text holds one of their identifiers or the raw spellings their bronze lines had, silver
rows carrying their keys (and the order lines of their orders), identity rows of their OneID
or keys, gold rows of their OneID. Rows are deleted by MERGE on their row keys (lineage or
business key): a Delta log records a DELETE's predicate, which would be their values.

Then, once for all requests: every table is vacuumed with retention 0 (the erasure overrides
``vacuum_retention_hours`` and Delta's safety window, so time travel ends there) and its log
is checkpointed with the older commits removed; the marts are rebuilt as of their day and the
rows history models keep are deleted; the export packs lose their rows. Tombstones, an audit
entry and a JSON report per request under ``<workspace>/reports/privacy/`` follow, the report
with a verification that finds nothing. Other people's OneIDs are untouched: whole OneIDs are
removed, no component is re-solved.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cdp.config import Settings
from cdp.lakehouse import Lakehouse, Table
from cdp.privacy import audit, exports, files, marts, tombstones
from cdp.privacy.keys import hashed_forms, identifier_key, key_hash, search_terms
from cdp.privacy.requests import ErasureRequest
from cdp.tables import (
    GOLDEN_RECORDS,
    IDENTITY_CHANGES,
    IDENTITY_CUT_LINKS,
    IDENTITY_LINKS,
    IDENTITY_MAP,
    IDENTITY_REJECTED,
    QUARANTINE,
    SEGMENT_MEMBERSHIP,
    TOUCHES,
    catalogue,
)

LINE = ("_batch_id", "_line_no")
#: personal columns whose raw values are not searched for in quarantined text: common
#: values (names, birthdays, nicknames) would match strangers' rows
NOT_SEARCHED = ("name", "birthday", "buyer_nick")
#: tables whose rows of a OneID are deleted by that column
BY_ONE_ID = {
    IDENTITY_MAP: ("one_id",),
    GOLDEN_RECORDS: ("one_id",),
    IDENTITY_CHANGES: ("one_id", "into_one_id"),
    SEGMENT_MEMBERSHIP: ("one_id",),
    TOUCHES: ("one_id",),
}
#: tables whose rows are deleted by a key column holding ``<type>:<value>``
BY_KEY = {IDENTITY_LINKS: ("a_key", "b_key"), IDENTITY_CUT_LINKS: ("a_key", "b_key")}
#: tables whose rows are deleted by the typed identifier pair
BY_PAIR = (IDENTITY_MAP, IDENTITY_REJECTED)


@dataclass
class Person:
    """Whom a request erases: their OneID (None when the identity map does not know them) and
    every identifier key they have."""

    request: ErasureRequest
    one_id: str | None
    keys: list[str]


@dataclass
class Erasure:
    """What one request removed and found."""

    person: Person
    at: datetime
    #: rows deleted per table
    removed: Counter = field(default_factory=Counter)
    #: rows deleted per marts table and per export file
    marts_removed: dict = field(default_factory=dict)
    exports_removed: dict = field(default_factory=dict)
    tombstones_added: int = 0
    verification: dict = field(default_factory=dict)
    #: derived files deleted (data docs, validation results, dbt logs): bytes per file
    files_removed: dict = field(default_factory=dict)
    #: landing files holding lines of the person, kept as delivered: lines per file
    landing_kept: dict = field(default_factory=dict)

    @property
    def rows_removed(self) -> int:
        return (
            sum(self.removed.values())
            + sum(self.marts_removed.values())
            + sum(self.exports_removed.values())
        )

    @property
    def already_erased(self) -> bool:
        return self.rows_removed == 0 and self.tombstones_added == 0 and not self.files_removed


# -- who -----------------------------------------------------------------------------------------
def find_person(lakehouse: Lakehouse, request: ErasureRequest) -> Person:
    """The request's person: their OneID from the identity map and all its identifiers."""
    keys = {request.key} if request.key else set()
    one_id = request.one_id
    if lakehouse.exists(IDENTITY_MAP) and one_id is None:
        found = lakehouse.scan(
            IDENTITY_MAP,
            ["one_id"],
            (pc.field("identifier_type") == request.identifier_type)
            & (pc.field("identifier_value") == request.value),
        )
        one_id = found.column(0)[0].as_py() if found.num_rows else None
    if lakehouse.exists(IDENTITY_MAP) and one_id is not None:
        mapped = lakehouse.scan(
            IDENTITY_MAP, ["identifier_type", "identifier_value"], pc.field("one_id") == one_id
        ).to_pylist()
        keys |= {identifier_key(r["identifier_type"], r["identifier_value"]) for r in mapped}
    return Person(request, one_id, sorted(keys))


# -- where: the rows of a person per table --------------------------------------------------------
def _keys_frame(spark, keys: list[str]):
    return spark.createDataFrame([(k,) for k in keys], "key string")


def bronze_rows(spark, lakehouse: Lakehouse, table: Table, keys_df, tz: str, cards):
    """(lines of ``table`` carrying one of the keys, raw texts of their identifier columns)."""
    from cdp.privacy.rows import bronze_line_keys
    from cdp.tables import spec

    bronze = lakehouse.read(spark, table)
    lines = bronze_line_keys(table.name, bronze, tz, cards)
    if lines is None:
        return pa.table({c: [] for c in LINE}), set()
    doomed = lines.join(keys_df, "key", "left_semi").select(*LINE).distinct()
    found = doomed.toArrow()
    searched = [c for c in spec(str(table)).personal if c not in NOT_SEARCHED]
    raw = set()
    if found.num_rows and searched:
        texts = bronze.join(doomed, list(LINE), "left_semi").selectExpr(
            *[f"CAST(`{c}` AS string) AS `{c}`" for c in searched]
        )
        raw = {v for column in texts.toArrow().columns for v in column.to_pylist() if v}
    return found, raw


def silver_rows(spark, lakehouse: Lakehouse, name: str, keys_df) -> pa.Table:
    """Business keys of the rows of silver ``name`` carrying one of the keys."""
    from cdp.privacy.rows import exploded_keys, key_exprs
    from spark_jobs.silver import SILVER_TABLES

    key = list(SILVER_TABLES[name].key)
    df = lakehouse.read(spark, Table("silver", name))
    found = exploded_keys(df, key_exprs(name), *key).join(keys_df, "key", "left_semi")
    return found.select(*key).distinct().toArrow()


def quarantine_rows(lakehouse: Lakehouse, terms: set[str]) -> pa.Table:
    """Lines of quarantined rows whose raw text holds one of ``terms``."""
    if not terms or not lakehouse.exists(QUARANTINE):
        return pa.table({c: [] for c in LINE})
    rows = lakehouse.to_arrow(QUARANTINE, ["raw", *LINE])
    raw = pc.fill_null(rows["raw"], "")
    hit = pa.array([False] * rows.num_rows)
    for term in sorted(terms):
        hit = pc.or_(hit, pc.match_substring(raw, term))
    return rows.filter(hit).select(list(LINE))


def _present(lakehouse: Lakehouse, table: Table, values: pa.Table) -> pa.Table:
    """The rows of ``values`` (matching values of some columns) that ``table`` holds."""
    columns = values.column_names
    where = None
    for c in columns:
        condition = pc.field(c).isin(values[c])
        where = condition if where is None else where & condition
    found = lakehouse.scan(table, columns, where)
    wanted = set(zip(*(values[c].to_pylist() for c in columns), strict=True))
    present = sorted(set(zip(*(found[c].to_pylist() for c in columns), strict=True)) & wanted)
    return pa.table({c: [row[i] for row in present] for i, c in enumerate(columns)})


def identity_rows(lakehouse: Lakehouse, person: Person) -> list[tuple[Table, pa.Table]]:
    """(table, matching values held there) of the identity and gold tables."""
    plans = []
    if person.one_id:
        for table, columns in BY_ONE_ID.items():
            plans += [(table, pa.table({c: [person.one_id]})) for c in columns]
    for table, columns in BY_KEY.items():
        plans += [(table, pa.table({c: person.keys})) for c in columns]
    pairs = pa.table(
        {
            "identifier_type": [k.split(":", 1)[0] for k in person.keys],
            "identifier_value": [k.split(":", 1)[1] for k in person.keys],
        }
    )
    plans += [(table, pairs) for table in BY_PAIR]
    return [(t, _present(lakehouse, t, rows)) for t, rows in plans if lakehouse.exists(t)]


def plan(
    spark, lakehouse: Lakehouse, person: Person, tz: str, cards
) -> list[tuple[Table, pa.Table]]:
    """Every (table, row keys) to delete for ``person``, rows found before any is deleted."""
    from cdp.privacy.rows import key_exprs
    from spark_jobs.contracts import CONTRACTS
    from spark_jobs.silver import SILVER_TABLES

    if not person.keys:
        return []
    keys_df = _keys_frame(spark, person.keys)
    plans, raw_texts = [], set()
    for channel in sorted(CONTRACTS):
        table = Table("bronze", channel)
        if lakehouse.exists(table):
            lines, raw = bronze_rows(spark, lakehouse, table, keys_df, tz, cards)
            plans.append((table, lines))
            raw_texts |= raw
    plans.append(
        (QUARANTINE, quarantine_rows(lakehouse, set(search_terms(person.keys)) | raw_texts))
    )
    for name in SILVER_TABLES:
        table = Table("silver", name)
        if key_exprs(name) and lakehouse.exists(table):
            plans.append((table, silver_rows(spark, lakehouse, name, keys_df)))
    orders = next((rows for t, rows in plans if t == Table("silver", "orders")), None)
    if orders is not None and lakehouse.exists(Table("silver", "order_items")):
        plans.append((Table("silver", "order_items"), orders))
    plans += identity_rows(lakehouse, person)
    return [(t, rows) for t, rows in plans if rows.num_rows]


# -- removal -------------------------------------------------------------------------------------
def delete_matching(spark, lakehouse: Lakehouse, table: Table, rows: pa.Table) -> int:
    """Delete the rows of ``table`` equal to a row of ``rows`` on its columns; rows deleted.

    A MERGE on the engine, so the log records only the join condition, never the values.
    (delta-rs's MERGE writes strings as Arrow string views, which the engine cannot read.)"""
    if not rows.num_rows or not lakehouse.exists(table):
        return 0
    name = f"erase-{table.layer}-{table.name}"
    view = f"erase_{table.layer}_{table.name}"
    try:
        lakehouse.stage_arrow(spark, rows, name).createOrReplaceTempView(view)
        before = lakehouse.count(table)
        condition = " AND ".join(f"t.`{c}` = s.`{c}`" for c in rows.column_names)
        spark.sql(
            f"MERGE INTO delta.`{lakehouse.uri(table)}` AS t USING {view} AS s "
            f"ON {condition} WHEN MATCHED THEN DELETE"
        )
        return before - lakehouse.count(table)
    finally:
        lakehouse.drop_staging(name)


def _log_version(path: Path) -> int | None:
    head = path.name.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def purge_history(lakehouse: Lakehouse, table: Table) -> int:
    """Remove every file no current row needs: vacuum with retention 0 (Delta's retention
    check disabled: the erasure overrides it), then checkpoint the log and delete the commits
    and checkpoints before it. Returns the data files removed."""
    delta = lakehouse.delta(table)
    removed = delta.vacuum(
        retention_hours=0, dry_run=False, enforce_retention_duration=False, full=True
    )
    delta.create_checkpoint()
    current = delta.version()
    for path in (lakehouse.path(table) / "_delta_log").iterdir():
        version = _log_version(path)
        if path.is_file() and version is not None and version < current:
            path.unlink()
    return len(removed)


# -- the whole erasure ---------------------------------------------------------------------------
def erase(settings: Settings, requests: list[ErasureRequest], progress=None) -> list[Erasure]:
    """Erase every request's person (see the module doc), holding the workspace lock; one
    report per request. A person erased before is found nowhere and nothing is rewritten."""
    from cdp.pipeline import lakehouse_of, locked
    from cdp.runtime import spark_session
    from identity.rules import load_rules

    say = progress or (lambda _message: None)
    cards = load_rules(settings.identity_rules).member_cards
    at = datetime.now(UTC).replace(microsecond=0)
    with locked(settings):
        lakehouse = lakehouse_of(settings)
        say(f"finding {len(requests):,} people in the identity map")
        people = [find_person(lakehouse, r) for r in requests]
        erasures = [Erasure(p, at) for p in people]
        with spark_session(settings) as spark:
            say(f"planning: the rows of {len(people):,} people in every table")
            plans = [plan(spark, lakehouse, p, settings.source_timezone, cards) for p in people]
            for erasure, person_plan in zip(erasures, plans, strict=True):
                say(f"erasing {erasure.person.request.describe()}")
                erasure.landing_kept = files.landing_lines(lakehouse, person_plan)
                for table, rows in person_plan:
                    erasure.removed[str(table)] += delete_matching(spark, lakehouse, table, rows)
            if any(e.removed for e in erasures):
                _after_deletes(settings, lakehouse, erasures, say)
            say("removing data docs, validation results and dbt logs holding their values")
            for erasure in erasures:
                erasure.files_removed = files.remove_derived(settings, _terms(erasure.person))
            say("tombstones and verification")
            for erasure in erasures:
                erasure.tombstones_added = tombstones.record(
                    lakehouse, erasure.person.keys, erasure.person.request.request_id, at
                )
                erasure.verification = verify(
                    spark, settings, lakehouse, erasure.person, settings.source_timezone, cards
                )
        for erasure in erasures:
            if not erasure.already_erased:
                _audit(lakehouse, erasure)
            write_report(settings, erasure)
    return erasures


def _after_deletes(settings: Settings, lakehouse: Lakehouse, erasures, say) -> None:
    """Once for all requests: old versions, marts and exports."""
    from cdp.activation.export import exports_dir

    say("vacuuming every table (retention 0) and expiring its log history")
    for spec in catalogue():
        if lakehouse.exists(spec.table):
            purge_history(lakehouse, spec.table)
    values = {v for e in erasures for v in _forms(e.person)}
    if settings.restricted_marts_db.exists():
        say("rebuilding the marts")
        _rebuild_marts(settings)
        marts_removed = marts.erase_rows(settings, values)
        for erasure in erasures:
            erasure.marts_removed = marts_removed
    say("removing the erased people from the export history")
    for erasure in erasures:
        erasure.exports_removed = exports.scrub_exports(
            exports_dir(settings),
            exports.matcher(_forms(erasure.person)),
            erasure.person.request.request_id,
            erasure.at.isoformat(),
        )


def _terms(person: Person) -> set[str]:
    """What marks a derived file (a report, a log) as holding the person's values."""
    return set(search_terms(person.keys)) | ({person.one_id} if person.one_id else set())


def _forms(person: Person) -> set[str]:
    return hashed_forms(person.keys) | ({person.one_id} if person.one_id else set())


def _rebuild_marts(settings: Settings) -> None:
    """``dbt build`` of the marts as of the day they were built for."""
    from cdp import pipeline
    from cdp.activation.catalog import MartCatalog, marts_as_of
    from cdp.activation.inputs import open_marts

    with open_marts(settings) as con:
        as_of = marts_as_of(MartCatalog(con), [])
    # a full refresh: erased rows leave silver without a new batch, and an incremental
    # build keeps the rows of its incremental models that nothing new touches
    pipeline.build_marts(settings, as_of=as_of.isoformat(), full_refresh=True)


# -- proof ---------------------------------------------------------------------------------------
def verify(spark, settings: Settings, lakehouse: Lakehouse, person: Person, tz: str, cards) -> dict:
    """The same search as the erasure, after it: rows still found per place (none expected),
    with the query that was run."""
    from cdp.activation.export import exports_dir

    found = {str(t): rows.num_rows for t, rows in plan(spark, lakehouse, person, tz, cards)}
    forms = _forms(person)
    for label, database in (
        ("marts", settings.restricted_marts_db),
        ("analysts", settings.marts_db),
    ):
        if database.exists():
            found |= {f"{label}:{t}": n for t, n in marts.rows_of(database, forms).items()}
    if left := exports.remaining(exports_dir(settings), exports.matcher(forms)):
        found["exports"] = left
    if derived := files.holding(settings, _terms(person)):
        found["derived_files"] = len(derived)
    return {
        "query": (
            "rows of every lakehouse table carrying one of the person's identifier keys or "
            "OneID (bronze through its silver mapping, quarantine by raw text), marts rows with "
            "a cell equal to one of them, export rows with one of them or its hash, data "
            "docs, validation results and dbt logs holding one of them"
        ),
        "identifiers_searched": len(person.keys),
        "found": found,
        "rows_found": sum(found.values()),
    }


def _audit(lakehouse: Lakehouse, erasure: Erasure) -> None:
    request = erasure.person.request
    audit.record(
        lakehouse,
        "erasure",
        f"erasure of {request.describe()}",
        1 if erasure.person.one_id or erasure.removed else 0,
        erasure.rows_removed,
        {"request_id": request.request_id, "tables": dict(erasure.removed)},
    )


def report_of(erasure: Erasure) -> dict:
    """The JSON report of one request: no personal value nor OneID, only hashes and
    counts."""
    person = erasure.person
    return {
        "request_id": person.request.request_id,
        "request": person.request.describe(),
        "at": erasure.at.isoformat(),
        "status": "already erased: nothing found" if erasure.already_erased else "erased",
        "one_id_sha256": key_hash(person.one_id) if person.one_id else None,
        "identifiers": [{"type": k.split(":", 1)[0], "sha256": key_hash(k)} for k in person.keys],
        "removed": {
            "lakehouse": dict(sorted(erasure.removed.items())),
            "marts": erasure.marts_removed,
            "exports": erasure.exports_removed,
            "files": erasure.files_removed,
        },
        "landing": {
            "policy": "kept as delivered; the tombstone drops these lines from any later ingest",
            "lines_per_file": erasure.landing_kept,
        },
        "rows_removed": erasure.rows_removed,
        "tombstones_added": erasure.tombstones_added,
        "verification": erasure.verification,
    }


def write_report(settings: Settings, erasure: Erasure) -> Path:
    """Write the request's report to ``<workspace>/reports/privacy/``; returns its path."""
    folder = settings.reports_dir / "privacy"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = erasure.at.strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"erasure-{erasure.person.request.request_id}-{stamp}.json"
    path.write_text(json.dumps(report_of(erasure), indent=2, sort_keys=True) + "\n")
    return path
