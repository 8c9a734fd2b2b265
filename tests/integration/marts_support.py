"""Helpers the marts tests share: reading the DuckDB file, keying silver orders to buyers."""

from __future__ import annotations

import duckdb
import pandas as pd

#: The purchase rule as the marts document it (fct_orders.yml), restated here so that the
#: tests check the SQL against the documentation rather than against itself. A sale is paid in
#: these statuses; it is a purchase in the first three unless its goods were all refunded.
PAID_STATUSES = ("paid", "shipped", "completed", "refunded")
PURCHASE_STATUSES = ("paid", "shipped", "completed")

# How fct_orders keys an order to its buyer: the first identifier OneID knows, in this order.
BUYER_IDS = (
    ("member_card", "member_card_no"),
    ("phone", "member_phone"),
    ("tmall_ouid", "tmall_ouid"),
    ("jd_pin", "jd_pin"),
    ("douyin_open_id", "douyin_open_id"),
)


def query(settings, sql: str) -> pd.DataFrame:
    """Read the marts the way an analyst does: the DuckDB file, read-only."""
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        return con.sql(sql).df()


def is_paid_sale(orders: pd.DataFrame) -> pd.Series:
    """Silver orders the customer paid for (not created / unpaid, not cancelled)."""
    return (orders["order_type"] == "sale") & orders["status"].isin(PAID_STATUSES)


def is_purchase(orders: pd.DataFrame) -> pd.Series:
    """Silver orders that are purchases before POS returns: bought, goods not all refunded (a
    refund leaving only the freight refunded them all). The amount decides nothing else."""
    refund = orders["refund_amount_fen"].fillna(0)
    left = orders["paid_amount_fen"].fillna(0) - refund - orders["freight_fen"].fillna(0)
    all_refunded = (refund > 0) & (left <= 0)
    return (
        (orders["order_type"] == "sale") & orders["status"].isin(PURCHASE_STATUSES) & ~all_refunded
    )


def buyers(orders: pd.DataFrame, identity_map: pd.DataFrame) -> pd.Series:
    """The one_id of each silver order's buyer (None when OneID knows none of its ids)."""
    lookup = {
        (t, v): o
        for t, v, o in identity_map[["identifier_type", "identifier_value", "one_id"]].itertuples(
            index=False
        )
    }

    def buyer(row) -> str | None:
        for kind, column in BUYER_IDS:
            value = row[column]
            if isinstance(value, str) and (kind, value) in lookup:
                return lookup[(kind, value)]
        return None

    return orders.apply(buyer, axis=1)
