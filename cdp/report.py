"""Terminal output: progress while work runs and tables of what it did."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

# Piped output (CI logs, `| tee`) would otherwise wrap tables at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 130)
err_console = Console(stderr=True)
_started = time.monotonic()


def say(message: str) -> None:
    """One progress line, prefixed with the seconds since the command started."""
    console.print(f"[dim]{time.monotonic() - _started:7.1f}s[/dim] {message}", highlight=False)


def error(message: str) -> None:
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False)


@contextmanager
def progress_bar() -> Iterator:
    """Yield ``advance(stage, done, total)`` that drives one bar per stage."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield advance


def _table(title: str, *columns: str) -> RichTable:
    table = RichTable(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def show_ingest(result) -> None:
    table = _table("Bronze ingest", "channel", "new files", "skipped", "rows in", "loaded",
                   "quarantined")
    channels = sorted({f.channel for f in result.files})
    for channel in channels:
        files = [f for f in result.files if f.channel == channel]
        loaded = [f for f in files if f.status == "loaded"]
        table.add_row(channel, str(len(loaded)), str(len(files) - len(loaded)),
                      f"{sum(f.rows_in for f in loaded):,}", f"{sum(f.loaded for f in loaded):,}",
                      f"{sum(f.quarantined for f in loaded):,}")
    table.add_row("[bold]total", str(len(result.by_status("loaded"))),
                  str(len(result.files) - len(result.by_status("loaded"))),
                  f"{result.rows_in:,}", f"{result.loaded:,}", f"{result.quarantined:,}")
    console.print(table)
    duplicates = result.by_status("duplicate")
    for f in duplicates:
        console.print(f"  re-delivered copy skipped: {f.source_file} (same bytes as "
                      f"{f.duplicate_of})", highlight=False)
    show_reasons(result.quarantine_reasons)


def show_reasons(reasons: Counter) -> None:
    if not reasons:
        return
    table = _table("Quarantined rows by reason", "channel", "reason", "rows")
    for (channel, reason), count in sorted(reasons.items()):
        table.add_row(channel, reason, f"{count:,}")
    console.print(table)


def show_silver(outcomes) -> None:
    table = _table("Silver upserts (MERGE INTO)", "table", "source rows", "superseded",
                   "inserted", "existing keys", "rows now")
    for o in outcomes:
        table.add_row(o.table, f"{o.source_rows:,}", f"{o.superseded:,}", f"{o.inserted:,}",
                      f"{o.matched:,}", f"{o.merge.rows_after:,}")
    console.print(table)


def show_gate(result) -> None:
    console.print(result.summary(), highlight=False)


def show_tables(lakehouse) -> None:
    table = _table(f"Tables in {lakehouse.root}", "table", "rows", "location")
    for t in lakehouse.tables():
        table.add_row(str(t), f"{lakehouse.count(t):,}", str(lakehouse.path(t)))
    console.print(table)


def show_quarantine(lakehouse, channel: str | None, limit: int) -> None:
    from spark_jobs.ingest import QUARANTINE

    if not lakehouse.exists(QUARANTINE):
        console.print("no quarantined rows")
        return
    rows = lakehouse.to_arrow(QUARANTINE, ["channel", "reason", "_source_file", "_line_no",
                                           "raw"]).to_pylist()
    rows = sorted((r for r in rows if channel is None or r["channel"] == channel),
                  key=lambda r: (r["channel"], r["_source_file"], r["_line_no"]))
    table = _table(f"Quarantined rows ({len(rows):,})", "file:line", "reason", "raw")
    for r in rows[:limit]:
        table.add_row(f"{r['_source_file']}:{r['_line_no']}", r["reason"], r["raw"][:80])
    console.print(table)


def show_run(summary) -> None:
    show_ingest(summary.ingest)
    show_silver(summary.silver)
    for gate in summary.gates:
        show_gate(gate)
