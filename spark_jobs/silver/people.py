"""Members (mini-program, Tmall and JD stores) and official-account followers."""

from __future__ import annotations

from spark_jobs import normalise as n
from spark_jobs.frames import LINEAGE

GENDER = "CASE gender WHEN 1 THEN 'male' WHEN 2 THEN 'female' ELSE 'unknown' END"


def miniprogram_members(bronze, tz: str):
    # The mini-program sends the country code apart; the number may carry it again.
    # member_card_no is canonical already (spark_jobs.silver.cards, before every transform).
    bronze = n.with_phone(bronze, "phone_number", "country_code")
    return bronze.selectExpr(
        "'miniprogram' AS source",
        "member_card_no AS member_id",
        "member_card_no",
        f"{n.identifier('app_id')} AS app_id",
        f"{n.identifier('openid')} AS openid",
        f"{n.identifier('unionid')} AS unionid",
        f"{n.phone_of('_phone')} AS phone",
        f"{n.phone_status_of('_phone')} AS phone_status",
        "trim(name) AS name",
        f"{GENDER} AS gender",
        "birthday",
        "trim(city) AS city",
        f"{n.email('email')} AS email",
        "register_channel",
        "register_store",
        "registered_at AS joined_at",
        "updated_at",
        *LINEAGE,
    )


def tmall_members(bronze, tz: str):
    ouid = n.identifier("ouid")
    return n.with_phone(bronze, "mobile").selectExpr(
        "'tmall' AS source",
        f"concat(shop_id, ':', {ouid}) AS member_id",
        f"{ouid} AS tmall_ouid",
        f"{n.phone_of('_phone')} AS phone",
        f"{n.phone_status_of('_phone')} AS phone_status",
        "'tmall' AS register_channel",
        "shop_id AS register_store",
        "joined_at",
        "joined_at AS updated_at",
        *LINEAGE,
    )


def jd_members(bronze, tz: str):
    pin = n.identifier("pin")
    return n.with_phone(bronze, "mobile").selectExpr(
        "'jd' AS source",
        f"concat(venderId, ':', {pin}) AS member_id",
        f"{pin} AS jd_pin",
        f"{n.phone_of('_phone')} AS phone",
        f"{n.phone_status_of('_phone')} AS phone_status",
        "'jd' AS register_channel",
        "venderId AS register_store",
        "joined_at",
        "joined_at AS updated_at",
        *LINEAGE,
    )


def wechat_followers(bronze, tz: str):
    return bronze.selectExpr(
        f"{n.identifier('app_id')} AS app_id",
        f"{n.identifier('openid')} AS openid",
        f"{n.identifier('unionid')} AS unionid",
        "subscribe = 1 AS is_subscribed",
        "subscribe_time AS subscribed_at",
        "subscribe_scene",
        "qr_scene",
        "qr_scene_str",
        "language",
        "snapshot_at",
        *LINEAGE,
    )


MEMBER_SOURCES = {
    "miniprogram_members": miniprogram_members,
    "tmall_members": tmall_members,
    "jd_members": jd_members,
}
FOLLOWER_SOURCES = {"wechat_followers": wechat_followers}
