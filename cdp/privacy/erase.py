"""Erasure (`cdp privacy erase`): a person's rows leave every table, old Delta versions, the
marts and the export history, and a tombstone keeps them out of later deliveries.

For each request the person is resolved through the identity map to every identifier they
have (``find_people``). Their rows are then found per table, for all requests at once
(``plan.plan_batch``), and each table loses everyone's rows in one MERGE on their row keys
(lineage or business key): a Delta log records a DELETE's predicate, which would be their
values.

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
from cdp.privacy.plan import Plan, plan_batch
from cdp.privacy.requests import ErasureRequest
from cdp.tables import IDENTITY_MAP, catalogue


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
    return find_people(lakehouse, [request])[0]


def find_people(lakehouse: Lakehouse, requests: list[ErasureRequest]) -> list[Person]:
    """Each request's person (``find_person``), with two scans of the identity map for all."""
    if not lakehouse.exists(IDENTITY_MAP):
        return [Person(r, r.one_id, [r.key] if r.key else []) for r in requests]
    columns = ["identifier_type", "identifier_value", "one_id"]
    values = sorted({r.value for r in requests if r.one_id is None and r.value})
    by_value = lakehouse.scan(
        IDENTITY_MAP, columns, pc.field("identifier_value").isin(pa.array(values, pa.string()))
    )
    one_id_of = {
        identifier_key(t, v): o
        for t, v, o in zip(*(by_value[c].to_pylist() for c in columns), strict=True)
    }
    one_ids = [r.one_id or one_id_of.get(r.key) for r in requests]
    wanted = sorted({o for o in one_ids if o})
    mapped = lakehouse.scan(
        IDENTITY_MAP, columns, pc.field("one_id").isin(pa.array(wanted, pa.string()))
    )
    keys_of: dict[str, set[str]] = {}
    for t, v, o in zip(*(mapped[c].to_pylist() for c in columns), strict=True):
        keys_of.setdefault(o, set()).add(identifier_key(t, v))
    return [
        Person(r, o, sorted(({r.key} if r.key else set()) | keys_of.get(o, set())))
        for r, o in zip(requests, one_ids, strict=True)
    ]


# -- removal -------------------------------------------------------------------------------------
def delete_rows(
    spark, lakehouse: Lakehouse, table: Table, columns: tuple[str, ...], plans: list[Plan]
) -> list[int]:
    """Delete every person's planned rows of ``table`` matched on ``columns`` in one MERGE;
    rows removed per person (counted before the delete: a value such as a OneID can stand
    for several rows)."""
    mine = [
        next((r for t, r in plan if t == table and tuple(r.column_names) == columns), None)
        for plan in plans
    ]
    found = [rows for rows in mine if rows is not None and rows.num_rows]
    if not found:
        return [0] * len(plans)
    everyone = pa.concat_tables(found).group_by(found[0].column_names).aggregate([])
    columns = everyone.column_names
    where = None
    for c in columns:
        condition = pc.field(c).isin(everyone[c])
        where = condition if where is None else where & condition
    held = lakehouse.scan(table, columns, where)
    counts = Counter(zip(*(held[c].to_pylist() for c in columns), strict=True))
    per_person = [
        0
        if rows is None
        else sum(counts[v] for v in zip(*(rows[c].to_pylist() for c in columns), strict=True))
        for rows in mine
    ]
    delete_matching(spark, lakehouse, table, everyone)
    return per_person


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
        people = find_people(lakehouse, requests)
        erasures = [Erasure(p, at) for p in people]
        tz = settings.source_timezone
        with spark_session(settings) as spark:
            say(f"planning: the rows of {len(people):,} people in every table")
            plans = plan_batch(spark, lakehouse, people, tz, cards)
            for erasure, person_plan in zip(erasures, plans, strict=True):
                erasure.landing_kept = files.landing_lines(lakehouse, person_plan)
            # a table can be searched by several columns (links by a_key and by b_key)
            targets = sorted(
                {(t, tuple(rows.column_names)) for person_plan in plans for t, rows in person_plan},
                key=str,
            )
            tables = {t for t, _ in targets}
            say(f"erasing the rows of {len(people):,} people from {len(tables)} tables")
            for table, columns in targets:
                removed = delete_rows(spark, lakehouse, table, columns, plans)
                for erasure, count in zip(erasures, removed, strict=True):
                    if count:
                        erasure.removed[str(table)] += count
            if any(e.removed for e in erasures):
                _after_deletes(settings, lakehouse, erasures, say)
            say("removing data docs, validation results and dbt logs holding their values")
            if files.holding(settings, {t for p in people for t in _terms(p)}):
                for erasure in erasures:
                    erasure.files_removed = files.remove_derived(settings, _terms(erasure.person))
            say("tombstones and verification")
            added = tombstones.record(
                lakehouse, [(e.person.keys, e.person.request.request_id) for e in erasures], at
            )
            for erasure, count in zip(erasures, added, strict=True):
                erasure.tombstones_added = count
            verifications = verify_batch(spark, settings, lakehouse, people, tz, cards)
            for erasure, verification in zip(erasures, verifications, strict=True):
                erasure.verification = verification
        audit.record_rows(lakehouse, [_audit_row(e) for e in erasures if not e.already_erased])
        for erasure in erasures:
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
    # each file read once for the whole batch; a request repeated in it is reported once
    first: dict[str, Erasure] = {}
    for erasure in erasures:
        first.setdefault(erasure.person.request.request_id, erasure)
    removed = exports.scrub_exports(
        exports_dir(settings),
        exports.owners({r: _forms(e.person) for r, e in first.items()}),
        {r: e.at.isoformat() for r, e in first.items()},
    )
    for request_id, erasure in first.items():
        erasure.exports_removed = removed.get(request_id, {})


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
def verify_batch(
    spark, settings: Settings, lakehouse: Lakehouse, people: list[Person], tz: str, cards
) -> list[dict]:
    """``verify`` for every person: the lakehouse searched once for all; the marts, exports
    and derived files once for all, then person by person only where something was found."""
    plans = plan_batch(spark, lakehouse, people, tz, cards)
    everyone = Person(ErasureRequest(), None, sorted({k for p in people for k in p.keys}))
    everyone_forms = {f for p in people for f in _forms(p)}
    anything_else = bool(_found_outside(settings, everyone, everyone_forms))
    return [
        verification(
            {str(t): rows.num_rows for t, rows in plan}
            | (_found_outside(settings, person, _forms(person)) if anything_else else {}),
            person,
        )
        for person, plan in zip(people, plans, strict=True)
    ]


def _found_outside(settings: Settings, person: Person, forms: set[str]) -> dict:
    """Rows or files still holding the person outside the lakehouse, per place."""
    from cdp.activation.export import exports_dir

    found = {}
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
    return found


def verification(found: dict, person: Person) -> dict:
    """The verification section of a report: what the search after the erasure found."""
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


def _audit_row(erasure: Erasure) -> dict:
    request = erasure.person.request
    return audit.audit_row(
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
