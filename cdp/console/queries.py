"""The SQL the console runs on the marts and the OneID index, built by named functions.

Values reach SQL as parameters (``?``) or as literals of ``cdp.sql_literals``; a scope's
stores are always a list of literals, so every query of a scoped user carries its filter.
"""

from __future__ import annotations

from datetime import date

from cdp.activation.segments import SAMPLE_COLUMNS
from cdp.sql_literals import literal

#: customer_360 columns that sum a person's sales over the whole group: hidden from users
#: scoped below it, who see the sales at their own stores instead (``scoped_sales_sql``)
GROUP_SALES_COLUMNS = (
    "order_count",
    "spend_fen",
    "average_order_value_fen",
    "units_per_transaction",
    "attach_rate",
    "refund_amount_fen",
    "order_count_30d",
    "spend_fen_30d",
    "order_count_365d",
    "spend_fen_365d",
    "favourite_category",
    "favourite_business_format",
    "favourite_store_code",
    "favourite_city",
    "is_cross_category",
    "first_purchase_date",
    "last_purchase_date",
    "days_since_last_purchase",
    "rfm_segment",
    "rfm_cell",
    "r_score",
    "f_score",
    "m_score",
    "timeline_events",
    "last_activity_at",
    "active_channels",
    "channels",
)
#: what a member list shows (and exports) of each person: a segment sample's, and the points
LIST_COLUMNS = (*SAMPLE_COLUMNS, "points_balance")
#: member list filters: form field -> customer_360 column (equality tests)
LIST_FILTERS = ("lifecycle_stage", "rfm_segment", "tier", "city")


def in_list(column: str, values: list[str]) -> str:
    """``column IN (...)`` over literals; FALSE for no values (a scope with no stores)."""
    if not values:
        return "FALSE"
    return f"{column} IN ({', '.join(literal(v) for v in values)})"


def scope_people_sql(stores: list[str]) -> str:
    """The people who bought at one of ``stores`` (a scope's members)."""
    return "SELECT DISTINCT one_id FROM fct_orders WHERE one_id IS NOT NULL AND " + in_list(
        "store_code", stores
    )


def person_filter(stores: list[str] | None, column: str = "one_id") -> str:
    """The condition keeping a row of a person within a scope (TRUE for the group)."""
    if stores is None:
        return "TRUE"
    return f"{column} IN ({scope_people_sql(stores)})"


def member_sql(relation: str, stores: list[str] | None) -> str:
    """One person's row of ``relation`` (customer_360 or its masked twin), within the scope."""
    return f"SELECT * FROM {relation} WHERE one_id = ? AND {person_filter(stores)}"


def scoped_sales_sql(stores: list[str]) -> str:
    """One person's paid sales at the scope's stores: orders, spend, last purchase."""
    return (
        "SELECT count(*) AS orders, coalesce(sum(net_amount_fen), 0) AS net_sales_fen, "
        "max(order_date) AS last_purchase_date FROM fct_orders "
        f"WHERE one_id = ? AND is_paid_sale AND {in_list('store_code', stores)}"
    )


def timeline_sql(stores: list[str] | None, limit: int) -> str:
    """A person's timeline, newest first; under a scope only the orders and refunds at its
    stores (other channels' records belong to the group)."""
    where = "t.one_id = ?"
    if stores is not None:
        where += (
            " AND t.record_type IN ('order', 'refund') AND EXISTS (SELECT 1 FROM fct_orders AS o"
            " WHERE o.order_key = substr(t.timeline_key, strpos(t.timeline_key, ':') + 1)"
            f" AND {in_list('o.store_code', stores)})"
        )
    return (
        "SELECT occurred_at, event_date, channel, record_type, event_type, description, "
        f"amount_fen, points FROM customer_timeline AS t WHERE {where} "
        f"ORDER BY occurred_at DESC LIMIT {int(limit)}"
    )


def member_list_sql(
    relation: str, stores: list[str] | None, filters: dict[str, str], limit: int | None
) -> str:
    """People of ``relation`` within the scope matching the equality ``filters``."""
    tests = [person_filter(stores)] + [
        f"{column} = {literal(value)}" for column, value in sorted(filters.items())
    ]
    cap = f" LIMIT {int(limit)}" if limit is not None else ""
    return (
        f"SELECT {', '.join(LIST_COLUMNS)} FROM {relation} WHERE {' AND '.join(tests)} "
        f"ORDER BY one_id{cap}"
    )


def search_name_sql(stores: list[str] | None) -> str:
    """People whose name is the one asked (raw names: roles with personal values only)."""
    return f"SELECT one_id FROM customer_360 WHERE name = ? AND {person_filter(stores)} LIMIT 50"


def sales_series_sql(stores: list[str] | None, first: date, last: date) -> str:
    """Daily net sales, orders and buyers of the scope's stores from ``first`` to ``last``."""
    where = f"sales_date BETWEEN {literal(first)} AND {literal(last)}"
    if stores is not None:
        where += " AND " + in_list("store_code", stores)
    return (
        "SELECT sales_date, sum(net_sales_fen)::BIGINT AS net_sales_fen, "
        "sum(orders)::BIGINT AS orders, sum(buyers)::BIGINT AS buyers "
        f"FROM daily_sales_by_store WHERE {where} GROUP BY sales_date ORDER BY sales_date"
    )


def breakdown_sql(stores: list[str] | None, column: str, first: date, last: date) -> str:
    """Net sales of ``first``..``last`` by a column of dim_stores (the drill-down level)."""
    where = f"s.sales_date BETWEEN {literal(first)} AND {literal(last)}"
    if stores is not None:
        where += " AND " + in_list("s.store_code", stores)
    return (
        f"SELECT coalesce(d.{column}, '(none)') AS label, sum(s.net_sales_fen)::BIGINT AS "
        "net_sales_fen, sum(s.orders)::BIGINT AS orders FROM daily_sales_by_store AS s "
        f"JOIN dim_stores AS d USING (store_code) WHERE {where} GROUP BY 1 ORDER BY 2 DESC"
    )


def distribution_sql(relation: str, column: str, stores: list[str] | None) -> str:
    """People per value of ``relation.column`` within the scope."""
    return (
        f"SELECT coalesce(CAST({column} AS VARCHAR), '(none)') AS label, count(*) AS people "
        f"FROM {relation} WHERE {person_filter(stores)} GROUP BY 1 ORDER BY 2 DESC"
    )


def portrait_sql(relation: str, column: str) -> str:
    """Share of a segment's people (registered ``portrait_members``) and of the base per
    value of ``column``, with the lift (segment share / base share)."""
    return (
        f"WITH base AS (SELECT coalesce(CAST({column} AS VARCHAR), '(none)') AS label, "
        f"count(*) AS n FROM {relation} GROUP BY 1), "
        f"seg AS (SELECT coalesce(CAST(c.{column} AS VARCHAR), '(none)') AS label, count(*) AS n "
        f"FROM {relation} AS c JOIN portrait_members USING (one_id) GROUP BY 1) "
        "SELECT base.label, coalesce(seg.n, 0) AS segment_people, base.n AS base_people, "
        "coalesce(seg.n, 0) / (SELECT sum(n) FROM seg) AS segment_share, "
        "base.n / (SELECT sum(n) FROM base) AS base_share "
        "FROM base LEFT JOIN seg USING (label) ORDER BY segment_people DESC, base.label"
    )
