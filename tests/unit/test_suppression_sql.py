"""Suppression's SQL builders put configured values into the SQL as escaped literals."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from cdp.activation.suppression_sql import interactions_sql, openids_sql

CUTOFF = datetime(2026, 10, 1, tzinfo=UTC)
ODD_APP = "wx'odd\\app"  # a quote and a backslash: neither may end or change the literal
TS = pa.timestamp("us", tz="UTC")


def followers_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    earlier = datetime(2026, 9, 1, tzinfo=UTC)
    con.register(
        "followers",
        pa.table(
            {
                "app_id": [ODD_APP, "wx_plain"],
                "openid": ["o1", "o2"],
                "is_subscribed": [True, True],
                "subscribed_at": pa.array([earlier, earlier], TS),
            }
        ),
    )
    con.register(
        "identity_map",
        pa.table(
            {
                "identifier_type": ["openid", "openid"],
                "identifier_value": [f"{ODD_APP}/o1", "wx_plain/o2"],
                "one_id": ["A", "A"],
            }
        ),
    )
    con.register("audience", pa.table({"one_id": ["A"]}))
    con.register(
        "wechat_events",
        pa.table(
            {
                "app_id": [ODD_APP],
                "openid": ["o1"],
                "event_type": ["it's clicked"],
                "occurred_at": pa.array([earlier], TS),
            }
        ),
    )
    return con


def test_an_official_account_with_a_quote_selects_that_account():
    con = followers_con()
    rows = con.sql(openids_sql(CUTOFF, [], ODD_APP)).fetchall()
    assert [(one_id, app, openid) for one_id, app, openid, *_ in rows] == [("A", ODD_APP, "o1")]


def test_the_configured_account_order_ranks_an_odd_app_id_first():
    con = followers_con()
    ranks = {
        app: rank
        for _, app, _, _, rank in con.sql(
            openids_sql(CUTOFF, [ODD_APP, "wx_plain"], None)
        ).fetchall()
    }
    assert ranks == {ODD_APP: 1, "wx_plain": 2}


def test_interaction_event_types_are_literals_too():
    con = followers_con()
    since = datetime(2026, 8, 1, tzinfo=UTC)
    assert con.sql(interactions_sql(since, CUTOFF, ["it's clicked"])).fetchall()[0][:2] == (
        ODD_APP,
        "o1",
    )
