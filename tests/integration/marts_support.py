"""Helpers the marts tests share: reading the DuckDB file, keying silver orders to buyers."""

from __future__ import annotations

import duckdb
import pandas as pd

# How fct_orders keys an order to its buyer: the first identifier OneID knows, in this order.
BUYER_IDS = (("member_card", "member_card_no"), ("phone", "member_phone"),
             ("tmall_ouid", "tmall_ouid"), ("jd_pin", "jd_pin"),
             ("douyin_open_id", "douyin_open_id"))


def query(settings, sql: str) -> pd.DataFrame:
    """Read the marts the way an analyst does: the DuckDB file, read-only."""
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        return con.sql(sql).df()


def buyers(orders: pd.DataFrame, identity_map: pd.DataFrame) -> pd.Series:
    """The one_id of each silver order's buyer (None when OneID knows none of its ids)."""
    lookup = {(t, v): o for t, v, o in identity_map[["identifier_type", "identifier_value",
                                                      "one_id"]].itertuples(index=False)}

    def buyer(row) -> str | None:
        for kind, column in BUYER_IDS:
            value = row[column]
            if isinstance(value, str) and (kind, value) in lookup:
                return lookup[(kind, value)]
        return None

    return orders.apply(buyer, axis=1)
