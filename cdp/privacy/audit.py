"""The audit log (``gold.audit_log``): every export of raw personal values and every erasure,
with who (the OS user), when, what and how many."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime

import pyarrow as pa

from cdp.lakehouse import Lakehouse
from cdp.tables import AUDIT_LOG, AUDIT_LOG_SCHEMA

#: the kinds of audited events
EVENTS = ("export", "erasure")


def audit_row(event: str, what: str, people: int, rows: int, detail: dict) -> dict:
    """One audit entry (``detail``: JSON-able facts, never a personal value)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}; expected one of {EVENTS}")
    return {
        "event": event,
        "actor": getpass.getuser(),
        "at": datetime.now(UTC),
        "what": what,
        "people": people,
        "rows": rows,
        "detail": json.dumps(detail, sort_keys=True, default=str),
    }


def record(
    lakehouse: Lakehouse, event: str, what: str, people: int, rows: int, detail: dict
) -> dict:
    """Append one entry to the audit log and return it."""
    row = audit_row(event, what, people, rows, detail)
    record_rows(lakehouse, [row])
    return row


def record_rows(lakehouse: Lakehouse, rows: list[dict]) -> None:
    """Append entries (``audit_row``) in one commit."""
    if rows:
        lakehouse.append_arrow(pa.Table.from_pylist(rows, schema=AUDIT_LOG_SCHEMA), AUDIT_LOG)


def entries(lakehouse: Lakehouse) -> list[dict]:
    """Every audit entry, oldest first."""
    if not lakehouse.exists(AUDIT_LOG):
        return []
    return sorted(lakehouse.to_arrow(AUDIT_LOG).to_pylist(), key=lambda r: r["at"])


def record_export(lakehouse: Lakehouse, manifest: dict) -> dict | None:
    """Audit an export's packs that carry raw personal values (the marketer packs: phones,
    names, cards, openids; the DMP files carry hashes only); None when it has none."""
    from cdp.activation.packs import PACK_COLUMNS

    raw = {
        channel: counts["exported"]
        for channel, counts in manifest["channels"].items()
        if channel in PACK_COLUMNS and counts["exported"]
    }
    if not raw or _already_audited(lakehouse, manifest["run_id"]):
        return None
    what = f"segment {manifest['segment']} run {manifest['run_id']}: {', '.join(sorted(raw))}"
    detail = {
        "segment": manifest["segment"],
        "run_id": manifest["run_id"],
        "as_of": manifest["as_of"],
        "channels": raw,
        "columns": {c: list(PACK_COLUMNS[c][0]) for c in sorted(raw)},
    }
    return record(lakehouse, "export", what, sum(raw.values()), sum(raw.values()), detail)


def _already_audited(lakehouse: Lakehouse, run_id: str) -> bool:
    """Whether the export run ``run_id`` is in the log: a re-run of an export (same definition,
    same day, so the same run id) writes the same files again, a disclosure already recorded."""
    return any(
        e["event"] == "export" and json.loads(e["detail"]).get("run_id") == run_id
        for e in entries(lakehouse)
    )
