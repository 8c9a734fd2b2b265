"""Golden record: one row per OneID with survivorship per attribute (Spark).

Profile attributes (name, gender, birthday, city) come from member records: the highest
priority source wins (mini-program member centre, then Tmall, then JD), then the most recently
updated record; a record without the attribute never wins it. Best phone: a phone the person
registered as a member first, then the one seen in most records, then the most recent. Member
card: the most recently seen. Tier: the latest tier change on any of the person's cards. First
seen: the earliest sighting of any of the person's identifiers, with its channel.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import functions as F

from cdp.lakehouse import Lakehouse
from cdp.tables import GOLDEN_RECORDS as GOLDEN
from cdp.tables import GOLDEN_RECORDS_SCHEMA, IDENTIFIERS, IDENTITY_MAP, MEMBERS, POINTS, ensure

#: member source -> survivorship rank (lower wins)
SOURCE_PRIORITY = {"miniprogram": 1, "tmall": 2, "jd": 3}

#: silver.identifiers source label -> channel name
CHANNEL_OF_SOURCE = """CASE
    WHEN source = 'followers' THEN 'wechat'
    WHEN source = 'coupon_events' THEN 'coupons'
    WHEN source = 'points' THEN 'loyalty'
    ELSE substring_index(source, ':', -1) END"""

MEMBER_KEY = (
    "coalesce(concat('member_card:', member_card_no), concat('tmall_ouid:', "
    "tmall_ouid), concat('jd_pin:', jd_pin), concat('unionid:', unionid))"
)


def _best(column: str, order: str) -> str:
    return f"max_by({column}, CASE WHEN {column} IS NOT NULL THEN {order} END) AS {column}"


def golden_records(identity_map, members, identifiers, points):
    """One row per one_id (pure)."""
    keyed = identity_map.selectExpr(
        "concat(identifier_type, ':', identifier_value) AS key",
        "identifier_type",
        "identifier_value",
        "one_id",
    )
    ranks = " ".join(f"WHEN '{s}' THEN {r}" for s, r in SOURCE_PRIORITY.items())
    # Higher is better: source priority first, then recency (seconds fit in 10 digits).
    order = f"(10 - CASE source {ranks} ELSE 9 END) * 10000000000 + unix_timestamp(updated_at)"
    member_rows = members.selectExpr(
        f"{MEMBER_KEY} AS key",
        "source",
        "name",
        "gender",
        "birthday",
        "city",
        "phone",
        "updated_at",
    )
    profile = (
        keyed.select("key", "one_id")
        .join(member_rows, "key")
        .selectExpr("*", f"{order} AS rank_value")
        .groupBy("one_id")
        .agg(*[F.expr(_best(c, "rank_value")) for c in ("name", "gender", "birthday", "city")])
    )
    member_phones = (
        member_rows.where("phone IS NOT NULL")
        .selectExpr("concat('phone:', phone) AS key")
        .distinct()
        .selectExpr("key", "1 AS registered")
    )
    seen = (
        identifiers.groupBy("identifier_type", "identifier_value")
        .agg({"records": "sum", "last_seen_at": "max", "first_seen_at": "min"})
        .withColumnsRenamed(
            {
                "sum(records)": "records",
                "max(last_seen_at)": "last_seen_at",
                "min(first_seen_at)": "first_seen_at",
            }
        )
    )
    ids = keyed.join(seen, ["identifier_type", "identifier_value"], "left")
    phones = (
        member_phones.join(ids.where("identifier_type = 'phone'"), "key", "right")
        .selectExpr(
            "one_id",
            "identifier_value AS best_phone",
            "coalesce(registered, 0) * 1000000000000000 + records * 10000000000"
            " + unix_timestamp(last_seen_at) AS phone_rank",
        )
        .groupBy("one_id")
        .agg(F.expr("max_by(best_phone, phone_rank) AS best_phone"))
    )
    cards = (
        ids.where("identifier_type = 'member_card'")
        .groupBy("one_id")
        .agg(F.expr("max_by(identifier_value, last_seen_at) AS member_card_no"))
    )
    tiers = (
        points.where("tier_to IS NOT NULL")
        .selectExpr("concat('member_card:', member_card_no) AS key", "tier_to", "occurred_at")
        .join(keyed.select("key", "one_id"), "key")
        .groupBy("one_id")
        .agg(F.expr("max_by(tier_to, occurred_at) AS tier"))
    )
    sightings = identifiers.selectExpr(
        "concat(identifier_type, ':', identifier_value) AS key",
        f"{CHANNEL_OF_SOURCE} AS channel",
        "first_seen_at",
    ).join(keyed.select("key", "one_id"), "key")
    channels = sightings.groupBy("one_id").agg(
        F.expr("min(first_seen_at) AS first_seen_at"),
        # Of channels first seen at the same moment, the first by name: a full re-run and an
        # incremental one then name the same (min_by would take either).
        F.expr("min(struct(first_seen_at, channel)).channel AS first_seen_channel"),
        F.expr("array_sort(collect_set(channel)) AS channels"),
    )
    people = keyed.groupBy("one_id").count().withColumnRenamed("count", "identifiers")
    return (
        people.join(profile, "one_id", "left")
        .join(phones, "one_id", "left")
        .join(cards, "one_id", "left")
        .join(tiers, "one_id", "left")
        .join(channels, "one_id", "left")
        .select(
            "one_id",
            "name",
            "gender",
            "birthday",
            "city",
            "best_phone",
            "member_card_no",
            "tier",
            "first_seen_channel",
            "first_seen_at",
            "channels",
            "identifiers",
        )
    )


def build(spark, lakehouse: Lakehouse) -> None:
    """Rebuild silver.golden_records from the identity map and silver."""
    # Every published silver input exists, empty when its channels delivered nothing
    # (cdp.tables.ensure), so a landing without members or loyalty still gets one golden
    # record per OneID; the map was just written, and silver.identifiers exists whenever
    # OneID runs at all. (Ensuring the identity group too would first write an empty
    # golden_records only to overwrite it.)
    ensure(lakehouse, "silver")
    inputs = [lakehouse.read(spark, t) for t in (IDENTITY_MAP, MEMBERS, IDENTIFIERS, POINTS)]
    lakehouse.overwrite(golden_records(*inputs), GOLDEN)


def records_of(spark, lakehouse: Lakehouse, people: pa.Table, staging: str) -> pa.Table:
    """Golden records of some people: ``people`` holds every identifier of each
    (``identifier_type, identifier_value, one_id``), staged under ``staging`` for the
    engine; the rest of silver is read as it is."""
    ensure(lakehouse, "silver")
    identity_map = lakehouse.stage_arrow(spark, people, staging)
    inputs = [lakehouse.read(spark, t) for t in (MEMBERS, IDENTIFIERS, POINTS)]
    return golden_records(identity_map, *inputs).toArrow().cast(GOLDEN_RECORDS_SCHEMA)
