"""Incremental OneID equals a full re-solve, day after day, on both engines.

Engine tier: five days of silver are delivered to two lakehouses: one resolved
incrementally (the default), one re-solved in full every day. After each day both hold the
same identifier -> OneID map, golden records, links, rejected identifiers and cut links. The
days bring a merge of two people by a new shared identifier, a split by the reassignment rule
(a phone passed to a new owner), a new person, a profile update, a split by a changed phone, a
day that only re-sights pairs seen before (nobody re-solved, the counts still move), a day
whose re-sightings flip a weak identifier's best link by its records, and a person nothing
touches, whose rows the incremental runs never rewrite.

Unit tier: the records a Delta table's log says changed, and when a run must be a full one.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

import identity
from cdp.lakehouse import Lakehouse, Table
from cdp.tables import IDENTITY_LINKS_SCHEMA
from identity.changed import HistoryGone, changed_rows
from identity.golden import GOLDEN
from identity.incremental import REWRITE_SHARE, replace_rows, why_full
from identity.resolve import CHANGES, CUT_LINKS, LINKS, MAP, REJECTED, RUNS
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
        "events": [
            # a device seen twice with one person's card and once with another's: it
            # attaches to the first (more records)
            event("e6", "2025-06-03", device_id="D1", member_card_no="C5"),
            event("e7", "2025-06-03", device_id="D1", member_card_no="C5"),
            event("e8", "2025-06-03", device_id="D1", member_card_no="C2"),
            event("e9", "2025-06-03", phone="13900000004", member_card_no="C4"),
        ],
    },
    {
        # only pairs seen before, by the same sources, and an identifier seen alone: no
        # person is re-solved, the links' counts and dates and a golden record still move
        "events": [
            event("e10", "2025-06-04", phone="13900000004", member_card_no="C4"),
            event("e11", "2025-06-04", device_id="D1", member_card_no="C5"),
            event("e12", "2025-06-04", phone="13900000001"),
        ],
        # a profile updated: its one sighting of the pair replaced by a later one
        "members": [
            member("m2", "2025-06-04", member_card_no="C2", app_id="wx1", openid="o2", name="B")
        ],
    },
    {
        # the device's other pair re-sighted until it has more records: its best link flips
        "events": [
            event(f"e{n}", "2025-06-05", device_id="D1", member_card_no="C2") for n in range(13, 16)
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
    modes, changes, touched, maps, links, firsts = [], [], [], [], [], []
    for incremental, full, outcome, full_outcome in delivered:
        assert identity_map(incremental) == identity_map(full)
        assert golden(incremental) == golden(full)
        for table in (LINKS, REJECTED, CUT_LINKS):
            assert rows_of(incremental, table) == rows_of(full, table), table
        assert (outcome.people, outcome.nodes) == (full_outcome.people, full_outcome.nodes)
        modes.append(outcome.mode)
        changes.append(changes_of(incremental, outcome.run_id))
        touched.append(outcome.touched_identifiers)
        maps.append(run_ids(incremental))
        firsts.append(
            {
                (r["a_key"], r["b_key"], r["source"]): r["first_seen_at"].replace(tzinfo=None)
                for r in rows_of(incremental, LINKS)
            }
        )
        links.append(
            {
                (r["a_key"], r["b_key"], r["source"]): r["records"]
                for r in rows_of(incremental, LINKS)
            }
        )
    assert modes == ["full", *["incremental"] * 4]
    ids = identity_map(incremental)
    assert [c[0] for c in changes[1]] == ["merge", "split"]
    merge = next(c for c in changes[1] if c[0] == "merge")
    assert merge[2] == ids["member_card:C1"] == ids["member_card:C2"] != merge[1]
    assert ids["phone:13987654321"] == ids["member_card:CB"] != ids["member_card:CA"]
    assert [c[0] for c in changes[2]] == ["split"]
    assert ids["phone:13900000003"] != ids["member_card:C3"] == ids["phone:13900000033"]
    # the person nothing touched kept its rows as the first run wrote them
    assert maps[-1]["member_card:C4"] == maps[0]["member_card:C4"]
    # day 4 only re-sighted pairs: nobody re-solved, the map left as it was, the counts moved
    assert touched[3] == 0 and maps[3] == maps[2]
    assert links[3][("member_card:C4", "phone:13900000004", "events:web")] == 2
    assert links[3][("device_id:D1", "member_card:C5", "events:web")] == 3
    profile = ("member_card:C2", "openid:wx1/o2", "members:miniprogram")
    assert firsts[3][profile] == at("2025-06-04") > firsts[2][profile]
    # day 5's re-sightings gave the device more records with the other person's card
    assert touched[4] > 0
    assert maps[4]["device_id:D1"] != maps[3]["device_id:D1"]
    assert ids["device_id:D1"] == ids["member_card:C2"] != ids["member_card:C5"]
    runs = sorted(incremental.to_arrow(RUNS).to_pylist(), key=lambda r: r["run_id"])
    assert [r["mode"] for r in runs] == modes
    assert 0 < runs[-1]["touched_identifiers"] < runs[-1]["identifiers"]


def rows_of(lakehouse: Lakehouse, table: Table) -> list[dict]:
    """A table's rows in a stable order."""
    return sorted(lakehouse.to_arrow(table).to_pylist(), key=lambda r: [str(v) for v in r.values()])


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
    assert sorted(rows) == [("e2", "2", -1), ("e2", "22", 1), ("e3", "3", -1), ("e4", "4", 1)]
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


def link_rows(rows: list[tuple[str, str, int]]) -> pa.Table:
    """Identity links of ``(a_key, b_key, records)``, seen once by the web events."""
    seen = datetime(2025, 6, 1, tzinfo=UTC)
    return pa.Table.from_pylist(
        [
            {
                "a_key": a,
                "b_key": b,
                "source": "events:web",
                "first_seen_at": seen,
                "last_seen_at": seen,
                "records": n,
            }
            for a, b, n in rows
        ],
        schema=IDENTITY_LINKS_SCHEMA,
    )


def test_a_rewrite_of_the_table_leaves_the_rows_a_merge_leaves(spark, tmp_path, monkeypatch):
    table = link_rows([("a:1", "b:1", 1), ("a:2", "b:2", 1), ("a:3", "b:3", 1), ("a:4", "b:4", 1)])
    previous = table.slice(0, 2)
    new = link_rows([("a:1", "b:1", 5), ("a:5", "b:5", 1)])  # one updated, one gone, one new
    left = {}
    # three rows of four change: a share of 1 keeps the MERGE, 0 rewrites
    assert 3 > REWRITE_SHARE * 4  # the default rewrites so small a table
    for share, way in ((1.0, "merged"), (0.0, "rewritten")):
        monkeypatch.setattr("identity.incremental.REWRITE_SHARE", share)
        lakehouse = Lakehouse(tmp_path / way)
        lakehouse.overwrite_arrow(table, LINKS)
        assert (
            replace_rows(
                spark, lakehouse, LINKS, IDENTITY_LINKS_SCHEMA, new, previous, ["a_key", "b_key"]
            )
            == 3
        )
        left[way] = rows_of(lakehouse, LINKS)
        assert lakehouse.read(spark, LINKS).count() == 4
    assert left["merged"] == left["rewritten"]
    assert [(r["a_key"], r["records"]) for r in left["rewritten"]] == [
        ("a:1", 5),
        ("a:3", 1),
        ("a:4", 1),
        ("a:5", 1),
    ]
