"""Tags, customer timeline and operations marts against independent pandas computations over
the silver tables (read with delta-rs, not through dbt), on the shared ``marts`` build."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cdp.config import packaged
from cdp.lakehouse import Lakehouse, Table
from cdp.mart_rules import tags as tag_rules
from tests.integration.marts_support import is_paid_sale, is_purchase

pytestmark = pytest.mark.integration

CHINA = "Asia/Shanghai"
DBT_PROJECT = packaged("dbt_project")
RULES_DIR = DBT_PROJECT / "config"
SEED = DBT_PROJECT / "seeds" / "business_format_names.csv"


# -- silver, independently ---------------------------------------------------------------


class Silver:
    """Silver tables as pandas frames, with one_id resolved the way the marts document it."""

    def __init__(self, lakehouse_dir: Path):
        lakehouse = Lakehouse(lakehouse_dir)
        self.read = lambda name: lakehouse.to_pandas(Table("silver", name))
        identity = self.read("identity_map")
        self.keys = dict(
            zip(zip(identity.identifier_type, identity.identifier_value), identity.one_id)
        )
        self.golden = self.read("golden_records")
        self.formats = dict(pd.read_csv(SEED).itertuples(index=False, name=None))
        self.orders = self._orders()
        self.events = self._events()
        self.as_of = max(self.orders.order_date.max(), self.events.event_date.max())

    def one_id(self, pairs: list[tuple[str, pd.Series]]) -> pd.Series:
        """The first identifier of each row, in the given priority, that OneID knows."""
        result = pd.Series(None, index=pairs[0][1].index, dtype=object)
        for kind, values in pairs:
            mapped = values.map(
                lambda v, k=kind: self.keys.get((k, v)) if isinstance(v, str) else None
            )
            result = result.where(result.notna(), mapped)
        return result

    @staticmethod
    def openid(frame: pd.DataFrame) -> pd.Series:
        return frame.app_id + "/" + frame.openid

    @staticmethod
    def china_date(values: pd.Series) -> pd.Series:
        return values.dt.tz_convert(CHINA).dt.date

    def _orders(self) -> pd.DataFrame:
        o = self.read("orders")
        o["one_id"] = self.one_id(
            [
                ("member_card", o.member_card_no),
                ("phone", o.member_phone),
                ("tmall_ouid", o.tmall_ouid),
                ("jd_pin", o.jd_pin),
                ("douyin_open_id", o.douyin_open_id),
            ]
        )
        o["refund"] = o.refund_amount_fen.fillna(0).astype("int64")
        o["net"] = o.paid_amount_fen - o.refund
        o["is_return"] = o.order_type == "return"
        o["counted"] = is_paid_sale(o) | o.is_return  # what sales and spend add up
        o["is_purchase"] = is_purchase(o)
        o["business_format"] = o.business_format.map(lambda f: self.formats.get(f, f))
        return o

    def _events(self) -> pd.DataFrame:
        e = self.read("events")
        e["one_id"] = self.one_id(
            [
                ("member_card", e.member_card_no),
                ("phone", e.phone),
                ("openid", self.openid(e)),
                ("device_mac_hash", e.device_mac_hash),
                ("device_id", e.device_id),
                ("cookie_id", e.cookie_id),
            ]
        )
        return e

    def coupon_events(self) -> pd.DataFrame:
        c = self.read("coupon_events")
        c["event_date"] = self.china_date(c.occurred_at)
        c = c[c.event_date <= self.as_of].copy()
        c["own"] = self.one_id([("member_card", c.member_card_no), ("openid", self.openid(c))])
        known = c[c.own.notna()].assign(first=lambda f: (f.event_type != "issue").astype(int))
        holders = known.sort_values("first").groupby("coupon_id").own.first()
        c["one_id"] = c.own.where(c.own.notna(), c.coupon_id.map(holders))
        return c

    def order_lines(self) -> pd.DataFrame:
        lines = self.read("order_items")
        lines["category"] = lines.category.map(lambda f: self.formats.get(f, f))
        lines["net"] = lines.paid_amount_fen - lines.refund_amount_fen.fillna(0)
        return lines.merge(
            self.orders[["channel", "order_id", "one_id", "order_date", "counted", "is_purchase"]],
            on=["channel", "order_id"],
        )

    def window(self, days: int) -> tuple:
        return self.as_of - timedelta(days=days - 1), self.as_of


@pytest.fixture(scope="module")
def built(marts):
    settings, _ = marts
    # the restricted file: the 360 tests compare the masked columns with the clear ones
    con = duckdb.connect(str(settings.restricted_marts_db), read_only=True)
    yield Silver(settings.lakehouse_dir), con
    con.close()


def tagged(con, tag: str) -> dict[str, object]:
    rows = con.execute("select one_id, since from customer_tags where tag = ?", [tag]).fetchall()
    return dict(rows)


# -- tags ------------------------------------------------------------------------------------


def test_as_of_is_the_last_day_with_data(built):
    silver, con = built
    assert con.execute("select as_of from intermediate.int_as_of").fetchone()[0] == silver.as_of


def test_metric_tag_high_spender_matches_pandas(built):
    """high_spender_30d: >= 2,000 yuan net in the 30 days ending on the as-of day; since = the
    day the running total first reached it."""
    silver, con = built
    definition = next(
        t
        for t in tag_rules.load(RULES_DIR / tag_rules.FILE)["tags"]
        if t["name"] == "high_spender_30d"
    )
    condition = definition["rule"]["all"][0]
    threshold = condition["value"]["gte"] * 100
    start, end = silver.window(condition["window"]["days"])
    o = silver.orders
    spend = o[o.one_id.notna() & o.counted & o.order_date.between(start, end)]
    daily = spend.groupby(["one_id", "order_date"]).net.sum().reset_index()
    daily["running"] = daily.groupby("one_id").net.cumsum()
    totals = daily.groupby("one_id").net.sum()
    holders = set(totals[totals >= threshold].index)
    since = daily[daily.running >= threshold].groupby("one_id").order_date.min()

    actual = tagged(con, "high_spender_30d")
    assert holders, "the generated data should have some high spenders"
    assert set(actual) == holders
    assert actual == {one_id: since[one_id] for one_id in holders}


def test_composite_tag_engaged_art_shopper_matches_pandas(built):
    """engaged_art_shopper_7d: > 3 page views, 300-5,000 yuan spent and >= 1 Art & Lifestyle
    purchase, all in the 7 days ending on the as-of day."""
    silver, con = built
    start, end = silver.window(7)
    e = silver.events
    views = (
        e[
            e.one_id.notna()
            & (e.source == "web")
            & (e.event_type == "page_view")
            & e.page_url.fillna("").str.startswith("https://m.artmall.cn/")
            & e.event_date.between(start, end)
        ]
        .groupby("one_id")
        .size()
    )
    o = silver.orders
    spend = (
        o[o.one_id.notna() & o.counted & o.order_date.between(start, end)]
        .groupby("one_id")
        .net.sum()
    )
    lines = silver.order_lines()
    art = (
        lines[
            lines.one_id.notna()
            & lines.is_purchase
            & (lines.category == "Art & Lifestyle")
            & lines.order_date.between(start, end)
        ]
        .groupby("one_id")
        .order_id.nunique()
    )
    holders = (
        set(views[views > 3].index)
        & set(spend[(spend >= 300_00) & (spend <= 5000_00)].index)
        & set(art[art >= 1].index)
    )

    assert set(tagged(con, "engaged_art_shopper_7d")) == holders
    # each part on its own has people, so the intersection is a real test of the rule
    assert len(views[views > 3]) and len(spend) and len(art)


def test_composite_tag_follower_never_bought_matches_pandas(built):
    """follower_never_bought: reached through WeChat (golden record channels) and no purchase
    ever; since = the day first seen (no window)."""
    silver, con = built
    g = silver.golden
    g = g[silver.china_date(g.first_seen_at) <= silver.as_of]
    o = silver.orders
    buyers = set(o[o.one_id.notna() & o.is_purchase].one_id)
    wechat = g[g.channels.map(lambda c: c is not None and "wechat" in list(c))]
    expected = {
        row.one_id: row.first_seen_at.tz_convert(CHINA).date()
        for row in wechat.itertuples()
        if row.one_id not in buyers
    }

    assert expected
    assert tagged(con, "follower_never_bought") == expected


def test_recommended_tag_beauty_recommended_holds_for_the_recommenders_top_three(built):
    """beauty_recommended: a Beauty item among the person's 3 best recommendations of the as-of
    day (customer_recommendations); since = the as-of day."""
    silver, con = built
    g = silver.golden
    seen = set(g[silver.china_date(g.first_seen_at) <= silver.as_of].one_id)
    recommended = con.execute(
        "select one_id from customer_recommendations "
        "where category = 'Beauty' and recommendation_rank <= 3"
    ).fetchall()
    expected = {one_id: silver.as_of for (one_id,) in recommended if one_id in seen}

    assert expected
    assert tagged(con, "beauty_recommended") == expected


def test_catalog_lists_every_definition_with_member_counts(built):
    _, con = built
    definitions = tag_rules.load(RULES_DIR / tag_rules.FILE)["tags"]
    catalog = (
        con.execute(
            "select tag, category, owner, tag_version, tag_kind, member_count from tag_catalog"
        )
        .df()
        .set_index("tag")
    )
    assert sorted(catalog.index) == sorted(t["name"] for t in definitions)
    for t in definitions:
        assert tuple(catalog.loc[t["name"], ["category", "owner", "tag_version", "tag_kind"]]) == (
            t["category"],
            t["owner"],
            t["version"],
            t["kind"],
        )
    counts = dict(con.execute("select tag, count(*) from customer_tags group by tag").fetchall())
    assert catalog.member_count.to_dict() == {t: counts.get(t, 0) for t in catalog.index}


# -- customer timeline -------------------------------------------------------------------


def test_timeline_rows_are_the_source_rows_of_mapped_people(built):
    silver, con = built
    as_of = silver.as_of
    o = silver.orders[silver.orders.order_date <= as_of]
    orders = o[o.one_id.notna()]
    refunds = orders[(orders.refund > 0) & (silver.china_date(orders.updated_at) <= as_of)]
    events = silver.events[silver.events.one_id.notna() & (silver.events.event_date <= as_of)]
    coupons = silver.coupon_events()
    coupons = coupons[coupons.one_id.notna()]
    p = silver.read("points")
    p["one_id"] = silver.one_id([("member_card", p.member_card_no)])
    points = p[p.one_id.notna() & (silver.china_date(p.occurred_at) <= as_of)]
    f = silver.read("followers")
    f["one_id"] = silver.one_id([("openid", silver.openid(f)), ("unionid", f.unionid)])
    f["occurred_at"] = f.subscribed_at.where(f.subscribed_at.notna(), f.snapshot_at)
    follows = f[f.one_id.notna() & (silver.china_date(f.occurred_at) <= as_of)]

    expected = Counter()
    for record_type, frame in [
        ("order", orders),
        ("refund", refunds),
        ("event", events),
        ("coupon", coupons),
        ("points", points),
        ("follow", follows),
    ]:
        expected.update((record_type, one_id) for one_id in frame.one_id)
    actual = Counter(con.execute("select record_type, one_id from customer_timeline").fetchall())

    assert {k: sum(v for (t, _), v in expected.items() if t == k) for k, _ in expected} == {
        k: sum(v for (t, _), v in actual.items() if t == k) for k, _ in actual
    }
    assert actual == expected


def test_timeline_carries_no_phone_or_name(built):
    silver, con = built
    columns = {
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_name = 'customer_timeline'"
        ).fetchall()
    }
    assert not columns & {"phone", "name", "best_phone", "member_phone", "openid", "unionid"}
    descriptions = [
        d for (d,) in con.execute("select description from customer_timeline").fetchall()
    ]
    phones = {
        v
        for v in pd.concat(
            [silver.read("members").phone, silver.orders.member_phone, silver.events.phone]
        ).dropna()
    }
    found = {m for d in descriptions for m in re.findall(r"(?<!\d)\d{11}(?!\d)", d)}
    assert not found & phones
    assert all(d.isascii() for d in descriptions)  # golden-record names are Chinese


# -- operations --------------------------------------------------------------------------


def test_daily_sales_by_store_match_pandas(built):
    silver, con = built
    o = silver.orders[(silver.orders.order_date <= silver.as_of) & silver.orders.counted]
    o = o.assign(store_code=o.store_code.where(o.store_code.notna(), o.shop_id))
    sales, returns = o[~o.is_return], o[o.is_return]
    keys = ["order_date", "channel", "store_code", "business_format"]
    expected = (
        pd.DataFrame(
            {
                "orders": sales.groupby(keys).size(),
                "buyers": sales.groupby(keys).one_id.nunique(),
                "units": sales.groupby(keys).unit_count.sum(),
                "gross_sales_fen": sales.groupby(keys).paid_amount_fen.sum(),
                "refunds_fen": sales.groupby(keys)
                .refund.sum()
                .add(-returns.groupby(keys).paid_amount_fen.sum(), fill_value=0),
                "net_sales_fen": o.groupby(keys).net.sum(),
            }
        )
        .fillna(0)
        .astype("int64")
        .sort_index()
    )
    expected.index.names = ["sales_date", *keys[1:]]

    actual = con.execute(
        "select sales_date, channel, store_code, business_format, orders, buyers, units, "
        "gross_sales_fen, refunds_fen, net_sales_fen from daily_sales_by_store"
    ).df()
    actual["sales_date"] = actual.sales_date.dt.date
    actual = actual.set_index(expected.index.names).astype("int64").sort_index()
    pd.testing.assert_frame_equal(actual, expected)
    assert actual.net_sales_fen.sum() == o.net.sum()


def test_first_touch_is_the_earliest_event_or_follow(built):
    silver, con = built
    e = silver.events[silver.events.one_id.notna() & (silver.events.event_date <= silver.as_of)]
    f = silver.read("followers")
    f["one_id"] = silver.one_id([("openid", silver.openid(f)), ("unionid", f.unionid)])
    f = f[f.one_id.notna() & f.is_subscribed & (silver.china_date(f.subscribed_at) <= silver.as_of)]
    first = (
        pd.concat(
            [
                e[["one_id", "occurred_at"]],
                f[["one_id", "subscribed_at"]].rename(columns={"subscribed_at": "occurred_at"}),
            ]
        )
        .groupby("one_id")
        .occurred_at.min()
    )

    actual = (
        con.execute("select one_id, first_touch_at from first_touch_attribution")
        .df()
        .set_index("one_id")
        .first_touch_at
    )
    assert dict(actual) == dict(first)
    by_source = con.execute(
        "select sum(people), sum(purchasers) from first_touch_by_source"
    ).fetchone()
    purchasers = con.execute(
        "select count(*) from first_touch_attribution where has_purchased_after"
    ).fetchone()[0]
    assert by_source == (len(first), purchasers)


# -- customer 360 ------------------------------------------------------------------------


def test_customer_360_has_one_row_per_person_with_their_tags(built):
    silver, con = built
    g = silver.golden
    people = set(g[silver.china_date(g.first_seen_at) <= silver.as_of].one_id)
    rows = con.execute("select one_id, tags from customer_360").fetchall()
    assert len(rows) == len(people) and {one_id for one_id, _ in rows} == people
    held: dict[str, list[str]] = {}
    for one_id, tag in con.execute("select one_id, tag from customer_tags").fetchall():
        held.setdefault(one_id, []).append(tag)
    assert {one_id: sorted(tags) for one_id, tags in rows if tags} == {
        one_id: sorted(tags) for one_id, tags in held.items()
    }


def test_customer_360_masked_hides_personal_data(built):
    _, con = built
    clear = (
        con.execute("select one_id, name, phone, member_card_no, birthday from customer_360")
        .df()
        .set_index("one_id")
    )
    masked = con.execute("select * from customer_360_masked").df().set_index("one_id")
    assert not {"birthday", "age"} & set(masked.columns)
    assert len(masked) == len(clear)
    phones = masked.phone.dropna()
    # Mainland mobiles 139****5678; foreign numbers in E.164 keep their + and two digits.
    assert len(phones) and phones.str.fullmatch(r"(1\d{2}|\+\d{2})\*{4}\d{4}").all()
    assert (phones == clear.phone.dropna().map(lambda p: p[:3] + "****" + p[-4:])).all()
    names = masked.name.dropna()
    assert len(names) and (names.str.len() == 2).all() and names.str.endswith("*").all()
    assert not set(names) & set(clear.name.dropna())
    assert masked.member_card_no.dropna().str.contains(r"\*{4}").all()
    assert masked.age_band.notna().sum() == clear.birthday.notna().sum()
