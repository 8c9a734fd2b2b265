"""The insight marts against independent pandas computations over the facts of the shared
``marts`` build (fct_orders, fct_order_lines, the activity events), and ``cdp insight``'s
tables and charts on it."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cdp.cli import cli
from cdp.config import packaged
from cdp.mart_rules import insight as insight_rules

pytestmark = pytest.mark.integration

RULES = insight_rules.load(packaged("dbt_project") / "config" / insight_rules.FILE)


@pytest.fixture(scope="module")
def con(marts):
    settings, _ = marts
    with duckdb.connect(str(settings.marts_db), read_only=True) as connection:
        yield connection


def frame(con, sql: str) -> pd.DataFrame:
    return con.sql(sql).df()


@pytest.fixture(scope="module")
def purchases(con) -> pd.DataFrame:
    return frame(
        con,
        "select order_key, one_id, order_date, ordered_at, channel, net_amount_fen from fct_orders "
        "where is_purchase and one_id is not null",
    )


@pytest.fixture(scope="module")
def bought(con) -> pd.DataFrame:
    return frame(
        con,
        "select distinct one_id, sku from fct_order_lines "
        "where is_purchase and one_id is not null and sku is not null",
    )


def test_item_similarity_is_the_cosine_of_buyer_sets(con, bought):
    buyers = bought.groupby("sku")["one_id"].nunique()
    pairs = bought.merge(bought, on="one_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs.sku_a != pairs.sku_b].groupby(["sku_a", "sku_b"]).size()
    pairs = pairs[pairs >= RULES["recommendations"]["min_co_buyers"]].reset_index(name="co")
    pairs["similarity"] = pairs.co / np.sqrt(
        buyers[pairs.sku_a].to_numpy() * buyers[pairs.sku_b].to_numpy()
    )
    pairs = (
        pairs.sort_values(["sku_a", "similarity", "sku_b"], ascending=[True, False, True])
        .groupby("sku_a")
        .head(RULES["recommendations"]["neighbours"])
    )
    mart = frame(con, "select * from insight_item_similarity")
    assert len(mart) == len(pairs) > 0
    merged = mart.merge(pairs, left_on=["item_sku", "similar_sku"], right_on=["sku_a", "sku_b"])
    assert len(merged) == len(mart)
    assert (merged.co_buyers == merged.co).all()
    assert np.allclose(merged.similarity_x, merged.similarity_y)


def last_distinct_items(con, count: int) -> pd.DataFrame:
    """Each buyer's last ``count`` distinct items (latest purchase day first, then SKU)."""
    lines = frame(
        con,
        "select one_id, sku, max(order_date) as last_bought from fct_order_lines "
        "where is_purchase and one_id is not null and sku is not null group by one_id, sku",
    )
    lines = lines.sort_values(["one_id", "last_bought", "sku"], ascending=[True, False, True])
    return lines.groupby("one_id").head(count)[["one_id", "sku"]]


def test_similar_item_recommendations_are_the_summed_similarities(con, bought):
    similarity = frame(con, "select * from insight_item_similarity")
    recent = last_distinct_items(con, RULES["recommendations"]["recent_items"])
    scores = recent.merge(similarity, left_on="sku", right_on="item_sku")
    scores = scores.groupby(["one_id", "similar_sku"])["similarity"].sum().round(9).reset_index()
    owned = set(zip(bought.one_id, bought.sku))
    scores = scores[[(p, s) not in owned for p, s in zip(scores.one_id, scores.similar_sku)]]
    mart = frame(con, "select * from customer_recommendations")
    top_n = RULES["recommendations"]["top_n"]
    assert mart.groupby("one_id").size().max() <= top_n
    assert not any((p, s) in owned for p, s in zip(mart.one_id, mart.sku))
    # (the test run's few days may leave no unbought similar item: then both sides are empty)
    similar = mart[mart.recommended_by == "similar_items"]
    expected = (
        scores.sort_values(["one_id", "similarity", "similar_sku"], ascending=[True, False, True])
        .groupby("one_id")
        .head(top_n)
    )
    got = similar.sort_values(["one_id", "recommendation_rank"])
    assert list(zip(got.one_id, got.sku)) == list(zip(expected.one_id, expected.similar_sku))
    # every buyer is filled up to N from the fallbacks while the catalogue has unowned items
    items = bought.sku.nunique()
    owned_per_buyer = bought.groupby("one_id").size()
    per_buyer = mart[mart.one_id.isin(owned_per_buyer.index)].groupby("one_id").size()
    assert len(per_buyer) == len(owned_per_buyer)
    assert (per_buyer == np.minimum(top_n, items - owned_per_buyer[per_buyer.index])).all()


def test_retention_matches_a_pandas_cohort_count(con, purchases):
    as_of = con.sql("select as_of from intermediate.int_as_of").fetchone()[0]
    days = pd.to_datetime(purchases.order_date)
    first = days.groupby(purchases.one_id).min()
    later = days[days > first[purchases.one_id].to_numpy()].groupby(purchases.one_id).min()
    people = pd.DataFrame({"first": first, "back": later.reindex(first.index)})
    people["month"] = people["first"].dt.to_period("M").dt.start_time.dt.date
    window = RULES["retention"]["return_days"][0]
    eligible = people[people["first"] + timedelta(days=window) <= pd.Timestamp(as_of)]
    returned = eligible[(eligible.back - eligible["first"]).dt.days <= window]
    mart = frame(
        con,
        "select * from insight_retention where cohort_grain = 'month' and channel = 'All' "
        f"and (return_window_days = {window} or return_window_days is null)",
    )
    for month, cohort in people.groupby("month"):
        rows = mart[mart.cohort_start.dt.date == month]
        bounded = rows[rows.return_window_days.notna()].iloc[0]
        ever = rows[rows.return_window_days.isna()].iloc[0]
        assert ever.cohort_people == len(cohort)
        assert ever.returned_people == cohort.back.notna().sum()
        assert bounded.eligible_people == (eligible.month == month).sum()
        assert bounded.returned_people == (returned.month == month).sum()
    by_channel = frame(
        con,
        "select channel, sum(cohort_people) as people, sum(returned_people) as returned "
        "from insight_retention where cohort_grain = 'month' and return_window_days is null "
        "group by channel",
    ).set_index("channel")
    first_channel = (
        purchases.sort_values(["order_date", "channel"]).groupby("one_id").channel.first()
    )
    assert dict(by_channel.people.drop("All")) == dict(first_channel.value_counts())
    assert by_channel.people.drop("All").sum() == by_channel.people["All"] == len(people)
    assert by_channel.returned.drop("All").sum() == by_channel.returned["All"]


def test_attribution_splits_each_touched_order_once_per_model(con, purchases):
    events = frame(
        con,
        "select one_id, event_source, coalesce(campaign, scene) as touch_source, occurred_at, "
        "event_id from intermediate.int_activity__events "
        "where one_id is not null and (campaign is not null or scene is not null)",
    )
    lookback = pd.Timedelta(days=RULES["attribution"]["lookback_days"])
    touches = purchases.merge(events, on="one_id")
    touches = touches[
        (touches.occurred_at <= touches.ordered_at)
        & (touches.occurred_at > touches.ordered_at - lookback)
    ].sort_values(["order_key", "occurred_at", "event_id"])
    firsts = touches.groupby("order_key").head(1)
    expected_first = firsts.groupby(["event_source", "touch_source"]).size()
    mart = frame(con, "select * from insight_attribution").set_index(
        ["touch_channel", "touch_source"]
    )
    assert len(mart) > 0
    orders = touches.order_key.nunique()
    for model in ("first_touch", "last_touch", "linear", "position_based", "time_decay"):
        assert mart[f"{model}_orders"].sum() == pytest.approx(orders, abs=0.01)
    assert dict(mart.first_touch_orders[mart.first_touch_orders > 0]) == {
        key: float(n) for key, n in expected_first.items()
    }


def test_kpi_total_sales_match_daily_sales_and_changes_are_consistent(con):
    trends = frame(con, "select * from insight_kpi_trends where grain = 'day'")
    daily = frame(
        con, "select sales_date, sum(net_sales_fen) as sales from daily_sales_by_store group by 1"
    ).set_index("sales_date")["sales"]
    total = trends[trends.dimension == "total"].set_index("period_start")
    assert dict(total.net_sales_fen.astype(float)) == pytest.approx(
        {pd.Timestamp(k): float(v) for k, v in daily.items()}
    )
    for dimension in RULES["kpi"]["dimensions"]:
        parts = trends[trends.dimension == dimension].groupby("period_start").net_sales_fen.sum()
        assert dict(parts.astype(float)) == pytest.approx(dict(total.net_sales_fen.astype(float)))
    drivers = frame(con, "select * from insight_kpi_drivers where grain = 'day'")
    assert set(drivers.dimension) == set(RULES["kpi"]["dimensions"])


def test_funnel_entries_are_everyone_with_the_first_step(con):
    funnel = RULES["funnels"][0]
    step = funnel["steps"][0]
    entered = con.sql(
        "select count(distinct one_id) from intermediate.int_activity__events "
        f"where one_id is not null and event_source = '{step['source']}' "
        f"and event_type = '{step['event_type']}'"
    ).fetchone()[0]
    mart = frame(
        con, f"select * from insight_funnels where funnel = '{funnel['name']}' order by step_number"
    )
    everyone = mart[(mart.segment == "All") & (mart.channel == "All")]
    assert everyone.people.iloc[0] == entered > 0
    assert everyone.people.is_monotonic_decreasing
    by_segment = mart[mart.segment != "All"].groupby("step_number").people.sum()
    assert (by_segment.to_numpy() == everyone.people.to_numpy()[: len(by_segment)]).all()
    by_channel = mart[mart.channel != "All"]
    assert (by_channel.segment == "All").all() and by_channel.channel.nunique() >= 2
    per_step = by_channel.groupby("step_number").people.sum()
    assert (per_step.to_numpy() == everyone.people.to_numpy()[: len(per_step)]).all()
    first_seen = con.sql(
        "select first_seen_channel, count(distinct e.one_id) from intermediate.int_activity__events e "
        "join customer_360_masked g using (one_id) "
        f"where e.event_source = '{step['source']}' and e.event_type = '{step['event_type']}' "
        "group by all"
    ).fetchall()
    step_one = by_channel[by_channel.step_number == 1].set_index("channel").people
    assert {channel: step_one[channel] for channel, _ in first_seen} == dict(first_seen)


def test_paths_match_an_independent_computation_per_group(con, purchases):
    rules = RULES["paths"]
    anchor = rules["anchor"]
    assert anchor["kind"] == "event" and rules["direction"] == "after"
    events = frame(
        con,
        "select one_id, event_source || ':' || event_type as step, occurred_at as at, "
        "event_id as tie, event_source = '{source}' and event_type = '{event_type}' as is_anchor "
        "from intermediate.int_activity__events where one_id is not null".format(**anchor),
    )
    bought = purchases.assign(step="purchase", is_anchor=False)
    bought = bought.rename(columns={"ordered_at": "at", "order_key": "tie"})
    rows = pd.concat([events, bought[events.columns]]).sort_values(["one_id", "at", "tie"])
    paths = {}
    for one_id, person in rows.groupby("one_id", sort=False):
        at = np.flatnonzero(person.is_anchor.to_numpy())
        after = person.step.to_numpy()[at[0] + 1 : at[0] + 1 + rules["length"]] if len(at) else []
        if len(after):
            paths[one_id] = " > ".join(after)
    expected = pd.Series(paths).value_counts()
    mart = frame(con, "select * from insight_paths")
    everyone = mart[(mart.segment == "All") & (mart.channel == "All")].set_index("event_path")
    assert len(expected) > 1
    assert everyone.people.to_dict() == expected.to_dict()
    assert everyone.people_share.sum() == pytest.approx(1.0)
    assert everyone.sort_values("path_rank").people.is_monotonic_decreasing
    channels = frame(con, "select one_id, first_seen_channel from customer_360_masked")
    first_seen = channels.set_index("one_id").first_seen_channel.fillna("unknown")
    people = pd.Series(paths)
    expected_by_channel = people.groupby(first_seen.reindex(people.index).fillna("unknown"))
    by_channel = mart[mart.channel != "All"]
    assert (by_channel.segment == "All").all()
    got = by_channel.groupby(["channel", "event_path"]).people.sum().to_dict()
    assert got == expected_by_channel.value_counts().to_dict()
    by_segment = mart[(mart.segment != "All") & (mart.channel == "All")]
    totals = by_segment.groupby("event_path").people.sum()
    assert totals.to_dict() == expected.to_dict()
    for _, group in by_segment.groupby("segment"):
        assert group.people_share.sum() == pytest.approx(1.0)
        assert sorted(group.path_rank) == list(range(1, len(group) + 1))


def test_distributions_and_cohort_value_add_up(con, purchases):
    bands = frame(con, "select * from insight_distributions")
    buyers = con.sql("select count(*) from customer_metrics where order_count >= 1").fetchone()[0]
    frequency = bands[bands.distribution == "purchase_frequency"]
    assert frequency.band_count.sum() == buyers
    assert frequency.band_share.sum() == pytest.approx(1)
    cohorts = frame(con, "select * from insight_ltv_cohorts")
    day = pd.to_datetime(purchases.order_date)
    month = day.groupby(purchases.one_id).transform("min").dt.to_period("M")
    offset = (day.dt.to_period("M") - month).apply(lambda months: months.n)
    shown = offset < RULES["ltv"]["cohort_months"]
    total = purchases.net_amount_fen[shown].groupby(month[shown].dt.start_time).sum()
    last = cohorts.sort_values("months_since_first_purchase").groupby("cohort_month").last()
    assert dict(last.cumulative_net_spend_fen.astype(float)) == pytest.approx(
        {k: float(v) for k, v in total.items()}
    )


def test_portrait_lift_is_the_segment_share_over_the_base_share(con):
    people = frame(con, "select one_id, rfm_segment, gender from customer_360")
    people = people[people.rfm_segment.notna()].fillna({"gender": "(none)"})
    base = people.gender.value_counts(normalize=True)
    mart = frame(con, "select * from insight_portraits where trait = 'gender'")
    assert len(mart) > 0
    for row in mart.itertuples():
        segment = people[people.rfm_segment == row.segment]
        share = (segment.gender == row.trait_value).mean()
        assert row.lift == pytest.approx(share / base[row.trait_value])


@pytest.mark.parametrize(
    "command",
    [
        ["funnel"],
        ["retention", "--grain", "week"],
        ["paths"],
        ["paths", "--channel", "wechat"],
        ["attribution"],
        ["ltv"],
        ["recommend"],
    ],
)
def test_cdp_insight_prints_a_table_and_draws_a_png(marts, tmp_path, command):
    settings, _ = marts
    png = tmp_path / f"{command[0]}.png"
    result = CliRunner().invoke(
        cli, ["--workspace", str(settings.workspace), "insight", *command, "--png", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert f"chart: {png}" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
