"""Identifier keys (``<type>:<value>``, as the identity graph spells them) and their hashes:
pure Python, no engine."""

from __future__ import annotations

import hashlib

from cdp.normalise import canonical_card, clean_identifier, normalise_email, normalise_phone


def identifier_key(identifier_type: str, value: str) -> str:
    """The identity graph's key of an identifier: ``phone:13800138000``."""
    return f"{identifier_type}:{value}"


def key_hash(key: str) -> str:
    """SHA-256 (hex) of an identifier key: what a tombstone keeps instead of the value. The
    engine computes the same with ``sha2(key, 256)``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def canonical_value(identifier_type: str, raw: str, card_programmes=()) -> str | None:
    """``raw`` in the spelling silver and the identity map use for its type (phones parsed,
    e-mails lower-cased, cards in their programme's form, others cleaned); None when nothing
    valid is left."""
    if identifier_type == "phone":
        return normalise_phone(raw)
    if identifier_type == "email":
        return normalise_email(raw)
    if identifier_type == "member_card":
        return canonical_card(raw, card_programmes)
    return clean_identifier(raw)


def value_of(key: str) -> str:
    """The value part of an identifier key."""
    return key.split(":", 1)[1]


def search_terms(keys: list[str]) -> list[str]:
    """Texts whose presence in raw text (quarantine, exports) marks a row as the person's: each
    identifier's value, and an openid's part after its app id (raw rows carry it apart)."""
    terms = set()
    for key in keys:
        value = value_of(key)
        terms.add(value)
        if key.startswith("openid:") and "/" in value:
            terms.add(value.split("/", 1)[1])
    return sorted(t for t in terms if t)


def hashed_forms(keys: list[str]) -> set[str]:
    """Every spelling of the person's identifiers an export may carry: the values, and for
    phones the MD5 and SHA-256 (hex) the ad platforms' files hold, of the 11 digits and of
    E.164 (``+86...``)."""
    forms = set(search_terms(keys))
    for key in keys:
        if not key.startswith(("phone:", "email:")):
            continue
        value = value_of(key)
        spellings = {value}
        if key.startswith("phone:"):
            e164 = value if value.startswith("+") else f"+86{value}"
            spellings |= {e164, e164.lstrip("+")}
        for text in spellings:
            for algorithm in (hashlib.md5, hashlib.sha256):
                forms.add(algorithm(text.encode()).hexdigest())
    return forms
