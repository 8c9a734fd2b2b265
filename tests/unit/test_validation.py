"""Contract validation on tiny frames: every reason a row can be quarantined."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cdp.config import DEFAULT_SOURCE_TIMEZONE
from spark_jobs.contracts import CONTRACTS, Contract, Field
from spark_jobs.ingest import bronze_rows, quarantine_rows, validate
from spark_jobs.validation import raw_schema_ddl, typed_expr

from .landing_files import tmall_trade

LOADED_AT = datetime(2026, 9, 2, tzinfo=UTC)


def _raw(spark, contract, lines, drift: str | None = None):
    import json

    rows = [
        (line if isinstance(line, str) else json.dumps(line), i + 1, "f.jsonl", "b1")
        for i, line in enumerate(lines)
    ]
    lines = spark.createDataFrame(
        rows, "value string, _line_no long, _source_file string, _batch_id string"
    )
    return lines.selectExpr(
        "value",
        "_line_no",
        "_source_file",
        "_batch_id",
        f"from_json(value, '{raw_schema_ddl(contract)}') AS rec",
        "false AS _unparseable",
        f"CAST({repr(drift) if drift else 'NULL'} AS string) AS _drift",
    )


def _reasons(spark, contract, lines, drift: str | None = None):
    validated = validate(
        _raw(spark, contract, lines, drift), contract, LOADED_AT, DEFAULT_SOURCE_TIMEZONE
    )
    return [
        r["_rejected"]["reason"] if r["_rejected"] else None
        for r in validated.orderBy("_line_no").collect()
    ]


def test_each_failure_gets_its_reason(spark):
    tmall = CONTRACTS["tmall_orders"]
    missing = tmall_trade("T3")
    del missing["shop_id"]
    lines = [
        tmall_trade("T1"),
        '{"tid": "T2", "shop_id":',  # truncated line
        missing,
        tmall_trade("T4", total_fee="12,5"),
        tmall_trade("T5", status="SHIPPED_SOMEHOW"),
        tmall_trade("T6", total_fee="-3.00"),
        tmall_trade("T7", created="1970-01-01 08:00:00"),
        tmall_trade("T8", orders=[{"oid": "x", "num": "two"}]),
        tmall_trade("T9", orders=[]),
        tmall_trade("T10", modified="2026-09-31 10:00:00"),
        tmall_trade("T11", total_fee="1.005"),
        "",
    ]
    assert _reasons(spark, tmall, lines) == [
        None,
        "unparseable",
        "missing_required:shop_id",
        "wrong_type:total_fee",
        "impossible_value:status",
        "impossible_value:total_fee",
        "impossible_value:created",
        "wrong_type:orders.num",
        "missing_required:orders",
        "wrong_type:modified",
        "wrong_type:total_fee",
        "unparseable",
    ]


def test_a_key_given_as_a_json_object_or_array_is_a_wrong_type(spark):
    tmall = CONTRACTS["tmall_orders"]
    lines = [
        tmall_trade({"nested": 1}),
        tmall_trade(["T1"]),
        tmall_trade({}),
        tmall_trade("{T2}"),
        tmall_trade("T3", buyer_nick={"a": 1}),
    ]
    # A string that merely starts with a brace is a key; only a key field must be a scalar.
    assert _reasons(spark, tmall, lines) == [
        "wrong_type:tid",
        "wrong_type:tid",
        "wrong_type:tid",
        None,
        None,
    ]


def test_every_row_of_a_drifted_file_fails_with_its_drift(spark):
    tmall = CONTRACTS["tmall_orders"]
    assert _reasons(spark, tmall, [tmall_trade("T1"), "{broken"], "schema_drift:ouid") == [
        "schema_drift:ouid",
        "schema_drift:ouid",
    ]


def test_valid_rows_are_typed_with_lineage(spark):
    tmall = CONTRACTS["tmall_orders"]
    validated = validate(
        _raw(spark, tmall, [tmall_trade("T1")]), tmall, LOADED_AT, DEFAULT_SOURCE_TIMEZONE
    )
    row = bronze_rows(validated, tmall).first()
    assert row["total_fee"] == Decimal("100.00")
    # China time 10:00 is 02:00 UTC: every timestamp in the lakehouse is UTC.
    assert row["created"] == datetime(2026, 9, 1, 2, 0)
    assert row["orders"][0]["num"] == 2
    assert (row["_source_file"], row["_batch_id"], row["_line_no"]) == ("f.jsonl", "b1", 1)


def test_quarantine_keeps_raw_text_file_and_line(spark):
    tmall = CONTRACTS["tmall_orders"]
    validated = validate(
        _raw(spark, tmall, [tmall_trade("T1"), "garbage"]),
        tmall,
        LOADED_AT,
        DEFAULT_SOURCE_TIMEZONE,
    )
    rows = quarantine_rows(validated, tmall).collect()
    assert len(rows) == 1
    q = rows[0]
    assert (q["channel"], q["reason_kind"], q["reason"], q["raw"]) == (
        "tmall_orders",
        "unparseable",
        "unparseable",
        "garbage",
    )
    assert (q["_source_file"], q["_line_no"]) == ("f.jsonl", 2)
    assert bronze_rows(validated, tmall).count() == 1


@pytest.mark.parametrize(
    "kind,text,expected",
    [
        ("int", " 42 ", 42),
        ("int", "4.2", None),
        ("money", "12.30", Decimal("12.30")),
        ("money", "1e3", None),
        ("fen", "1999", 1999),
        ("epoch_seconds", "1788220800", datetime(2026, 9, 1, 0, 0)),
        ("epoch_millis", "1788220800123", datetime(2026, 9, 1, 0, 0, 0, 123000)),
        ("datetime_pos", "2026/09/01 08:30", datetime(2026, 9, 1, 0, 30)),
        ("datetime_pos", "2026/09/01 08:30:15", datetime(2026, 9, 1, 0, 30, 15)),
        ("datetime_iso", "2026-09-01T08:00:00+08:00", datetime(2026, 9, 1, 0, 0)),
        ("datetime_iso", "2026-09-01T08:00:00", None),  # no offset: ambiguous
        ("date", "1990-02-28", "1990-02-28"),
        ("date", "1990-02-30", None),
    ],
)
def test_typed_expressions(spark, kind, text, expected):
    value = spark.sql(f"SELECT {typed_expr(kind, repr(text), 'Asia/Shanghai')} AS v").first().v
    assert (str(value) if kind == "date" and value is not None else value) == expected


@pytest.mark.parametrize(
    "kind,text", [("datetime_cn", "2026-09-01 08:30:00"), ("datetime_pos", "2026/09/01 08:30:00")]
)
def test_local_times_are_read_in_the_source_time_zone(spark, kind, text):
    def utc(tz: str) -> datetime:
        return spark.sql(f"SELECT {typed_expr(kind, repr(text), tz)} AS v").first().v

    assert utc("Asia/Shanghai") == datetime(2026, 9, 1, 0, 30)
    assert utc("Asia/Tokyo") == datetime(2026, 8, 31, 23, 30)  # one hour earlier
    assert utc("Europe/Berlin") == datetime(2026, 9, 1, 6, 30)  # summer time: UTC+2


def test_contract_definitions_are_checked():
    with pytest.raises(ValueError, match="unknown kind"):
        Field("x", "float")
    with pytest.raises(ValueError, match="only kind 'items'"):
        Field("x", "string", items=(Field("y"),))
    contract = Contract("c", "jsonl", "d", (Field("a"),), key=("a",))
    with pytest.raises(KeyError, match="no field 'b'"):
        contract.get("b")
