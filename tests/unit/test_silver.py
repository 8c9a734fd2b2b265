"""Silver standardise: mappings on tiny frames, late updates through MERGE, de-duplication."""

import hashlib

from cdp.config import DEFAULT_SOURCE_TIMEZONE
from spark_jobs.ingest import run_ingest
from spark_jobs.silver import SILVER_TABLES
from spark_jobs.silver.orders import pos_orders, tmall_orders
from spark_jobs.standardise import run_standardise, silver_table

from .landing_files import tmall_trade, write_lines, write_pos


def _load(spark, lakehouse, settings):
    run_ingest(spark, lakehouse, settings.landing_dir)
    return {o.table: o for o in run_standardise(spark, lakehouse)}


def _orders(lakehouse):
    rows = lakehouse.to_arrow(silver_table("orders")).to_pylist()
    return {r["order_id"]: r for r in rows}


def test_late_status_update_wins_and_stale_redelivery_does_not(spark, lakehouse, settings):
    land = settings.landing_dir / "tmall_orders"
    write_lines(
        land / "2026-09-01/a.jsonl",
        [tmall_trade("T1", status="WAIT_SELLER_SEND_GOODS", modified="2026-09-01 10:01:00")],
    )
    _load(spark, lakehouse, settings)
    assert _orders(lakehouse)["T1"]["status"] == "paid"

    write_lines(
        land / "2026-09-03/a.jsonl",
        [tmall_trade("T1", status="TRADE_FINISHED", modified="2026-09-03 09:00:00")],
    )
    out = _load(spark, lakehouse, settings)
    assert (out["orders"].inserted, out["orders"].matched) == (0, 1)
    assert _orders(lakehouse)["T1"]["status"] == "completed"

    # An old snapshot delivered late must not roll the order back.
    write_lines(
        land / "2026-09-04/old.jsonl",
        [tmall_trade("T1", status="WAIT_BUYER_CONFIRM_GOODS", modified="2026-09-02 09:00:00")],
    )
    _load(spark, lakehouse, settings)
    orders = _orders(lakehouse)
    assert len(orders) == 1 and orders["T1"]["status"] == "completed"


def test_duplicate_keys_in_one_batch_keep_the_latest(spark, lakehouse, settings):
    write_lines(
        settings.landing_dir / "tmall_orders/2026-09-01/a.jsonl",
        [
            tmall_trade("T1", status="WAIT_SELLER_SEND_GOODS", modified="2026-09-01 10:01:00"),
            tmall_trade("T1", status="WAIT_BUYER_CONFIRM_GOODS", modified="2026-09-02 10:01:00"),
        ],
    )
    out = _load(spark, lakehouse, settings)
    assert (out["orders"].source_rows, out["orders"].superseded) == (2, 1)
    assert _orders(lakehouse)["T1"]["status"] == "shipped"


def test_rerun_without_new_batches_changes_nothing(spark, lakehouse, settings):
    write_lines(settings.landing_dir / "tmall_orders/2026-09-01/a.jsonl", [tmall_trade("T1")])
    _load(spark, lakehouse, settings)
    versions = {
        t.name: lakehouse.version(silver_table(t.name))
        for t in SILVER_TABLES.values()
        if lakehouse.exists(silver_table(t.name))
    }
    assert run_standardise(spark, lakehouse) == []
    assert {n: lakehouse.version(silver_table(n)) for n in versions} == versions


def test_tmall_refund_and_amounts_in_fen(spark):
    from decimal import Decimal

    schema = (
        "tid string, status string, shop_id string, ouid string, "
        "total_fee decimal(18,2), discount_fee decimal(18,2), post_fee decimal(18,2), "
        "payment decimal(18,2), created timestamp, pay_time timestamp, "
        "modified timestamp, orders array<struct<num:int, refund_fee:decimal(18,2)>>, "
        "_source_file string, _batch_id string, _line_no bigint"
    )
    row = (
        "T9",
        "TRADE_CLOSED",
        "S1",
        "O",
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal(0),
        Decimal("90.00"),
        None,
        None,
        None,
        [(2, Decimal("90.00"))],
        "f",
        "b",
        1,
    )
    bronze = spark.createDataFrame([row], schema)
    order = tmall_orders(bronze, DEFAULT_SOURCE_TIMEZONE).first()
    assert (order["status"], order["refund_amount_fen"], order["paid_amount_fen"]) == (
        "refunded",
        9000,
        9000,
    )
    assert (order["unit_count"], order["line_count"]) == (2, 1)


def test_pos_lines_become_one_ticket(spark, lakehouse, settings):
    write_pos(
        settings.landing_dir / "pos_tickets/2026-09-01/SH01.csv",
        [
            "SH01,F&B,100,1,SALE,,2026/09/01 12:00,8613800138000,,K9,Tea,Drinks,2,30.00,0,60.00,Cash",
            "SH01,F&B,100,2,SALE,,2026/09/01 12:00,8613800138000,,K8,Cake,Food,1,10.00,1.00,9.00,Cash",
            "SH01,F&B,101,1,RETURN,100,2026/09/02 12:00,,,K8,Cake,Food,-1,10.00,0,-9.00,Cash",
        ],
    )
    _load(spark, lakehouse, settings)
    orders = _orders(lakehouse)
    sale, ret = orders["SH01-100"], orders["SH01-101"]
    assert (
        sale["line_count"],
        sale["unit_count"],
        sale["paid_amount_fen"],
        sale["discount_fen"],
    ) == (2, 3, 6900, 100)
    assert (sale["member_phone"], sale["member_phone_status"]) == ("13800138000", "valid")
    assert (ret["status"], ret["order_type"], ret["original_order_id"], ret["paid_amount_fen"]) == (
        "returned",
        "return",
        "SH01-100",
        -900,
    )
    items = lakehouse.to_arrow(silver_table("order_items")).to_pylist()
    assert sorted((i["order_id"], i["line_id"]) for i in items) == [
        ("SH01-100", "1"),
        ("SH01-100", "2"),
        ("SH01-101", "1"),
    ]


def test_pos_ticket_line_delivered_twice_counts_once(spark):
    from decimal import Decimal

    row = (
        "SH01",
        "F&B",
        "100",
        1,
        "SALE",
        None,
        None,
        None,
        None,
        "K9",
        None,
        None,
        2,
        Decimal(30),
        Decimal(0),
        Decimal(60),
        "Cash",
        "f",
        "b",
        2,
    )
    schema = (
        "store_code string, business_format string, ticket_no string, line_no int, "
        "ticket_type string, original_ticket_no string, ticket_time timestamp, "
        "member_phone string, member_card_no string, sku string, item_name string, "
        "category string, quantity int, unit_price decimal(18,2), discount decimal(18,2), "
        "line_amount decimal(18,2), payment_method string, _source_file string, "
        "_batch_id string, _line_no long"
    )
    bronze = spark.createDataFrame([row, row[:-3] + ("g", "c", 7)], schema)
    [ticket] = pos_orders(bronze, DEFAULT_SOURCE_TIMEZONE).collect()
    assert (ticket["line_count"], ticket["paid_amount_fen"]) == (1, 6000)


def test_events_and_consent_use_canonical_identifiers(spark, lakehouse, settings):
    write_lines(
        settings.landing_dir / "wechat_events/2026-09-01/wx.jsonl",
        [
            {
                "app_id": "wxA",
                "ToUserName": "gh_1",
                "FromUserName": "oABC",
                "CreateTime": "1788220800",
                "MsgType": "event",
                "Event": "subscribe",
                "EventKey": "qrscene_store_SH001",
            },
        ]
        * 2,
    )
    write_lines(
        settings.landing_dir / "consent/2026-09-01/c.jsonl",
        [
            {
                "event_id": "c1",
                "identifier_type": "phone",
                "identifier_value": "+86 139-1234-5678",
                "channel": "sms",
                "status": "opt_out",
                "occurred_at": "2026-09-01 10:00:00",
            },
            {
                "event_id": "c2",
                "identifier_type": "openid",
                "identifier_value": "oABC",
                "app_id": "wxA",
                "channel": "wechat_template",
                "status": "opt_in",
                "occurred_at": "2026-09-01 10:00:00",
            },
        ],
    )
    out = _load(spark, lakehouse, settings)
    assert (out["events"].source_rows, out["events"].superseded) == (2, 1)
    [event] = lakehouse.to_arrow(silver_table("events")).to_pylist()
    assert (event["event_type"], event["scene"], event["openid"]) == (
        "follow",
        "store_SH001",
        "oABC",
    )
    consent = {r["event_id"]: r for r in lakehouse.to_arrow(silver_table("consent")).to_pylist()}
    assert consent["c1"]["identifier_value"] == "13912345678"
    assert consent["c2"]["identifier_value"] == "wxA/oABC"


def test_identifiers_seen_are_aggregated_per_source(spark, lakehouse, settings):
    write_lines(
        settings.landing_dir / "web_events/2026-09-01/h5.jsonl",
        [
            {
                "event_id": "w1",
                "event_type": "page_view",
                "occurred_at": "2026-09-01T10:00:00+08:00",
                "cookie_id": "ck1",
                "device_id": "dev1",
                "user_id": "M1",
            },
            {
                "event_id": "w2",
                "event_type": "click",
                "occurred_at": "2026-09-02T10:00:00+08:00",
                "cookie_id": "ck1",
                "device_id": "",
            },
        ],
    )
    write_lines(settings.landing_dir / "tmall_orders/2026-09-01/a.jsonl", [tmall_trade("T1")])
    out = _load(spark, lakehouse, settings)
    assert out["identifiers"].merge.rows_after == 4
    rows = {
        (r["identifier_type"], r["identifier_value"], r["source"]): r
        for r in lakehouse.to_arrow(silver_table("identifiers")).to_pylist()
    }
    assert set(rows) == {
        ("cookie_id", "ck1", "events:web"),
        ("device_id", "dev1", "events:web"),
        ("member_card", "M1", "events:web"),
        ("tmall_ouid", "OUT1", "orders:tmall"),
    }
    cookie = rows[("cookie_id", "ck1", "events:web")]
    assert cookie["records"] == 2
    assert (str(cookie["first_seen_at"]), str(cookie["last_seen_at"])) == (
        "2026-09-01 02:00:00+00:00",
        "2026-09-02 02:00:00+00:00",
    )  # UTC


def test_identifier_lineage_is_the_last_file_and_its_own_batch(spark, lakehouse, settings):
    event = {
        "event_id": "w1",
        "event_type": "page_view",
        "cookie_id": "ck1",
        "occurred_at": "2026-09-01T10:00:00+08:00",
    }
    first = settings.landing_dir / "web_events/2026-09-01/h5.jsonl"
    last = settings.landing_dir / "web_events/2026-09-02/h5.jsonl"
    write_lines(first, [event])
    write_lines(last, [{**event, "event_id": "w2"}, {**event, "event_id": "w3"}])
    _load(spark, lakehouse, settings)
    (cookie,) = lakehouse.to_arrow(silver_table("identifiers")).to_pylist()
    assert cookie["records"] == 3
    assert (cookie["_source_file"], cookie["_batch_id"]) == (
        str(last),
        hashlib.sha256(last.read_bytes()).hexdigest()[:20],
    )


def test_batches_without_identifier_tables_leave_identifiers_alone(spark, lakehouse, settings):
    write_lines(
        settings.landing_dir / "consent/2026-09-01/c.jsonl",
        [
            {
                "event_id": "c1",
                "identifier_type": "phone",
                "identifier_value": "13912345678",
                "channel": "sms",
                "status": "opt_out",
                "occurred_at": "2026-09-01 10:00:00",
            }
        ],
    )
    out = _load(spark, lakehouse, settings)
    assert set(out) == {"consent"}
    assert not lakehouse.exists(silver_table("identifiers"))
