"""Bronze ingest on tiny landing zones: counts, skips, encodings, idempotency, bad files."""

import codecs
import gzip
import json
from datetime import UTC
from pathlib import Path

import pytest

from cdp.lakehouse import Table
from spark_jobs.contracts import CONTRACTS
from spark_jobs.ingest import INGEST_LOG, QUARANTINE, ingest_channel, run_ingest, started, write_log
from spark_jobs.landing import discover

from .landing_files import tmall_trade, write_lines, write_pos

POS_ROWS = [
    'SH01,艺术生活,100,1,SALE,,2026/09/01 12:00,+86 138-0013-8000,,K9,"Book, art",Books,2,30.00,0,60.00,WeChat Pay',
    "SH01,艺术生活,100,2,SALE,,2026/09/01 12:00,+86 138-0013-8000,,K8,Pen,Books,1,10.00,1.00,9.00,WeChat Pay",
    "SH01,broken,row",
]


@pytest.fixture
def landing(settings):
    root = settings.landing_dir
    write_lines(
        root / "tmall_orders/2026-09-01/trades.jsonl",
        [tmall_trade("T1"), tmall_trade("T2"), "{not json", tmall_trade("T3", status="X")],
    )
    write_pos(root / "pos_tickets/2026-09-01/SH01.csv", POS_ROWS, encoding="gb18030")
    return root


def _bronze_versions(lakehouse):
    return {str(t): lakehouse.version(t) for t in lakehouse.tables("bronze")}


def test_counts_add_up_and_reasons_are_reported(spark, lakehouse, landing):
    report = run_ingest(spark, lakehouse, landing)
    assert report.rows_in == 7
    assert (report.loaded, report.quarantined) == (4, 3)
    assert report.quarantine_reasons == {
        ("tmall_orders", "unparseable"): 1,
        ("tmall_orders", "impossible_value:status"): 1,
        ("pos_tickets", "unparseable"): 1,
    }
    for f in report.files:
        assert f.rows_in == f.loaded + f.quarantined
    assert lakehouse.count(Table("bronze", "tmall_orders")) == 2
    assert lakehouse.count(QUARANTINE) == 3


def test_gb18030_pos_file_is_decoded(spark, lakehouse, landing):
    run_ingest(spark, lakehouse, landing)
    rows = lakehouse.to_arrow(
        Table("bronze", "pos_tickets"), ["business_format", "item_name"]
    ).to_pylist()
    assert {r["business_format"] for r in rows} == {"艺术生活"}
    assert {r["item_name"] for r in rows} == {"Book, art", "Pen"}


def test_quarantined_csv_row_names_file_and_line(spark, lakehouse, landing):
    run_ingest(spark, lakehouse, landing, channels=["pos_tickets"])
    q = lakehouse.to_arrow(QUARANTINE).to_pylist()
    assert [(r["_line_no"], r["raw"], r["reason"]) for r in q] == [
        (4, "SH01,broken,row", "unparseable")
    ]
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
    report = run_ingest(
        spark, lakehouse, landing, channels=["tmall_orders"], through_date="2026-09-01"
    )
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
    path.write_text(
        ",".join(names[i] for i in order) + "\n" + ",".join(values[i] for i in order) + "\n",
        encoding="utf-8",
    )
    report = run_ingest(spark, lakehouse, settings.landing_dir)
    assert (report.loaded, report.quarantined) == (1, 0)
    row = lakehouse.to_arrow(Table("bronze", "pos_tickets"), ["sku", "quantity"]).to_pylist()
    assert row == [{"sku": "K8", "quantity": 1}]


def test_bad_arguments_are_named(spark, lakehouse, settings):
    with pytest.raises(ValueError, match="unknown channel.*'tmall'"):
        run_ingest(spark, lakehouse, settings.landing_dir, channels=["tmall"])
    with pytest.raises(FileNotFoundError, match="landing zone .* does not exist"):
        run_ingest(spark, lakehouse, settings.landing_dir / "nowhere")


# -- files other people deliver -----------------------------------------------------------------
@pytest.fixture(scope="module")
def messy(spark, tmp_path_factory):
    """A landing zone with unreadable, drifted, BOM-prefixed and misplaced files beside good
    ones, ingested once."""
    from cdp.lakehouse import Lakehouse

    from .landing_files import POS_HEADER

    root = tmp_path_factory.mktemp("messy")
    landing, lakehouse = root / "landing", Lakehouse(root / "lakehouse")
    day = landing / "tmall_orders/2026-09-01"
    write_lines(day / "a_good.jsonl", [tmall_trade("T1"), tmall_trade("T2")])
    (day / "b_binary.jsonl").write_bytes(b"\x00\x01\x02garbage\xff" * 10)
    (day / "c_latin1.jsonl").write_bytes(b'{"tid": "T3", "buyer_nick": "Jos\xe9"}\n')
    whole = gzip.compress((json.dumps(tmall_trade("T4")) + "\n").encode())
    (day / "d_cut.jsonl.gz").write_bytes(whole[:-12])
    (day / "e_empty.jsonl").write_bytes(b"")
    (day / "f_blank.jsonl").write_bytes(b"\n  \n\n")
    (day / "g_packed.jsonl.gz").write_bytes(
        gzip.compress((json.dumps(tmall_trade("T5")) + "\n").encode())
    )
    (day / "h_bom.jsonl").write_bytes(
        codecs.BOM_UTF8
        + (json.dumps(tmall_trade("T6")) + "\n" + json.dumps(tmall_trade("T7")) + "\n").encode()
    )
    renamed = {**tmall_trade("T8"), "end_time": None, "open_uid": "OU8"}
    del renamed["ouid"]
    write_lines(day / "i_renamed.jsonl", [renamed])
    write_lines(day / "j_nested_key.jsonl", [tmall_trade({"nested": 1})])
    write_pos(landing / "pos_tickets/2026-09-01/SH01.csv", POS_ROWS[:2])
    packed_pos = write_pos(
        landing / "pos_tickets/2026-09-01/SH03.csv", POS_ROWS[:1], encoding="gb18030"
    )
    packed_pos.with_suffix(".csv.gz").write_bytes(gzip.compress(packed_pos.read_bytes()))
    packed_pos.unlink()
    drifted = landing / "pos_tickets/2026-09-01/SH02.csv"
    drifted.write_text(
        POS_HEADER.replace("member_phone", "mobile") + "\n" + POS_ROWS[0] + "\n", encoding="utf-8"
    )
    write_lines(landing / "tiktok/2026-09-01/t.jsonl", [{"a": 1}])
    write_lines(landing / "tmall_orders/loose.jsonl", [tmall_trade("T9")])
    write_lines(landing / "tmall_orders/2026-9-2/x.jsonl", [tmall_trade("T10")])
    report = run_ingest(spark, lakehouse, landing)
    return landing, lakehouse, report


def _by_name(report, status):
    return {Path(f.source_file).name: f for f in report.by_status(status)}


def test_unreadable_files_are_quarantined_whole_and_the_rest_lands(messy):
    _, lakehouse, report = messy
    unreadable = _by_name(report, "unreadable")
    assert {name: f.reason for name, f in unreadable.items()} == {
        "b_binary.jsonl": "unreadable_file:binary data (NUL byte at byte 0)",
        "c_latin1.jsonl": "unreadable_file:invalid UTF-8 at byte 32",
        "d_cut.jsonl.gz": "unreadable_file:truncated gzip",
        "e_empty.jsonl": "empty_file",
        "f_blank.jsonl": "empty_file",
    }
    assert {(f.rows_in, f.loaded, f.quarantined) for f in unreadable.values()} == {(1, 0, 1)}
    q = {Path(r["_source_file"]).name: r for r in lakehouse.to_arrow(QUARANTINE).to_pylist()}
    assert (q["c_latin1.jsonl"]["reason_kind"], q["c_latin1.jsonl"]["_line_no"]) == (
        "unreadable_file",
        0,
    )
    assert q["c_latin1.jsonl"]["raw"] == '{"tid": "T3", "buyer_nick": "Jos\\xe9"}\n'
    assert (q["e_empty.jsonl"]["reason_kind"], q["e_empty.jsonl"]["raw"]) == ("empty_file", "")
    # Every other file, of this channel and the next, landed; counts add up per file.
    loaded = _by_name(report, "loaded")
    assert sorted(loaded) == [
        "SH01.csv",
        "SH02.csv",
        "SH03.csv.gz",
        "a_good.jsonl",
        "g_packed.jsonl.gz",
        "h_bom.jsonl",
        "i_renamed.jsonl",
        "j_nested_key.jsonl",
    ]
    for f in report.files:
        assert f.rows_in == f.loaded + f.quarantined
    assert report.quarantine_reasons[("tmall_orders", "empty_file")] == 2
    log = lakehouse.to_arrow(INGEST_LOG).to_pylist()
    assert sorted(r["reason"] for r in log if r["status"] == "unreadable") == sorted(
        f.reason for f in unreadable.values()
    )


def test_a_bom_and_gzip_do_not_stop_rows_from_loading(messy):
    _, lakehouse, report = messy
    loaded = _by_name(report, "loaded")
    assert (loaded["h_bom.jsonl"].loaded, loaded["g_packed.jsonl.gz"].loaded) == (2, 1)
    tids = set(
        lakehouse.to_arrow(Table("bronze", "tmall_orders"), ["tid"]).column("tid").to_pylist()
    )
    assert tids == {"T1", "T2", "T5", "T6", "T7"}


def test_drifted_files_and_structured_keys_are_quarantined_with_their_reason(messy):
    _, lakehouse, report = messy
    q = lakehouse.to_arrow(QUARANTINE).to_pylist()
    reasons = {(Path(r["_source_file"]).name, r["_line_no"], r["reason"]) for r in q}
    assert {
        ("SH02.csv", 2, "schema_drift:member_phone"),
        ("i_renamed.jsonl", 1, "schema_drift:ouid"),
        ("j_nested_key.jsonl", 1, "wrong_type:tid"),
    } <= reasons
    assert next(r["raw"] for r in q if r["_source_file"].endswith("SH02.csv")) == POS_ROWS[0]
    assert _by_name(report, "loaded")["SH01.csv"].loaded == 2
    assert _by_name(report, "loaded")["SH03.csv.gz"].loaded == 1  # GB18030, compressed


def test_misplaced_files_are_ignored_and_logged_once(messy, capsys):
    from cdp.report import show_ingest

    landing, lakehouse, report = messy
    ignored = {
        str(Path(f.source_file).relative_to(landing)): f.reason for f in report.by_status("ignored")
    }
    assert ignored == {
        "tiktok/2026-09-01/t.jsonl": "unknown channel folder 'tiktok'",
        "tmall_orders/loose.jsonl": "directly in the channel folder, not in a delivery folder YYYY-MM-DD",
        "tmall_orders/2026-9-2/x.jsonl": "folder '2026-9-2' is not a delivery date YYYY-MM-DD",
    }
    show_ingest(report)
    out = capsys.readouterr().out
    assert "ignored (never read):" in out and "unknown channel folder 'tiktok'" in out
    assert "quarantined whole:" in out and "truncated gzip" in out
    again = run_ingest(None, lakehouse, landing)  # nothing new: the engine is never asked
    assert {f.status for f in again.files} == {"already_ingested", "ignored"}
    log = lakehouse.to_arrow(INGEST_LOG, ["status", "source_file"]).to_pylist()
    assert sorted(r["source_file"] for r in log if r["status"] == "ignored") == sorted(
        str(landing / p) for p in ignored
    )


def test_through_date_must_be_a_real_day(lakehouse, settings):
    for bad in ("garbage", "2026-9-2", "2026-02-30"):
        with pytest.raises(ValueError, match=f"through date '{bad}' is not a date"):
            run_ingest(None, lakehouse, settings.landing_dir, through_date=bad)
