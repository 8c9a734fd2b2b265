"""Loyalty (points ledger, tiers) and coupon marts on the small generated dataset.

Purchase points, rolling spend, tiers, burns and coupon counts are checked against an
independent pandas computation over the same silver tables and config/loyalty.yml; the ledger
against its own bookkeeping (balances add up, every debit is allocated to lots).
"""

from __future__ import annotations

import pandas as pd
import pytest

from cdp.config import packaged
from cdp.lakehouse import Lakehouse, Table
from cdp.mart_rules import loyalty
from tests.integration.marts_support import buyers, is_paid_sale, query

pytestmark = pytest.mark.integration

CHINA = "Asia/Shanghai"
RULES_DIR = packaged("dbt_project") / "config"


def china_date(timestamps: pd.Series) -> pd.Series:
    return timestamps.dt.tz_convert(CHINA).dt.date


@pytest.fixture(scope="module")
def rules() -> dict:
    return loyalty.load(RULES_DIR / loyalty.FILE)


@pytest.fixture(scope="module")
def silver(marts):
    settings, _ = marts
    lake = Lakehouse(settings.lakehouse_dir)
    return {
        name: lake.to_pandas(Table("silver", name))
        for name in ("orders", "members", "points", "coupon_events", "identity_map", "events")
    }


@pytest.fixture(scope="module")
def as_of(silver, marts):
    day = max(silver["orders"]["order_date"].max(), silver["events"]["event_date"].max())
    settings, _ = marts
    assert query(settings, "select as_of from intermediate.int_as_of")["as_of"][0].date() == day
    return day


@pytest.fixture(scope="module")
def lookup(silver) -> dict:
    identity = silver["identity_map"]
    return {
        (t, v): o
        for t, v, o in identity[["identifier_type", "identifier_value", "one_id"]].itertuples(
            index=False
        )
    }


@pytest.fixture(scope="module")
def members(silver, lookup, as_of) -> pd.DataFrame:
    """one_id -> joined_at of the first member card opened up to the as-of day."""
    cards = silver["members"].dropna(subset=["member_card_no"]).copy()
    cards["one_id"] = [lookup.get(("member_card", c)) for c in cards["member_card_no"]]
    cards = cards[cards["one_id"].notna() & (china_date(cards["joined_at"]) <= as_of)]
    return cards.groupby("one_id").agg(joined_at=("joined_at", "min"))


@pytest.fixture(scope="module")
def sales_and_returns(silver, lookup, members, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders that earn points, with the refunds (online refunds and POS returns) up to as_of,
    and the POS return tickets of these orders, with the buyer of the original ticket."""
    orders = silver["orders"]

    orders = orders[orders["order_date"] <= as_of].copy()
    orders["one_id"] = buyers(orders, silver["identity_map"])
    sales = orders[
        is_paid_sale(orders)
        & (orders["paid_amount_fen"] > 0)
        & orders["one_id"].isin(members.index)
    ]
    sales = sales[sales["ordered_at"] >= members.loc[sales["one_id"], "joined_at"].to_numpy()]
    sales = sales.copy()
    refund = sales["refund_amount_fen"].fillna(0)
    sales["refund"] = refund.where(china_date(sales["updated_at"]) <= as_of, 0)
    returns = orders[orders["order_type"] == "return"]
    returns = returns.merge(
        sales[["channel", "order_id", "one_id"]],
        left_on=["channel", "original_order_id"],
        right_on=["channel", "order_id"],
        suffixes=("", "_sale"),
    )
    returned = (-returns.groupby(["channel", "original_order_id"])["paid_amount_fen"].sum()).rename(
        "returned"
    )
    sales = sales.join(returned, on=["channel", "order_id"])
    sales["returned"] = sales["returned"].fillna(0)
    return sales, returns.drop(columns=["one_id"]).rename(columns={"one_id_sale": "one_id"})


@pytest.fixture(scope="module")
def member_orders(sales_and_returns) -> pd.DataFrame:
    return sales_and_returns[0]


@pytest.fixture(scope="module")
def member_returns(sales_and_returns) -> pd.DataFrame:
    return sales_and_returns[1]


@pytest.fixture(scope="module")
def tiers(marts) -> pd.DataFrame:
    settings, _ = marts
    return query(settings, "select * from member_tiers").set_index("one_id")


@pytest.fixture(scope="module")
def balances(marts) -> pd.DataFrame:
    settings, _ = marts
    return query(settings, "select * from points_balances").set_index("one_id")


@pytest.fixture(scope="module")
def ledger(marts) -> pd.DataFrame:
    settings, _ = marts
    return query(settings, "select * from points_ledger")


def test_every_member_has_a_balance_and_a_tier(members, balances, tiers):
    assert set(balances.index) == set(members.index)
    assert set(tiers.index) == set(members.index)
    assert len(members) > 50


def test_purchase_points_of_base_tier_members(member_orders, tiers, ledger, marts, rules):
    """Members who never left the base tier earn points_per_yuan x base multiplier per yuan."""
    settings, _ = marts
    changed = query(
        settings, "select distinct one_id from tier_changes where change_reason <> 'join'"
    )["one_id"]
    base = rules["tiers"]["levels"][0]
    base_members = set(tiers.index[tiers["tier"] == base["name"]]) - set(changed)
    per_yuan = rules["earn"]["purchase"]["points_per_yuan"]
    orders = member_orders[member_orders["one_id"].isin(base_members)]
    expected = (
        (orders["paid_amount_fen"] * per_yuan * base["multiplier_milli"] // 100_000)
        .groupby(orders["one_id"])
        .sum()
    )
    expected = expected[expected > 0]
    earns = ledger[
        (ledger["movement_type"] == "earn")
        & (ledger["reason"] == "purchase")
        & ledger["one_id"].isin(base_members)
    ]
    actual = earns.groupby("one_id")["points"].sum()
    assert len(expected) >= 5
    pd.testing.assert_series_equal(
        actual.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )


def test_clawbacks_match_refunds(member_orders, balances, marts, rules):
    """Refunds and returns take back what the refunded amount earned at the order's multiplier.
    (The small dataset may hold no refund of a member's order; the dbt unit test
    int_loyalty__clawbacks_partial_and_full_refunds covers the arithmetic.)"""
    settings, _ = marts
    multipliers = query(
        settings,
        "select order_key, multiplier_milli from points_lots where earn_reason = 'purchase'",
    ).set_index("order_key")
    orders = member_orders.assign(
        order_key=member_orders["channel"] + ":" + member_orders["order_id"]
    )
    milli = (
        orders["order_key"].map(multipliers["multiplier_milli"]).fillna(1000)
        * rules["earn"]["purchase"]["points_per_yuan"]
    )
    left = (orders["paid_amount_fen"] - orders["refund"] - orders["returned"]).clip(lower=0)
    clawed = orders["paid_amount_fen"] * milli // 100_000 - left * milli // 100_000
    expected = clawed.groupby(orders["one_id"]).sum().astype("int64")
    actual = balances["lifetime_clawed_back"]
    pd.testing.assert_series_equal(
        actual[actual > 0].sort_index(),
        expected[expected > 0].sort_index(),
        check_names=False,
        check_dtype=False,
    )


def test_rolling_spend_and_tiers(member_orders, member_returns, tiers, rules, as_of):
    """Rolling spend = net spend since joining (the dataset is shorter than the window); the
    tier is the highest one whose upgrade_at the running spend reached at the close of some
    day (no review falls within the dataset, so no tier is lost).

    The generator's history files (a reassigned phone's earlier owner, years back) reach past
    the window: those few people are left out, the rest are checked exactly."""
    assert rules["tiers"]["basis"] == "rolling_spend"
    first = member_orders.groupby("one_id")["order_date"].min()
    recent = first[(as_of - first).map(lambda d: d.days) < rules["tiers"]["window_days"]].index
    assert len(recent) >= len(first) // 2
    member_orders = member_orders[member_orders["one_id"].isin(recent)]
    member_returns = member_returns[member_returns["one_id"].isin(recent)]
    tiers = tiers[tiers.index.isin(recent) | ~tiers.index.isin(first.index)]
    spend = (
        (member_orders["paid_amount_fen"] - member_orders["refund"] - member_orders["returned"])
        .groupby(member_orders["one_id"])
        .sum()
    )
    actual = tiers["rolling_spend_fen"]
    pd.testing.assert_series_equal(
        actual[actual != 0].sort_index(),
        spend[spend != 0].sort_index(),
        check_names=False,
        check_dtype=False,
    )

    # the value at the close of each day: purchases, refunds and returns on their own days
    returns = member_returns
    changes = pd.concat(
        [
            pd.DataFrame(
                {
                    "one_id": member_orders["one_id"],
                    "day": member_orders["order_date"],
                    "fen": member_orders["paid_amount_fen"],
                }
            ),
            pd.DataFrame(
                {
                    "one_id": member_orders["one_id"],
                    "day": china_date(member_orders["updated_at"]),
                    "fen": -member_orders["refund"],
                }
            ),
            pd.DataFrame(
                {
                    "one_id": returns["one_id"],
                    "day": returns["order_date"],
                    "fen": returns["paid_amount_fen"],
                }
            ),
        ]
    )
    closing = changes.groupby(["one_id", "day"])["fen"].sum().groupby(level=0).cumsum()
    peak = closing.groupby(level=0).max() / 100
    levels = rules["tiers"]["levels"]

    def reached(value: float) -> str:
        return [level["name"] for level in levels if value >= level["upgrade_at"]][-1]

    expected = peak.map(reached).reindex(tiers.index).fillna(levels[0]["name"])
    pd.testing.assert_series_equal(
        tiers["tier"].sort_index(), expected.sort_index(), check_names=False
    )
    assert (tiers["tier"] != levels[0]["name"]).sum() > 0


def test_balances_add_up(balances, ledger):
    totals = ledger.groupby("one_id")["points"].sum()
    assert (balances["balance"] == totals.reindex(balances.index).fillna(0)).all()
    assert (
        balances["balance"]
        == balances["lifetime_earned"]
        - balances["lifetime_burned"]
        - balances["lifetime_expired"]
        - balances["lifetime_clawed_back"]
    ).all()
    in_order = ledger.assign(is_debit=ledger["movement_type"] != "earn").sort_values(
        ["one_id", "occurred_at", "is_debit", "movement_id"]
    )
    last = in_order.groupby("one_id")["balance_after"].last()
    assert (last == balances.loc[last.index, "balance"]).all()


def test_registration_points_and_burns_match_silver(
    silver, lookup, members, balances, ledger, rules, as_of
):
    registrations = ledger[(ledger["movement_type"] == "earn") & (ledger["reason"] == "register")]
    assert len(registrations) == len(members)
    assert (registrations["points"] == rules["earn"]["register"]["points"]).all()

    burns = silver["points"][
        (silver["points"]["event_type"] == "burn")
        & (china_date(silver["points"]["occurred_at"]) <= as_of)
    ].copy()
    burns["one_id"] = [lookup.get(("member_card", c)) for c in burns["member_card_no"]]
    burns = burns[burns["one_id"].isin(members.index)]
    expected = (-burns["points"]).groupby(burns["one_id"]).sum()
    actual = balances["lifetime_burned"]
    pd.testing.assert_series_equal(
        actual[actual > 0].sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )


def test_debits_are_allocated_to_lots_in_full(marts):
    settings, _ = marts
    gaps = query(
        settings,
        """
        select ledger.movement_id, -ledger.points as points, sum(allocations.points) as allocated
        from points_ledger as ledger
        left join points_allocations as allocations using (movement_id)
        where ledger.movement_type in ('burn', 'clawback', 'expire')
        group by all
        having allocated is distinct from -ledger.points
    """,
    )
    assert gaps.empty, gaps
    lots = query(settings, "select * from points_lots")
    assert (
        lots["earned_points"]
        == lots["burned_points"]
        + lots["clawed_back_points"]
        + lots["expired_points"]
        + lots["remaining_points"]
    ).all()


def test_coupon_counts_per_campaign_match_silver(silver, marts, as_of):
    settings, _ = marts
    events = silver["coupon_events"]
    events = events[china_date(events["occurred_at"]) <= as_of]
    expected = events.pivot_table(
        index="campaign_id",
        columns="event_type",
        values="coupon_id",
        aggfunc="nunique",
        fill_value=0,
    )
    expected = expected.reindex(columns=["issue", "claim", "redeem", "expire"], fill_value=0)
    expected["coupons"] = events.groupby("campaign_id")["coupon_id"].nunique()
    actual = query(settings, "select * from campaign_performance").set_index("campaign_id")
    assert set(actual.index) == set(expected.index)
    for column, event_type in (
        ("issued", "issue"),
        ("claimed", "claim"),
        ("redeemed", "redeem"),
        ("expired", "expire"),
        ("coupons", "coupons"),
    ):
        pd.testing.assert_series_equal(
            actual[column].sort_index(),
            expected[event_type].sort_index(),
            check_names=False,
            check_dtype=False,
        )
    rates = actual["claimed"] / actual["issued"]
    assert (abs(actual["claim_rate"].astype(float) - rates) < 1e-4).all()


def test_redeeming_orders_are_the_tickets_of_the_redeem_events(silver, marts):
    settings, _ = marts
    coupons = query(settings, "select * from coupon_performance")
    matched = coupons.dropna(subset=["redeemed_order_key"])
    assert (
        matched["redeemed_order_key"]
        == "pos:" + matched["redeemed_store_code"] + "-" + matched["redeemed_order_ref"]
    ).all()
    pos = silver["orders"][silver["orders"]["channel"] == "pos"]
    redeemed = coupons[coupons["status"] == "redeemed"]
    tickets = set(pos["order_id"])
    findable = (redeemed["redeemed_store_code"] + "-" + redeemed["redeemed_order_ref"]).isin(
        tickets
    )
    assert findable.sum() == len(matched)
