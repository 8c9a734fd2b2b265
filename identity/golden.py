"""Golden record: one row per OneID with survivorship per attribute (DuckDB, in-process).

Profile attributes (name, gender, birthday, city) come from member records: the highest
priority source wins (mini-program member centre, then Tmall, then JD), then the most recently
updated record; a record without the attribute never wins it. Best phone: a phone the person
registered as a member first, then the one seen in most records, then the most recent. Member
card: the most recently seen. Tier: the latest tier change on any of the person's cards. First
seen: the earliest sighting of any of the person's identifiers, with its channel (of channels
first seen at the same moment, the first by name, so that every run names the same one).

DuckDB over the tables' Parquet files rather than the engine: 3.5x faster at 100,000
customers (33 s against 116 s on a loaded machine, the same rows), and an incremental run
computes a few people's records without scanning through the engine.
"""

from __future__ import annotations

import pyarrow as pa

from cdp import local_duckdb
from cdp.lakehouse import Lakehouse, Table
from cdp.tables import GOLDEN_RECORDS as GOLDEN
from cdp.tables import GOLDEN_RECORDS_SCHEMA, IDENTIFIERS, IDENTITY_MAP, MEMBERS, POINTS, ensure

#: member source -> survivorship rank (lower wins)
SOURCE_PRIORITY = {"miniprogram": 1, "tmall": 2, "jd": 3}

#: silver.identifiers source label -> channel name
CHANNEL_OF_SOURCE = """CASE
    WHEN source = 'followers' THEN 'wechat'
    WHEN source = 'coupon_events' THEN 'coupons'
    WHEN source = 'points' THEN 'loyalty'
    ELSE split_part(source, ':', -1) END"""

#: a member record's person: its card, else its store ids (``||`` is NULL when a part is)
MEMBER_KEY = (
    "coalesce('member_card:' || member_card_no, 'tmall_ouid:' || tmall_ouid, "
    "'jd_pin:' || jd_pin, 'unionid:' || unionid)"
)


def build(lakehouse: Lakehouse) -> None:
    """Rebuild silver.golden_records from the identity map and silver."""
    lakehouse.overwrite_arrow(records_of(lakehouse), GOLDEN)


def records_of(lakehouse: Lakehouse, people: pa.Table | None = None) -> pa.Table:
    """Golden records computed in-process by DuckDB over the Delta tables' files: of every
    person in the identity map, or of the people ``people`` holds (every identifier of each:
    ``identifier_type, identifier_value, one_id``). The same survivorship as
    ``golden_records``; on one machine DuckDB does it in a fraction of the engine's time."""
    ensure(lakehouse, "silver")
    con = local_duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if people is None:
        people = lakehouse.to_arrow(IDENTITY_MAP, ["identifier_type", "identifier_value", "one_id"])
    con.register("identity_map", people)
    _view(con, lakehouse, MEMBERS, "members", list(MEMBER_COLUMNS))
    _view(con, lakehouse, IDENTIFIERS, "identifiers", list(IDENTIFIER_COLUMNS))
    _view(con, lakehouse, POINTS, "points", ["member_card_no", "tier_to", "occurred_at"])
    return con.sql(_golden_sql()).to_arrow_table().cast(GOLDEN_RECORDS_SCHEMA)


def _view(con, lakehouse: Lakehouse, table: Table, name: str, columns: list[str]) -> None:
    """``name``: the silver ``table``'s ``columns``, read from its files as the query needs
    them. Not a copy in Arrow: at 1,000,000 customers an incremental run held 5M identifier
    rows, a million members and their points in Arrow to compute the records of the people
    a day's changes touch, beside DuckDB's own memory."""
    scan = lakehouse.duckdb_scan(table, columns)
    if scan is None:
        con.register(name, lakehouse.to_arrow(table, columns))
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {scan}")


MEMBER_COLUMNS = (
    "source",
    "member_card_no",
    "tmall_ouid",
    "jd_pin",
    "unionid",
    "name",
    "gender",
    "birthday",
    "city",
    "phone",
    "updated_at",
)
IDENTIFIER_COLUMNS = (
    "identifier_type",
    "identifier_value",
    "source",
    "records",
    "first_seen_at",
    "last_seen_at",
)


def _golden_sql() -> str:
    """The golden records of the people of view ``identity_map``, from views ``members``,
    ``identifiers`` and ``points``. ``arg_max`` skips rows whose order is NULL, so a record
    without an attribute never wins it."""
    ranks = " ".join(f"WHEN '{s}' THEN {r}" for s, r in SOURCE_PRIORITY.items())
    order = (
        f"(10 - CASE source {ranks} ELSE 9 END) * 10000000000 + floor(epoch(updated_at))::BIGINT"
    )

    def best(column):
        return f"arg_max({column}, CASE WHEN {column} IS NOT NULL THEN rank_value END) AS {column}"

    return f"""
        WITH keyed AS (
            SELECT identifier_type || ':' || identifier_value AS key, * FROM identity_map),
        member_rows AS (SELECT {MEMBER_KEY} AS key, {order} AS rank_value, * FROM members),
        profile AS (
            SELECT one_id, {", ".join(best(c) for c in ("name", "gender", "birthday", "city"))}
            FROM keyed JOIN member_rows USING (key) GROUP BY one_id),
        registered AS (
            SELECT DISTINCT 'phone:' || phone AS key FROM members WHERE phone IS NOT NULL),
        seen AS (
            SELECT identifier_type, identifier_value, sum(records) AS records,
                   max(last_seen_at) AS last_seen_at
            FROM identifiers GROUP BY ALL),
        ids AS (SELECT * FROM keyed LEFT JOIN seen USING (identifier_type, identifier_value)),
        phones AS (
            SELECT one_id, arg_max(identifier_value,
                       (CASE WHEN r.key IS NULL THEN 0 ELSE 1 END) * 1000000000000000
                       + records * 10000000000 + floor(epoch(last_seen_at))::BIGINT) AS best_phone
            FROM ids LEFT JOIN registered r USING (key)
            WHERE identifier_type = 'phone' GROUP BY one_id),
        cards AS (
            SELECT one_id, arg_max(identifier_value, last_seen_at) AS member_card_no
            FROM ids WHERE identifier_type = 'member_card' GROUP BY one_id),
        tiers AS (
            SELECT one_id, arg_max(tier_to, occurred_at) AS tier
            FROM points JOIN keyed ON keyed.key = 'member_card:' || member_card_no
            WHERE tier_to IS NOT NULL GROUP BY one_id),
        channels AS (
            SELECT one_id, min(first_seen_at) AS first_seen_at,
                   min(struct_pack(at := first_seen_at, channel := channel)).channel AS first_seen_channel,
                   list_sort(list_distinct(list(channel))) AS channels
            FROM (SELECT identifier_type || ':' || identifier_value AS key, first_seen_at,
                         {CHANNEL_OF_SOURCE} AS channel FROM identifiers)
            JOIN keyed USING (key) GROUP BY one_id),
        people AS (SELECT one_id, count(*) AS identifiers FROM keyed GROUP BY one_id)
        SELECT one_id, name, gender, birthday, city, best_phone, member_card_no, tier,
               first_seen_channel, first_seen_at, channels, identifiers
        FROM people
        LEFT JOIN profile USING (one_id) LEFT JOIN phones USING (one_id)
        LEFT JOIN cards USING (one_id) LEFT JOIN tiers USING (one_id)
        LEFT JOIN channels USING (one_id)
        ORDER BY one_id"""
