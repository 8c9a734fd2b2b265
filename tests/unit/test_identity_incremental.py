"""Incremental OneID equals a full re-solve, day after day, on both engines.

Engine tier: three days of silver are delivered to two lakehouses: one resolved
incrementally (the default), one re-solved in full every day. After each day both hold the
same identifier -> OneID map and the same golden records. The days bring a merge of two people
by a new shared identifier, a split by the reassignment rule (a phone passed to a new owner),
a new person, a profile update, a split by a changed phone, and a person nothing touches, whose
rows the incremental runs never rewrite.

Unit tier: the records a Delta table's log says changed, and when a run must be a full one.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

import identity
from cdp.lakehouse import Lakehouse, Table
from identity.changed import HistoryGone, changed_rows
from identity.golden import GOLDEN
from identity.incremental import why_full
from identity.resolve import CHANGES, MAP, RUNS
from identity.rules import load_rules
from spark_jobs.silver.identifiers import identifiers_seen
from spark_jobs.silver.schema import EVENTS, MEMBERS, POINTS
from tests.unit.test_identity_reassignment import silver_frame

RULES = load_rules()
INPUTS = ("members", "events", "points", "identifiers")


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12)


def member(member_id, updated, **fields) -> dict:
    return {
        "source": "miniprogram",
        "member_id": member_id,
        "updated_at": at(updated),
        "_batch_id": updated,
        **fields,
    }


def event(event_id, day, **ids) -> dict:
    return {
        "event_id": event_id,
        "source": "web",
        "event_type": "page_view",
        "occurred_at": at(day),
        "_batch_id": day,
        **ids,
    }


#: each day's new and updated records per silver table, by key
DAYS = [
    {
        "members": [
            member("m1", "2025-06-01", member_card_no="C1", phone="13900000001", name="Ann"),
            member("m2", "2025-06-01", member_card_no="C2", app_id="wx1", openid="o2", name="Bo"),
            member("m3", "2025-06-01", member_card_no="C3", phone="13900000003", name="Cy"),
            member("m4", "2025-06-01", member_card_no="C4", phone="13900000004", name="Di"),
        ],
        "events": [
            event("e1", "2024-01-05", phone="13987654321", member_card_no="CA"),
            event("e2", "2024-03-01", phone="13987654321", member_card_no="CA"),
            event("e3", "2025-06-01", phone="13900000003"),
        ],
        "points": [
            {
                "event_id": "p1",
                "member_card_no": "C4",
                "event_type": "tier_change",
                "tier_to": "gold",
                "occurred_at": at("2025-06-01"),
            }
        ],
    },
    {
        "events": [
            # the card of one person and the openid of another in one record: a merge
            event("e4", "2025-06-02", member_card_no="C1", app_id="wx1", openid="o2"),
            # the phone seen with a new card 459 days after its last sighting: reassigned
            event("e5", "2025-06-02", phone="13987654321", member_card_no="CB"),
        ],
        "members": [
            member("m5", "2025-06-02", member_card_no="C5", phone="13900000005", name="Ed")
        ],
    },
    {
        "members": [
            member("m1", "2025-06-03", member_card_no="C1", phone="13900000001", name="Ann B"),
            # a new phone: the old one keeps only its own event and splits off
            member("m3", "2025-06-03", member_card_no="C3", phone="13900000033", name="Cy"),
        ],
    },
]
KEYS = {"members": ("source", "member_id"), "events": ("event_id",), "points": ("event_id",)}
SCHEMAS = {"members": MEMBERS, "events": EVENTS, "points": POINTS}


def deliver(spark, lakehouse: Lakehouse, state: dict, day: dict) -> None:
    """Apply one day's records to ``state`` (table -> key -> row) and write silver as a
    standardise run leaves it: the tables, then identifiers rebuilt from them."""
    for name, rows in day.items():
        for row in rows:
            state[name][tuple(row[k] for k in KEYS[name])] = row
    frames = {}
    for name, schema in SCHEMAS.items():
        frames[name] = silver_frame(spark, schema, list(state[name].values()))
        lakehouse.overwrite(frames[name], Table("silver", name))
    lakehouse.overwrite(identifiers_seen(frames), Table("silver", "identifiers"))


def copy_inputs(source: Lakehouse, target: Lakehouse) -> None:
    for name in INPUTS:
        shutil.rmtree(target.path(Table("silver", name)), ignore_errors=True)
        shutil.copytree(source.path(Table("silver", name)), target.path(Table("silver", name)))


def identity_map(lakehouse: Lakehouse) -> dict[str, str]:
    rows = lakehouse.to_arrow(MAP, ["identifier_type", "identifier_value", "one_id"])
    return {f"{t}:{v}": o for t, v, o in zip(*[c.to_pylist() for c in rows.columns])}


def golden(lakehouse: Lakehouse) -> list[dict]:
    return sorted(lakehouse.to_arrow(GOLDEN).to_pylist(), key=lambda g: g["one_id"])


def run_ids(lakehouse: Lakehouse) -> dict[str, str]:
    rows = lakehouse.to_arrow(MAP, ["identifier_type", "identifier_value", "run_id"])
    return {f"{t}:{v}": r for t, v, r in zip(*[c.to_pylist() for c in rows.columns])}


def changes_of(lakehouse: Lakehouse, run_id: str) -> list[tuple]:
    """The merges and splits run ``run_id`` recorded."""
    if not lakehouse.exists(CHANGES):
        return []
    return sorted(
        (c["change"], c["one_id"], c["into_one_id"])
        for c in lakehouse.to_arrow(CHANGES).to_pylist()
        if c["run_id"] == run_id
    )


@pytest.fixture
def delivered(engine, spark, tmp_path):
    """Deliver the days one by one; yield after each (incremental and full lakehouse, the
    two outcomes)."""
    incremental, full = Lakehouse(tmp_path / "incremental"), Lakehouse(tmp_path / "full")
    state = {name: {} for name in SCHEMAS}

    def days():
        for number, day in enumerate(DAYS):
            deliver(spark, incremental, state, day)
            outcome = identity.resolve(spark, incremental, RULES, engine=engine.name)
            if number == 0:
                # The first run is a full one on both sides: the same run, not repeated.
                shutil.copytree(incremental.root, full.root)
                yield incremental, full, outcome, outcome
                continue
            copy_inputs(incremental, full)
            full_outcome = identity.resolve(spark, full, RULES, engine=engine.name, full=True)
            yield incremental, full, outcome, full_outcome

    return days()


def test_every_day_the_incremental_state_equals_a_full_re_solve(delivered):
    modes, changes = [], []
    for incremental, full, outcome, full_outcome in delivered:
        assert identity_map(incremental) == identity_map(full)
        assert golden(incremental) == golden(full)
        assert (outcome.people, outcome.nodes) == (full_outcome.people, full_outcome.nodes)
        modes.append(outcome.mode)
        changes.append(changes_of(incremental, outcome.run_id))
        if len(modes) == 1:
            first_run = run_ids(incremental)
    assert modes == ["full", "incremental", "incremental"]
    ids = identity_map(incremental)
    assert [c[0] for c in changes[1]] == ["merge", "split"]
    merge = next(c for c in changes[1] if c[0] == "merge")
    assert merge[2] == ids["member_card:C1"] == ids["member_card:C2"] != merge[1]
    assert ids["phone:13987654321"] == ids["member_card:CB"] != ids["member_card:CA"]
    assert [c[0] for c in changes[2]] == ["split"]
    assert ids["phone:13900000003"] != ids["member_card:C3"] == ids["phone:13900000033"]
    # the person nothing touched kept its rows as the first run wrote them
    assert run_ids(incremental)["member_card:C4"] == first_run["member_card:C4"]
    runs = sorted(incremental.to_arrow(RUNS).to_pylist(), key=lambda r: r["run_id"])
    assert [r["mode"] for r in runs] == modes
    assert 0 < runs[-1]["touched_identifiers"] < runs[-1]["identifiers"]


# -- unit tier: the changes found in the Delta log, and when a run must be a full one ---------
def events_table(rows: list[tuple[str, str]]) -> pa.Table:
    """Silver events of ``(event_id, phone)`` rows, lineage included."""
    return pa.table(
        {
            "event_id": [r[0] for r in rows],
            "phone": [r[1] for r in rows],
            "_batch_id": ["b"] * len(rows),
        }
    )


def test_changed_rows_are_the_inserted_updated_and_deleted_records(tmp_path):
    lakehouse, table = Lakehouse(tmp_path), Table("silver", "events")
    lakehouse.overwrite_arrow(events_table([("e1", "1"), ("e2", "2"), ("e3", "3")]), table)
    # e1 as it was (a new batch id only), e2 updated, e3 deleted, e4 inserted
    lakehouse.overwrite_arrow(events_table([("e1", "1"), ("e2", "22"), ("e4", "4")]), table)
    con = duckdb.connect()
    rows = con.sql(changed_rows(con, lakehouse, table, 0)).fetchall()
    assert sorted(rows) == [("e2", "2"), ("e2", "22"), ("e3", "3"), ("e4", "4")]
    assert changed_rows(con, lakehouse, table, 1) is None


def test_a_vacuumed_version_cannot_be_diffed(tmp_path):
    lakehouse, table = Lakehouse(tmp_path), Table("silver", "events")
    lakehouse.overwrite_arrow(events_table([("e1", "1")]), table)
    lakehouse.overwrite_arrow(events_table([("e2", "2")]), table)
    lakehouse.delta(table).vacuum(
        retention_hours=0, enforce_retention_duration=False, dry_run=False
    )
    with pytest.raises(HistoryGone, match="version 0 was removed"):
        changed_rows(duckdb.connect(), lakehouse, table, 0)


def test_a_run_is_full_without_a_previous_one_or_when_the_rules_change(tmp_path):
    lakehouse = Lakehouse(tmp_path)
    assert why_full(lakehouse, RULES, None) == "no previous run"
    lakehouse.overwrite_arrow(
        pa.table({"identifier_type": ["phone"], "identifier_value": ["1"], "one_id": ["O1"]}), MAP
    )
    last = {"inputs": fingerprint_of(RULES)}
    assert why_full(lakehouse, RULES, last) is None
    stricter = RULES.model_copy(update={"max_component_size": RULES.max_component_size - 1})
    assert why_full(lakehouse, stricter, last) == "the rules changed"


def fingerprint_of(rules) -> str:
    """A last run's inputs as ``identity.resolve.fingerprint`` records them."""
    return json.dumps({"silver": {}, "rules": rules.model_dump(mode="json")}, sort_keys=True)
