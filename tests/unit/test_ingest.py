"""Bronze ingest on tiny landing zones: counts, skips, encodings, idempotency."""

from datetime import UTC

import pytest

from cdp.lakehouse import Table
from spark_jobs.contracts import CONTRACTS
from spark_jobs.ingest import INGEST_LOG, QUARANTINE, ingest_channel, run_ingest, started, write_log
from spark_jobs.landing import discover

from .landing_files import tmall_trade, write_lines, write_pos

POS_ROWS = [
    "SH01,艺术生活,100,1,SALE,,2026/09/01 12:00,+86 138-0013-8000,,K9,\"Book, art\",Books,2,30.00,0,60.00,WeChat Pay",
    "SH01,艺术生活,100,2,SALE,,2026/09/01 12:00,+86 138-0013-8000,,K8,Pen,Books,1,10.00,1.00,9.00,WeChat Pay",
    "SH01,broken,row",
]


@pytest.fixture
def landing(settings):
    root = settings.landing_dir
    write_lines(root / "tmall_orders/2026-09-01/trades.jsonl",
                [tmall_trade("T1"), tmall_trade("T2"), "{not json", tmall_trade("T3", status="X")])
    write_pos(root / "pos_tickets/2026-09-01/SH01.csv", POS_ROWS, encoding="gb18030")
    return root


def _bronze_versions(lakehouse):
    return {str(t): lakehouse.version(t) for t in lakehouse.tables("bronze")}


def test_counts_add_up_and_reasons_are_reported(spark, lakehouse, landing):
    report = run_ingest(spark, lakehouse, landing)
    assert report.rows_in == 7
    assert (report.loaded, report.quarantined) == (4, 3)
    assert report.quarantine_reasons == {
        ("tmall_orders", "unparseable"): 1, ("tmall_orders", "impossible_value:status"): 1,
        ("pos_tickets", "unparseable"): 1}
    for f in report.files:
        assert f.rows_in == f.loaded + f.quarantined
    assert lakehouse.count(Table("bronze", "tmall_orders")) == 2
    assert lakehouse.count(QUARANTINE) == 3


def test_gb18030_pos_file_is_decoded(spark, lakehouse, landing):
    run_ingest(spark, lakehouse, landing)
    rows = lakehouse.to_arrow(Table("bronze", "pos_tickets"),
                              ["business_format", "item_name"]).to_pylist()
    assert {r["business_format"] for r in rows} == {"艺术生活"}
    assert {r["item_name"] for r in rows} == {"Book, art", "Pen"}


def test_quarantined_csv_row_names_file_and_line(spark, lakehouse, landing):
    run_ingest(spark, lakehouse, landing, channels=["pos_tickets"])
    q = lakehouse.to_arrow(QUARANTINE).to_pylist()
    assert [(r["_line_no"], r["raw"], r["reason"]) for r in q] == [
        (4, "SH01,broken,row", "unparseable")]
    assert q[0]["_source_file"].endswith("pos_tickets/2026-09-01/SH01.csv")


def test_rerun_changes_nothing(spark, lakehouse, landing):
    run_ingest(spark, lakehouse, landing)
    versions, log_rows = _bronze_versions(lakehouse), lakehouse.count(INGEST_LOG)
    again = run_ingest(spark, lakehouse, landing)
    assert again.rows_in == 0 and not again.by_status("loaded")
    assert {f.status for f in again.files} == {"already_ingested"}
    assert _bronze_versions(lakehouse) == versions
    assert lakehouse.count(INGEST_LOG) == log_rows


def test_redelivered_copy_under_another_name_is_skipped(spark, lakehouse, landing):
    original = landing / "tmall_orders/2026-09-01/trades.jsonl"
    copy = landing / "tmall_orders/2026-09-03/trades_resend.jsonl"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(original.read_bytes())
    report = run_ingest(spark, lakehouse, landing, channels=["tmall_orders"])
    [dup] = report.by_status("duplicate")
    assert dup.source_file == str(copy) and dup.duplicate_of == str(original)
    assert lakehouse.count(Table("bronze", "tmall_orders")) == 2


def test_retry_after_a_crash_before_logging_does_not_duplicate(spark, lakehouse, landing):
    contract = CONTRACTS["tmall_orders"]
    files = discover(landing, contract)
    from datetime import datetime

    # The crashed run logged the start, wrote bronze and quarantine, and died before logging
    # the batch as loaded.
    now = datetime.now(UTC)
    write_log(lakehouse, [started(f) for f in files], now)
    ingest_channel(spark, lakehouse, contract, files, now)
    assert lakehouse.count(Table("bronze", "tmall_orders")) == 2
    report = run_ingest(spark, lakehouse, landing, channels=["tmall_orders"])
    assert report.loaded == 2
    assert lakehouse.count(Table("bronze", "tmall_orders")) == 2
    assert lakehouse.count(QUARANTINE) == 2


def test_through_date_limits_delivery_folders(spark, lakehouse, landing):
    write_lines(landing / "tmall_orders/2026-09-05/late.jsonl", [tmall_trade("T9")])
    report = run_ingest(spark, lakehouse, landing, channels=["tmall_orders"],
                        through_date="2026-09-01")
    assert [f.delivery_date for f in report.by_status("loaded")] == ["2026-09-01"]
    report = run_ingest(spark, lakehouse, landing, channels=["tmall_orders"])
    assert [f.delivery_date for f in report.by_status("loaded")] == ["2026-09-05"]


def test_csv_columns_are_matched_by_header_name(spark, lakehouse, settings):
    from .landing_files import POS_HEADER

    names = POS_HEADER.split(",")
    values = POS_ROWS[1].split(",")
    order = list(reversed(range(len(names))))
    path = settings.landing_dir / "pos_tickets/2026-09-02/SH02.csv"
    path.parent.mkdir(parents=True)
    path.write_text(",".join(names[i] for i in order) + "\n" + ",".join(values[i] for i in order)
                    + "\n", encoding="utf-8")
    report = run_ingest(spark, lakehouse, settings.landing_dir)
    assert (report.loaded, report.quarantined) == (1, 0)
    row = lakehouse.to_arrow(Table("bronze", "pos_tickets"), ["sku", "quantity"]).to_pylist()
    assert row == [{"sku": "K8", "quantity": 1}]


def test_bad_arguments_are_named(spark, lakehouse, settings):
    with pytest.raises(ValueError, match="unknown channel.*'tmall'"):
        run_ingest(spark, lakehouse, settings.landing_dir, channels=["tmall"])
    with pytest.raises(FileNotFoundError, match="landing zone .* does not exist"):
        run_ingest(spark, lakehouse, settings.landing_dir / "nowhere")
