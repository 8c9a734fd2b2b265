"""How people and systems actually write phone numbers, member cards and e-mail addresses."""

from __future__ import annotations

import bisect
from functools import lru_cache

import numpy as np
import phonenumbers

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# (weight, spelling); the last one, Excel's scientific notation, loses digits for good.
_PHONE_FORMS = (
    (0.55, lambda p: p),
    (0.07, lambda p: f"+86 {p[:3]}-{p[3:7]}-{p[7:]}"),
    (0.07, lambda p: f"86{p}"),
    (0.07, lambda p: f"{p[:3]} {p[3:7]} {p[7:]}"),
    (0.05, lambda p: f"+86-{p}"),
    (0.04, lambda p: f"(+86){p}"),
    (0.04, lambda p: f"0086 {p}"),
    (0.04, lambda p: p.translate(FULL_WIDTH)),
    (0.05, lambda p: f" {p} "),
    (0.02, lambda p: f"{p[0]}.{p[1:6]}E+10"),
)
_WEIGHTS = np.array([w for w, _ in _PHONE_FORMS]) / sum(w for w, _ in _PHONE_FORMS)
MANGLED = len(_PHONE_FORMS) - 1


def phone_forms(rng: np.random.Generator, n: int) -> np.ndarray:
    """Which spelling each of ``n`` phone occurrences gets (index into the table)."""
    return rng.choice(len(_PHONE_FORMS), size=n, p=_WEIGHTS)


def spell_phones(phones: list[str], forms: np.ndarray) -> list[str]:
    """Each phone in its drawn spelling; foreign numbers (E.164) in one of their own."""
    table = [f for _, f in _PHONE_FORMS]
    return [
        spell_foreign(p, k) if p[0] == "+" else p if k == 0 else table[k](p)
        for p, k in zip(phones, forms.tolist())
    ]


@lru_cache(maxsize=65_536)
def _international(e164: str) -> str:
    """``+1 310-718-8897``: the number as libphonenumber groups it for its country."""
    number = phonenumbers.parse(e164)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def spell_foreign(e164: str, form: int) -> str:
    """A foreign mobile as tills and web forms keep it: E.164, grouped with spaces or dashes,
    or dialled from China (``00`` + country code). Always with its country code: without it
    the number is someone else's (``+1 310...`` would read as the mainland ``1310...``)."""
    kind = form % 4
    if kind == 0:
        return e164
    if kind == 1:
        return _international(e164).replace("-", " ")
    if kind == 2:
        return _international(e164)
    return "00" + e164[1:]


# getPhoneNumber returns phoneNumber (with the country code for foreign numbers),
# purePhoneNumber (without) and countryCode; integrations store one of them, some prepending
# the country code themselves in their own way. (weight, spelling, carries the country code)
_MINI_PROGRAM_FORMS = (
    (0.50, lambda p: p, False),
    (0.15, lambda p: f"86{p}", True),
    (0.15, lambda p: f"+86{p}", True),
    (0.10, lambda p: f"0086{p}", True),
    (0.10, lambda p: f"(+86){p}", True),
)
_MINI_PROGRAM_CUTS = np.cumsum([w for w, _, _ in _MINI_PROGRAM_FORMS]).tolist()[:-1]


def mini_program_phone(phone: str, roll: float) -> tuple[str, str, bool]:
    """(phone_number, country_code, whether phone_number carries the country code) as the
    mini-program's member service stores a phone authorised through getPhoneNumber."""
    if phone[0] == "+":
        code = phonenumbers.parse(phone).country_code
        pure = phone[1 + len(str(code)) :]
        # phoneNumber is "+<code><number>" for a foreign number; purePhoneNumber the rest.
        return (phone, str(code), True) if roll < 0.5 else (pure, str(code), False)
    _, spell, coded = _MINI_PROGRAM_FORMS[bisect.bisect_right(_MINI_PROGRAM_CUTS, roll)]
    return spell(phone), "86", coded


ZERO_WIDTH_SPACE, NO_BREAK_SPACE = "\u200b", "\u00a0"
# (weight, spelling) of a member card typed or pasted into POS, coupon and loyalty systems;
# all recoverable. The last one is a spreadsheet reading the card as a number.
_CARD_FORMS = (
    (0.88, lambda c: c),
    (0.02, lambda c: c + ZERO_WIDTH_SPACE),
    (0.02, lambda c: NO_BREAK_SPACE + c),
    (0.02, lambda c: c.translate(FULL_WIDTH)),
    (0.02, lambda c: f" {c} "),
    (0.04, lambda c: c.lstrip("0") or "0"),
)
_CARD_WEIGHTS = np.array([w for w, _ in _CARD_FORMS]) / sum(w for w, _ in _CARD_FORMS)


def card_forms(rng: np.random.Generator, n: int) -> np.ndarray:
    """Which spelling each of ``n`` member-card occurrences gets (0 = as issued)."""
    return rng.choice(len(_CARD_FORMS), size=n, p=_CARD_WEIGHTS)


def spell_card(card: str | None, form: int) -> str | None:
    """The card in that spelling (a card without leading zeros keeps them all)."""
    return card if card is None or form == 0 else _CARD_FORMS[form][1](card)


def spell_email(email: str, roll: float) -> str:
    """Canonical e-mails are lower case; some sources keep the user's capitals or spaces."""
    if roll < 0.1:
        return email.upper()
    if roll < 0.2:
        return f" {email.capitalize()}"
    return email
