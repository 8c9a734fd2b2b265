"""Google Ads Customer Match: a CSV of SHA-256 hashed e-mails and phones.

Normalisation, from the Data Manager API formatting guide: e-mail in lower case with all
whitespace removed and, for gmail.com / googlemail.com only, the dots and any ``+suffix``
removed from the local part (``cloudy.sanfrancisco+shopping@gmail.com`` ->
``cloudysanfrancisco@gmail.com``); phone in E.164 *with* the ``+`` and the country code
(``+8613800138000``, ``+13107188897``), mainland and foreign mobiles alike. Column headers are
the English ones of the Customer Match upload file (``Email``, ``Phone``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from cdp.activation.dmp.common import e164_phone
from cdp.activation.dmp.contacts import write_contact_csv
from cdp.normalise import EMAIL

HEADER = ("Email", "Phone")
FILE_NAME = "google_customer_match.csv"
_GOOGLE_MAIL = frozenset({"gmail.com", "googlemail.com"})


def google_email(raw) -> str | None:
    """The e-mail as Google hashes it, or None when it is not an e-mail address."""
    if raw is None:
        return None
    email = "".join(str(raw).split()).lower()
    if not EMAIL.match(email):
        return None
    local, domain = email.rsplit("@", 1)
    if domain in _GOOGLE_MAIL:
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            return None
    return f"{local}@{domain}"


def google_phone(raw) -> str | None:
    """A mobile in E.164 with the plus (``+8613800138000``, ``+13107188897``), or None."""
    return e164_phone(raw)


def write_google(rows: Iterable[Mapping], out_dir: str | Path) -> dict:
    """Write ``rows`` (``email`` / ``phone`` mappings) to ``google_customer_match.csv``."""
    return write_contact_csv(
        rows, Path(out_dir) / FILE_NAME, HEADER, google_email, google_phone, "google"
    )
