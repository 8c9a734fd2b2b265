"""Hashed contact lists (e-mail, phone) as CSV: shared by Google Customer Match and Meta."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from cdp.activation.dmp.common import DUPLICATE, file_digest, is_missing, sha256_hex

NO_IDENTIFIER = "no_valid_identifier"
_BATCH_ROWS = 65_536


def _hash_column(values: list[str | None]) -> list[str]:
    present = sha256_hex([value for value in values if value is not None])
    if len(present) == len(values):
        return present
    hashes = iter(present)
    return ["" if value is None else next(hashes) for value in values]


def _normalised(raw, normalise, invalid: str, drops: Counter) -> str | None:
    if is_missing(raw):
        return None
    value = normalise(raw)
    if value is None:
        drops[invalid] += 1
    return value


def _write_rows(out, emails: list, phones: list, written: Counter) -> None:
    """Hash and write a batch of normalised (email, phone) rows, then empty the batch."""
    email_cells, phone_cells = _hash_column(emails), _hash_column(phones)
    written["email"] += sum(1 for cell in email_cells if cell)
    written["phone"] += sum(1 for cell in phone_cells if cell)
    out.writelines(f"{e},{p}\n" for e, p in zip(email_cells, phone_cells))
    emails.clear()
    phones.clear()


def write_contact_csv(
    rows: Iterable[Mapping],
    path: Path,
    header: tuple[str, str],
    email: Callable[[object], str | None],
    phone: Callable[[object], str | None],
    platform: str,
) -> dict:
    """Write ``rows`` (mappings with ``email`` and/or ``phone``) as ``header`` + SHA-256 hex.

    A value that is present but invalid is left out of its cell and counted
    (``invalid_email`` / ``invalid_phone``); a row left with neither is dropped
    (``no_valid_identifier``), as is a row whose normalised pair was already written
    (``duplicate``). Rows keep their input order.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    drops: Counter = Counter()
    written = Counter()
    seen: set[str] = set()
    rows_in = 0
    partial = path.with_name(path.name + ".partial")  # renamed once complete
    try:
        with partial.open("w", encoding="ascii", newline="") as out:
            out.write(",".join(header) + "\n")
            emails: list[str | None] = []
            phones: list[str | None] = []
            for row in rows:
                rows_in += 1
                email_value = _normalised(row.get("email"), email, "invalid_email", drops)
                phone_value = _normalised(row.get("phone"), phone, "invalid_phone", drops)
                if email_value is None and phone_value is None:
                    drops[NO_IDENTIFIER] += 1
                    continue
                key = f"{email_value}\0{phone_value}"
                if key in seen:
                    drops[DUPLICATE] += 1
                    continue
                seen.add(key)
                emails.append(email_value)
                phones.append(phone_value)
                if len(emails) >= _BATCH_ROWS:
                    _write_rows(out, emails, phones, written)
            _write_rows(out, emails, phones, written)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    rows_written = rows_in - drops[NO_IDENTIFIER] - drops[DUPLICATE]
    return {
        "platform": platform,
        "columns": list(header),
        "rows_in": rows_in,
        "rows_written": rows_written,
        "ids_written": {"email": written["email"], "phone": written["phone"]},
        "dropped": dict(sorted(drops.items())),
        "files": [file_digest(path)],
    }
