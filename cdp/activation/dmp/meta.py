"""Meta custom audiences: a customer list CSV of SHA-256 hashed e-mails and phones.

Normalisation, from the Custom Audience API's hashing guide and the SDK's normaliser
(facebook-python-business-sdk ``CustomAudienceMixin``): e-mail stripped of surrounding
whitespace (the SDK also strips surrounding dots) and lower-cased; phone digits only, *with*
the country code and *without* ``+`` (a hashed ``+`` form gets no match): ``8613800138000``,
``13107188897`` for a US mobile. Column headers are the customer-list identifiers ``email`` and
``phone`` (EMAIL and PHONE in the API's schema).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from cdp.activation.dmp.common import e164_phone
from cdp.activation.dmp.contacts import write_contact_csv
from cdp.normalise import EMAIL

HEADER = ("email", "phone")
FILE_NAME = "meta_custom_audience.csv"
_STRIP = " \t\r\n\0\x0b."  # what the SDK strips from both ends of an e-mail


def meta_email(raw) -> str | None:
    """The e-mail as Meta hashes it, or None when it is not an e-mail address."""
    if raw is None:
        return None
    email = str(raw).strip(_STRIP).lower()
    return email if EMAIL.match(email) else None


def meta_phone(raw) -> str | None:
    """A mobile as digits with the country code and no plus (``8613800138000``), or None."""
    number = e164_phone(raw)
    return None if number is None else number[1:]


def write_meta(rows: Iterable[Mapping], out_dir: str | Path) -> dict:
    """Write ``rows`` (``email`` / ``phone`` mappings) to ``meta_custom_audience.csv``."""
    return write_contact_csv(
        rows, Path(out_dir) / FILE_NAME, HEADER, meta_email, meta_phone, "meta"
    )
