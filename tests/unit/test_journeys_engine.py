"""The journey engine on hand-written days: each example journey over several simulated
runs (a late event, a re-run of a day, a person converting between steps), every transition
and every send checked against expectations worked out by hand."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from cdp.journeys import engine
from cdp.journeys.definitions import load_journey
from cdp.tables import JOURNEY_EVENTS_SCHEMA

JOURNEYS = Path(__file__).parents[2] / "journeys"
CN = ZoneInfo("Asia/Shanghai")
TZ = "Asia/Shanghai"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CN)


def fraction(salt: str, one_id: str) -> float:
    return int(hashlib.sha256(f"{salt}:{one_id}".encode()).hexdigest()[:15], 16) / 2**60


def person(salt: str, control: bool, prefix: str = "p") -> str:
    """A one_id the split puts in the control group (or in treatment)."""
    return next(
        f"{prefix}{i}" for i in range(10_000) if (fraction(salt, f"{prefix}{i}") < 0.1) == control
    )


def row(one_id, record_id, record_type, when, **values) -> dict:
    return {
        "one_id": one_id,
        "record_id": record_id,
        "record_type": record_type,
        "occurred_at": at(when),
        **values,
    }


def activity(rows: list[dict]) -> pa.Table:
    return pa.table(
        {f.name: [r.get(f.name) for r in rows] for f in engine.ACTIVITY_SCHEMA},
        schema=engine.ACTIVITY_SCHEMA,
    )


def cart(one_id, record_id, when):
    return row(one_id, record_id, "event", when, channel="web", event_type="add_to_cart")


def order(one_id, record_id, when, fen=10_000):
    return row(one_id, record_id, "order", when, channel="pos", event_type="order", amount_fen=fen)


class Simulation:
    """Runs of one journey day after day, each on what was known by then."""

    def __init__(self, name: str):
        self.journey = load_journey(JOURNEYS / f"{name}.yml")
        self.log = JOURNEY_EVENTS_SCHEMA.empty_table()
        self.results: dict[date, engine.RunResult] = {}

    def run(self, day: date, known: list[dict], audience=None, branch_people=None):
        before = self.log.filter(pa.compute.less(self.log["run_day"], day))
        inputs = engine.Inputs(activity(known), before, audience, branch_people or {})
        result = engine.advance(self.journey, day, inputs, TZ, lateness_days=2)
        self.log = pa.concat_tables([before, result.events])
        self.results[day] = result
        return result


def transitions(result: engine.RunResult, one_id: str) -> list[tuple]:
    rows = result.events.filter(pa.compute.equal(result.events["one_id"], one_id)).to_pylist()
    return [
        (r["action"], r["step"], r["to_step"], r["reason"], r["event_at"].astimezone(CN))
        for r in rows
    ]


def test_cart_abandonment_late_event_conversion_and_rerun():
    salt = "cart-care-2026"
    waiter, buyer, late, control = (
        person(salt, False, "w"),
        person(salt, False, "b"),
        person(salt, False, "l"),
        person(salt, True, "c"),
    )
    sim = Simulation("cart_abandonment")
    day1 = [
        cart(waiter, "e1", "2026-09-01 12:00"),
        cart(buyer, "e2", "2026-09-01 10:00"),
        order(buyer, "o1", "2026-09-01 20:00"),  # bought before the day's wait was over
        cart(control, "e4", "2026-09-01 09:00"),
    ]
    first = sim.run(date(2026, 9, 1), day1)
    assert transitions(first, waiter) == [
        ("entered", None, "wait_a_day", None, at("2026-09-01 12:00"))
    ]
    assert transitions(first, buyer) == [
        ("entered", None, "wait_a_day", None, at("2026-09-01 10:00")),
        ("exited", "wait_a_day", None, "converted", at("2026-09-01 20:00")),
    ]
    # the add-to-cart of 09-01 15:00 is delivered a day late: within the lateness it enters
    day2 = [*day1, cart(late, "e3", "2026-09-01 15:00")]
    second = sim.run(date(2026, 9, 2), day2)
    for who, when in ((waiter, "2026-09-02 12:00"), (late, "2026-09-02 15:00")):
        expected = [
            ("moved", "wait_a_day", "send_coupon", "waited", at(when)),
            ("sent", "send_coupon", None, None, at(when)),
            ("moved", "send_coupon", "done", "sent", at(when)),
            ("exited", "done", None, "reminded", at(when)),
        ]
        assert transitions(second, who)[-4:] == expected
    assert transitions(second, late)[0] == (
        "entered",
        None,
        "wait_a_day",
        None,
        at("2026-09-01 15:00"),
    )
    assert ("sent", "send_coupon", None, "control_group", at("2026-09-02 09:00")) in (
        transitions(second, control)
    )
    assert transitions(second, buyer) == []
    # a re-run of 09-02 gives the same rows: no second send
    again = sim.run(date(2026, 9, 2), day2)
    assert again.events.equals(second.events)
    assert again.state.equals(second.state)
    sends = sim.log.filter(pa.compute.equal(sim.log["action"], "sent"))
    assert sorted(sends["one_id"].to_pylist()) == sorted([waiter, late, control])
    # every_time: a new add-to-cart after the reminder starts a second instance
    third = sim.run(date(2026, 9, 3), [*day2, cart(waiter, "e5", "2026-09-03 08:00")])
    assert [(r["one_id"], r["instance"], r["action"]) for r in third.events.to_pylist()] == [
        (waiter, 2, "entered")
    ]


def test_event_older_than_the_lateness_does_not_enter():
    sim = Simulation("cart_abandonment")
    result = sim.run(date(2026, 9, 5), [cart("x1", "e1", "2026-09-02 12:00")])
    assert result.events.num_rows == 0


def qr(one_id, record_id, when, scene="mall_qr_national_day_atrium"):
    return row(one_id, record_id, "event", when, channel="mall", event_type="qr_scan", scene=scene)


def coupon(one_id, record_id, kind, when):
    return row(
        one_id,
        record_id,
        "coupon",
        when,
        channel="coupons",
        event_type=kind,
        campaign="campaign_qr_national_day",
    )


def test_qr_coupon_campaign_branches_groups_and_the_end_date():
    salt = "qr-national-day-2026"
    scalper, redeemer, unclaimed, holder = (
        person(salt, False, f"{p}") for p in ("s", "r", "u", "h")
    )
    sim = Simulation("qr_coupon_campaign")
    scalpers = {"scalper_check": pa.table({"one_id": [scalper]})}
    day1 = [
        qr(scalper, "q1", "2026-10-01 10:00"),
        qr(redeemer, "q2", "2026-10-01 11:00"),
        qr(unclaimed, "q3", "2026-10-01 12:00"),
        qr(holder, "q4", "2026-10-01 13:00"),
        qr(holder, "q5", "2026-10-01 13:00", scene="mall_atrium_poster"),  # not the campaign
    ]
    first = sim.run(date(2026, 10, 1), day1, branch_people=scalpers)
    assert [t[:4] for t in transitions(first, scalper)] == [
        ("entered", None, "scalper_check", None),
        ("moved", "scalper_check", "notice_scalper", "true"),
        ("sent", "notice_scalper", None, None),
        ("moved", "notice_scalper", "scalper", "sent"),
        ("exited", "scalper", None, "scalper"),
    ]
    assert [t[:4] for t in transitions(first, redeemer)] == [
        ("entered", None, "scalper_check", None),
        ("moved", "scalper_check", "send_claim", "false"),
        ("sent", "send_claim", None, None),
        ("moved", "send_claim", "add_reminded", "sent"),
        ("group_added", "add_reminded", None, "reminded"),
        ("moved", "add_reminded", "wait_claim", "grouped"),
    ]
    day2 = [
        *day1,
        coupon(redeemer, "c1", "claim", "2026-10-01 18:00"),
        coupon(holder, "c2", "claim", "2026-10-02 09:00"),
    ]
    second = sim.run(date(2026, 10, 2), day2, branch_people=scalpers)
    assert [t[:4] for t in transitions(second, unclaimed)] == [
        ("moved", "wait_claim", "claimed", "waited"),
        ("moved", "claimed", "not_claimed", "false"),
        ("exited", "not_claimed", None, "not_claimed"),
    ]
    assert [t[:4] for t in transitions(second, redeemer)][-2:] == [
        ("group_added", "add_not_redeemed", None, "not_redeemed"),
        ("moved", "add_not_redeemed", "wait_end", "grouped"),
    ]
    # nothing happens until 3 days before the end (10-07 ends: 10-05 00:00)
    assert sim.run(date(2026, 10, 3), day2, branch_people=scalpers).events.num_rows == 0
    day5 = [*day2, coupon(redeemer, "c3", "redeem", "2026-10-04 15:00")]
    fifth = sim.run(date(2026, 10, 5), day5, branch_people=scalpers)
    assert [t[:4] for t in transitions(fifth, redeemer)] == [
        ("moved", "wait_end", "redeemed", "waited"),
        ("moved", "redeemed", "redeemed_exit", "true"),
        ("exited", "redeemed_exit", None, "redeemed"),
    ]
    assert [t[:4] for t in transitions(fifth, holder)] == [
        ("moved", "wait_end", "redeemed", "waited"),
        ("moved", "redeemed", "remind", "false"),
        ("sent", "remind", None, None),
        ("moved", "remind", "done", "sent"),
        ("exited", "done", None, "reminded"),
    ]
    assert transitions(fifth, holder)[0][4] == at("2026-10-05 00:00")
    # once: scanning again never re-enters; after the end nobody enters
    later = sim.run(
        date(2026, 10, 9),
        [*day5, qr(holder, "q9", "2026-10-08 10:00"), qr("new", "q10", "2026-10-08 10:00")],
        branch_people=scalpers,
    )
    assert later.events.num_rows == 0


def test_autumn_waves_split_holdouts_and_response_branches():
    salt = "autumn-waves-2026"
    people = [f"a{i}" for i in range(400)]
    audience = pa.table({"one_id": people})
    sim = Simulation("autumn_waves")
    assert sim.run(date(2026, 9, 9), [], audience).events.num_rows == 0  # not a wave date
    first = sim.run(date(2026, 9, 10), [], audience)
    seeding = first.events.filter(pa.compute.equal(first.events["action"], "sent")).to_pylist()
    control = {p for p in people if fraction(salt, p) < 0.1}
    assert 0 < len(control) < 80
    assert {r["one_id"] for r in seeding if r["reason"] == "control_group"} == control
    assert {r["one_id"] for r in seeding if r["reason"] is None} == set(people) - control
    engaged = [p for p in people if p not in control][:3]
    buyer = [p for p in people if p not in control][3]
    visits = [
        row(p, f"v{p}", "event", "2026-09-12 10:00", channel="web", event_type="page_view")
        for p in engaged
    ]
    bought = [order(buyer, "o1", "2026-09-15 10:00")]
    for day in range(11, 17):
        assert sim.run(date(2026, 9, day), visits, audience).count("moved") == 0
    sim.run(date(2026, 9, 16), visits + bought, audience)
    assert sim.results[date(2026, 9, 16)].count("exited", "converted") == 1
    eighth = sim.run(date(2026, 9, 17), visits + bought, audience)
    branch = {
        r["one_id"]: r["to_step"]
        for r in eighth.events.to_pylist()
        if r["action"] == "moved" and r["step"] == "responded"
    }
    assert {p: branch[p] for p in engaged} == dict.fromkeys(engaged, "warmup_engaged")
    assert set(branch.values()) == {"warmup_engaged", "warmup_quiet"}
    assert buyer not in branch
    held = {r["one_id"] for r in eighth.events.to_pylist() if r["reason"] == "held_out"}
    for r in eighth.events.to_pylist():
        if r["action"] == "sent" and r["split_group"] == "treatment":
            expected = fraction(f"{salt}:{r['step']}", r["one_id"]) < 0.1
            assert (r["one_id"] in held) == expected


@pytest.mark.parametrize("lateness", [0, 3])
def test_lateness_window(lateness):
    journey = load_journey(JOURNEYS / "cart_abandonment.yml")
    known = activity([cart("x1", "e1", "2026-09-02 23:00")])
    inputs = engine.Inputs(known, JOURNEY_EVENTS_SCHEMA.empty_table())
    result = engine.advance(journey, date(2026, 9, 4), inputs, TZ, lateness_days=lateness)
    assert result.count("entered") == (1 if lateness >= 2 else 0)


def test_activity_window_reaches_back_to_the_oldest_active_entry_only():
    simulation = Simulation("cart_abandonment")
    known = [
        cart("left", "c1", "2026-09-01 10:00"),
        order("left", "o1", "2026-09-01 12:00"),  # converts: exited on the first run
        cart("waiting", "c2", "2026-09-02 20:00"),
    ]
    simulation.run(date(2026, 9, 1), known[:2])
    simulation.run(date(2026, 9, 2), known)
    log = simulation.log
    exited = {r["one_id"] for r in log.to_pylist() if r["action"] == "exited"}
    assert exited == {"left"}
    since, until = engine.activity_window(simulation.journey, date(2026, 9, 3), log, TZ, 0)
    assert since == at("2026-09-02 20:00")  # before the lookback (09-03 00:00), after "left"
    assert until == at("2026-09-04 00:00")
    alone, _ = engine.activity_window(simulation.journey, date(2026, 9, 3), log, TZ, 2)
    assert alone == at("2026-09-01 00:00")  # the lookback is the earlier one
