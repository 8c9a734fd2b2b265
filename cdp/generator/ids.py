"""Identifier spellings, built vectorised from random integers (no per-row RNG calls)."""

from __future__ import annotations

import numpy as np

_B64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", "S1")
_HEX = np.frombuffer(b"0123456789abcdef", "S1")
_ALNUM = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", "S1")

PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                  "152", "153", "155", "156", "157", "158", "159", "166", "173", "176", "177",
                  "180", "181", "182", "183", "185", "186", "187", "188", "189", "198")
_SPACE = len(PHONE_PREFIXES) * (10**8 - 1)
_PHONE_MULT = 2_654_435_761  # coprime to _SPACE, so idx -> idx * mult mod _SPACE is a bijection


def random_strings(rng: np.random.Generator, n: int, length: int, alphabet: np.ndarray,
                   prefix: str = "") -> list[str]:
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
    return [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".upper()
            for h in hex_ids(rng, n)]


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
    idx = np.asarray(person_index, dtype=np.int64)
    return [f"8{v:010d}" for v in ((idx * 7_919 + 1_000_003) % 9_999_999_967).tolist()]


def qq_numbers(person_index: np.ndarray) -> list[int]:
    idx = np.asarray(person_index, dtype=np.int64)
    return (100_000_000 + (idx * 104_729 + 7) % 899_999_999).tolist()
