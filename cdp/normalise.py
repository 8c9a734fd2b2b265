"""Normalisers for identifiers and values, in plain Python.

The Spark jobs use the SQL twins in ``spark_jobs.normalise``; these are used where no engine
runs (look-ups by identifier, exports) and as the reference the SQL versions are tested
against. Both follow the same rules:

- mainland mobile: full-width digits folded to ASCII, every non-digit dropped, a leading
  ``86`` / ``0086`` country code removed; valid when it is 11 digits ``1[3-9]xxxxxxxxx``.
  Excel's scientific notation (``1.38001E+10``) has lost digits and is invalid.
- email: trimmed and lower-cased; valid when it has one ``@`` and a dot in the domain.
"""

from __future__ import annotations

import re

FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
SCIENTIFIC = re.compile(r"[0-9][eE][+-]?[0-9]")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_phone(raw: str | None) -> str | None:
    """The 11-digit mainland mobile number in ``raw``, or None when there is none."""
    if raw is None:
        return None
    text = raw.translate(FULL_WIDTH)
    if SCIENTIFIC.search(text):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if MOBILE.match(digits) else None


def phone_status(raw: str | None) -> str:
    """``valid``, ``invalid`` (present but not a mobile number) or ``missing``."""
    if raw is None or not raw.strip():
        return "missing"
    return "valid" if normalise_phone(raw) else "invalid"


def normalise_email(raw: str | None) -> str | None:
    if raw is None:
        return None
    email = raw.strip().lower()
    return email if EMAIL.match(email) else None


def yuan_to_fen(amount) -> int:
    """Exact conversion of a yuan amount (Decimal or text) to integer fen."""
    from decimal import Decimal

    return int((Decimal(str(amount)) * 100).to_integral_exact())
