"""Privacy on the engine: its Delta writes keep personal values out of the statistics, bronze
lines are tied to a person through the silver mappings, and ingest finds the lines of
tombstoned people."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from cdp import tables
from cdp.privacy import tombstones
from cdp.privacy.rows import bronze_line_keys

PHONE = "13800138000"
NOW = datetime(2026, 9, 2, tzinfo=UTC)


def _log_text(lakehouse, table) -> bytes:
    folder = lakehouse.path(table) / "_delta_log"
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def test_engine_writes_keep_personal_values_out_of_the_statistics(spark, lakehouse):
    columns = "source string, member_id string, phone string, name string, city string"
    first = spark.createDataFrame([("tmall", "s:1", PHONE, "李娜", "Shanghai")], columns)
    lakehouse.overwrite(first, tables.MEMBERS)
    lakehouse.append(
        spark.createDataFrame([("jd", "v:2", "13900139000", "王芳", "Beijing")], columns),
        tables.MEMBERS,
    )
    later = spark.createDataFrame([("tmall", "s:1", "13700137000", "张伟", "Hangzhou")], columns)
    lakehouse.merge(spark, later, tables.MEMBERS, ["source", "member_id"], "member_id", 1)
    quarantine = spark.createDataFrame(
        [("pos_tickets", "unparseable", "unparseable", f'{{"member_phone": "{PHONE}"}}')],
        "channel string, reason_kind string, reason string, raw string",
    )
    lakehouse.append(quarantine, tables.QUARANTINE)
    lakehouse.delta(tables.MEMBERS).create_checkpoint()
    for table in (tables.MEMBERS, tables.QUARANTINE):
        log = _log_text(lakehouse, table)
        for value in (PHONE, "13900139000", "13700137000", "李娜", "张伟"):
            assert value.encode() not in log, (table, value)
    adds = [
        json.loads(json.loads(line)["add"]["stats"])
        for p in sorted((lakehouse.path(tables.MEMBERS) / "_delta_log").glob("*.json"))
        for line in p.read_text().splitlines()
        if '"add"' in line
    ]
    assert adds and all("city" in s["minValues"] and "phone" not in s["minValues"] for s in adds)


def _bronze(spark, lakehouse, channel: str, rows: list[dict]):
    """A channel's bronze rows with every contract column (the ones not given NULL)."""
    schema = tables.bronze_schema(channel)
    full = [{c: None for c in schema.names} | row for row in rows]
    data = pa.Table.from_pylist(full, schema=schema)
    return lakehouse.stage_arrow(spark, data, f"privacy-{channel}")


def test_bronze_lines_carry_the_keys_standardise_would_give_them(spark, lakehouse):
    lines = [
        {"store_code": "S1", "ticket_no": "T1", "line_no": 1, "member_phone": "+86 138-0013-8000"},
        {"store_code": "S1", "ticket_no": "T1", "line_no": 2, "member_phone": "+86 138-0013-8000"},
        {"store_code": "S1", "ticket_no": "T2", "line_no": 1, "member_card_no": " 00123"},
    ]
    pos = _bronze(
        spark,
        lakehouse,
        "pos_tickets",
        [r | {"_batch_id": "b1", "_line_no": i} for i, r in enumerate(lines, 1)],
    )
    keys = {
        (r["_line_no"], r["key"])
        for r in bronze_line_keys("pos_tickets", pos, "Asia/Shanghai").collect()
    }
    assert keys == {(1, f"phone:{PHONE}"), (2, f"phone:{PHONE}"), (3, "member_card:00123")}


def test_ingest_finds_the_lines_of_tombstoned_people(spark, lakehouse):
    tombstones.record(lakehouse, [([f"phone:{PHONE}"], "r1")], NOW)
    events = [
        {"event_id": "E1", "phone": "138 0013 8000", "_batch_id": "b1", "_line_no": 1},
        {"event_id": "E2", "phone": "13900139000", "_batch_id": "b1", "_line_no": 2},
    ]
    rows = _bronze(spark, lakehouse, "mall_events", events)
    erased = tombstones.erased_lines(spark, lakehouse, "mall_events", rows, "Asia/Shanghai")
    assert [(r["_batch_id"], r["_line_no"]) for r in erased.collect()] == [("b1", 1)]


def test_nothing_is_searched_without_tombstones(spark, lakehouse):
    rows = _bronze(spark, lakehouse, "mall_events", [{"event_id": "E1", "phone": PHONE}])
    assert tombstones.erased_lines(spark, lakehouse, "mall_events", rows, "Asia/Shanghai") is None
