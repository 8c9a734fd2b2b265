"""Identifier spellings, built vectorised from random integers (no per-row RNG calls)."""

from __future__ import annotations

import numpy as np

_B64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", "S1")
_HEX = np.frombuffer(b"0123456789abcdef", "S1")
_ALNUM = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", "S1")

PHONE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "198",
)
_SPACE = len(PHONE_PREFIXES) * (10**8 - 1)
_PHONE_MULT = 2_654_435_761  # coprime to _SPACE, so idx -> idx * mult mod _SPACE is a bijection


def random_strings(
    rng: np.random.Generator, n: int, length: int, alphabet: np.ndarray, prefix: str = ""
) -> list[str]:
    codes = rng.integers(0, alphabet.size, size=(n, length))
    raw = alphabet[codes].view(f"S{length}").ravel()
    text = raw.astype(f"U{length}")
    return [prefix + s for s in text.tolist()] if prefix else text.tolist()


def openids(rng: np.random.Generator, n: int) -> list[str]:
    """28-character, case-sensitive WeChat openid / unionid look-alikes ('o' + 27)."""
    return random_strings(rng, n, 27, _B64, "o")


def hex_ids(rng: np.random.Generator, n: int, length: int = 32) -> list[str]:
    return random_strings(rng, n, length, _HEX)


def alnum_ids(rng: np.random.Generator, n: int, length: int, prefix: str = "") -> list[str]:
    return random_strings(rng, n, length, _ALNUM, prefix)


def device_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Upper-case UUIDs (IDFV / OAID style)."""
    return [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".upper() for h in hex_ids(rng, n)]


def phones(person_index: np.ndarray, second: bool = False) -> list[str]:
    """A unique valid mainland mobile per global person index (a bijection, so no collisions).

    The index is scrambled over (prefix x 8-digit suffix) space; second phones (old/new
    number) come from the upper half of the index space. Suffixes are never 00000000, so the
    dummy 13800000000 is never a real customer's number.
    """
    idx = np.asarray(person_index, dtype=np.int64) + (_SPACE // 2 if second else 0)
    v = (idx * _PHONE_MULT + 1_234_567) % _SPACE
    prefix, suffix = v % len(PHONE_PREFIXES), v // len(PHONE_PREFIXES) + 1
    return [f"{PHONE_PREFIXES[p]}{s:08d}" for p, s in zip(prefix.tolist(), suffix.tolist())]


def member_cards(person_index: np.ndarray) -> list[str]:
    """11-digit card numbers, unique per person: ``8`` + 10 digits since the mini-program, or
    ``0`` + 10 digits for a fifth of them (cards of the old plastic-card programme), so that
    some cards have one or more leading zeros for spreadsheets to drop."""
    idx = np.asarray(person_index, dtype=np.int64)
    body = (idx * 7_919 + 1_000_003) % 9_999_999_967
    legacy = (idx * 2_654_435_761 >> 7) % 5 == 0
    return [f"{0 if old else 8}{v:010d}" for v, old in zip(body.tolist(), legacy.tolist())]


# Foreign mobiles: (country calling code, national prefixes, digits after the prefix). Every
# number of these blocks is a valid mobile according to libphonenumber (checked in the tests).
_US_AREAS = ("206", "212", "213", "310", "312", "408", "415", "617", "646", "917")
FOREIGN_PLANS = (
    ("1", tuple(a + x for a in _US_AREAS for x in "23456789"), 6),
    ("852", ("61", "63", "64", "69", "94", "96", "97"), 6),
    ("65", tuple(str(v) for v in range(81, 99) if v != 90), 6),
    ("82", ("102", "103", "104", "106", "107", "108", "109"), 7),
    ("81", tuple(f"{h}0{d}" for h in (8, 9) for d in range(1, 10)), 7),
    ("61", ("40", "41", "42", "43", "46"), 7),
)
FOREIGN_WEIGHTS = (0.3, 0.25, 0.15, 0.1, 0.1, 0.1)


def foreign_phones(person_index: np.ndarray, plan: np.ndarray) -> list[str]:
    """A foreign mobile in E.164 (``+13107188897``) per global person index and plan index.

    Within a plan the index is scrambled over (prefix x number) space, a bijection for any
    index below the plan's size (at least 6.9 million), so two people never share a number.
    """
    out = []
    for idx, k in zip(np.asarray(person_index).tolist(), np.asarray(plan).tolist()):
        code, prefixes, width = FOREIGN_PLANS[k]
        space = len(prefixes) * 10**width
        v = (idx * _PHONE_MULT + 7_654_321) % space
        out.append(f"+{code}{prefixes[v % len(prefixes)]}{v // len(prefixes):0{width}d}")
    return out


def qq_numbers(person_index: np.ndarray) -> list[int]:
    idx = np.asarray(person_index, dtype=np.int64)
    return (100_000_000 + (idx * 104_729 + 7) % 899_999_999).tolist()
