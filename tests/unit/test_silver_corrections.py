"""Silver corrections and determinism: delivery order breaks ties, order lines never collapse.

Engine tests on tiny landing files: ingest, then standardise, as a run does.
"""

import hashlib
import shutil
from decimal import Decimal

from cdp.config import DEFAULT_SOURCE_TIMEZONE, load_settings
from cdp.lakehouse import Lakehouse
from spark_jobs.ingest import run_ingest
from spark_jobs.silver.orders import jd_order_items
from spark_jobs.standardise import APPLIED, run_standardise, silver_table

from .landing_files import tmall_trade, write_lines, write_pos


def _load(spark, lakehouse, landing, through_date=None):
    run_ingest(spark, lakehouse, landing, through_date=through_date)
    return {o.table: o for o in run_standardise(spark, lakehouse)}


def _rows(lakehouse, table: str, key: str) -> dict:
    return {r[key]: r for r in lakehouse.to_arrow(silver_table(table)).to_pylist()}


def _write_below(path, lines: list, other) -> None:
    """Write ``lines`` varying a field no table keeps until the file's checksum sorts below
    ``other``'s: a tie broken by batch id (a checksum prefix) would then pick ``other``."""

    def checksum(file):
        return hashlib.sha256(file.read_bytes()).hexdigest()

    for attempt in range(64):
        write_lines(path, [{**line, "buyer_nick": f"t**{attempt}"} for line in lines])
        if checksum(path) < checksum(other):
            return
    raise AssertionError("no checksum below the other file's in 64 attempts")


def test_a_corrected_pos_file_replaces_the_ticket_and_an_older_one_does_not(
    spark, lakehouse, settings
):
    pos = settings.landing_dir / "pos_tickets"
    line2 = "SH01,F&B,100,2,SALE,,2026/09/01 12:00,,C1,K8,Cake,Food,1,10.00,0,10.00,Cash"
    write_pos(
        pos / "2026-09-01/SH01.csv",
        ["SH01,F&B,100,1,SALE,,2026/09/01 12:00,,C1,K9,Tea,Drinks,2,30.00,0,60.00,Cash", line2],
    )
    _load(spark, lakehouse, settings.landing_dir)
    assert _rows(lakehouse, "orders", "order_id")["SH01-100"]["paid_amount_fen"] == 7000

    # Same ticket and time, one tea instead of two: the version (ticket_time) is equal.
    fix = write_pos(
        pos / "2026-09-02/SH01.csv",
        ["SH01,F&B,100,1,SALE,,2026/09/01 12:00,,C1,K9,Tea,Drinks,1,30.00,0,30.00,Cash", line2],
    )
    out = _load(spark, lakehouse, settings.landing_dir)
    assert (out["orders"].inserted, out["orders"].matched) == (0, 1)
    ticket = _rows(lakehouse, "orders", "order_id")["SH01-100"]
    assert (ticket["paid_amount_fen"], ticket["unit_count"]) == (4000, 2)
    assert (ticket["_source_file"], ticket["_line_no"]) == (str(fix), 3)
    items = _rows(lakehouse, "order_items", "line_id")
    assert (items["1"]["quantity"], items["1"]["paid_amount_fen"]) == (1, 3000)
    assert {i["_source_file"] for i in items.values()} == {str(fix)}

    # Another export of the ticket, in an earlier delivery folder, arriving after the fix.
    write_pos(
        pos / "2026-09-01/SH01_again.csv",
        ["SH01,F&B,100,1,SALE,,2026/09/01 12:00,,C1,K9,Tea,Drinks,3,30.00,0,90.00,Cash", line2],
    )
    _load(spark, lakehouse, settings.landing_dir)
    assert _rows(lakehouse, "orders", "order_id")["SH01-100"]["paid_amount_fen"] == 4000
    assert _rows(lakehouse, "order_items", "line_id")["1"]["quantity"] == 1


def test_a_tmall_fix_with_the_same_modified_delivered_later_wins(spark, lakehouse, settings):
    tmall = settings.landing_dir / "tmall_orders"
    original = write_lines(tmall / "2026-09-01/a.jsonl", [tmall_trade("T1")])
    fixed = {"payment": "80.00", "orders": [{**tmall_trade("T1")["orders"][0], "payment": "80.00"}]}
    _write_below(tmall / "2026-09-02/a.jsonl", [tmall_trade("T1", **fixed)], original)
    out = _load(spark, lakehouse, settings.landing_dir)  # both in one batch
    assert (out["orders"].source_rows, out["orders"].superseded) == (2, 1)
    assert _rows(lakehouse, "orders", "order_id")["T1"]["paid_amount_fen"] == 8000
    assert _rows(lakehouse, "order_items", "line_id")["T1-1"]["paid_amount_fen"] == 8000

    # A later file of the fix's folder corrects it again; an earlier folder's copy does not.
    write_lines(tmall / "2026-09-01/b.jsonl", [tmall_trade("T1", payment="70.00")])
    write_lines(tmall / "2026-09-02/b.jsonl", [tmall_trade("T1", payment="75.00")])
    _load(spark, lakehouse, settings.landing_dir)
    assert _rows(lakehouse, "orders", "order_id")["T1"]["paid_amount_fen"] == 7500


def test_two_jd_lines_of_the_same_sku_stay_two_lines(spark):
    schema = (
        "orderId string, modified timestamp, itemInfoList array<struct<skuId:string, "
        "skuName:string, category:string, jdPrice:decimal(18,2), itemTotal:int>>, "
        "_source_file string, _batch_id string, _line_no bigint"
    )
    items = [("K1", "Mug", "Home", Decimal("5.00"), 2), ("K1", "Mug", "Home", Decimal("4.00"), 1)]
    bronze = spark.createDataFrame([("J1", None, items, "f", "b", 1)], schema)
    lines = sorted(
        (r["line_id"], r["sku"], r["quantity"], r["paid_amount_fen"])
        for r in jd_order_items(bronze, DEFAULT_SOURCE_TIMEZONE).collect()
    )
    assert lines == [("1", "K1", 2, 1000), ("2", "K1", 1, 400)]


def _landing_with_corrections(landing):
    """Files of four channels with corrections, re-deliveries and a repeated JD SKU."""
    tmall = landing / "tmall_orders"
    write_lines(tmall / "2026-09-01/a.jsonl", [tmall_trade("T1"), tmall_trade("T2")])
    write_lines(
        tmall / "2026-09-02/a.jsonl",
        [
            tmall_trade("T1", payment="80.00"),
            tmall_trade("T2", status="TRADE_CLOSED", modified="2026-09-02 08:00:00"),
        ],
    )
    item = {"skuId": "K1", "skuName": "杯子", "category": "Home", "jdPrice": "5.00"}
    write_lines(
        landing / "jd_orders/2026-09-01/j.jsonl",
        [
            {
                "orderId": "J1",
                "venderId": "V1",
                "orderState": "WAIT_SELLER_STOCK_OUT",
                "pin": "jd_a",
                "orderTotalPrice": "15.00",
                "orderPayment": "15.00",
                "freightPrice": "0.00",
                "orderStartTime": "2026-09-01 09:00:00",
                "modified": "2026-09-01 09:00:00",
                "itemInfoList": [{**item, "itemTotal": "2"}, {**item, "itemTotal": "1"}],
            }
        ],
    )
    sale = (
        "SH01,F&B,100,{line},SALE,,2026/09/01 12:00,13800138000,C1,K9,Tea,Drinks,{q},"
        "10.00,0,{a},Cash"
    )
    write_pos(
        landing / "pos_tickets/2026-09-01/SH01.csv",
        [sale.format(line=1, q=2, a="20.00"), sale.format(line=2, q=1, a="10.00")],
    )
    write_pos(
        landing / "pos_tickets/2026-09-02/SH01.csv",
        [sale.format(line=1, q=3, a="30.00"), sale.format(line=2, q=1, a="10.00")],
    )
    event = {
        "event_id": "w1",
        "event_type": "page_view",
        "cookie_id": "ck1",
        "occurred_at": "2026-09-01T10:00:00+08:00",
    }
    write_lines(landing / "web_events/2026-09-01/h5.jsonl", [event, {**event, "event_id": "w2"}])
    write_lines(landing / "web_events/2026-09-02/h5.jsonl", [{**event, "page_url": "/fixed"}])


def _silver(lakehouse) -> dict:
    """Every silver table's rows, sorted, with every column."""
    return {
        table.name: sorted(
            (tuple(row.items()) for row in lakehouse.to_arrow(table).to_pylist()), key=repr
        )
        for table in lakehouse.tables("silver")
    }


def test_two_clean_runs_write_identical_silver_tables(spark, tmp_path):
    landing = tmp_path / "landing"
    _landing_with_corrections(landing)
    runs = []
    for name, days in (
        ("at-once", [None]),
        ("again", [None]),
        ("day-by-day", ["2026-09-01", "2026-09-02"]),
    ):
        lakehouse = Lakehouse(load_settings(workspace=tmp_path / name).lakehouse_dir)
        for through_date in days:
            _load(spark, lakehouse, landing, through_date)
        runs.append(_silver(lakehouse))
    first = runs[0]
    assert {name: len(rows) for name, rows in first.items()} == {
        "orders": 4,
        "order_items": 6,
        "events": 2,
        "identifiers": 6,
    }
    assert runs[1] == first
    assert runs[2] == first  # and applied one delivery day at a time, the same again
    orders = {dict(r)["order_id"]: dict(r) for r in first["orders"]}
    assert (orders["T1"]["paid_amount_fen"], orders["SH01-100"]["paid_amount_fen"]) == (8000, 4000)
    events = {dict(r)["event_id"]: dict(r) for r in first["events"]}
    assert events["web:w1"]["page_url"] == "/fixed"


def test_reapplying_applied_batches_changes_nothing(spark, lakehouse, settings):
    _landing_with_corrections(settings.landing_dir)
    _load(spark, lakehouse, settings.landing_dir)
    before = _silver(lakehouse)
    # A run that died after its MERGE and before recording the batches applies them again.
    shutil.rmtree(lakehouse.path(APPLIED))
    out = run_standardise(spark, lakehouse)
    assert {o.table: o.inserted for o in out if o.table != "identifiers"} == {
        "orders": 0,
        "order_items": 0,
        "events": 0,
    }
    assert _silver(lakehouse) == before


def test_tables_written_before_silver_kept_lines_take_corrections(spark, lakehouse, settings):
    tmall = settings.landing_dir / "tmall_orders"
    write_lines(tmall / "2026-09-01/a.jsonl", [tmall_trade("T1"), tmall_trade("T2")])
    _load(spark, lakehouse, settings.landing_dir)
    for name in ("orders", "order_items", "identifiers"):  # as an earlier release wrote them
        old = lakehouse.to_arrow(silver_table(name)).drop_columns(["_line_no"])
        lakehouse.overwrite_arrow(old, silver_table(name))

    write_lines(tmall / "2026-09-02/a.jsonl", [tmall_trade("T1", payment="80.00")])
    _load(spark, lakehouse, settings.landing_dir)
    orders = _rows(lakehouse, "orders", "order_id")
    assert {k: (o["paid_amount_fen"], o["_line_no"]) for k, o in orders.items()} == {
        "T1": (8000, 1),
        "T2": (9000, None),
    }
    identifiers = lakehouse.to_arrow(silver_table("identifiers")).to_pylist()
    assert {(i["identifier_value"], i["_line_no"]) for i in identifiers} == {
        ("OUT1", 1),
        ("OUT2", None),
    }
    assert all(i["_source_file"] for i in identifiers)


def test_delivery_order_ignores_where_the_landing_zone_is_mounted(spark, lakehouse, tmp_path):
    first, moved = tmp_path / "z-landing", tmp_path / "a-landing"  # the new root sorts first
    write_lines(first / "tmall_orders/2026-09-01/a.jsonl", [tmall_trade("T1")])
    _load(spark, lakehouse, first)
    write_lines(moved / "tmall_orders/2026-09-02/a.jsonl", [tmall_trade("T1", payment="80.00")])
    _load(spark, lakehouse, moved)
    assert _rows(lakehouse, "orders", "order_id")["T1"]["paid_amount_fen"] == 8000
