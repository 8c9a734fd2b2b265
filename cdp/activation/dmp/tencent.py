"""Tencent Ads (腾讯广告) customer-file audiences: ``custom_audience_files/add``.

The upload is a zip (at most 100 MB) of a txt file with one id per line; ``user_id_type`` says
what the ids are. Formats, from the Marketing API file-audience guide and DataNexus user-id
guide (test vectors in tests/unit/test_dmp_formats.py):

- HASH_MOBILE_PHONE / SHA256_MOBILE_PHONE: the 11-digit number, MD5 / SHA-256, lower-case hex
  ("加密前为11位的纯数字串": mainland mobiles only; foreign numbers are dropped as
  ``not_mainland``, see ``common.mainland_phones_only``)
- IDFA: upper case with hyphens; HASH_IDFA: MD5 of that (hyphens included)
- IMEI: 14/15 characters in lower case; HASH_IMEI: MD5 of that
- HASH_MAC: upper case, colons removed, MD5
- OAID: the raw value; HASH_OAID: MD5 of it; MD5_SHA256_OAID: SHA-256 of that MD5 hex
- WX_OPENID / WECHAT_OPENID: plain openids of one official account or mini-program, whose app
  id goes with the upload as ``open_app_id``; WX_UNIONID: plain unionids
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from cdp.activation.dmp import common as c
from cdp.activation.dmp.archive import write_zipped_lines

MAX_ZIP_BYTES = 100_000_000  # "100M": the decimal reading, so the zip fits either reading

_ID_TYPES: dict[str, tuple[Callable[[object], str | None], c.Encoder]] = {
    "HASH_MOBILE_PHONE": (c.mainland_mobile, c.md5_hex),
    "SHA256_MOBILE_PHONE": (c.mainland_mobile, c.sha256_hex),
    "IDFA": (c.idfa, c.unchanged),
    "HASH_IDFA": (c.idfa, c.md5_hex),
    "IMEI": (c.imei, c.unchanged),
    "HASH_IMEI": (c.imei, c.md5_hex),
    "HASH_MAC": (c.mac, c.md5_hex),
    "OAID": (c.oaid, c.unchanged),
    "HASH_OAID": (c.oaid, c.md5_hex),
    "MD5_SHA256_OAID": (c.oaid, lambda values: c.sha256_hex(c.md5_hex(values))),
    "WX_OPENID": (c.wechat_id, c.unchanged),
    "WECHAT_OPENID": (c.wechat_id, c.unchanged),
    "WX_UNIONID": (c.wechat_id, c.unchanged),
}
OPENID_TYPES = frozenset({"WX_OPENID", "WECHAT_OPENID"})
PHONE_TYPES = frozenset({"HASH_MOBILE_PHONE", "SHA256_MOBILE_PHONE"})


def tencent_id(raw, id_type: str) -> str | None:
    """The line Tencent expects for ``raw`` as ``id_type``, or None when ``raw`` is invalid."""
    normalise, encode = _spec(id_type)
    value = normalise(raw)
    return None if value is None else encode([value])[0]


def _spec(id_type: str):
    try:
        return _ID_TYPES[id_type]
    except KeyError:
        raise ValueError(
            f"unsupported Tencent user_id_type {id_type!r}; expected one of {sorted(_ID_TYPES)}"
        ) from None


def _openids_of_app(ids: Iterable, app_id: str, drops: Counter) -> Iterator:
    """Openids of ``app_id``: silver spells them ``<app_id>/<openid>``; other apps are dropped."""
    prefix = app_id + "/"
    for raw in ids:
        if isinstance(raw, str) and "/" in raw:
            if not raw.startswith(prefix):
                drops[c.OTHER_APP_ID] += 1
                continue
            raw = raw[len(prefix) :]
        yield raw


def write_tencent(
    ids: Iterable,
    id_type: str,
    out_dir: str | Path,
    *,
    app_id: str | None = None,
    max_zip_bytes: int = MAX_ZIP_BYTES,
) -> dict:
    """Write ``ids`` as Tencent audience zips ``tencent_<id_type>_0001.zip`` ... in ``out_dir``.

    ``ids`` are raw-ish values of the kind ``id_type`` names (phones in any common spelling,
    IDFAs, openids ...). Invalid, missing and repeated values are dropped and counted. For the
    openid types ``app_id`` is required: values written ``<app_id>/<openid>`` (the silver
    identifier form) are checked against it and other apps' openids dropped; bare openids are
    taken to be of ``app_id``. Returns the manifest.
    """
    normalise, encode = _spec(id_type)
    if id_type in OPENID_TYPES and not app_id:
        raise ValueError(
            f"{id_type} files need the app id of the official account / mini-program (open_app_id)"
        )
    if id_type not in OPENID_TYPES and app_id is not None:
        raise ValueError(f"app_id only applies to {sorted(OPENID_TYPES)}, not {id_type}")
    if not 0 < max_zip_bytes <= MAX_ZIP_BYTES:
        raise ValueError(f"max_zip_bytes must be in 1..{MAX_ZIP_BYTES} (Tencent's zip limit)")
    drops: Counter = Counter()
    values = ids
    if id_type in OPENID_TYPES:
        values = _openids_of_app(ids, app_id, drops)
    elif id_type in PHONE_TYPES:
        values = c.mainland_phones_only(ids, drops)
    lines = ((line.encode(), 1) for line in c.iter_platform_ids(values, normalise, encode, drops))
    files = write_zipped_lines(lines, Path(out_dir), f"tencent_{id_type}", max_zip_bytes)
    written = sum(f["ids"] for f in files)
    manifest = {
        "platform": "tencent",
        "user_id_type": id_type,
        "ids_in": written + sum(drops.values()),
        "ids_written": written,
        "dropped": dict(sorted(drops.items())),
        "files": files,
    }
    if app_id is not None:
        manifest["open_app_id"] = app_id
    return manifest
