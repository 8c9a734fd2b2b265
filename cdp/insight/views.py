"""What ``cdp insight <command>`` shows: a named query on an insight mart and its chart.

Each function returns a ``View``: the title, the SQL (read-only, on the analysts' marts file)
and a function drawing the rows on matplotlib axes. Values are from the dbt models in
``dbt_project/models/insight/``; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdp.sql_literals import literal as quote

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class View:
    """A table to print and a chart to draw of it."""

    name: str
    title: str
    sql: str
    draw: Callable[[pd.DataFrame, object], None]  # (rows, matplotlib Axes)


def _bars(column: str, label: str, value: str) -> Callable[[pd.DataFrame, object], None]:
    def draw(rows: pd.DataFrame, ax) -> None:
        ax.barh(rows[label].astype(str)[::-1], rows[value][::-1])
        ax.set_xlabel(value)
        ax.set_title(column)

    return draw


def _group(segment: str, channel: str) -> str:
    """The title's name of a breakdown of funnels or paths."""
    return segment if channel == "All" else f"first seen in {channel}"


def funnel(name: str | None, segment: str = "All", channel: str = "All") -> View:
    """The steps of one funnel (default: every funnel) for an RFM segment or a first-seen
    channel (default All: everyone)."""
    where = f"segment = {quote(segment)} and channel = {quote(channel)}" + (
        f" and funnel = {quote(name)}" if name else ""
    )
    sql = (
        "select funnel, step_number, step_name, people, conversion_from_previous, "
        f"conversion_from_first from insight_funnels where {where} order by funnel, step_number"
    )

    def draw(rows: pd.DataFrame, ax) -> None:
        for funnel_name, steps in rows.groupby("funnel"):
            ax.plot(
                steps["step_name"], steps["conversion_from_first"], marker="o", label=funnel_name
            )
        ax.set_ylabel("share of step 1")
        ax.legend()

    return View("funnel", f"Funnels ({_group(segment, channel)})", sql, draw)


def retention(grain: str, channel: str = "All") -> View:
    """Retention rate per cohort (week or month) and return window, for everyone or the
    people whose first start event was in one channel."""
    sql = (
        "select cohort_start, coalesce(cast(return_window_days as varchar), 'ever') as window, "
        "cohort_people, eligible_people, returned_people, round(retention_rate, 4) as rate "
        f"from insight_retention where cohort_grain = {quote(grain)} "
        f"and channel = {quote(channel)} "
        "order by cohort_start, return_window_days nulls last"
    )

    def draw(rows: pd.DataFrame, ax) -> None:
        for window, cohort in rows.groupby("window", sort=False):
            label = "back ever" if window == "ever" else f"back within {window} days"
            ax.plot(cohort["cohort_start"], cohort["rate"], marker="o", label=label)
        ax.set_ylabel("returned / eligible")
        ax.legend()

    group = "" if channel == "All" else f", first in {channel}"
    return View("retention", f"Retention by {grain} cohort{group}", sql, draw)


def paths(limit: int, segment: str = "All", channel: str = "All") -> View:
    """The most common paths after (or before) the anchor event, of everyone, an RFM segment
    or the people first seen in a channel."""
    sql = (
        "select path_rank, anchor, direction, event_path, people, round(people_share, 4) as share "
        f"from insight_paths where segment = {quote(segment)} and channel = {quote(channel)} "
        f"and path_rank <= {int(limit)} order by path_rank"
    )
    group = _group(segment, channel)
    title = "Most common paths" + ("" if group == "All" else f" ({group})")
    return View("paths", title, sql, _bars("paths", "event_path", "people"))


def attribution(limit: int) -> View:
    """Attributed orders of the top touch sources, by every model side by side."""
    sql = (
        "select touch_channel, touch_source, touched_orders, first_touch_orders, "
        "last_touch_orders, linear_orders, position_based_orders, time_decay_orders "
        f"from insight_attribution order by touched_orders desc, touch_source limit {int(limit)}"
    )

    def draw(rows: pd.DataFrame, ax) -> None:
        models = [c for c in rows.columns if c.endswith("_orders") and c != "touched_orders"]
        table = rows.set_index(rows["touch_channel"] + ":" + rows["touch_source"])[models]
        table.plot.barh(ax=ax)
        ax.invert_yaxis()
        ax.set_xlabel("attributed orders")

    return View("attribution", "Orders attributed to touches", sql, draw)


def ltv_cohorts() -> View:
    """Historical value per customer by cohort month and months since the first purchase."""
    sql = (
        "select cohort_month, months_since_first_purchase as month, cohort_people, "
        "round(value_per_customer_fen / 100, 2) as value_per_customer_yuan "
        "from insight_ltv_cohorts order by cohort_month, month"
    )

    def draw(rows: pd.DataFrame, ax) -> None:
        for cohort, months in rows.groupby("cohort_month"):
            ax.plot(months["month"], months["value_per_customer_yuan"], label=str(cohort))
        ax.set_xlabel("months since the first purchase")
        ax.set_ylabel("cumulative value per customer (yuan)")
        ax.legend(fontsize="small", ncol=2)

    return View("ltv", "Customer value by cohort", sql, draw)


def recommendations(one_id: str | None, limit: int) -> View:
    """One person's recommendations, or the most recommended items and why."""
    if one_id:
        sql = (
            "select recommendation_rank, sku, product_name, category, recommended_by, "
            f"round(score, 4) as score from customer_recommendations where one_id = {quote(one_id)} "
            "order by recommendation_rank"
        )
        return View(
            "recommend", f"Recommendations for {one_id}", sql, _bars(one_id, "sku", "score")
        )
    sql = (
        "select sku, product_name, category, count(*) as customers, "
        "count(*) filter (where recommended_by = 'similar_items') as from_similar_items "
        "from customer_recommendations group by all "
        f"order by customers desc, sku limit {int(limit)}"
    )
    return View(
        "recommend", "Most recommended items", sql, _bars("recommended to", "sku", "customers")
    )
