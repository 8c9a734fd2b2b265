"""Ad-platform audience files: normalisation test vectors, file formats, determinism."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from cdp.activation.dmp import (
    encode_dmp_line,
    google_email,
    google_phone,
    meta_email,
    meta_phone,
    oceanengine_id,
    tencent_id,
    write_google,
    write_meta,
    write_oceanengine,
    write_tencent,
)
from cdp.activation.dmp.oceanengine import DATA_TYPES

MD5_13800138000 = "7945bd83237335e5376ff44d62e4f0ae"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- published test vectors ------------------------------------------------------------------

# Tencent Marketing API file-audience guide and DataNexus user-id guide (docs/dmp-formats.md)
TENCENT_VECTORS = [
    ("HASH_IDFA", "FF1999CD-7177-4937-A474-74937A102630", "2c010ed96aef2fc34983e1e7e9176b7e"),
    ("HASH_IMEI", "a000002c9060f7", "f2d5a650733ca8c27d502b1c08da14e5"),
    ("HASH_MAC", "02:00:00:00:00:00", "e3f5536a141811db40efd6400f1d0a4e"),
    ("HASH_MAC", "020000000000", "e3f5536a141811db40efd6400f1d0a4e"),
    ("HASH_OAID", "1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5", "83e9158a4fb54c0e1ef0b238639a23ae"),
    (
        "MD5_SHA256_OAID",
        "1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5",
        "a58f9fffa86c12e6fb43f5232a46d53ef06196f4be138d185a09b1294c736c50",
    ),
    ("HASH_MOBILE_PHONE", "13800138000", MD5_13800138000),
]


@pytest.mark.parametrize("id_type,raw,expected", TENCENT_VECTORS)
def test_tencent_published_vectors(id_type, raw, expected):
    assert tencent_id(raw, id_type) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "ff1999cd-7177-4937-a474-74937a102630",  # lower case: Tencent hashes the upper-case form
        "FF1999CD71774937A47474937A102630",  # without hyphens: Tencent hashes the hyphenated form
        " FF1999CD-7177-4937-A474-74937A102630\n",
    ],
)
def test_tencent_idfa_spellings_hash_the_canonical_form(raw):
    assert tencent_id(raw, "HASH_IDFA") == "2c010ed96aef2fc34983e1e7e9176b7e"
    assert tencent_id(raw, "IDFA") == "FF1999CD-7177-4937-A474-74937A102630"


def test_tencent_device_id_spellings():
    assert tencent_id("A000002C9060F7", "HASH_IMEI") == "f2d5a650733ca8c27d502b1c08da14e5"
    assert tencent_id("02-00-00-00-00-00", "HASH_MAC") == "e3f5536a141811db40efd6400f1d0a4e"
    assert tencent_id("02:00:00:00:00:00".lower(), "HASH_MAC") == (
        "e3f5536a141811db40efd6400f1d0a4e"
    )


@pytest.mark.parametrize(
    "id_type,raw",
    [
        ("HASH_IDFA", "00000000-0000-0000-0000-000000000000"),  # limited ad tracking
        ("HASH_IDFA", "FF1999CD-7177-4937-A474"),
        ("HASH_IMEI", "000000000000000"),
        ("HASH_IMEI", "35-209900-176148-1"),
        ("HASH_MAC", "02:00:00:00:00"),
        ("HASH_OAID", "00000000-0000-0000-0000-000000000000"),
        ("HASH_OAID", "not an oaid"),
        ("WX_UNIONID", "o/6_bmasdasdsad6_2sgVt7hMZOPfL"),
        ("HASH_MOBILE_PHONE", "1.38001E+10"),
    ],
)
def test_tencent_invalid_ids_are_not_hashed(id_type, raw):
    assert tencent_id(raw, id_type) is None


# Google Data Manager API formatting guide: e-mail examples
@pytest.mark.parametrize(
    "raw,expected",
    [
        ("cloudy.sanfrancisco+shopping@gmail.com", "cloudysanfrancisco@gmail.com"),
        ("user.name+NYC@Example.com", "user.name+nyc@example.com"),
        (" Li.Na@GoogleMail.com ", "lina@googlemail.com"),
        ("li .na@gmail.com", "lina@gmail.com"),  # intermediate whitespace is removed too
        ("+promo@gmail.com", None),  # nothing left of the local part
        ("not-an-email", None),
    ],
)
def test_google_email_normalisation(raw, expected):
    assert google_email(raw) == expected


# Meta Custom Audience API hashing guide / SDK normaliser: trim (and surrounding dots), lower case
@pytest.mark.parametrize(
    "raw,expected",
    [
        ("  Li.Na@Example.COM ", "li.na@example.com"),
        ("Cloudy.SanFrancisco+Shopping@Gmail.com", "cloudy.sanfrancisco+shopping@gmail.com"),
        ("li.na@example.com.\n", "li.na@example.com"),
        ("li.na@", None),
    ],
)
def test_meta_email_normalisation(raw, expected):
    assert meta_email(raw) == expected


# --- phones: every mainland spelling, every platform's phone format ----------------------------

MAINLAND_SPELLINGS = [
    "13800138000",
    "+86 138-0013-8000",
    "8613800138000",
    "0086 13800138000",
    "(+86)138 0013 8000",
    "１３８００１３８０００",
    13800138000,
]


@pytest.mark.parametrize("raw", MAINLAND_SPELLINGS)
def test_mainland_phone_in_every_platform_format(raw):
    assert tencent_id(raw, "HASH_MOBILE_PHONE") == MD5_13800138000
    assert tencent_id(raw, "SHA256_MOBILE_PHONE") == sha256("13800138000")
    assert oceanengine_id(raw, "MOBILE_HASH_SHA256") == sha256("13800138000")
    assert google_phone(raw) == "+8613800138000"  # E.164 with the plus
    assert meta_phone(raw) == "8613800138000"  # country code, no plus


FOREIGN_SPELLINGS = ["+1 310 718 8897", "+1 (310) 718-8897", "001 310 718 8897", "+13107188897"]


@pytest.mark.parametrize("raw", FOREIGN_SPELLINGS)
def test_foreign_mobile_in_every_platform_format(raw):
    assert google_phone(raw) == "+13107188897"  # E.164 with the plus
    assert meta_phone(raw) == "13107188897"  # country code, no plus
    # Tencent and Ocean Engine hash the 11-digit mainland number only: 13107188897 would be a
    # mainland subscriber, not this person.
    assert tencent_id(raw, "HASH_MOBILE_PHONE") is None
    assert tencent_id(raw, "SHA256_MOBILE_PHONE") is None
    assert oceanengine_id(raw, "MOBILE_HASH_SHA256") is None


def test_other_countries_keep_their_code():
    assert google_phone("+852 9123 4567") == "+85291234567"
    assert meta_phone("0085291234567") == "85291234567"
    assert google_phone("+44 20 7946 0958") is None  # a London landline is not a mobile


def test_foreign_phones_are_dropped_as_not_mainland(tmp_path):
    ids = ["+1 310 718 8897", "13107188897", "+852 9123 4567"]
    tencent = write_tencent(ids, "HASH_MOBILE_PHONE", tmp_path / "tencent")
    assert tencent["dropped"] == {"not_mainland": 2}
    assert tencent["ids_in"] == 3 and tencent["ids_written"] == 1
    assert read_zip_lines(tmp_path / "tencent" / tencent["files"][0]["name"]) == [
        hashlib.md5(b"13107188897").hexdigest()
    ]  # the mainland number, nobody's +1 number
    ocean = write_oceanengine(ids, "MOBILE_HASH_SHA256", tmp_path / "ocean")
    assert ocean["dropped"] == {"not_mainland": 2} and ocean["ids_written"] == 1


def test_google_and_meta_write_foreign_phones(tmp_path):
    rows = [{"email": None, "phone": "+1 310 718 8897"}, {"email": None, "phone": "13107188897"}]
    google = tmp_path / "google_customer_match.csv"
    write_google(rows, tmp_path)
    assert google.read_text().splitlines()[1:] == [
        f",{sha256('+13107188897')}",
        f",{sha256('+8613107188897')}",
    ]
    write_meta(rows, tmp_path)
    assert (tmp_path / "meta_custom_audience.csv").read_text().splitlines()[1:] == [
        f",{sha256('13107188897')}",
        f",{sha256('8613107188897')}",
    ]


def test_meta_phone_matches_the_sdk_rule():
    # the SDK's PHONE normaliser keeps digits only: the caller must supply the country code
    spelled = "+86 138-0013-8000"
    assert meta_phone(spelled) == re.sub(r"[^0-9]", "", spelled)


@pytest.mark.parametrize("raw", ["1.38001E+10", "12345678901", "021-62345678", "1380013800"])
def test_invalid_phones_are_rejected_everywhere(raw):
    assert tencent_id(raw, "HASH_MOBILE_PHONE") is None
    assert oceanengine_id(raw, "MOBILE_HASH_SHA256") is None
    assert google_phone(raw) is None
    assert meta_phone(raw) is None


def test_oceanengine_ids_are_lower_case():
    assert oceanengine_id("FF1999CD-7177-4937-A474-74937A102630", "IDFA") == (
        "ff1999cd-7177-4937-a474-74937a102630"
    )
    assert oceanengine_id("A000002C9060F7", "IMEI") == "a000002c9060f7"
    assert oceanengine_id("1FE9A970-EFBB-29E0-0BDD-F5DBBF751AB5", "OAID_MD5") == (
        "83e9158a4fb54c0e1ef0b238639a23ae"
    )
    assert oceanengine_id("A000002C9060F7", "IMEI_MD5") == "f2d5a650733ca8c27d502b1c08da14e5"


def test_unknown_types_are_errors(tmp_path):
    with pytest.raises(ValueError, match="user_id_type"):
        tencent_id("x", "QQ")
    with pytest.raises(ValueError, match="DataType"):
        write_oceanengine(["x"], "MAC", tmp_path)


# --- Tencent files ------------------------------------------------------------------------------


def read_zip_lines(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        (info,) = archive.infolist()
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.filename == path.with_suffix(".txt").name
        return archive.read(info).decode().splitlines()


def test_write_tencent_phones_drops_and_counts(tmp_path):
    ids = [
        "13800138000",
        "+86 139-0013-9000",
        None,
        "  ",
        "1.38001E+10",
        "8613800138000",
        "15912345678",
    ]
    manifest = write_tencent(ids, "HASH_MOBILE_PHONE", tmp_path)
    assert manifest["ids_in"] == len(ids)
    assert manifest["ids_written"] == 3
    assert manifest["dropped"] == {"duplicate": 1, "invalid": 1, "missing": 2}
    (entry,) = manifest["files"]
    path = tmp_path / entry["name"]
    assert entry["name"] == "tencent_HASH_MOBILE_PHONE_0001.zip"
    assert read_zip_lines(path) == [
        MD5_13800138000,
        hashlib.md5(b"13900139000").hexdigest(),
        hashlib.md5(b"15912345678").hexdigest(),
    ]
    data = path.read_bytes()
    assert entry["bytes"] == len(data)
    assert entry["md5"] == hashlib.md5(data).hexdigest()
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["ids"] == 3


def test_write_tencent_openids_belong_to_one_app(tmp_path):
    ids = [
        "wxA/oAbc_123-xyz",
        "oDef456789",
        "wxB/oGhi456789",
        "wxA/oAbc_123-xyz",
        "wxA/",
        "wxA/not an openid",
    ]
    manifest = write_tencent(ids, "WX_OPENID", tmp_path, app_id="wxA")
    assert manifest["open_app_id"] == "wxA"
    assert manifest["ids_in"] == len(ids)
    assert manifest["dropped"] == {"duplicate": 1, "invalid": 1, "missing": 1, "other_app_id": 1}
    assert read_zip_lines(tmp_path / manifest["files"][0]["name"]) == [
        "oAbc_123-xyz",
        "oDef456789",
    ]  # openids are case-sensitive: written as given
    with pytest.raises(ValueError, match="open_app_id"):
        write_tencent(ids, "WX_OPENID", tmp_path)
    with pytest.raises(ValueError, match="app_id only applies"):
        write_tencent(["13800138000"], "HASH_MOBILE_PHONE", tmp_path, app_id="wxA")


def phones(count: int) -> list[str]:
    return [f"139{n * 7919 % 10**8:08d}" for n in range(count)]


def test_tencent_zips_split_by_size(tmp_path):
    ids = phones(5000)
    limit = 20_000
    manifest = write_tencent(ids, "SHA256_MOBILE_PHONE", tmp_path / "split", max_zip_bytes=limit)
    whole = write_tencent(ids, "SHA256_MOBILE_PHONE", tmp_path / "whole")
    files = manifest["files"]
    assert len(files) > 3 and len(whole["files"]) == 1
    assert [f["name"] for f in files] == [
        f"tencent_SHA256_MOBILE_PHONE_{n:04d}.zip" for n in range(1, len(files) + 1)
    ]
    assert all(f["bytes"] <= limit for f in files)
    assert all(f["bytes"] > limit * 0.8 for f in files[:-1])  # zips are filled, not just split
    lines = [line for f in files for line in read_zip_lines(tmp_path / "split" / f["name"])]
    assert lines == read_zip_lines(tmp_path / "whole" / whole["files"][0]["name"])
    assert sum(f["ids"] for f in files) == manifest["ids_written"] == 5000


def test_reexport_is_byte_identical_and_leaves_no_stale_parts(tmp_path):
    ids = phones(3000)
    first = write_tencent(ids, "HASH_MOBILE_PHONE", tmp_path / "a", max_zip_bytes=20_000)
    second = write_tencent(ids, "HASH_MOBILE_PHONE", tmp_path / "b", max_zip_bytes=20_000)
    assert first == second
    for entry in first["files"]:
        assert (tmp_path / "a" / entry["name"]).read_bytes() == (
            tmp_path / "b" / entry["name"]
        ).read_bytes()
    again = write_tencent(ids, "HASH_MOBILE_PHONE", tmp_path / "a")  # fewer, bigger parts
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [f["name"] for f in again["files"]]


def test_nothing_valid_writes_no_file(tmp_path):
    manifest = write_tencent([None, "x"], "HASH_IMEI", tmp_path)
    assert manifest["files"] == [] and manifest["ids_written"] == 0
    assert manifest["dropped"] == {"invalid": 1, "missing": 1}


# --- Ocean Engine files -------------------------------------------------------------------------


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def read_fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of a message: varints (wire type 0) and bytes (wire type 2)."""
    fields, pos = [], 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = read_varint(buf, pos)
        else:
            assert wire_type == 2
            length, pos = read_varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        fields.append((number, value))
    return fields


def decode_dmp_line(line: bytes) -> list[tuple[int, str]]:
    """(dataType, id) of each IdItem of a base64 DmpData line, by hand."""
    items = []
    for number, item in read_fields(base64.b64decode(line, validate=True)):
        assert number == 1  # DmpData.idList
        fields = dict(read_fields(item))
        assert set(fields) == {2, 3}  # dataType and id; no timestamp, no tags
        items.append((fields[2], fields[3].decode()))
    return items


def test_dmp_line_wire_format():
    # IdItem{dataType: MOBILE_HASH_SHA256 (6), id: "ab"} = 0a 06 | 10 06 1a 02 'a' 'b'
    assert base64.b64decode(encode_dmp_line(["ab"], "MOBILE_HASH_SHA256")) == (
        b"\x0a\x06\x10\x06\x1a\x02ab"
    )
    # IMEI is 0: a required field, so written even though it is the default
    assert decode_dmp_line(encode_dmp_line(["a000002c9060f7"], "IMEI")) == [(0, "a000002c9060f7")]


def test_dmp_line_parses_with_protobuf():
    pytest.importorskip("google.protobuf")
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="dmp.proto", package="toutiao.dmp", syntax="proto2"
    )
    item = proto.message_type.add(name="IdItem")
    enum = item.enum_type.add(name="DataType")
    for name, number in DATA_TYPES.items():
        enum.value.add(name=name, number=number)
    item.field.add(name="timestamp", number=1, type=field.TYPE_UINT32, label=field.LABEL_OPTIONAL)
    item.field.add(
        name="dataType",
        number=2,
        type=field.TYPE_ENUM,
        label=field.LABEL_REQUIRED,
        type_name=".toutiao.dmp.IdItem.DataType",
    )
    item.field.add(name="id", number=3, type=field.TYPE_STRING, label=field.LABEL_REQUIRED)
    item.field.add(name="tags", number=4, type=field.TYPE_STRING, label=field.LABEL_REPEATED)
    data = proto.message_type.add(name="DmpData")
    data.field.add(
        name="idList",
        number=1,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_REPEATED,
        type_name=".toutiao.dmp.IdItem",
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    dmp_data = message_factory.GetMessageClass(pool.FindMessageTypeByName("toutiao.dmp.DmpData"))

    ids = [sha256(p) for p in phones(300)]
    message = dmp_data()
    message.ParseFromString(base64.b64decode(encode_dmp_line(ids, "MOBILE_HASH_SHA256")))
    assert message.IsInitialized()
    assert [i.id for i in message.idList] == ids
    assert {i.dataType for i in message.idList} == {6}
    assert not any(i.HasField("timestamp") for i in message.idList)


def test_write_oceanengine_round_trip_and_line_limit(tmp_path):
    ids = phones(25_001) + ["1.38001E+10", None, "13900000000"]
    manifest = write_oceanengine(ids, "MOBILE_HASH_SHA256", tmp_path)
    assert manifest["data_type_value"] == 6
    assert manifest["ids_written"] == 25_001
    assert manifest["dropped"] == {"duplicate": 1, "invalid": 1, "missing": 1}
    (entry,) = manifest["files"]
    path = tmp_path / entry["name"]
    assert entry["file_signature"] == hashlib.md5(path.read_bytes()).hexdigest()
    assert entry["lines"] == 3
    lines = read_zip_lines(path)
    decoded = [decode_dmp_line(line.encode()) for line in lines]
    assert [len(items) for items in decoded] == [10_000, 10_000, 5_001]
    assert [item for items in decoded for item in items] == [(6, sha256(p)) for p in phones(25_001)]


def test_write_oceanengine_lower_cases_ids(tmp_path):
    manifest = write_oceanengine(["1FE9A970-EFBB-29E0-0BDD-F5DBBF751AB5"], "OAID", tmp_path)
    (line,) = read_zip_lines(tmp_path / manifest["files"][0]["name"])
    assert decode_dmp_line(line.encode()) == [(7, "1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5")]


def test_oceanengine_zips_split_by_size_and_reexport_identically(tmp_path):
    ids = phones(4000)
    runs = [
        write_oceanengine(
            ids, "MOBILE_HASH_SHA256", tmp_path / d, max_zip_bytes=60_000, ids_per_line=200
        )
        for d in ("a", "b")
    ]
    assert runs[0] == runs[1]
    files = runs[0]["files"]
    assert len(files) > 2 and all(f["bytes"] <= 60_000 for f in files)
    for entry in files:
        assert (tmp_path / "a" / entry["name"]).read_bytes() == (
            tmp_path / "b" / entry["name"]
        ).read_bytes()
    decoded = [
        item
        for f in files
        for line in read_zip_lines(tmp_path / "a" / f["name"])
        for item in decode_dmp_line(line.encode())
    ]
    assert [i for _, i in decoded] == [sha256(p) for p in ids]


def test_a_line_too_big_for_the_zip_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="does not fit"):
        write_oceanengine(phones(1000), "MOBILE_HASH_SHA256", tmp_path, max_zip_bytes=2_000)
    assert list(tmp_path.glob("*.zip")) == []


def test_line_and_zip_limits_are_the_platforms(tmp_path):
    with pytest.raises(ValueError, match="ids_per_line"):
        write_oceanengine(["13800138000"], "MOBILE_HASH_SHA256", tmp_path, ids_per_line=10_001)
    with pytest.raises(ValueError, match="max_zip_bytes"):
        write_oceanengine(["13800138000"], "MOBILE_HASH_SHA256", tmp_path, max_zip_bytes=60_000_000)
    with pytest.raises(ValueError, match="max_zip_bytes"):
        write_tencent(["13800138000"], "HASH_MOBILE_PHONE", tmp_path, max_zip_bytes=200_000_000)
    with pytest.raises(ValueError, match="at most 10000"):
        encode_dmp_line(["a"] * 10_001, "IMEI")


# --- Google and Meta CSV ------------------------------------------------------------------------

ROWS = [
    {"email": "Cloudy.SanFrancisco+shopping@gmail.com", "phone": "+86 138-0013-8000"},
    {"email": "user.name+NYC@Example.com", "phone": None},
    {"email": "not-an-email", "phone": "1.38001E+10"},  # nothing valid: dropped
    {"email": None, "phone": "13900139000"},
    {"email": "cloudysanfrancisco@gmail.com", "phone": "8613800138000"},  # same person for Google
    {"email": "", "phone": "12345678901"},
]


def test_write_google(tmp_path):
    manifest = write_google(ROWS, tmp_path)
    path = tmp_path / "google_customer_match.csv"
    assert path.read_text().splitlines() == [
        "Email,Phone",
        f"{sha256('cloudysanfrancisco@gmail.com')},{sha256('+8613800138000')}",
        f"{sha256('user.name+nyc@example.com')},",
        f",{sha256('+8613900139000')}",
    ]
    assert manifest["rows_in"] == 6 and manifest["rows_written"] == 3
    assert manifest["ids_written"] == {"email": 2, "phone": 2}
    assert manifest["dropped"] == {
        "duplicate": 1,
        "invalid_email": 1,
        "invalid_phone": 2,
        "no_valid_identifier": 2,
    }
    (entry,) = manifest["files"]
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_write_meta(tmp_path):
    manifest = write_meta(ROWS, tmp_path)
    lines = (tmp_path / "meta_custom_audience.csv").read_text().splitlines()
    assert lines == [
        "email,phone",
        f"{sha256('cloudy.sanfrancisco+shopping@gmail.com')},{sha256('8613800138000')}",
        f"{sha256('user.name+nyc@example.com')},",
        f",{sha256('8613900139000')}",
        f"{sha256('cloudysanfrancisco@gmail.com')},{sha256('8613800138000')}",
    ]
    assert manifest["rows_written"] == 4 and "duplicate" not in manifest["dropped"]
    assert all("+" not in line for line in lines)


def test_csv_reexport_is_byte_identical(tmp_path):
    for write in (write_google, write_meta):
        first, second = write(ROWS, tmp_path / "a"), write(ROWS, tmp_path / "b")
        assert first == second
        name = first["files"][0]["name"]
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_failed_export_leaves_no_files(tmp_path):
    def failing():
        yield from phones(5000)
        raise RuntimeError("source went away")

    with pytest.raises(RuntimeError):
        write_tencent(failing(), "HASH_MOBILE_PHONE", tmp_path, max_zip_bytes=20_000)
    with pytest.raises(RuntimeError):
        write_google(({"phone": p} for p in failing()), tmp_path)
    assert list(tmp_path.iterdir()) == []
