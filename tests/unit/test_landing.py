"""Landing files without an engine: CSV rows, the checks of the checksum pass, the layout."""

import codecs
import gzip
import hashlib
import json
from pathlib import Path

import pytest

from spark_jobs import file_checks
from spark_jobs.contracts import CONTRACTS, Contract, Field
from spark_jobs.file_checks import is_delivery_date, scan_file, schema_drift
from spark_jobs.landing import discover, parse_csv, stray_files

from .landing_files import POS_HEADER, tmall_trade

CONTRACT = Contract("shop", "csv", "test", (Field("a"), Field("b"), Field("c")), key=("a",))
PATH = Path("landing/shop/2026-09-01/x.csv")


def test_each_line_is_one_row_and_bad_lines_are_flagged_in_place():
    text = '\ufeffb,a,extra\n1,x,e\n2,"y,z",e\n3,w\n\n4,v,e,more\n5,,e\n'
    table = parse_csv(text, CONTRACT, PATH).to_pylist()
    assert [(r["_line_no"], r["value"], r["_unparseable"]) for r in table] == [
        (2, "1,x,e", False),
        (3, '2,"y,z",e', False),
        (4, "3,w", True),
        (5, "", True),
        (6, "4,v,e,more", True),
        (7, "5,,e", False),
    ]
    # Matched by header name; a bad line has no values; an empty value stays empty text.
    assert [(r["a"], r["b"]) for r in table] == [
        ("x", "1"),
        ("y,z", "2"),
        (None, None),
        (None, None),
        (None, None),
        ("", "5"),
    ]
    # A contract column the file lacks is all NULL (its schema drift quarantines the rows).
    assert {r["c"] for r in table} == {None}


def test_header_only_and_all_bad_files():
    assert parse_csv("a,b,c\n", CONTRACT, PATH).num_rows == 0
    table = parse_csv("a,b,c\n1\n2\n", CONTRACT, PATH).to_pylist()
    assert [(r["_unparseable"], r["a"]) for r in table] == [(True, None), (True, None)]


def test_empty_file_names_the_file():
    with pytest.raises(ValueError, match="x.csv: empty CSV file"):
        parse_csv("", CONTRACT, PATH)


# -- CSV lines --------------------------------------------------------------------------------
def test_csv_lines_split_on_newlines_only():
    text = "a,b,c\r\nx\u2028y,1,2\r\nform\x0cfeed,3,4\nnext\x85line,5,6\u2029\n"
    table = parse_csv(text, CONTRACT, PATH).to_pylist()
    assert [(r["_line_no"], r["a"], r["_unparseable"]) for r in table] == [
        (2, "x\u2028y", False),
        (3, "form\x0cfeed", False),
        (4, "next\x85line", False),
    ]
    assert table[2]["c"] == "6\u2029"


def test_a_carriage_return_alone_inside_a_line_makes_only_that_line_unparseable():
    table = parse_csv("a,b,c\n1,x\ry,2\n3,4,5\n", CONTRACT, PATH).to_pylist()
    assert [(r["value"], r["_unparseable"], r["a"]) for r in table] == [
        ("1,x\ry,2", True, None),
        ("3,4,5", False, "3"),
    ]


# -- file checks (the checksum pass) ---------------------------------------------------------
UTF8 = ("utf-8",)


def _scan(tmp_path, name, data: bytes, encodings=UTF8):
    path = tmp_path / name
    path.write_bytes(data)
    return scan_file(path, encodings)


def test_scan_checksums_the_bytes_and_keeps_the_first_lines(tmp_path):
    data = b'{"a": 1}\n{"b": 2}\n'
    scan = _scan(tmp_path, "x.jsonl", data)
    assert scan.checksum == hashlib.sha256(data).hexdigest()
    assert (scan.problem, scan.encoding, scan.has_bom) == (None, "utf-8", False)
    assert scan.head == ('{"a": 1}', '{"b": 2}', "")


def test_invalid_utf8_names_the_byte_even_across_read_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(file_checks, "CHUNK", 7)
    data = "é".encode() * 600 + b"\xff" + b"x" * 100  # é is two bytes: chunks split it
    assert _scan(tmp_path, "x.jsonl", data).problem == "unreadable_file:invalid UTF-8 at byte 1200"
    # A multi-byte character cut off by the end of the file.
    assert _scan(tmp_path, "y.jsonl", b"abc" + "é".encode()[:1]).problem == (
        "unreadable_file:invalid UTF-8 at byte 3"
    )


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 20])
def test_valid_utf8_passes_whatever_the_chunks_cut(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(file_checks, "CHUNK", chunk)
    data = '{"name": "艺术 é 😀 ok"}\n'.encode() * 3
    assert _scan(tmp_path, "x.jsonl", data).problem is None


def test_binary_data_is_unreadable(tmp_path):
    assert _scan(tmp_path, "x.jsonl", b'{"a": 1}\n\x00\x01\x02').problem == (
        "unreadable_file:binary data (NUL byte at byte 9)"
    )
    assert _scan(tmp_path, "p.jsonl", b"\x89PNG\r\n\x1a\n").problem.startswith(
        "unreadable_file:invalid UTF-8 at byte 0"
    )


def test_the_first_encoding_that_decodes_every_byte_is_taken(tmp_path):
    encodings = ("utf-8", "gb18030")
    gbk = "店,艺术生活\n".encode("gb18030")
    scan = _scan(tmp_path, "x.csv", gbk, encodings)
    assert (scan.problem, scan.encoding, scan.head[0]) == (None, "gb18030", "店,艺术生活")
    assert _scan(tmp_path, "y.csv", b"ab\x80", encodings).problem == (
        "unreadable_file:invalid UTF-8 at byte 2; invalid GB18030 at byte 2"
    )


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n\t\n", codecs.BOM_UTF8 + b"\n"])
def test_a_file_without_text_is_empty(tmp_path, data):
    assert _scan(tmp_path, "x.jsonl", data).problem == "empty_file"
    assert _scan(tmp_path, "x.jsonl.gz", gzip.compress(data)).problem == "empty_file"


def test_gzip_files_are_inflated_and_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(file_checks, "CHUNK", 64)
    text = "".join(f'{{"n": {i}}}\n' for i in range(500)).encode()
    packed = gzip.compress(text)
    scan = _scan(tmp_path, "x.jsonl.gz", packed)
    assert scan.checksum == hashlib.sha256(packed).hexdigest()
    assert (scan.problem, scan.head[:2]) == (None, ('{"n": 0}', '{"n": 1}'))
    # Concatenated members are one gzip file; a cut-off one is not.
    assert _scan(tmp_path, "two.jsonl.gz", packed + gzip.compress(b"{}\n")).problem is None
    assert _scan(tmp_path, "cut.jsonl.gz", packed[:-20]).problem == (
        "unreadable_file:truncated gzip"
    )
    assert _scan(tmp_path, "bad.jsonl.gz", b"not gzip at all").problem.startswith(
        "unreadable_file:invalid gzip data"
    )
    assert _scan(tmp_path, "bad.jsonl.gz", gzip.compress(b"\xff")).problem == (
        "unreadable_file:invalid UTF-8 at byte 0"
    )


def test_a_bom_is_noted_and_kept_out_of_the_first_line(tmp_path):
    scan = _scan(tmp_path, "x.jsonl", codecs.BOM_UTF8 + b'{"a": 1}\n')
    assert (scan.has_bom, scan.head[0]) == (True, '{"a": 1}')


def test_the_raw_prefix_of_an_unreadable_file_is_escaped(tmp_path):
    scan = _scan(tmp_path, "x.jsonl", b"PK\x03\x04\xff" + b"z" * 100)
    assert scan.raw_prefix == "PK\x03\x04\\xff" + "z" * 59


# -- schema drift ----------------------------------------------------------------------------
POS = CONTRACTS["pos_tickets"]
TMALL = CONTRACTS["tmall_orders"]


def test_a_csv_header_without_a_contract_field_has_drifted():
    header = POS_HEADER.replace("member_phone", "mobile")
    assert schema_drift(POS, (header, "row")) == "schema_drift:member_phone"
    assert schema_drift(POS, (",".join(POS_HEADER.split(",")[:-1]),)) == (
        "schema_drift:payment_method"
    )
    reordered = ",".join(reversed(POS_HEADER.split(","))) + ",extra_column"
    assert schema_drift(POS, (reordered,)) is None


def test_json_keys_drifted_when_an_unknown_key_replaces_a_contract_field():
    every_field = {**tmall_trade("T0"), "end_time": None}
    renamed = {**every_field, "buyer_open_uid": "OU1"}
    del renamed["ouid"]
    # ouid appears in the first line: a key absent from some lines is normal.
    assert schema_drift(TMALL, (json.dumps(every_field), json.dumps(renamed))) is None
    assert schema_drift(TMALL, (json.dumps(renamed), "{broken", "")) == "schema_drift:ouid"
    # Keys absent without unknown ones, or unknown keys beside every field, are no drift.
    assert schema_drift(TMALL, (json.dumps(tmall_trade("T1")),)) is None
    assert schema_drift(TMALL, (json.dumps({**every_field, "extra": 1}),)) is None


def test_json_extra_keys_beside_absent_optional_ones_are_what_real_platforms_send():
    # A trade API record: dozens of keys the contract does not know, no end_time until the
    # trade ends. That is no drift; a required key that never appears is.
    trade = {**tmall_trade("T0"), "seller_nick": "shop", "trade_from": "WAP", "num": 1}
    assert schema_drift(TMALL, (json.dumps(trade),)) is None
    without_tid = {k: v for k, v in trade.items() if k != "tid"} | {"trade_id": "T0"}
    assert schema_drift(TMALL, (json.dumps(without_tid),)) == "schema_drift:tid"


# -- layout ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "real"),
    [
        ("2026-09-02", True),
        ("2024-02-29", True),
        ("2026-9-2", False),
        ("20260902", False),
        ("2026-02-30", False),
        ("garbage", False),
        ("２０２６-０９-０２", False),
    ],
)
def test_delivery_dates_are_real_days_written_with_dashes(text, real):
    assert is_delivery_date(text) is real


def _touch(root: Path, *paths: str) -> None:
    for p in paths:
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_text("{}\n")


def test_files_outside_channel_and_date_folders_are_strays(tmp_path):
    _touch(
        tmp_path,
        "tmall_orders/2026-09-01/ok.jsonl",
        "tmall_orders/2026-09-01/.part",
        "tmall_orders/loose.jsonl",
        "tmall_orders/2026-9-2/a.jsonl",
        "tmall_orders/latest/b.jsonl",
        "tmall_orders/2026-09-01/sub/deeper/c.jsonl",
        "tiktok/2026-09-01/d.jsonl",
        "README.txt",
        ".DS_Store",
    )
    strays = stray_files(tmp_path, sorted(CONTRACTS), CONTRACTS)
    found = {str(s.path.relative_to(tmp_path)): (s.channel, s.reason) for s in strays}
    assert found == {
        "README.txt": (None, "not in a channel folder"),
        "tiktok/2026-09-01/d.jsonl": ("tiktok", "unknown channel folder 'tiktok'"),
        "tmall_orders/loose.jsonl": (
            "tmall_orders",
            "directly in the channel folder, not in a delivery folder YYYY-MM-DD",
        ),
        "tmall_orders/2026-9-2/a.jsonl": (
            "tmall_orders",
            "folder '2026-9-2' is not a delivery date YYYY-MM-DD",
        ),
        "tmall_orders/latest/b.jsonl": (
            "tmall_orders",
            "folder 'latest' is not a delivery date YYYY-MM-DD",
        ),
        "tmall_orders/2026-09-01/sub/deeper/c.jsonl": (
            "tmall_orders",
            "in a sub-folder of a delivery folder",
        ),
    }
    # Asked about one channel, only that channel's folder is looked at.
    assert {s.channel for s in stray_files(tmp_path, ["tmall_orders"])} == {"tmall_orders"}
    assert [f.path.name for f in discover(tmp_path, TMALL)] == ["ok.jsonl"]
