"""Incremental marts builds: whether a build recomputes everything or only what changed.

A build after an earlier one is incremental: the fact, activity and timeline models
(``materialized='incremental'``) recompute only the silver rows applied since the previous
build, dated in the days the as-of day moved over, or carrying an identifier whose person
OneID changed (``dbt_project/macros/incremental.sql``). What the previous build saw is kept
in the marts file itself (``intermediate.marts_build_state``), so it travels with the file:
the build works on a copy of it, and a failed build leaves both unchanged.

A build is a full refresh (every model from all history) on demand, for a first build, when
the project or the mart rules changed since the previous build (their fingerprint differs),
and when the as-of day goes back (incremental models hold rows up to the previous as-of day).
OneID changes need no full refresh: the people they touch are re-keyed (see
``int_identity__touched``), which costs in proportion to the people changed, whereas OneID
merges people on every delivery, so a refresh on each change would be one every day.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cdp.sql_literals import STANDARD

STATE_TABLE = "intermediate.marts_build_state"
#: the parts of the dbt project whose change changes what models compute
PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds")
SILVER_APPLIED_DIR = ("meta", "silver_applied")
#: the silver tables and business-date columns whose last day is a build's default as-of day
DATED_SILVER = (("orders", "order_date"), ("events", "event_date"))


@dataclass(frozen=True)
class BuildState:
    """What a build saw: the project's fingerprint, its as-of day and the last silver batch
    applied (``meta.silver_applied.applied_at``) when it started."""

    fingerprint: str
    as_of: date
    silver_applied_through: str | None


@dataclass(frozen=True)
class Plan:
    """How a build runs: full or incremental (since ``previous``), and why."""

    full_refresh: bool
    reason: str
    previous: BuildState | None = None

    def environment(self) -> dict[str, str]:
        """The variables the incremental models read (``macros/incremental.sql``)."""
        incremental = not self.full_refresh and self.previous is not None
        return {
            "CDP_MARTS_SINCE": (self.previous.silver_applied_through or "") if incremental else "",
            "CDP_MARTS_PREVIOUS_AS_OF": self.previous.as_of.isoformat() if incremental else "",
        }


def fingerprint(project_dir: Path, variables: dict) -> str:
    """SHA-256 of the mart rules (the dbt vars) and every file of the dbt project that
    shapes the models (``PROJECT_PARTS``), by relative path and content."""
    digest = hashlib.sha256(json.dumps(variables, sort_keys=True, default=str).encode())
    for part in PROJECT_PARTS:
        root = Path(project_dir) / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(project_dir).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def read_state(database: Path) -> BuildState | None:
    """The state the previous build left in ``database``, or None (no file, no state)."""
    import duckdb

    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'intermediate' AND table_name = 'marts_build_state'"
        ).fetchone()[0]
        if not found:
            return None
        row = con.execute(
            f"SELECT fingerprint, as_of, silver_applied_through FROM {STATE_TABLE}"
        ).fetchone()
    return BuildState(*row) if row else None


def write_state(database: Path, state: BuildState) -> None:
    """Record ``state`` in ``database`` (one row, replacing the previous build's)."""
    import duckdb

    with duckdb.connect(str(database)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        con.execute(
            f"CREATE OR REPLACE TABLE {STATE_TABLE} "
            "(fingerprint VARCHAR, as_of DATE, silver_applied_through VARCHAR)"
        )
        con.execute(
            f"INSERT INTO {STATE_TABLE} VALUES (?, ?, ?)",
            [state.fingerprint, state.as_of, state.silver_applied_through],
        )


def silver_applied_through(lakehouse_dir: Path) -> str | None:
    """The time the last bronze batch was applied to silver (ISO, UTC), or None."""
    from deltalake import DeltaTable

    path = Path(lakehouse_dir).joinpath(*SILVER_APPLIED_DIR)
    if not (path / "_delta_log").is_dir():
        return None
    column = DeltaTable(str(path)).to_pyarrow_table(columns=["applied_at"]).column(0)
    latest = max((v for v in column.to_pylist() if v is not None), default=None)
    return latest.isoformat() if latest else None


def last_data_day(lakehouse_dir: Path) -> date | None:
    """The last business day with orders or events in silver, or None: the day a build
    without ``--as-of`` is computed as of (``int_as_of``, which reads the same columns)."""
    import duckdb

    from cdp.marts import delta_extension

    days = []
    with duckdb.connect() as con:
        con.execute(f"LOAD {STANDARD.string(str(delta_extension()))}")
        for table, column in DATED_SILVER:
            path = Path(lakehouse_dir) / "silver" / table
            if (path / "_delta_log").is_dir():
                source = f"delta_scan({STANDARD.string(str(path))})"
                days.append(con.execute(f"SELECT max({column}) FROM {source}").fetchone()[0])
    return max((day for day in days if day is not None), default=None)


def plan(
    previous: BuildState | None,
    current_fingerprint: str,
    as_of: date | None,
    has_applied_batches: bool,
    full_refresh: bool,
) -> Plan:
    """Full refresh or incremental, and why. ``as_of``: the day the build is computed as of
    (the ``--as-of`` day, else ``last_data_day``), None when silver holds no dated rows."""
    if full_refresh:
        return Plan(True, "full refresh requested", previous)
    if previous is None:
        return Plan(True, "first build (no previous build state in the marts file)")
    if previous.fingerprint != current_fingerprint:
        return Plan(
            True, "the dbt project or the mart rules changed since the last build", previous
        )
    if as_of is not None and as_of < previous.as_of:
        return Plan(True, f"as of {as_of}, before the last build's day {previous.as_of}", previous)
    if not has_applied_batches or previous.silver_applied_through is None:
        return Plan(True, "no silver batches recorded by the last build", previous)
    return Plan(False, f"incremental since the build as of {previous.as_of}", previous)
