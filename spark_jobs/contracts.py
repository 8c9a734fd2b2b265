"""Data contracts of the landing zone: one per channel.

A contract says what a channel delivers (file format, fields, which are required, their types,
and which values are impossible). Bronze ingest is one generic job driven by these contracts;
`docs/sources.md` documents the same shapes for people who produce files.

Field types (``kind``) and how bronze types them:

==================  ===============================================  =================
kind                accepted text                                    bronze type
==================  ===============================================  =================
string              anything                                         string
int / long          integer digits, optional sign                    int / bigint
money               decimal with at most 2 decimals (yuan)           decimal(18,2)
fen                 integer amount in fen (1/100 yuan)               bigint
epoch_seconds       unix seconds                                     timestamp (UTC)
epoch_millis        unix milliseconds                                timestamp (UTC)
datetime_cn         ``yyyy-MM-dd HH:mm:ss`` in China time (UTC+8)    timestamp (UTC)
datetime_pos        ``yyyy/MM/dd HH:mm[:ss]`` in China time          timestamp (UTC)
datetime_iso        ISO 8601 with offset, e.g. ``...T10:00:00+08:00`` timestamp (UTC)
date                ``yyyy-MM-dd``                                   date
items               JSON array of objects (line items)               array<struct>
==================  ===============================================  =================

Timestamp convention: every timestamp in bronze and silver is UTC; local business dates
(China, UTC+8, no daylight saving) are derived in silver where a business day is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = frozenset(
    {
        "string",
        "int",
        "long",
        "money",
        "fen",
        "epoch_seconds",
        "epoch_millis",
        "datetime_cn",
        "datetime_pos",
        "datetime_iso",
        "date",
        "items",
    }
)


@dataclass(frozen=True)
class Field:
    """One field of a channel's records."""

    name: str
    kind: str = "string"
    required: bool = False
    #: values allowed (checked on the raw text), e.g. an enumeration of statuses
    allowed: tuple[str, ...] = ()
    #: SQL condition on the typed value that must hold, written against the column ``{c}``
    check: str | None = None
    #: sub-fields of an ``items`` field
    items: tuple[Field, ...] = ()
    #: other names the platforms give this field: a file carrying one of them instead of the
    #: field has drifted (see ``spark_jobs.file_checks.schema_drift``)
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name!r}: unknown kind {self.kind!r}")
        if (self.kind == "items") != bool(self.items):
            raise ValueError(f"field {self.name!r}: only kind 'items' has sub-fields")


@dataclass(frozen=True)
class Contract:
    """What one channel delivers into ``landing/<channel>/<yyyy-mm-dd>/``."""

    channel: str
    format: str  # "jsonl" or "csv"
    description: str
    fields: tuple[Field, ...]
    #: fields that identify one source record (several versions of it may arrive)
    key: tuple[str, ...]
    encodings: tuple[str, ...] = ("utf-8",)
    extra: dict = field(default_factory=dict)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def get(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.channel}: no field {name!r}")


NON_NEGATIVE = "{c} >= 0"
POSITIVE = "{c} > 0"
PLAUSIBLE_TIME = "{c} >= timestamp'2010-01-01 00:00:00' AND {c} < timestamp'2100-01-01 00:00:00'"

TMALL_STATUSES = (
    "WAIT_BUYER_PAY",
    "WAIT_SELLER_SEND_GOODS",
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_FINISHED",
    "TRADE_CLOSED",
    "TRADE_CLOSED_BY_TAOBAO",
)
JD_STATES = ("WAIT_SELLER_STOCK_OUT", "WAIT_GOODS_RECEIVE_CONFIRM", "FINISHED_L", "TRADE_CANCELED")
# Douyin shop order_status codes: 1 awaiting confirmation, 2 preparing, 3 shipped,
# 4 cancelled, 5 completed.
DOUYIN_STATUSES = ("1", "2", "3", "4", "5")
WECHAT_EVENTS = ("subscribe", "unsubscribe", "SCAN", "CLICK", "VIEW", "TEMPLATESENDJOBFINISH")

CONTRACTS: dict[str, Contract] = {}


def _register(contract: Contract) -> None:
    for key in contract.key:
        contract.get(key)
    CONTRACTS[contract.channel] = contract


_register(
    Contract(
        channel="wechat_followers",
        format="jsonl",
        description="Official-account follower snapshots (user/info API), one file per account and day",
        fields=(
            Field("app_id", required=True),
            Field("openid", required=True),
            Field("unionid"),
            Field("subscribe", "int", required=True, allowed=("0", "1")),
            Field("subscribe_time", "epoch_seconds", check=PLAUSIBLE_TIME),
            Field("subscribe_scene"),
            Field("qr_scene", "long"),
            Field("qr_scene_str"),
            Field("language"),
            Field("remark"),
            Field("snapshot_at", "epoch_seconds", required=True, check=PLAUSIBLE_TIME),
        ),
        key=("app_id", "openid"),
    )
)

_register(
    Contract(
        channel="wechat_events",
        format="jsonl",
        description="Official-account event pushes (XML converted to JSON by the collector)",
        fields=(
            Field("app_id", required=True),
            Field("ToUserName", required=True),
            Field("FromUserName", required=True),
            Field("CreateTime", "epoch_seconds", required=True, check=PLAUSIBLE_TIME),
            Field("MsgType", required=True, allowed=("event",)),
            Field("Event", required=True, allowed=WECHAT_EVENTS),
            Field("EventKey"),
        ),
        key=("app_id", "FromUserName", "CreateTime", "Event", "EventKey"),
    )
)

_register(
    Contract(
        channel="miniprogram_members",
        format="jsonl",
        description="Mini-program member centre registrations and profile updates",
        fields=(
            Field("app_id", required=True),
            Field("openid", required=True),
            Field("unionid"),
            Field("member_card_no", required=True),
            Field("phone_number", aliases=("phoneNumber", "purePhoneNumber", "mobile")),
            Field("country_code", aliases=("countryCode",)),
            Field("name"),
            Field("gender", "int", allowed=("0", "1", "2")),
            Field("birthday", "date", check="{c} >= date'1900-01-01' AND {c} <= current_date()"),
            Field("city"),
            Field("email"),
            Field("register_channel"),
            Field("register_store"),
            Field("registered_at", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
            Field("updated_at", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
        ),
        key=("member_card_no",),
    )
)

_register(
    Contract(
        channel="tmall_orders",
        format="jsonl",
        description="Tmall trades (trade API), re-delivered with a new `modified` on every status change",
        fields=(
            Field("tid", required=True),
            Field("shop_id", required=True),
            Field("status", required=True, allowed=TMALL_STATUSES),
            Field("buyer_nick"),
            Field("ouid", aliases=("buyer_open_uid", "open_uid", "buyer_open_id")),
            Field("total_fee", "money", required=True, check=NON_NEGATIVE),
            Field("payment", "money", check=NON_NEGATIVE),
            Field("discount_fee", "money", check=NON_NEGATIVE),
            Field("post_fee", "money", check=NON_NEGATIVE),
            Field("created", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
            Field("pay_time", "datetime_cn"),
            Field("end_time", "datetime_cn"),
            Field("modified", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
            Field(
                "orders",
                "items",
                required=True,
                items=(
                    Field("oid", required=True),
                    Field("num_iid"),
                    Field("sku_id"),
                    Field("title"),
                    Field("category"),
                    Field("price", "money", check=NON_NEGATIVE),
                    Field("num", "int", required=True, check=POSITIVE),
                    Field("payment", "money", check=NON_NEGATIVE),
                    Field("discount_fee", "money", check=NON_NEGATIVE),
                    Field("refund_status"),
                    Field("refund_fee", "money", check=NON_NEGATIVE),
                ),
            ),
        ),
        key=("tid",),
    )
)

_register(
    Contract(
        channel="tmall_members",
        format="jsonl",
        description="Tmall store membership joins (the only Tmall record that carries a phone)",
        fields=(
            Field("shop_id", required=True),
            Field("ouid", required=True, aliases=("buyer_open_uid", "open_uid")),
            Field("buyer_nick"),
            Field("mobile", aliases=("phone", "phone_number", "mobile_phone")),
            Field("member_grade", "int"),
            Field("joined_at", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
        ),
        key=("shop_id", "ouid"),
    )
)

_register(
    Contract(
        channel="jd_orders",
        format="jsonl",
        description="JD POP orders with items",
        fields=(
            Field("orderId", required=True),
            Field("venderId", required=True),
            Field("orderState", required=True, allowed=JD_STATES),
            Field("pin"),
            Field("orderTotalPrice", "money", required=True, check=NON_NEGATIVE),
            Field("orderSellerPrice", "money", check=NON_NEGATIVE),
            Field("orderPayment", "money", check=NON_NEGATIVE),
            Field("sellerDiscount", "money", check=NON_NEGATIVE),
            Field("freightPrice", "money", check=NON_NEGATIVE),
            Field("refundAmount", "money", check=NON_NEGATIVE),
            Field("orderStartTime", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
            Field("paymentConfirmTime", "datetime_cn"),
            Field("modified", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
            Field(
                "itemInfoList",
                "items",
                required=True,
                items=(
                    Field("skuId", required=True),
                    Field("skuName"),
                    Field("category"),
                    Field("jdPrice", "money", check=NON_NEGATIVE),
                    Field("itemTotal", "int", required=True, check=POSITIVE),
                ),
            ),
        ),
        key=("orderId",),
    )
)

_register(
    Contract(
        channel="jd_members",
        format="jsonl",
        description="JD store membership joins (pin and phone)",
        fields=(
            Field("venderId", required=True),
            Field("pin", required=True),
            Field("mobile"),
            Field("joined_at", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
        ),
        key=("venderId", "pin"),
    )
)

_register(
    Contract(
        channel="douyin_orders",
        format="jsonl",
        description="Douyin shop orders; amounts in fen, times in unix seconds",
        fields=(
            Field("order_id", required=True),
            Field("shop_id", required=True),
            Field("open_id"),
            Field("order_status", "int", required=True, allowed=DOUYIN_STATUSES),
            Field("order_amount", "fen", required=True, check=NON_NEGATIVE),
            Field("pay_amount", "fen", check=NON_NEGATIVE),
            Field("promotion_amount", "fen", check=NON_NEGATIVE),
            Field("post_amount", "fen", check=NON_NEGATIVE),
            Field("refund_amount", "fen", check=NON_NEGATIVE),
            Field("create_time", "epoch_seconds", required=True, check=PLAUSIBLE_TIME),
            Field("pay_time", "epoch_seconds"),
            Field("update_time", "epoch_seconds", required=True, check=PLAUSIBLE_TIME),
            Field(
                "sku_order_list",
                "items",
                required=True,
                items=(
                    Field("sku_order_id", required=True),
                    Field("product_id"),
                    Field("product_name"),
                    Field("category"),
                    Field("item_num", "int", required=True, check=POSITIVE),
                    Field("origin_amount", "fen", check=NON_NEGATIVE),
                    Field("pay_amount", "fen", check=NON_NEGATIVE),
                ),
            ),
        ),
        key=("order_id",),
    )
)

_register(
    Contract(
        channel="pos_tickets",
        format="csv",
        description="Store POS exports, one CSV row per ticket line; some stores export GBK",
        encodings=("utf-8", "gb18030"),
        fields=(
            Field("store_code", required=True),
            Field("business_format", required=True),
            Field("ticket_no", required=True),
            Field("line_no", "int", required=True, check=POSITIVE),
            Field("ticket_type", required=True, allowed=("SALE", "RETURN")),
            Field("original_ticket_no"),
            Field("ticket_time", "datetime_pos", required=True, check=PLAUSIBLE_TIME),
            Field("member_phone"),
            Field("member_card_no"),
            Field("sku", required=True),
            Field("item_name"),
            Field("category"),
            Field("quantity", "int", required=True, check="{c} <> 0"),
            Field("unit_price", "money", required=True, check=NON_NEGATIVE),
            Field("discount", "money", check=NON_NEGATIVE),
            Field("line_amount", "money", required=True),
            Field("payment_method"),
        ),
        key=("store_code", "ticket_no", "line_no"),
    )
)

_register(
    Contract(
        channel="web_events",
        format="jsonl",
        description="H5 / web tracking events keyed by cookie or device, plus user id after login",
        fields=(
            Field("event_id", required=True),
            Field(
                "event_type",
                required=True,
                allowed=("page_view", "click", "share", "form_submit", "login", "add_to_cart"),
            ),
            Field("occurred_at", "datetime_iso", required=True, check=PLAUSIBLE_TIME),
            Field("cookie_id"),
            Field("device_id"),
            Field("user_id"),
            Field("app_id"),
            Field("openid"),
            Field("page_url"),
            Field("referrer"),
            Field("campaign"),
        ),
        key=("event_id",),
    )
)

_register(
    Contract(
        channel="mall_events",
        format="jsonl",
        description="In-mall touchpoints: QR scans, Wi-Fi logins, parking, exhibition check-ins",
        fields=(
            Field("event_id", required=True),
            Field(
                "event_type",
                required=True,
                allowed=(
                    "qr_scan",
                    "wifi_login",
                    "parking_entry",
                    "parking_payment",
                    "ticket_checkin",
                ),
            ),
            Field("occurred_at", "epoch_millis", required=True, check=PLAUSIBLE_TIME),
            Field("mall_code", required=True),
            Field("phone"),
            Field("app_id"),
            Field("openid"),
            Field("device_mac_hash"),
            Field("plate_no"),
            Field("scene_str"),
            Field("amount", "money", check=NON_NEGATIVE),
        ),
        key=("event_id",),
    )
)

_register(
    Contract(
        channel="coupons",
        format="jsonl",
        description="Coupon lifecycle events (issue, claim, redeem, expire)",
        fields=(
            Field("event_id", required=True),
            Field("coupon_id", required=True),
            Field("campaign_id", required=True),
            Field("event_type", required=True, allowed=("issue", "claim", "redeem", "expire")),
            Field("occurred_at", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
            Field("member_card_no"),
            Field("app_id"),
            Field("openid"),
            Field("face_value", "money", check=NON_NEGATIVE),
            Field("threshold", "money", check=NON_NEGATIVE),
            Field("order_ref"),
            Field("store_code"),
            Field("city"),
        ),
        key=("event_id",),
    )
)

_register(
    Contract(
        channel="loyalty_events",
        format="jsonl",
        description="Loyalty system events: points earned / burned / expired, tier changes",
        fields=(
            Field("event_id", required=True),
            Field("member_card_no", required=True),
            Field(
                "event_type",
                required=True,
                allowed=("earn", "burn", "expire", "adjust", "tier_change"),
            ),
            Field("points", "long"),
            Field("reason"),
            Field("tier_from"),
            Field("tier_to"),
            Field("order_ref"),
            Field("occurred_at", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
        ),
        key=("event_id",),
    )
)

_register(
    Contract(
        channel="consent",
        format="jsonl",
        description="Consent and opt-out records per identifier and channel",
        fields=(
            Field("event_id", required=True),
            Field("identifier_type", required=True, allowed=("phone", "openid", "email")),
            Field("identifier_value", required=True),
            Field("app_id"),
            Field(
                "channel",
                required=True,
                allowed=("sms", "wechat_template", "wechat_broadcast", "email", "all"),
            ),
            Field("status", required=True, allowed=("opt_in", "opt_out")),
            Field("source"),
            Field("occurred_at", "datetime_cn", required=True, check=PLAUSIBLE_TIME),
        ),
        key=("event_id",),
    )
)
