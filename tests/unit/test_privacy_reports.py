"""Erasure reports and the audit log: their shape, and no personal value in them. No
engine."""

from __future__ import annotations

import getpass
import json
from collections import Counter
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from cdp.privacy import audit, tombstones
from cdp.privacy.erase import Erasure, Person, find_person, report_of, write_report
from cdp.privacy.keys import key_hash
from cdp.privacy.requests import ErasureRequest
from cdp.tables import IDENTITY_MAP, IDENTITY_MAP_SCHEMA

PHONE = "13800138000"
AT = datetime(2026, 9, 7, 1, 2, 3, tzinfo=UTC)
KEYS = [f"phone:{PHONE}", "openid:wx1/oABC"]


def _erasure(**fields) -> Erasure:
    person = Person(ErasureRequest("phone", PHONE), "O1", KEYS)
    return Erasure(person, AT, **fields)


def test_a_report_says_what_was_removed_where_and_holds_only_hashes():
    erasure = _erasure(
        removed=Counter({"silver.members": 2, "bronze.pos_tickets": 3}),
        exports_removed={"spring/r1/sms.csv": 1},
        tombstones_added=2,
        verification={"found": {}, "rows_found": 0},
    )
    report = report_of(erasure)
    assert report["status"] == "erased" and report["rows_removed"] == 6
    assert report["removed"]["lakehouse"] == {"bronze.pos_tickets": 3, "silver.members": 2}
    assert report["identifiers"] == [
        {"type": "phone", "sha256": key_hash(f"phone:{PHONE}")},
        {"type": "openid", "sha256": key_hash("openid:wx1/oABC")},
    ]
    assert report["verification"]["rows_found"] == 0 and report["at"] == AT.isoformat()
    assert report["one_id_sha256"] == key_hash("O1")
    text = json.dumps(report)
    assert PHONE not in text and "oABC" not in text and "O1" not in text


def test_a_repeated_request_reports_that_it_found_nothing(settings):
    report = report_of(_erasure(verification={"found": {}, "rows_found": 0}))
    assert report["status"].startswith("already erased") and report["rows_removed"] == 0
    path = write_report(settings, _erasure())
    assert path.parent == settings.reports_dir / "privacy"
    assert json.loads(path.read_text())["request_id"] == ErasureRequest("phone", PHONE).request_id


def test_a_person_is_every_identifier_of_their_one_id(lakehouse):
    rows = [
        ("phone", PHONE, "O1", "r"),
        ("openid", "wx1/oABC", "O1", "r"),
        ("phone", "13900139000", "O2", "r"),
    ]
    lakehouse.overwrite_arrow(
        pa.Table.from_pylist(
            [dict(zip(IDENTITY_MAP_SCHEMA.names, r)) for r in rows], IDENTITY_MAP_SCHEMA
        ),
        IDENTITY_MAP,
    )
    person = find_person(lakehouse, ErasureRequest("phone", PHONE))
    assert (person.one_id, person.keys) == ("O1", sorted(KEYS))
    assert find_person(lakehouse, ErasureRequest(one_id="O2")).keys == ["phone:13900139000"]
    unknown = find_person(lakehouse, ErasureRequest("phone", "13700137000"))
    assert (unknown.one_id, unknown.keys) == (None, ["phone:13700137000"])


def test_tombstones_are_recorded_once(lakehouse):
    assert tombstones.record(lakehouse, [(KEYS, "r1")], AT) == [2]
    assert tombstones.record(lakehouse, [(KEYS, "r1")], AT) == [0]
    assert tombstones.known_hashes(lakehouse) == {key_hash(k) for k in KEYS}
    stored = lakehouse.to_arrow(tombstones.TOMBSTONES).to_pylist()
    assert PHONE not in json.dumps(stored, default=str)


def test_a_batch_of_tombstones_is_one_commit_and_a_shared_key_counts_once(lakehouse):
    other = "phone:13900139000"
    before = lakehouse.version(tombstones.TOMBSTONES)
    added = tombstones.record(lakehouse, [(KEYS, "r1"), ([KEYS[0], other], "r2")], AT)
    assert added == [2, 1]
    assert tombstones.known_hashes(lakehouse) == {key_hash(k) for k in [*KEYS, other]}
    assert lakehouse.version(tombstones.TOMBSTONES) == (0 if before is None else before + 1)


def test_the_audit_log_records_who_when_what_and_how_many(lakehouse):
    manifest = {
        "segment": "spring",
        "run_id": "20260906-abc",
        "as_of": "2026-09-06",
        "channels": {
            "sms": {"exported": 11},
            "pos": {"exported": 0},
            "tencent": {"exported": 40},
        },
    }
    entry = audit.record_export(lakehouse, manifest)
    assert entry["actor"] == getpass.getuser() and entry["rows"] == 11
    assert json.loads(entry["detail"])["columns"] == {"sms": ["one_id", "phone", "name"]}
    assert (
        audit.record_export(lakehouse, manifest | {"channels": {"tencent": {"exported": 4}}})
        is None
    )
    # a re-run of the same export run writes the same files again: recorded once
    assert audit.record_export(lakehouse, manifest) is None
    audit.record(lakehouse, "erasure", "erasure r1", 1, 9, {"request_id": "r1"})
    assert [(e["event"], e["rows"]) for e in audit.entries(lakehouse)] == [
        ("export", 11),
        ("erasure", 9),
    ]
    with pytest.raises(ValueError, match="unknown audit event 'read'"):
        audit.audit_row("read", "x", 0, 0, {})
