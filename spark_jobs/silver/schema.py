"""Silver table definitions: columns, business key and version column of each table.

A silver table holds one row per business key. Its sources (bronze channels) are mapped onto
these columns by the functions in the sibling modules; ``conform`` fills what a source lacks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SilverTable:
    name: str
    description: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    #: the newer version of a key wins; of equal versions the later delivered (a correction)
    version: str
    #: rows are built by aggregating or exploding bronze rows, which is worth doing once
    #: (staged) rather than for each of the count, the de-duplication and the write
    compute_once: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in spec.split(","):
        name, sql_type = item.split()
        pairs.append((name, sql_type))
    return tuple(pairs)


#: lineage columns of every silver table (see spark_jobs.frames.LINEAGE)
LINEAGE = "_source_file string, _batch_id string, _line_no bigint"
BUYER_IDS = (
    "tmall_ouid string, jd_pin string, douyin_open_id string, member_phone string, "
    "member_phone_status string, member_card_no string"
)

ORDERS = SilverTable(
    "orders",
    "One row per order or POS ticket of every channel, latest status; amounts in fen",
    _cols(
        "channel string, order_id string, order_type string, original_order_id string, "
        "shop_id string, store_code string, business_format string, status string, "
        f"source_status string, {BUYER_IDS}, ordered_at timestamp, order_date date, "
        "paid_at timestamp, updated_at timestamp, gross_amount_fen bigint, "
        "discount_fen bigint, freight_fen bigint, paid_amount_fen bigint, "
        "refund_amount_fen bigint, line_count int, unit_count bigint, payment_method string, "
        f"{LINEAGE}"
    ),
    key=("channel", "order_id"),
    version="updated_at",
    compute_once=True,
)

ORDER_ITEMS = SilverTable(
    "order_items",
    "One row per order line, as of the order's latest version; amounts in fen",
    _cols(
        "channel string, order_id string, line_id string, sku string, product_name string, "
        "category string, quantity bigint, unit_price_fen bigint, discount_fen bigint, "
        "paid_amount_fen bigint, refund_amount_fen bigint, refund_status string, "
        f"updated_at timestamp, {LINEAGE}"
    ),
    key=("channel", "order_id", "line_id"),
    version="updated_at",
    compute_once=True,
)

MEMBERS = SilverTable(
    "members",
    "Members of the mini-program member centre and of the Tmall / JD stores",
    _cols(
        "source string, member_id string, member_card_no string, app_id string, "
        "openid string, unionid string, tmall_ouid string, jd_pin string, phone string, "
        "phone_status string, name string, gender string, birthday date, city string, "
        "email string, register_channel string, register_store string, "
        f"joined_at timestamp, updated_at timestamp, {LINEAGE}"
    ),
    key=("source", "member_id"),
    version="updated_at",
)

FOLLOWERS = SilverTable(
    "followers",
    "Official-account followers, latest snapshot per account and openid",
    _cols(
        "app_id string, openid string, unionid string, is_subscribed boolean, "
        "subscribed_at timestamp, subscribe_scene string, qr_scene bigint, "
        "qr_scene_str string, language string, snapshot_at timestamp, "
        f"{LINEAGE}"
    ),
    key=("app_id", "openid"),
    version="snapshot_at",
)

EVENTS = SilverTable(
    "events",
    "Behavioural events of WeChat, H5/web and in-mall touchpoints",
    _cols(
        "event_id string, source string, event_type string, occurred_at timestamp, "
        "event_date date, app_id string, openid string, member_card_no string, "
        "phone string, device_id string, cookie_id string, device_mac_hash string, "
        "plate_no string, mall_code string, scene string, page_url string, campaign string, "
        f"amount_fen bigint, {LINEAGE}"
    ),
    key=("event_id",),
    version="occurred_at",
)

COUPON_EVENTS = SilverTable(
    "coupon_events",
    "Coupon issue / claim / redeem / expire events",
    _cols(
        "event_id string, coupon_id string, campaign_id string, event_type string, "
        "occurred_at timestamp, member_card_no string, app_id string, openid string, "
        "face_value_fen bigint, threshold_fen bigint, order_ref string, store_code string, "
        f"city string, {LINEAGE}"
    ),
    key=("event_id",),
    version="occurred_at",
)

POINTS = SilverTable(
    "points",
    "Loyalty events: points earned, burned, expired, adjusted; tier changes",
    _cols(
        "event_id string, member_card_no string, event_type string, points bigint, "
        "reason string, tier_from string, tier_to string, order_ref string, "
        f"occurred_at timestamp, {LINEAGE}"
    ),
    key=("event_id",),
    version="occurred_at",
)

CONSENT = SilverTable(
    "consent",
    "Consent and opt-out events per identifier and channel (history; latest wins downstream)",
    _cols(
        "event_id string, identifier_type string, identifier_value string, "
        "identifier_is_valid boolean, app_id string, channel string, status string, "
        f"source string, occurred_at timestamp, {LINEAGE}"
    ),
    key=("event_id",),
    version="occurred_at",
)

IDENTIFIERS = SilverTable(
    "identifiers",
    "Identifiers seen, per source, with first and last sighting; rebuilt from the tables above "
    "(lineage: the last delivered file and line it was seen in)",
    _cols(
        "identifier_type string, identifier_value string, source string, "
        "first_seen_at timestamp, last_seen_at timestamp, records bigint, "
        f"{LINEAGE}"
    ),
    key=("identifier_type", "identifier_value", "source"),
    version="last_seen_at",
)

SILVER_TABLES = {
    t.name: t
    for t in (
        ORDERS,
        ORDER_ITEMS,
        MEMBERS,
        FOLLOWERS,
        EVENTS,
        COUPON_EVENTS,
        POINTS,
        CONSENT,
        IDENTIFIERS,
    )
}


def conform(df, table: SilverTable):
    """Select the table's columns in order, cast to their types; absent columns are NULL."""
    present = set(df.columns)
    return df.selectExpr(
        *[
            f"CAST({name if name in present else 'NULL'} AS {sql_type}) AS {name}"
            for name, sql_type in table.columns
        ]
    )
