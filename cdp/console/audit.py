"""Console entries in the audit log (``gold.audit_log``): every view of a person's record
and every export, with the console user (or API system) as the actor.

``cdp.privacy.audit`` writes the pipeline's entries (raw exports, erasures) with the OS user;
the console's events name its own users, so it builds its rows here on the same schema.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pyarrow as pa

from cdp.lakehouse import Lakehouse
from cdp.tables import AUDIT_LOG, AUDIT_LOG_SCHEMA

#: the console's audited events
EVENTS = ("view", "export")
_write_lock = threading.Lock()  # one Delta commit at a time from this process


def console_entry(event: str, actor: str, what: str, people: int, rows: int, detail: dict) -> dict:
    """One audit row; ``detail`` holds facts (ids, filters, columns), never a personal value."""
    if event not in EVENTS:
        raise ValueError(f"unknown console audit event {event!r}; expected one of {EVENTS}")
    return {
        "event": event,
        "actor": f"console:{actor}",
        "at": datetime.now(UTC),
        "what": what,
        "people": people,
        "rows": rows,
        "detail": json.dumps(detail, sort_keys=True, default=str),
    }


def record(lakehouse: Lakehouse, entry: dict) -> None:
    """Append one entry to the audit log."""
    with _write_lock:
        lakehouse.append_arrow(pa.Table.from_pylist([entry], schema=AUDIT_LOG_SCHEMA), AUDIT_LOG)
