"""Ocean Engine (巨量引擎) DMP datasource files.

Each line of the file is the base64 of one serialised protobuf ``DmpData`` holding at most
10,000 ``IdItem``s; the file is zipped (at most 50 MB per zip) and uploaded with
``file_signature`` = the MD5 of the zip. The messages, as in the platform's ``dmp.proto``
(mirrored by the bububa/oceanengine SDK)::

    message DmpData { repeated IdItem idList = 1; }
    message IdItem {
        optional uint32 timestamp = 1;  // left out: the platform then uses the upload time
        required DataType dataType = 2;
        required string id = 3;         // lower case
        repeated string tags = 4;
        enum DataType { IMEI = 0; IDFA = 1; UID = 2; IMEI_MD5 = 4; IDFA_MD5 = 5;
                        MOBILE_HASH_SHA256 = 6; OAID = 7; OAID_MD5 = 8; }
    }

The wire format is written by hand (a tag byte, a varint length or value, the bytes): an
``IdItem`` is ``0x0A len | 0x10 dataType | 0x1A len id``.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from cdp.activation.dmp import common as c
from cdp.activation.dmp.archive import write_zipped_lines

MAX_ZIP_BYTES = 50_000_000  # "50M": the decimal reading, so the zip fits either reading
MAX_IDS_PER_LINE = 10_000
DATA_TYPES = {
    "IMEI": 0,
    "IDFA": 1,
    "UID": 2,
    "IMEI_MD5": 4,
    "IDFA_MD5": 5,
    "MOBILE_HASH_SHA256": 6,
    "OAID": 7,
    "OAID_MD5": 8,
}


def _uid(raw) -> str | None:
    text = c.stripped(raw)
    return text if text and text.isascii() and text.isdigit() and len(text) <= 20 else None


def _lower_oaid(raw) -> str | None:
    value = c.oaid(raw)
    return None if value is None else value.lower()


# (normalise, encode); ids are written in lower case. IMEI_MD5 / IDFA_MD5 hash the same
# canonical forms as Tencent's HASH_IMEI / HASH_IDFA (lower-case IMEI, upper-case hyphenated
# IDFA), and MOBILE_HASH_SHA256 the bare 11-digit number: mainland mobiles only, as Tencent's
# SHA256_MOBILE_PHONE (foreign numbers are dropped as not_mainland: see
# common.mainland_phones_only).
_DATA_TYPES: dict[str, tuple[Callable[[object], str | None], c.Encoder]] = {
    "IMEI": (c.imei, c.unchanged),
    "IDFA": (c.idfa, c.lower),
    "UID": (_uid, c.unchanged),
    "IMEI_MD5": (c.imei, c.md5_hex),
    "IDFA_MD5": (c.idfa, c.md5_hex),
    "MOBILE_HASH_SHA256": (c.mainland_mobile, c.sha256_hex),
    "OAID": (_lower_oaid, c.unchanged),
    "OAID_MD5": (_lower_oaid, c.md5_hex),
}


def _spec(data_type: str):
    try:
        return _DATA_TYPES[data_type]
    except KeyError:
        raise ValueError(
            f"unsupported Ocean Engine DataType {data_type!r}; "
            f"expected one of {sorted(_DATA_TYPES)}"
        ) from None


def oceanengine_id(raw, data_type: str) -> str | None:
    """The ``IdItem.id`` Ocean Engine expects for ``raw`` as ``data_type``, or None."""
    normalise, encode = _spec(data_type)
    value = normalise(raw)
    return None if value is None else encode([value])[0]


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _ItemEncoder:
    """Serialises ``IdItem``s of one data type; the bytes before the id depend only on its length."""

    def __init__(self, data_type: str):
        self.data_type = b"\x10" + _varint(DATA_TYPES[data_type])
        self.prefixes: dict[int, bytes] = {}

    def prefix(self, id_length: int) -> bytes:
        prefix = self.prefixes.get(id_length)
        if prefix is None:
            body = self.data_type + b"\x1a" + _varint(id_length)
            prefix = b"\x0a" + _varint(len(body) + id_length) + body
            self.prefixes[id_length] = prefix
        return prefix

    def dmp_data(self, ids: list[bytes]) -> bytes:
        prefix = self.prefix
        return b"".join([prefix(len(item)) + item for item in ids])


def encode_dmp_line(ids: Iterable[str], data_type: str) -> bytes:
    """One file line: base64 of a serialised ``DmpData`` with ``ids`` (already normalised)."""
    items = [item.encode() for item in ids]
    if len(items) > MAX_IDS_PER_LINE:
        raise ValueError(f"a DmpData line holds at most {MAX_IDS_PER_LINE} ids")
    return base64.b64encode(_ItemEncoder(data_type).dmp_data(items))


def _lines(ids: Iterator[str], data_type: str, per_line: int) -> Iterator[tuple[bytes, int]]:
    encoder = _ItemEncoder(data_type)
    chunk: list[bytes] = []
    for item in ids:
        chunk.append(item.encode())
        if len(chunk) == per_line:
            yield base64.b64encode(encoder.dmp_data(chunk)), len(chunk)
            chunk = []
    if chunk:
        yield base64.b64encode(encoder.dmp_data(chunk)), len(chunk)


def write_oceanengine(
    ids: Iterable,
    data_type: str,
    out_dir: str | Path,
    *,
    max_zip_bytes: int = MAX_ZIP_BYTES,
    ids_per_line: int = MAX_IDS_PER_LINE,
) -> dict:
    """Write ``ids`` as Ocean Engine datasource zips ``oceanengine_<data_type>_0001.zip`` ...

    ``ids`` are raw-ish values of the kind ``data_type`` names; invalid, missing and repeated
    values are dropped and counted. Each file entry of the manifest carries its
    ``file_signature`` (the zip's MD5) for the upload call.
    """
    normalise, encode = _spec(data_type)
    if not 0 < max_zip_bytes <= MAX_ZIP_BYTES:
        raise ValueError(f"max_zip_bytes must be in 1..{MAX_ZIP_BYTES} (Ocean Engine's zip limit)")
    if not 0 < ids_per_line <= MAX_IDS_PER_LINE:
        raise ValueError(f"ids_per_line must be in 1..{MAX_IDS_PER_LINE}")
    drops: Counter = Counter()
    if data_type == "MOBILE_HASH_SHA256":
        ids = c.mainland_phones_only(ids, drops)
    ids_out = c.iter_platform_ids(ids, normalise, encode, drops)
    files = write_zipped_lines(
        _lines(ids_out, data_type, ids_per_line),
        Path(out_dir),
        f"oceanengine_{data_type}",
        max_zip_bytes,
    )
    for entry in files:
        entry["file_signature"] = entry["md5"]
    written = sum(f["ids"] for f in files)
    return {
        "platform": "oceanengine",
        "data_type": data_type,
        "data_type_value": DATA_TYPES[data_type],
        "ids_in": written + sum(drops.values()),
        "ids_written": written,
        "dropped": dict(sorted(drops.items())),
        "files": files,
    }
