"""Customer marts (metrics, RFM, lifecycle) on the small generated dataset.

Metrics are checked against an independent pandas computation over the same silver tables;
RFM and lifecycle against their documented rules; the incremental history tables by building
the marts of a copied workspace for several days.
"""

from __future__ import annotations

import csv
import math
import shutil
from datetime import timedelta

import pandas as pd
import pytest

from cdp.config import load_settings, packaged
from cdp.lakehouse import Lakehouse, Table
from cdp.mart_rules import lifecycle
from cdp.marts import run_dbt
from tests.integration.marts_support import buyers, is_paid_sale, is_purchase, query

pytestmark = pytest.mark.integration

STAGES = {
    "visitor",
    "follower",
    "member",
    "member_never_bought",
    "first_purchase",
    "active",
    "dormant",
    "at_risk",
    "churned",
}
PURCHASE_STAGES = {"first_purchase", "active", "dormant", "at_risk", "churned"}
HISTORY = "+rfm_daily +lifecycle_transitions"
DBT_PROJECT = packaged("dbt_project")
RULES_DIR = DBT_PROJECT / "config"


@pytest.fixture(scope="module")
def silver(marts):
    settings, _ = marts
    lake = Lakehouse(settings.lakehouse_dir)
    orders = lake.to_pandas(Table("silver", "orders"))
    events = lake.to_pandas(Table("silver", "events"), ["event_date"])
    identity = lake.to_pandas(Table("silver", "identity_map"))
    as_of = max(orders["order_date"].max(), events["event_date"].max())
    return orders, identity, as_of


@pytest.fixture(scope="module")
def expected(silver) -> pd.DataFrame:
    """Per buyer metrics computed in pandas from silver, following customer_metrics.yml."""
    orders, identity, as_of = silver
    orders = orders[orders["order_date"] <= as_of].copy()
    orders["one_id"] = buyers(orders, identity)
    orders["refund"] = orders["refund_amount_fen"].fillna(0)
    orders["net"] = orders["paid_amount_fen"] - orders["refund"]
    orders = orders[is_paid_sale(orders) | (orders["order_type"] == "return")]
    sales = orders[orders["order_type"] == "sale"].copy()
    returns = orders[orders["order_type"] == "return"]
    sale_keys = set(zip(sales["channel"], sales["order_id"]))
    matched = returns[
        [k in sale_keys for k in zip(returns["channel"], returns["original_order_id"])]
    ]
    unmatched = returns.drop(matched.index)
    taken_back = matched.groupby(["channel", "original_order_id"]).agg(
        returned=("net", "sum"), returned_units=("unit_count", "sum"), returns=("net", "size")
    )
    sales = sales.join(taken_back, on=["channel", "order_id"]).fillna(
        {"returned": 0, "returned_units": 0, "returns": 0}
    )
    sales["spend"] = sales["net"] + sales["returned"]
    sales["units"] = sales["unit_count"] + sales["returned_units"]
    sales["refunds"] = (sales["refund"] > 0).astype(int) + sales["returns"]
    sales["refunded"] = sales["refund"] - sales["returned"]
    # and POS returns that take back all of a sale make it no purchase either
    sales["is_purchase"] = is_purchase(sales) & ~((sales["returned"] < 0) & (sales["spend"] <= 0))
    sales["counts"] = sales["is_purchase"]
    unmatched = unmatched.assign(
        spend=unmatched["net"],
        units=unmatched["unit_count"],
        refunds=1,
        refunded=-unmatched["net"],
        is_purchase=False,
        counts=True,
        line_count=0,
    )
    rows = pd.concat([sales, unmatched])
    rows = rows[rows["one_id"].notna()].copy()
    rows["days_ago"] = [(as_of - d).days for d in rows["order_date"]]
    rows["in_30d"] = rows["days_ago"] < 30
    bought, counted = rows[rows["is_purchase"]], rows[rows["counts"]]
    bought_30d, counted_30d = bought[bought["in_30d"]], counted[counted["in_30d"]]
    by = "one_id"
    result = pd.DataFrame(
        {
            "order_count": bought.groupby(by).size(),
            "spend_fen": counted.groupby(by)["spend"].sum(),
            "unit_count": counted.groupby(by)["units"].sum(),
            "line_count": bought.groupby(by)["line_count"].sum(),
            "first_purchase_date": bought.groupby(by)["order_date"].min(),
            "last_purchase_date": bought.groupby(by)["order_date"].max(),
            "refund_count": rows.groupby(by)["refunds"].sum(),
            "refund_amount_fen": rows.groupby(by)["refunded"].sum(),
            "order_count_30d": bought_30d.groupby(by).size(),
            "spend_fen_30d": counted_30d.groupby(by)["spend"].sum(),
        },
        index=sorted(set(rows[by])),
    )
    counts = [
        "order_count",
        "spend_fen",
        "unit_count",
        "line_count",
        "refund_count",
        "refund_amount_fen",
        "order_count_30d",
        "spend_fen_30d",
    ]
    result[counts] = result[counts].fillna(0).astype("int64")
    return result


@pytest.fixture(scope="module")
def metrics(marts) -> pd.DataFrame:
    settings, _ = marts
    return query(settings, "select * from customer_metrics").set_index("one_id")


def test_metrics_have_one_row_per_buyer(metrics, expected):
    assert metrics.index.is_unique
    assert set(metrics.index) == set(expected.index)
    assert (metrics["order_count"] > 0).sum() > 100


def test_metrics_match_an_independent_computation(metrics, expected, silver):
    _, _, as_of = silver
    got = metrics.loc[expected.index]
    for column in [
        "order_count",
        "spend_fen",
        "unit_count",
        "refund_count",
        "refund_amount_fen",
        "order_count_30d",
        "spend_fen_30d",
    ]:
        diff = got[column].astype("int64") != expected[column]
        assert not diff.any(), (
            column,
            got.loc[diff, column].head(),
            expected.loc[diff, column].head(),
        )
    assert (got["as_of"].dt.date == as_of).all()
    for column in ["first_purchase_date", "last_purchase_date"]:
        mine = [d.date() if pd.notna(d) else None for d in got[column]]
        theirs = [d if pd.notna(d) else None for d in expected[column]]
        assert mine == theirs, column
    buyers = expected["order_count"] > 0
    aov = expected["spend_fen"][buyers] / expected["order_count"][buyers]
    assert (got["average_order_value_fen"][buyers] - aov).abs().max() <= 0.005
    upt = expected["unit_count"][buyers] / expected["order_count"][buyers]
    assert (got["units_per_transaction"][buyers] - upt).abs().max() <= 0.005
    attach = expected["line_count"][buyers] / expected["order_count"][buyers]
    assert (got["attach_rate"][buyers] - attach).abs().max() <= 0.005
    assert got["average_order_value_fen"][~buyers].isna().all()
    days = [(as_of - d).days for d in expected["last_purchase_date"][buyers]]
    assert got["days_since_last_purchase"][buyers].astype(int).tolist() == days


def test_windows_nest(metrics):
    for smaller, larger in [("_7d", "_30d"), ("_30d", "_90d"), ("_90d", "_365d"), ("_365d", "")]:
        assert (metrics[f"order_count{smaller}"] <= metrics[f"order_count{larger}"]).all()
        assert (metrics[f"refund_count{smaller}"] <= metrics[f"refund_count{larger}"]).all()


def test_favourites_are_among_what_was_bought(marts, metrics):
    settings, _ = marts
    spend = query(
        settings,
        """
        select one_id, category, sum(net_amount_fen) as spend
        from fct_order_lines where is_purchase group by all""",
    )
    bought = set(zip(spend["one_id"], spend["category"]))
    buyers = metrics[metrics["order_count"] > 0]
    assert buyers["favourite_category"].notna().mean() > 0.95
    for one_id, category in buyers["favourite_category"].dropna().items():
        assert (one_id, category) in bought
    assert ((buyers["category_count"] >= 2) == buyers["is_cross_category"]).all()
    in_store = buyers["favourite_store_code"].notna()
    assert in_store.any() and buyers.loc[in_store, "favourite_city"].notna().any()
    assert buyers.loc[~in_store, "favourite_city"].isna().all()


@pytest.fixture(scope="module")
def rfm(marts) -> pd.DataFrame:
    settings, _ = marts
    return query(settings, "select * from customer_rfm")


def segment_map() -> list[dict]:
    with open(DBT_PROJECT / "seeds" / "rfm_segment_map.csv", encoding="utf-8") as f:
        return [
            {k: (int(v) if k.endswith(("_min", "_max")) else v) for k, v in row.items()}
            for row in csv.DictReader(f)
        ]


def segment_of(r: int, fm: int, rectangles: list[dict]) -> list[str]:
    return [
        x["segment"]
        for x in rectangles
        if x["r_score_min"] <= r <= x["r_score_max"]
        and x["fm_score_min"] <= fm <= x["fm_score_max"]
    ]


def test_segment_map_covers_every_cell_once():
    rectangles = segment_map()
    assert len({x["segment"] for x in rectangles}) == 11
    for r in range(1, 6):
        for fm in range(1, 6):
            assert len(segment_of(r, fm, rectangles)) == 1, (r, fm)


def test_every_active_customer_has_one_segment(rfm, metrics):
    active = set(metrics.index[metrics["order_count_365d"] > 0])
    assert rfm["one_id"].is_unique and set(rfm["one_id"]) == active
    for column in ["r_score", "f_score", "m_score", "fm_score"]:
        assert rfm[column].between(1, 5).all(), column
    assert (rfm["fm_score"] == (rfm["f_score"] + rfm["m_score"] + 1) // 2).all()
    rectangles = segment_map()
    for r, fm, segment in rfm[["r_score", "fm_score", "segment"]].itertuples(index=False):
        assert segment_of(r, fm, rectangles) == [segment]


def test_scores_are_quintiles_of_percent_rank(rfm):
    n = len(rfm)

    def score(values: pd.Series) -> pd.Series:
        rank = (values.rank(method="min") - 1) / (n - 1)
        return rank.map(lambda p: min(5, 1 + math.floor(5 * p)))

    assert (rfm["r_score"] == score(-rfm["recency_days"])).all()
    assert (rfm["f_score"] == score(rfm["frequency"])).all()
    assert (rfm["m_score"] == score(rfm["monetary_fen"])).all()
    assert rfm["r_score"].nunique() >= 3 and rfm["m_score"].nunique() == 5


@pytest.fixture(scope="module")
def stages(marts) -> pd.DataFrame:
    settings, _ = marts
    return query(settings, "select * from customer_lifecycle").set_index("one_id")


def test_lifecycle_covers_everyone_known_by_the_day(stages, marts, silver):
    settings, _ = marts
    _, _, as_of = silver
    golden = Lakehouse(settings.lakehouse_dir).to_pandas(Table("silver", "golden_records"))
    seen = golden["first_seen_at"].dt.tz_convert("Asia/Shanghai").dt.date <= as_of
    assert stages.index.is_unique and set(stages.index) == set(golden.loc[seen, "one_id"])
    assert set(stages["lifecycle_stage"]) <= STAGES
    assert {"visitor", "follower", "member", "first_purchase", "active"} <= set(
        stages["lifecycle_stage"]
    )


def test_lifecycle_agrees_with_metrics(stages, metrics):
    rules = lifecycle.load(RULES_DIR / lifecycle.FILE)
    bought = metrics[metrics["order_count"] > 0]
    buyers = stages["lifecycle_stage"].isin(PURCHASE_STAGES)
    assert set(stages.index[buyers]) == set(bought.index)
    joined = stages.join(metrics[["order_count", "days_since_last_purchase"]], rsuffix="_m")
    first = joined[joined["lifecycle_stage"] == "first_purchase"]
    assert (first["order_count_m"] == 1).all()
    assert (first["days_since_last_purchase_m"] < rules["first_purchase_days"]).all()
    active = joined[joined["lifecycle_stage"] == "active"]
    assert (active["days_since_last_purchase_m"] < rules["dormant_after_days"]).all()
    for stage, threshold in [
        ("dormant", "dormant_after_days"),
        ("at_risk", "at_risk_after_days"),
        ("churned", "churned_after_days"),
    ]:
        assert (
            joined.loc[joined["lifecycle_stage"] == stage, "days_since_last_purchase_m"]
            >= rules[threshold]
        ).all()
    members = stages["lifecycle_stage"].isin({"member", "member_never_bought"})
    assert stages.loc[members, "is_member"].all()
    assert not stages.loc[stages["lifecycle_stage"] == "follower", "is_member"].any()
    assert stages.loc[stages["lifecycle_stage"] == "follower", "is_follower"].all()
    visitors = stages[stages["lifecycle_stage"] == "visitor"]
    assert not (visitors["is_member"] | visitors["is_follower"]).any()


@pytest.fixture(scope="module")
def history(marts, silver, tmp_path_factory):
    """The history tables of a copied workspace built for D-1, D, then D+200 (D = as-of)."""
    settings, _ = marts
    _, _, as_of = silver
    ws = tmp_path_factory.mktemp("marts-history")
    shutil.copytree(settings.lakehouse_dir, ws / "lakehouse")
    copy = load_settings(workspace=ws)
    days = [as_of - timedelta(days=1), as_of, as_of + timedelta(days=200)]
    for day in days:
        # cautious: leave out tests of other marts, which this selection does not build
        run_dbt(
            copy,
            ["build", "--indirect-selection", "cautious"],
            as_of=day.isoformat(),
            select=HISTORY,
        )
    return copy, days


def test_rfm_daily_keeps_earlier_days(history):
    copy, (before, day, later) = history
    counts = query(copy, "select as_of, count(*) as n from rfm_daily group by as_of")
    assert sorted(d.date() for d in counts["as_of"]) == [before, day, later]
    assert (counts["n"] > 0).all()
    moves = query(
        copy,
        f"""
        select a.segment as from_segment, b.segment as to_segment, count(*) as n
        from rfm_daily a join rfm_daily b using (one_id)
        where a.as_of = DATE '{before}' and b.as_of = DATE '{day}' group by all""",
    )
    assert moves["n"].sum() > 0


def test_lifecycle_transitions_record_moves(history):
    copy, (before, _, later) = history
    rules = lifecycle.load(RULES_DIR / lifecycle.FILE)
    moves = query(copy, "select * from lifecycle_transitions")
    assert set(moves["to_stage"]) <= STAGES
    assert moves.groupby(["as_of", "one_id"]).size().max() == 1
    first = moves[moves["as_of"].dt.date == before]
    assert first["from_stage"].isna().all() and len(first) > 0
    # 200 days on, every buyer of the 365 days before has gone dormant.
    assert rules["dormant_after_days"] <= 200 < rules["at_risk_after_days"]
    late = moves[moves["as_of"].dt.date == later]
    went_dormant = late[late["to_stage"] == "dormant"]
    assert len(went_dormant) > 0
    assert set(went_dormant["from_stage"]) <= {"first_purchase", "active"}
    stages = query(
        copy,
        "select lifecycle_stage, days_since_last_purchase "
        "from customer_lifecycle where order_count > 0",
    )
    assert (stages["lifecycle_stage"] == "dormant").all()
    assert (stages["days_since_last_purchase"] >= rules["dormant_after_days"]).all()
    # A person's stage on the latest day is the to_stage of their latest transition.
    latest = moves.sort_values("as_of").groupby("one_id")["to_stage"].last()
    everyone = query(copy, "select one_id, lifecycle_stage from customer_lifecycle")
    assert (
        everyone.set_index("one_id")["lifecycle_stage"] == latest.reindex(everyone["one_id"]).values
    ).all()


def test_as_of_is_the_last_day_with_data(marts, silver):
    settings, _ = marts
    _, _, as_of = silver
    built = query(settings, "select as_of from intermediate.int_as_of")["as_of"][0]
    assert built.date() == as_of


def test_rebuilding_a_day_replaces_only_that_day(history):
    """Runs last: it rebuilds the copy as of D, after the tests that read it as of D+200."""
    copy, (_, day, _) = history
    everything = "select * from rfm_daily order by as_of, one_id"
    was = query(copy, everything)
    run_dbt(
        copy,
        ["build", "--indirect-selection", "cautious"],
        as_of=day.isoformat(),
        select="+rfm_daily",
    )
    now = query(copy, everything)
    assert was["as_of"].nunique() == 3
    pd.testing.assert_frame_equal(was, now)
