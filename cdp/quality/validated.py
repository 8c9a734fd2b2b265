"""What a gate validated last: the Delta version of each table it passed, so that the next run
validates only the files added since (the rows a MERGE, upsert or append wrote).

A table's rows change only through new files (Delta is copy-on-write here: no deletion
vectors), so the files active now and not at the version last validated hold every row that
is new or changed, and nothing else. A gate that fails records nothing: its rows are checked
again on the next run. Kept per gate in ``<lakehouse>/meta/_gates/<gate>.json``, beside the
log tables; a folder without a Delta log is no table.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from cdp.lakehouse import Lakehouse, Table


@dataclass(frozen=True)
class Changes:
    """A table's rows to validate: all of them (``files`` None), the rows of ``files``, or
    none (an empty list: unchanged since ``version`` was validated)."""

    version: int
    files: list[str] | None


def _path(lakehouse: Lakehouse, gate: str) -> Path:
    return lakehouse.root / "meta" / "_gates" / f"{gate}.json"


def validated_versions(lakehouse: Lakehouse, gate: str) -> dict[str, int]:
    """Table -> the version the gate last passed (empty when it never passed)."""
    path = _path(lakehouse, gate)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def record_validated(lakehouse: Lakehouse, gate: str, versions: dict[str, int]) -> None:
    """Remember the versions a passing gate validated (merged into what it passed before)."""
    path = _path(lakehouse, gate)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**validated_versions(lakehouse, gate), **versions}
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(merged, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)  # a reader sees the old state or the new one, never half


def changes_since(lakehouse: Lakehouse, table: Table, version: int | None) -> Changes:
    """The rows of ``table`` written after ``version``: the whole table when ``version`` is
    None, no longer in the log, or the table has deletion vectors."""
    current = lakehouse.delta(table)
    now = current.version()
    if version is None or _has_deletion_vectors(current):
        return Changes(now, None)
    if version == now:
        return Changes(now, [])
    try:
        before = set(DeltaTable(lakehouse.uri(table), version=version).file_uris())
    except DeltaError:  # log entries cleaned up (or the table was re-created): validate it all
        return Changes(now, None)
    return Changes(now, [uri for uri in current.file_uris() if uri not in before])


def _has_deletion_vectors(delta: DeltaTable) -> bool:
    actions = pa.table(delta.get_add_actions(flatten=True))
    columns = [c for c in actions.column_names if c.lower().startswith("deletion")]
    return any(actions.column(c).null_count < actions.num_rows for c in columns)
