"""Erasure outside the tables: the files the platform derived from the data, and the landing
zone it received.

Derived files that may sample a person's values are deleted when they hold one: Great
Expectations' data-docs pages and stored validation results (a failing expectation samples
unexpected values), dbt's logs and its ``run_results.json``. They are reports of past runs; the
next gate or build writes them anew.

The landing zone is kept as delivered (see README, Privacy): the files are what the platforms
sent, identified by their SHA-256, the ground the ingest accounting and lineage stand on, and
a rewritten file would look new to ingest. The tombstone stops every later use of the person's
lines there, and the report lists the files and how many of their lines each holds.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from cdp.config import Settings
from cdp.lakehouse import Lakehouse, Table
from cdp.tables import INGEST_LOG, QUARANTINE

#: files of dbt's target folder that carry results (the rest is compiled SQL and the parse)
DBT_RESULT_FILES = ("run_results.json", "sources.json")


def derived_roots(settings: Settings) -> list[Path]:
    """Folders and files derived from the data that may hold a sampled value."""
    from cdp.marts import target_dir

    docs = settings.reports_dir / "data_docs"
    return [
        docs,
        docs.with_name(f"{docs.name}_validation_results"),
        settings.workspace / "dbt" / "logs",
        *(target_dir(settings) / name for name in DBT_RESULT_FILES),
    ]


def _files(roots: list[Path]) -> list[Path]:
    found = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found += sorted(p for p in root.rglob("*") if p.is_file())
    return found


def holding(settings: Settings, terms: set[str]) -> list[Path]:
    """The derived files whose text holds one of ``terms``."""
    wanted = [t.encode() for t in sorted(terms) if t]
    return [p for p in _files(derived_roots(settings)) if any(t in p.read_bytes() for t in wanted)]


def remove_derived(settings: Settings, terms: set[str]) -> dict[str, int]:
    """Delete the derived files holding one of ``terms``; bytes removed per file (relative to
    the workspace)."""
    removed = {}
    for path in holding(settings, terms):
        removed[path.relative_to(settings.workspace).as_posix()] = path.stat().st_size
        path.unlink()
    return removed


def landing_lines(lakehouse: Lakehouse, person_plan: list[tuple[Table, pa.Table]]) -> dict:
    """Landing files still holding lines of the person (kept by policy): lines per file, from
    the bronze and quarantine rows the erasure found (their batch is their file)."""
    batches = Counter()
    for table, rows in person_plan:
        if (table.layer == "bronze" or table == QUARANTINE) and "_batch_id" in rows.column_names:
            batches.update(rows["_batch_id"].to_pylist())
    if not batches or not lakehouse.exists(INGEST_LOG):
        return {}
    log = lakehouse.to_arrow(INGEST_LOG, ["batch_id", "source_file"]).to_pylist()
    file_of = {r["batch_id"]: r["source_file"] for r in log if r["batch_id"]}
    lines = Counter()
    for batch, count in batches.items():
        lines[file_of.get(batch, f"batch {batch}")] += count
    return dict(sorted(lines.items()))
