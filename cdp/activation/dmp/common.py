"""Shared pieces of the DMP exports: identifier normalisers, hashing, drop counting, digests.

A normaliser takes a raw-ish value and returns the canonical text the platform hashes, or None
when the value is not a valid identifier of that kind; invalid values are dropped and counted,
never hashed.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from cdp.normalise import MOBILE, normalise_phone

# Reasons an input value is not written, as they appear in the manifests.
MISSING = "missing"
INVALID = "invalid"
DUPLICATE = "duplicate"
OTHER_APP_ID = "other_app_id"
NOT_MAINLAND = "not_mainland"  # a valid foreign phone, for a platform that takes mainland only

_IDFA = re.compile(r"([0-9A-F]{8})-?([0-9A-F]{4})-?([0-9A-F]{4})-?([0-9A-F]{4})-?([0-9A-F]{12})")
_IMEI = re.compile(r"[0-9a-f]{14,15}")  # 15-digit IMEI or 14-hex-digit MEID
_MAC = re.compile(r"[0-9A-F]{12}")
_OAID = re.compile(r"[0-9A-Za-z-]{16,64}")
_WECHAT_ID = re.compile(r"[0-9A-Za-z_-]{6,64}")


def stripped(raw) -> str | None:
    """``raw`` as trimmed text, or None when it is empty."""
    if raw is None:
        return None
    text = (raw if isinstance(raw, str) else str(raw)).strip()
    return text or None


def _is_zeros(value: str) -> bool:
    # all-zero device ids are what a device reports when ad tracking is limited
    return not value.replace("-", "").replace("0", "")


def phone(raw) -> str | None:
    """The valid phone in ``raw`` as ``cdp.normalise`` has it: 11 digits for a mainland mobile,
    E.164 for another country's (any spelling it accepts; ints too)."""
    if isinstance(raw, str):
        # fast path: silver already holds 11-digit numbers
        if len(raw) == 11 and MOBILE.match(raw):
            return raw
        return normalise_phone(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return normalise_phone(str(raw))
    return None


def mainland_mobile(raw) -> str | None:
    """The 11-digit mainland mobile in ``raw``; None for anything else, foreign numbers too."""
    number = phone(raw)
    return number if number is not None and number[0] != "+" else None


def e164_phone(raw) -> str | None:
    """The valid phone in ``raw`` in E.164 with the plus (``+8613800138000``)."""
    number = phone(raw)
    if number is None:
        return None
    return number if number[0] == "+" else "+86" + number


def mainland_phones_only(values: Iterable, drops: Counter) -> Iterator:
    """``values`` without the valid foreign phones, counted as ``not_mainland``: platforms that
    hash the bare 11-digit number have no form for them, and a foreign number's digits can be
    someone else's mainland number (+1 310 718 8897 -> 13107188897)."""
    for raw in values:
        number = phone(raw)
        if number is not None and number[0] == "+":
            drops[NOT_MAINLAND] += 1
            continue
        yield raw


def idfa(raw) -> str | None:
    """IDFA in upper case with its hyphens (``FF1999CD-7177-4937-A474-74937A102630``)."""
    text = stripped(raw)
    match = _IDFA.fullmatch(text.upper()) if text else None
    if match is None:
        return None
    value = "-".join(match.groups())
    return None if _is_zeros(value) else value


def imei(raw) -> str | None:
    """IMEI / MEID, 14 or 15 characters in lower case."""
    text = stripped(raw)
    value = text.lower() if text else None
    if value is None or not _IMEI.fullmatch(value) or _is_zeros(value):
        return None
    return value


def mac(raw) -> str | None:
    """MAC address in upper case with the ``:`` (or ``-``) separators removed."""
    text = stripped(raw)
    value = text.upper().replace(":", "").replace("-", "") if text else None
    if value is None or not _MAC.fullmatch(value) or value in ("000000000000", "FFFFFFFFFFFF"):
        return None
    return value


def oaid(raw) -> str | None:
    """OAID as the device reports it (Tencent hashes the raw value: ``md5(oaid)``)."""
    text = stripped(raw)
    if text is None or not _OAID.fullmatch(text) or _is_zeros(text):
        return None
    return text


def wechat_id(raw) -> str | None:
    """A WeChat openid or unionid; case-sensitive, so only trimmed."""
    text = stripped(raw)
    return text if text and _WECHAT_ID.fullmatch(text) else None


# Encoders work on batches: mapping the C hash functions over a list costs about half of
# calling a Python function per value, and hashing is most of an export's time.
Encoder = Callable[[list[str]], list[str]]


def md5_hex(values: list[str]) -> list[str]:
    """Lower-case MD5 hex of each value (UTF-8)."""
    return [digest.hexdigest() for digest in map(hashlib.md5, map(str.encode, values))]


def sha256_hex(values: list[str]) -> list[str]:
    """Lower-case SHA-256 hex of each value (UTF-8)."""
    return [digest.hexdigest() for digest in map(hashlib.sha256, map(str.encode, values))]


def unchanged(values: list[str]) -> list[str]:
    return values


def lower(values: list[str]) -> list[str]:
    return list(map(str.lower, values))


def is_missing(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def iter_platform_ids(
    values: Iterable,
    normalise: Callable[[object], str | None],
    encode: Encoder,
    drops: Counter,
    batch_size: int = 65_536,
) -> Iterator[str]:
    """Normalise, de-duplicate (first occurrence wins, input order kept) and encode ``values``.

    Every value ends either yielded or counted in ``drops`` under exactly one reason.
    """
    seen: set[str] = set()
    batch: list[str] = []
    for raw in values:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            drops[MISSING] += 1
            continue
        value = normalise(raw)
        if value is None:
            drops[INVALID] += 1
        elif value in seen:
            drops[DUPLICATE] += 1
        else:
            seen.add(value)
            batch.append(value)
            if len(batch) == batch_size:
                yield from encode(batch)
                batch = []
    if batch:
        yield from encode(batch)


def file_digest(path: Path) -> dict:
    """Name, size, MD5 and SHA-256 of a written file, for the manifest."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            md5.update(chunk)
            sha256.update(chunk)
    return {
        "name": path.name,
        "bytes": path.stat().st_size,
        "md5": md5.hexdigest(),
        "sha256": sha256.hexdigest(),
    }


def remove_stale_parts(out_dir: Path, stem: str, suffix: str) -> None:
    """Delete the numbered parts of an earlier export of the same file, so none is left over."""
    pattern = re.compile(re.escape(stem) + r"_[0-9]{4}" + re.escape(suffix))
    for path in out_dir.glob(f"{stem}_*{suffix}"):
        if pattern.fullmatch(path.name):
            path.unlink()
