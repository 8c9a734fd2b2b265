"""Members (mini-program, Tmall and JD stores) and official-account followers."""

from __future__ import annotations

from spark_jobs import normalise as n
from spark_jobs.frames import LINEAGE

GENDER = "CASE gender WHEN 1 THEN 'male' WHEN 2 THEN 'female' ELSE 'unknown' END"


def miniprogram_members(bronze):
    # The mini-program returns the number with its country code separately.
    phone_text = "CASE WHEN country_code IS NULL THEN phone_number " \
                 "ELSE concat('+', country_code, ' ', phone_number) END"
    return bronze.selectExpr(
        "'miniprogram' AS source", "member_card_no AS member_id", "member_card_no", "app_id",
        "openid", "unionid", f"{n.phone(phone_text)} AS phone",
        f"{n.phone_status('phone_number')} AS phone_status", "trim(name) AS name",
        f"{GENDER} AS gender", "birthday", "trim(city) AS city", f"{n.email('email')} AS email",
        "register_channel", "register_store", "registered_at AS joined_at", "updated_at",
        *LINEAGE,
    )


def tmall_members(bronze):
    return bronze.selectExpr(
        "'tmall' AS source", "concat(shop_id, ':', ouid) AS member_id", "ouid AS tmall_ouid",
        f"{n.phone('mobile')} AS phone", f"{n.phone_status('mobile')} AS phone_status",
        "'tmall' AS register_channel", "shop_id AS register_store", "joined_at",
        "joined_at AS updated_at", *LINEAGE,
    )


def jd_members(bronze):
    return bronze.selectExpr(
        "'jd' AS source", "concat(venderId, ':', pin) AS member_id", "pin AS jd_pin",
        f"{n.phone('mobile')} AS phone", f"{n.phone_status('mobile')} AS phone_status",
        "'jd' AS register_channel", "venderId AS register_store", "joined_at",
        "joined_at AS updated_at", *LINEAGE,
    )


def wechat_followers(bronze):
    return bronze.selectExpr(
        "app_id", "openid", "nullif(unionid, '') AS unionid", "subscribe = 1 AS is_subscribed",
        "subscribe_time AS subscribed_at", "subscribe_scene", "qr_scene", "qr_scene_str",
        "language", "snapshot_at", *LINEAGE,
    )


MEMBER_SOURCES = {"miniprogram_members": miniprogram_members, "tmall_members": tmall_members,
                  "jd_members": jd_members}
FOLLOWER_SOURCES = {"wechat_followers": wechat_followers}
