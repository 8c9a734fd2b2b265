"""Table maintenance (`cdp maintain`): keep the lakehouse's tables and the marts file small.

Every run appends: bronze and the logs (``meta.ingest_log`` gains some 28 one-file commits per
run), MERGEs rewrite silver files, and the Delta log grows a JSON file per commit. For every
Delta table of the catalogue that exists, maintenance

1. compacts small files into larger ones (delta-rs ``optimize.compact``: an OPTIMIZE commit
   that only rewrites files, so every reader sees the same rows),
2. vacuums the files no version younger than ``vacuum_retention_hours`` still uses,
3. writes a checkpoint of the log (readers then start from it, not from every JSON commit),
4. removes log files older than the table's log retention (``delta.logRetentionDuration``,
   30 days by default) that the checkpoint made unnecessary,

then checkpoints the marts' DuckDB file (folds its write-ahead log into it). It holds the
workspace lock, so no pipeline step writes meanwhile: compaction conflicts with any commit
other than an append.

Vacuuming below a table's safety window (Delta's ``delta.deletedFileRetentionDuration``, 168
hours by default) breaks readers and time travel to versions within it: it happens only when
``vacuum_retention_hours`` is set explicitly, never by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deltalake import DeltaTable

from cdp.config import Settings
from cdp.lakehouse import Lakehouse, Table

Progress = Callable[[str], None]
#: what Delta uses when a table does not set ``delta.deletedFileRetentionDuration``
DEFAULT_SAFETY_WINDOW_HOURS = 168.0
RETENTION_PROPERTY = "delta.deletedFileRetentionDuration"
_INTERVAL_HOURS = {
    "nanosecond": 1 / 3.6e12,
    "microsecond": 1 / 3.6e9,
    "millisecond": 1 / 3.6e6,
    "second": 1 / 3600,
    "minute": 1 / 60,
    "hour": 1.0,
    "day": 24.0,
    "week": 168.0,
}


class RetentionTooShort(ValueError):
    """The vacuum retention is below a table's safety window and was not set explicitly."""


@dataclass(frozen=True)
class TableMaintenance:
    """What maintenance did to one table."""

    table: str
    rows: int
    files_before: int
    files_after: int
    #: data files vacuumed (no longer used by any version within the retention) and their bytes
    files_removed: int
    bytes_removed: int
    version_before: int
    version_after: int
    #: the log version the checkpoint was written at
    checkpoint_version: int
    log_files_before: int
    log_files_after: int


@dataclass(frozen=True)
class MartsMaintenance:
    """What maintenance did to the marts' DuckDB file (``skipped``: why it did nothing)."""

    database: Path
    bytes_before: int = 0
    bytes_after: int = 0
    skipped: str | None = None


@dataclass
class MaintenanceResult:
    """Per table what was done, the retention used, and the marts file."""

    retention_hours: int
    tables: list[TableMaintenance] = field(default_factory=list)
    marts: MartsMaintenance | None = None

    @property
    def bytes_removed(self) -> int:
        return sum(t.bytes_removed for t in self.tables)


def interval_hours(text: str) -> float:
    """Hours of a Delta interval property such as ``interval 7 days`` or ``interval 1 week``."""
    found = re.fullmatch(r"\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*", text.lower())
    if not found or found.group(2) not in _INTERVAL_HOURS:
        raise ValueError(
            f"cannot read the Delta interval {text!r}; expected e.g. 'interval 7 days'"
        )
    return float(found.group(1)) * _INTERVAL_HOURS[found.group(2)]


def safety_window_hours(delta: DeltaTable) -> float:
    """The retention Delta's vacuum safety check expects of this table, in hours."""
    configured = delta.metadata().configuration.get(RETENTION_PROPERTY)
    return interval_hours(configured) if configured else DEFAULT_SAFETY_WINDOW_HOURS


def retention_is_explicit(settings: Settings) -> bool:
    """Whether ``vacuum_retention_hours`` was set (file, environment or flag), not defaulted."""
    return "vacuum_retention_hours" in settings.model_fields_set


def check_retention(table: Table, delta: DeltaTable, retention_hours: int, explicit: bool) -> bool:
    """Whether vacuuming ``table`` with ``retention_hours`` goes below its safety window
    (allowed only when the retention was set explicitly; RetentionTooShort otherwise)."""
    window = safety_window_hours(delta)
    if retention_hours >= window:
        return False
    if not explicit:
        raise RetentionTooShort(
            f"{table}: vacuum_retention_hours {retention_hours} is below the table's "
            f"{RETENTION_PROPERTY} of {window:g} hours, which Delta's safety check expects; set "
            f"vacuum_retention_hours (cdp.yaml or CDP_VACUUM_RETENTION_HOURS) explicitly to "
            f"vacuum below it, or raise it to {window:g}"
        )
    return True


def _log_files(lakehouse: Lakehouse, table: Table) -> int:
    return sum(1 for _ in (lakehouse.path(table) / "_delta_log").iterdir())


def _vacuum(
    delta: DeltaTable, root: Path, retention_hours: int, below_window: bool
) -> tuple[int, int]:
    """Delete the files no version within the retention uses; (files, bytes) removed."""
    doomed = delta.vacuum(
        retention_hours=retention_hours, dry_run=True, enforce_retention_duration=not below_window
    )
    if not doomed:
        return 0, 0
    # Sizes before they go: vacuum only returns the names.
    size = sum((root / name).stat().st_size for name in doomed if (root / name).exists())
    removed = delta.vacuum(
        retention_hours=retention_hours, dry_run=False, enforce_retention_duration=not below_window
    )
    return len(removed), size


def maintain_table(
    lakehouse: Lakehouse, table: Table, retention_hours: int, below_window: bool = False
) -> TableMaintenance:
    """Compact, vacuum, checkpoint and clean up the log of one table (see the module doc)."""
    delta = lakehouse.delta(table)
    version_before, files_before = delta.version(), len(delta.file_uris())
    log_before = _log_files(lakehouse, table)
    if files_before > 1:
        delta.optimize.compact()  # commits nothing when there is nothing to compact
        delta.update_incremental()
    files, size = _vacuum(delta, lakehouse.path(table), retention_hours, below_window)
    delta.update_incremental()
    delta.create_checkpoint()
    delta.cleanup_metadata()
    return TableMaintenance(
        table=str(table),
        rows=lakehouse.count(table),
        files_before=files_before,
        files_after=len(delta.file_uris()),
        files_removed=files,
        bytes_removed=size,
        version_before=version_before,
        version_after=delta.version(),
        checkpoint_version=delta.version(),
        log_files_before=log_before,
        log_files_after=_log_files(lakehouse, table),
    )


def checkpoint_marts(database: Path) -> MartsMaintenance:
    """DuckDB ``CHECKPOINT`` on the marts file: its write-ahead log folded in, freed blocks
    reusable. Skipped (not failed) when there is no file or another process has it open."""
    import duckdb

    if not database.exists():
        return MartsMaintenance(database, skipped="no marts file yet")
    wal = database.with_name(database.name + ".wal")
    before = database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    try:
        with duckdb.connect(str(database)) as con:
            con.execute("CHECKPOINT")
    except duckdb.IOException as exc:
        # An analyst's open connection holds DuckDB's file lock; the tables are done anyway.
        reason = str(exc).strip().splitlines()[0]
        return MartsMaintenance(database, before, before, skipped=f"file in use: {reason}")
    after = database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return MartsMaintenance(database, before, after)


def existing_tables(lakehouse: Lakehouse) -> list[Table]:
    """The catalogue's tables (cdp/tables.py) that exist in this lakehouse, in its order."""
    from cdp.tables import catalogue

    return [spec.table for spec in catalogue() if lakehouse.exists(spec.table)]


def maintain(settings: Settings, progress: Progress | None = None) -> MaintenanceResult:
    """Maintain every existing table of the catalogue, then the marts file, holding the
    workspace lock. Every table's retention is checked before any is touched, so a refusal
    (RetentionTooShort) leaves the lakehouse as it was."""
    from cdp.pipeline import lakehouse_of, locked

    say = progress or (lambda _message: None)
    retention = settings.vacuum_retention_hours
    result = MaintenanceResult(retention)
    with locked(settings):
        lakehouse = lakehouse_of(settings)
        tables = existing_tables(lakehouse)
        explicit = retention_is_explicit(settings)
        below = {t: check_retention(t, lakehouse.delta(t), retention, explicit) for t in tables}
        for table in tables:
            say(f"maintaining {table}")
            result.tables.append(maintain_table(lakehouse, table, retention, below[table]))
        say(f"checkpointing {settings.marts_db}")
        result.marts = checkpoint_marts(settings.marts_db)
    return result
