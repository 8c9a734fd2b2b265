"""Behavioural events, coupons, loyalty points and consent."""

from __future__ import annotations

from spark_jobs import normalise as n
from spark_jobs.frames import LINEAGE

WECHAT_EVENT_TYPES = {
    "subscribe": "follow",
    "unsubscribe": "unfollow",
    "SCAN": "qr_scan",
    "CLICK": "menu_click",
    "VIEW": "menu_view",
    "TEMPLATESENDJOBFINISH": "template_delivered",
}


def wechat_events(bronze, tz: str):
    # Pushes carry no id of their own; these fields identify one push (WeChat's own de-dup key).
    event_id = (
        "concat('wx:', sha2(concat_ws('|', app_id, FromUserName, "
        "CAST(unix_seconds(CreateTime) AS string), Event, coalesce(EventKey, '')), 256))"
    )
    types = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in WECHAT_EVENT_TYPES.items())
    return bronze.selectExpr(
        f"{event_id} AS event_id",
        "'wechat' AS source",
        f"CASE Event {types} END AS event_type",
        "CreateTime AS occurred_at",
        f"{n.business_date('CreateTime', tz)} AS event_date",
        f"{n.identifier('app_id')} AS app_id",
        f"{n.identifier('FromUserName')} AS openid",
        "CASE WHEN Event IN ('subscribe', 'SCAN') THEN regexp_replace(EventKey, '^qrscene_', '') "
        "END AS scene",
        *LINEAGE,
    )


def web_events(bronze, tz: str):
    # user_id is the member card, canonical already (spark_jobs.silver.cards).
    return bronze.selectExpr(
        "concat('web:', event_id) AS event_id",
        "'web' AS source",
        "event_type",
        "occurred_at",
        f"{n.business_date('occurred_at', tz)} AS event_date",
        f"{n.identifier('app_id')} AS app_id",
        f"{n.identifier('openid')} AS openid",
        "user_id AS member_card_no",
        f"{n.identifier('device_id')} AS device_id",
        f"{n.identifier('cookie_id')} AS cookie_id",
        "page_url",
        "campaign",
        *LINEAGE,
    )


def mall_events(bronze, tz: str):
    return n.with_phone(bronze, "phone").selectExpr(
        "concat('mall:', event_id) AS event_id",
        "'mall' AS source",
        "event_type",
        "occurred_at",
        f"{n.business_date('occurred_at', tz)} AS event_date",
        f"{n.identifier('app_id')} AS app_id",
        f"{n.identifier('openid')} AS openid",
        f"{n.phone_of('_phone')} AS phone",
        f"{n.identifier('device_mac_hash')} AS device_mac_hash",
        f"{n.identifier('plate_no')} AS plate_no",
        "mall_code",
        "scene_str AS scene",
        f"{n.fen('amount')} AS amount_fen",
        *LINEAGE,
    )


def coupons(bronze, tz: str):
    return bronze.selectExpr(
        "event_id",
        "coupon_id",
        "campaign_id",
        "event_type",
        "occurred_at",
        "member_card_no",
        f"{n.identifier('app_id')} AS app_id",
        f"{n.identifier('openid')} AS openid",
        f"{n.fen('face_value')} AS face_value_fen",
        f"{n.fen('threshold')} AS threshold_fen",
        "order_ref",
        "store_code",
        "city",
        *LINEAGE,
    )


def loyalty_events(bronze, tz: str):
    return bronze.selectExpr(
        "event_id",
        "member_card_no",
        "event_type",
        "points",
        "reason",
        "tier_from",
        "tier_to",
        "order_ref",
        "occurred_at",
        *LINEAGE,
    )


def consent(bronze, tz: str):
    # Identifier values take the canonical spelling identity resolution uses.
    raw, app_id = n.identifier("identifier_value"), n.identifier("app_id")
    value = (
        f"CASE identifier_type WHEN 'phone' THEN {n.phone_of('_phone')} "
        f"WHEN 'email' THEN {n.email('identifier_value')} "
        f"WHEN 'openid' THEN CASE WHEN app_id IS NOT NULL "
        f"THEN concat({app_id}, '/', {raw}) END END"
    )
    phones = n.with_phone(bronze, "CASE WHEN identifier_type = 'phone' THEN identifier_value END")
    return phones.selectExpr(
        "event_id",
        "identifier_type",
        f"coalesce({value}, identifier_value) AS identifier_value",
        f"({value}) IS NOT NULL AS identifier_is_valid",
        f"{app_id} AS app_id",
        "channel",
        "status",
        "source",
        "occurred_at",
        *LINEAGE,
    )


EVENT_SOURCES = {
    "wechat_events": wechat_events,
    "web_events": web_events,
    "mall_events": mall_events,
}
COUPON_SOURCES = {"coupons": coupons}
POINT_SOURCES = {"loyalty_events": loyalty_events}
CONSENT_SOURCES = {"consent": consent}
