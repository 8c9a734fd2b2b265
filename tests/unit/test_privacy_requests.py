"""Erasure requests and identifier keys: parsing, canonical spellings, hashes. No engine."""

from __future__ import annotations

import hashlib

import pytest

from cdp.privacy.keys import hashed_forms, key_hash, search_terms
from cdp.privacy.requests import ErasureRequest, RequestError, read_requests, request_of

TYPES = {"phone", "email", "openid", "member_card"}


def test_a_tombstone_keeps_the_sha256_of_the_key_only():
    assert key_hash("phone:13800138000") == hashlib.sha256(b"phone:13800138000").hexdigest()
    assert "13800138000" not in key_hash("phone:13800138000")


def test_a_request_takes_the_canonical_spelling_of_its_identifier():
    assert request_of("phone", "+86 138-0013-8000", None, TYPES) == ErasureRequest(
        "phone", "13800138000"
    )
    assert request_of("email", " Li.Na@Example.com ", None, TYPES).value == "li.na@example.com"
    assert request_of(None, None, "O42", TYPES) == ErasureRequest(one_id="O42")


def test_the_same_request_has_the_same_id_and_its_description_holds_no_value():
    one = request_of("phone", "13800138000", None, TYPES)
    again = request_of("phone", "+8613800138000", None, TYPES)
    assert one.request_id == again.request_id
    assert "13800138000" not in one.describe() and one.request_id in one.describe()
    assert one.request_id != request_of("phone", "13900139000", None, TYPES).request_id
    assert ErasureRequest(one_id="O42").describe().startswith("one_id (request ")
    assert "O42" not in ErasureRequest(one_id="O42").describe()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("phone", None, None), "needs an identifier type and value, or a OneID"),
        (("phone", "1", "O1"), "not both"),
        (("passport", "E123", None), "unknown identifier type 'passport'"),
        (("phone", "12345", None), "not a valid phone"),
    ],
)
def test_requests_that_name_no_identifier_are_refused(arguments, message):
    with pytest.raises(RequestError, match=message):
        request_of(*arguments, TYPES)


def test_a_file_of_requests_is_read_line_by_line(tmp_path):
    path = tmp_path / "requests.csv"
    path.write_text(
        "identifier_type,value,one_id\n"
        "phone,13800138000,\n"
        ",,O7\n"
        "phone,+86 138 0013 8000,\n",  # the first request again
        encoding="utf-8",
    )
    assert read_requests(path, TYPES) == [
        ErasureRequest("phone", "13800138000"),
        ErasureRequest(one_id="O7"),
    ]


def test_a_bad_line_of_a_request_file_is_named(tmp_path):
    path = tmp_path / "requests.csv"
    path.write_text("identifier_type,value\nphone,13800138000\nfax,123\n", encoding="utf-8")
    with pytest.raises(RequestError, match=r"requests.csv: line 3: unknown identifier type"):
        read_requests(path, TYPES)
    other = tmp_path / "other.csv"
    other.write_text("phone\n13800138000\n", encoding="utf-8")
    with pytest.raises(RequestError, match="expected a header with identifier_type,value"):
        read_requests(other, TYPES)
    with pytest.raises(RequestError, match="no such file"):
        read_requests(tmp_path / "missing.csv", TYPES)


def test_raw_text_is_searched_for_values_and_openids_without_their_app_id():
    assert search_terms(["openid:wx1/oABC", "phone:13800138000"]) == [
        "13800138000",
        "oABC",
        "wx1/oABC",
    ]


def test_exports_are_searched_for_the_hashes_ad_platforms_receive():
    forms = hashed_forms(["phone:13800138000"])
    assert hashlib.md5(b"13800138000").hexdigest() in forms
    assert hashlib.sha256(b"13800138000").hexdigest() in forms
    assert hashlib.sha256(b"+8613800138000").hexdigest() in forms
    assert "13800138000" in forms
