"""Normalisers for identifiers and values, in plain Python.

The Spark jobs use the SQL twins in ``spark_jobs.normalise``; these are used where no engine
runs (look-ups by identifier, exports) and as the reference the SQL versions are tested
against. Both follow the same rules:

- every identifier value (openid, unionid, card, platform ids, device and cookie ids, MAC
  hashes, plates, e-mails, phones before parsing) is cleaned: zero-width characters, BOMs and
  NBSPs removed, Unicode NFKC (full-width digits and letters folded to ASCII), trimmed; nothing
  left is None.
- phone: parsed by ``phonenumbers`` (see ``parse_phone``). A mainland mobile is canonical as
  its 11 digits ``1[3-9]xxxxxxxxx``, whatever the spelling; a number of another country is
  kept in E.164 (``+13107188897``). A number without ``+`` / ``00`` and without a separate
  country code is read as mainland. Invalid numbers are None with a status that says why.
- member card: the first programme of the identity rules whose pattern matches the cleaned
  value gives its canonical form (digits only, leading zeros restored); other cards stay as
  cleaned text.
- email: cleaned and lower-cased; valid when it has one ``@`` and a dot in the domain.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

# Invisible characters copy-paste and spreadsheets leave in ids. NFKC keeps the zero-width ones
# and turns NBSP into a space, which would split "138 0013" differently from "1380013".
REMOVED = "\u200b\u200c\u200d\u2060\ufeff\u00a0"
TRIMMED = " \t\n\r\f\v"
_REMOVE = dict.fromkeys(map(ord, REMOVED))

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
SCIENTIFIC = re.compile(r"[0-9][eE][+-]?[0-9]")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Phone spellings: digits, these separators (whitespace too: a tab between groups is one) and
# a "+" that leads once they are removed.
PHONE_SEPARATORS = TRIMMED + "()./-"
PHONE_TEXT = re.compile(r"^[+0-9\s().\-/]+$", re.ASCII)
# The spellings of a plain mainland mobile: what the fast paths (here and in SQL) accept.
PLAIN_MAINLAND = re.compile(r"^(?:[+]86|0086|86)?(1[3-9][0-9]{9})$")
MAINLAND_CODE = "86"

# Phone statuses: the vocabulary of silver's phone_status / member_phone_status.
VALID = "valid"
MISSING = "missing"  # no value, or nothing left once cleaned
EXCEL_SCIENTIFIC = "invalid:excel_scientific"  # 1.38001E+10: the spreadsheet lost digits
NOT_A_NUMBER = "invalid:not_a_number"  # letters or symbols a phone does not have, or no digits
TOO_SHORT = "invalid:too_short"  # fewer digits than the country's numbers have
TOO_LONG = "invalid:too_long"  # more digits than the country's numbers have
UNKNOWN_COUNTRY = "invalid:unknown_country"  # no country has this calling code
UNALLOCATED = "invalid:unallocated"  # right length, no range of the numbering plan (12345678901)
NOT_MOBILE = "invalid:not_mobile"  # a real number, not a mobile: landline, toll-free, service
PHONE_STATUSES = (
    VALID,
    MISSING,
    EXCEL_SCIENTIFIC,
    NOT_A_NUMBER,
    TOO_SHORT,
    TOO_LONG,
    UNKNOWN_COUNTRY,
    UNALLOCATED,
    NOT_MOBILE,
)

# The US and other NANP countries cannot tell mobiles from landlines by number.
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: UNKNOWN_COUNTRY,
    NumberParseException.NOT_A_NUMBER: NOT_A_NUMBER,
    NumberParseException.TOO_SHORT_AFTER_IDD: TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: TOO_SHORT,
    NumberParseException.TOO_LONG: TOO_LONG,
}
_IMPOSSIBLE = {
    ValidationResult.INVALID_COUNTRY_CODE: UNKNOWN_COUNTRY,
    ValidationResult.TOO_SHORT: TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: TOO_SHORT,
    ValidationResult.TOO_LONG: TOO_LONG,
}


class PhoneResult(NamedTuple):
    """A parsed phone: the canonical value (None unless valid) and its status."""

    value: str | None
    status: str


def clean_identifier(raw) -> str | None:
    """``raw`` without zero-width characters, BOMs and NBSPs, NFKC-normalised and trimmed;
    None when nothing is left."""
    if raw is None:
        return None
    text = raw if isinstance(raw, str) else str(raw)
    text = unicodedata.normalize("NFKC", text.translate(_REMOVE)).strip(TRIMMED)
    return text or None


def parse_phone(raw, country_code=None) -> PhoneResult:
    """The phone in ``raw`` and its status (one of ``PHONE_STATUSES``).

    ``country_code`` is a separate calling code (the WeChat mini-program sends ``86`` beside
    the number); the number may carry it already (``8615124513932``). A ``+`` or ``00``
    prefix in the number wins over it. Without either, the number is read as mainland.
    """
    text = clean_identifier(raw)
    if text is None:
        return PhoneResult(None, MISSING)
    code = clean_identifier(country_code)
    return _parse_phone_text(text, code.lstrip("+(").rstrip(")") if code else None)


def normalise_phone(raw, country_code=None) -> str | None:
    """The canonical phone in ``raw`` (11 mainland digits or E.164), or None."""
    return parse_phone(raw, country_code).value


def phone_status(raw, country_code=None) -> str:
    """``valid``, ``missing`` or ``invalid:<why>`` (see ``PHONE_STATUSES``)."""
    return parse_phone(raw, country_code).status


# Distinct values repeat a lot (a member's phone on every ticket): the Spark UDF and the exports
# parse each spelling once per process.
@lru_cache(maxsize=1 << 18)
def _parse_phone_text(text: str, code: str | None) -> PhoneResult:
    if SCIENTIFIC.search(text):
        return PhoneResult(None, EXCEL_SCIENTIFIC)
    compact = "".join(ch for ch in text if ch not in PHONE_SEPARATORS)
    if not PHONE_TEXT.match(text) or "+" in compact[1:] or not compact.strip("+"):
        return PhoneResult(None, NOT_A_NUMBER)
    if code is None or code in (MAINLAND_CODE, "00" + MAINLAND_CODE):
        plain = PLAIN_MAINLAND.match(compact)
        if plain:
            return PhoneResult(plain.group(1), VALID)
    return _parse_with_library(compact, code)


def _parse_with_library(compact: str, code: str | None) -> PhoneResult:
    if compact.startswith("00"):  # the international prefix of China and most countries
        compact = "+" + compact[2:]
    region = None
    if not compact.startswith("+"):
        region = "CN" if code is None else _region_of(code)
        if region is None:
            return PhoneResult(None, UNKNOWN_COUNTRY)
    try:
        number = phonenumbers.parse(compact, region)
    except NumberParseException as exc:
        return PhoneResult(None, _PARSE_ERRORS.get(exc.error_type, NOT_A_NUMBER))
    if number.country_code == int(MAINLAND_CODE):
        return _mainland(number)
    return _foreign(number)


def _region_of(code: str) -> str | None:
    digits = code.removeprefix("00")
    if not digits.isdigit() or len(digits) > 3:
        return None
    region = phonenumbers.region_code_for_country_code(int(digits))
    return None if region == phonenumbers.UNKNOWN_REGION else region


def _mainland(number) -> PhoneResult:
    # Mainland mobiles follow the project's rule (1[3-9] + 9 digits), not the library's
    # allocation table, so both paths agree and new ranges are not rejected.
    national = str(number.national_number)
    if MOBILE.match(national):
        return PhoneResult(national, VALID)
    if national.startswith("1") and len(national) != 11:
        return PhoneResult(None, TOO_SHORT if len(national) < 11 else TOO_LONG)
    if phonenumbers.is_valid_number(number):
        return PhoneResult(None, NOT_MOBILE)
    return PhoneResult(None, _why_invalid(number))


def _foreign(number) -> PhoneResult:
    if not phonenumbers.is_valid_number(number):
        return PhoneResult(None, _why_invalid(number))
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return PhoneResult(None, NOT_MOBILE)
    return PhoneResult(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), VALID
    )


def _why_invalid(number) -> str:
    return _IMPOSSIBLE.get(phonenumbers.is_possible_number_with_reason(number), UNALLOCATED)


def canonical_card(raw, programmes=()) -> str | None:
    """The member card number in ``raw``, cleaned, in the form of the first programme whose
    ``match`` pattern is found in it (``identity.rules.CardProgramme``: ``digits_only`` keeps
    the digits, ``width`` restores the leading zeros a spreadsheet dropped); other cards stay
    as cleaned text. None when nothing is left."""
    text = clean_identifier(raw)
    if text is None:
        return None
    for programme in programmes:
        if re.search(programme.match, text):
            if programme.digits_only:
                text = re.sub(r"[^0-9]", "", text)
            if programme.width and len(text) < programme.width:
                text = text.zfill(programme.width)
            return text or None
    return text


def normalise_email(raw) -> str | None:
    """The cleaned, lower-cased e-mail address in ``raw``, or None."""
    text = clean_identifier(raw)
    email = text.lower() if text else None
    return email if email and EMAIL.match(email) else None


def yuan_to_fen(amount) -> int:
    """Exact conversion of a yuan amount (Decimal or text) to integer fen."""
    from decimal import Decimal

    return int((Decimal(str(amount)) * 100).to_integral_exact())
