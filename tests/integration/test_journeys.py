"""The example journeys on the generated data: the shared run's journeys step, then a private
copy driven day by day from scratch (a backfill day, two newest days, a re-run of a day and a
late re-run of an older one), every entry, wait and send checked against what the marts say
people did, and the sends through suppression into packs with a manifest and touches."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, timedelta

import duckdb
import pyarrow.compute as pc
import pytest

from cdp import pipeline
from cdp.activation.inputs import open_marts
from cdp.journeys.runs import PAST_DAY, run_journeys
from cdp.lakehouse import Lakehouse
from cdp.tables import JOURNEY_EVENTS, JOURNEY_STATE, TOUCHES

DAYS = [date(2026, 9, d) for d in (4, 5, 6)]
BACKFILL, NEWEST = DAYS[:1], DAYS[1:]
# the first run (09-04) enters trigger events from 09-02 on: the lateness is 2 days
WINDOW = "occurred_at >= TIMESTAMPTZ '2026-09-02 00:00:00+08' AND one_id IS NOT NULL"
CART_SQL = f"""
    SELECT DISTINCT one_id FROM intermediate.int_activity__events
    WHERE {WINDOW} AND event_source = 'web' AND event_type = 'add_to_cart'"""
SCAN_SQL = f"""
    SELECT DISTINCT one_id FROM intermediate.int_activity__events
    WHERE {WINDOW} AND event_source = 'mall' AND event_type = 'qr_scan'
      AND starts_with(scene, 'mall_qr_national_day')"""
ORDERS_SQL = "SELECT one_id, ordered_at FROM fct_orders WHERE is_purchase AND one_id IS NOT NULL"


def fraction(salt: str, one_id: str) -> float:
    return int(hashlib.sha256(f"{salt}:{one_id}".encode()).hexdigest()[:15], 16) / 2**60


def _log(lakehouse: Lakehouse, journey: str) -> list[dict]:
    table = lakehouse.to_arrow(JOURNEY_EVENTS)
    return table.filter(pc.equal(table["journey"], journey)).to_pylist()


def _journey_touches(lakehouse: Lakehouse) -> list[dict]:
    touches = lakehouse.to_arrow(TOUCHES).to_pylist()
    return [t for t in touches if t["segment"].startswith("journey_")]


def _advance(settings, day: date, send: bool) -> dict:
    return {run.journey: run for run in run_journeys(settings, send=send, as_of=day)}


@pytest.fixture
def fresh(shared_copy):
    """The shared copy without any journey history: the journeys start on the first day."""
    lakehouse = Lakehouse(shared_copy.lakehouse_dir)
    for table in (JOURNEY_EVENTS, JOURNEY_STATE):
        shutil.rmtree(lakehouse.path(table))
    shutil.rmtree(shared_copy.workspace / "exports" / "journeys", ignore_errors=True)
    return shared_copy


def test_the_pipeline_step_sends_through_suppression_into_packs(shared_run):
    # the marts were built before any journey ran: the funnel is there, empty
    with duckdb.connect(str(shared_run.settings.marts_db), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM journey_funnel").fetchone() == (0,)
    runs = {run.journey: run for run in shared_run.summary.journeys}
    assert set(runs) == {"autumn_waves", "cart_abandonment", "qr_coupon_campaign"}
    exports = [e for run in runs.values() for e in run.exports]
    assert exports, "no journey sent anything on the shared run's day"
    for export in exports:
        manifest = json.loads((export.folder / "manifest.json").read_text())
        counts = manifest["counts"]
        assert counts["due"] == counts["exported"] + sum(counts["suppressed"].values()) > 0
        for entry in manifest["files"]:
            assert (export.folder / entry["name"]).stat().st_size == entry["bytes"]


def test_journeys_day_by_day_backfill_rerun_and_sends(fresh):
    settings = fresh
    lakehouse = Lakehouse(settings.lakehouse_dir)
    touches_before = len(_journey_touches(lakehouse))
    for day in BACKFILL:
        _advance(settings, day, send=False)
        assert not (settings.workspace / "exports" / "journeys").exists()
        assert len(_journey_touches(lakehouse)) == touches_before
    for journey in ("cart_abandonment", "qr_coupon_campaign"):
        reasons = {r["reason"] for r in _log(lakehouse, journey) if r["action"] == "sent"}
        assert PAST_DAY in reasons and None not in reasons
    newest = {}
    for day in NEWEST:
        newest[day] = _advance(settings, day, send=True)

    with open_marts(settings) as con:
        carts = {r for (r,) in con.sql(CART_SQL).fetchall()}
        scans = {r for (r,) in con.sql(SCAN_SQL).fetchall()}
        orders = con.sql(ORDERS_SQL).fetchall()

    # entries: everyone who did the trigger in the window entered, nobody else
    cart_log = _log(lakehouse, "cart_abandonment")
    assert {r["one_id"] for r in cart_log if r["action"] == "entered"} == carts
    qr_log = _log(lakehouse, "qr_coupon_campaign")
    assert {r["one_id"] for r in qr_log if r["action"] == "entered"} == scans
    # the autumn wave of 09-05 entered its audience, split by the person's number
    autumn = _log(lakehouse, "autumn_waves")
    entered = [r for r in autumn if r["action"] == "entered"]
    assert entered and {r["run_day"] for r in entered} == {date(2026, 9, 5)}
    for r in entered:
        control = fraction("autumn-waves-2026", r["one_id"]) < 0.1
        assert r["split_group"] == ("control" if control else "treatment")

    # the cart journey: one day after the cart a coupon, unless an order came first
    bought = {}
    for one_id, at in orders:
        bought.setdefault(one_id, []).append(at)
    starts = {
        (r["one_id"], r["instance"]): r["event_at"] for r in cart_log if r["action"] == "entered"
    }
    for r in cart_log:
        start = starts[(r["one_id"], r["instance"])]
        ordered = [at for at in bought.get(r["one_id"], []) if start <= at <= start + timedelta(1)]
        if r["action"] == "sent":
            assert r["event_at"] == start + timedelta(days=1) and not ordered
        if r["action"] == "exited" and r["reason"] == "converted":
            assert r["event_at"] == min(ordered)

    # only the newest days sent: packs with a manifest, a touch per person reached
    touches = _journey_touches(lakehouse)
    assert {t["as_of"] for t in touches} <= set(NEWEST)
    sent_days = set()
    for day, runs in newest.items():
        for run in runs.values():
            for export in run.exports:
                manifest = json.loads((export.folder / "manifest.json").read_text())
                assert manifest["as_of"] == day.isoformat()
                reached = [
                    t for t in touches if t["as_of"] == day and t["segment"] == manifest["segment"]
                ]
                assert len(reached) == manifest["counts"]["exported"]
                log = _log(lakehouse, run.journey)
                channels = [
                    r
                    for r in log
                    if r["run_day"] == day and r["step"] == export.step and r["action"] == "sent"
                ]
                assert (
                    sum(r["channel"] is not None for r in channels)
                    == manifest["counts"]["exported"]
                )
                sent_days.add((run.journey, day))
    assert ("autumn_waves", date(2026, 9, 5)) in sent_days
    assert any(j == "cart_abandonment" for j, _ in sent_days)
    assert any(j == "qr_coupon_campaign" for j, _ in sent_days)

    # a re-run of the newest day changes no table; one of an older day is skipped
    versions = {t: lakehouse.version(t) for t in (JOURNEY_EVENTS, JOURNEY_STATE, TOUCHES)}
    again = _advance(settings, NEWEST[-1], send=True)
    assert {t: lakehouse.version(t) for t in versions} == versions
    assert {j: r.summary() for j, r in again.items()} == {
        j: r.summary() for j, r in newest[NEWEST[-1]].items()
    }
    older = _advance(settings, NEWEST[0], send=True)
    assert all(run.skipped for run in older.values())
    assert {t: lakehouse.version(t) for t in versions} == versions

    # the funnel mart, built after the runs, counts what the log holds
    pipeline.build_marts(settings, as_of="2026-09-06", select="int_journeys__events journey_funnel")
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        con.register("log", lakehouse.to_arrow(JOURNEY_EVENTS))
        expected = con.sql(
            "SELECT journey, count(*) FILTER (WHERE action = 'entered'), "
            "count(*) FILTER (WHERE action = 'sent' AND channel IS NOT NULL) "
            "FROM log GROUP BY ALL ORDER BY 1"
        ).fetchall()
        funnel = con.sql(
            "SELECT journey, sum(instances_arrived) FILTER (WHERE step_depth = 0), "
            "sum(messages_sent) FROM journey_funnel GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert funnel == expected
