"""The marts: `dbt build` of ``dbt_project/`` on DuckDB, as one pipeline step.

dbt runs in this process through its programmatic runner (``dbtRunner``), with the settings
handed over as the environment variables the project's profile reads. A plain task calling dbt
was chosen over astronomer-cosmos: one Airflow task per build keeps the DAG small and the build
atomic (dbt orders models itself and stops downstream models on a failure), and the same call
serves the CLI, the demo and the tests without Airflow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cdp.config import Settings
from cdp.lakehouse import SEGMENT_MEMBERSHIP, Lakehouse
from cdp.mart_rules import load_vars

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
RULES_DIR = DBT_PROJECT / "config"
Progress = Callable[[str], None]


class MartsBuildFailed(RuntimeError):
    """dbt reported failing models or tests; the message lists them."""


@dataclass
class MartsResult:
    as_of: str | None
    database: Path
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"marts: {len(self.models)} models, {self.passed} nodes passed, "
                f"{len(self.failed)} failed -> {self.database}")


def delta_extension() -> Path:
    """The DuckDB delta extension shipped in the ``duckdb-extension-delta`` wheel."""
    import duckdb
    import duckdb_extension_delta

    root = Path(duckdb_extension_delta.__file__).parent / "extensions"
    path = root / f"v{duckdb.__version__}" / "delta.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the delta extension for DuckDB {duckdb.__version__} "
                                "is missing; reinstall with constraints.txt")
    return path


def environment(settings: Settings) -> dict[str, str]:
    """The variables ``dbt_project/profiles.yml`` and the sources read."""
    return {"CDP_MARTS_DB": str(settings.marts_db),
            "CDP_LAKEHOUSE": str(settings.lakehouse_dir),
            "CDP_DUCKDB_DELTA_EXTENSION": str(delta_extension()),
            "CDP_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit}


@contextmanager
def _environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _release_database() -> None:
    """dbt-duckdb keeps its DuckDB instance open for the life of the process; the file then
    cannot be opened read-only here nor at all by another process. dbt reopens it next run."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def dbt_args(settings: Settings, command: list[str], as_of: str | None = None,
             select: str | None = None) -> list[str]:
    work = settings.workspace / "dbt"
    args = [*command, "--quiet", "--project-dir", str(DBT_PROJECT),
            "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    exported = Lakehouse(settings.lakehouse_dir).exists(SEGMENT_MEMBERSHIP)
    variables = {**load_vars(RULES_DIR), "has_segment_exports": exported,
                 **({"as_of": as_of} if as_of else {})}
    args += ["--vars", json.dumps(variables, default=str)]
    if select:
        args += ["--select", select]
    return args


def run_dbt(settings: Settings, command: list[str], as_of: str | None = None,
            select: str | None = None, progress: Progress | None = None) -> MartsResult:
    """Run a dbt command (``["build"]``, ``["docs", "generate"]``) against the workspace."""
    from dbt.cli.main import dbtRunner

    settings.marts_db.parent.mkdir(parents=True, exist_ok=True)
    result = MartsResult(as_of, settings.marts_db)

    def on_event(event) -> None:
        if progress and event.info.name == "LogModelResult":
            progress(f"dbt: {event.data.description} {event.data.status}")

    with _environment(environment(settings)):
        try:
            outcome = dbtRunner(callbacks=[on_event]).invoke(
                dbt_args(settings, command, as_of, select))
        finally:
            _release_database()
    name = " ".join(command)
    if outcome.exception is not None:
        raise MartsBuildFailed(f"dbt {name} failed: {outcome.exception}")
    for node in getattr(outcome.result, "results", None) or []:
        status = str(node.status)
        if status in ("error", "fail"):
            result.failed.append(f"{node.node.unique_id}: {node.message}")
        else:
            result.passed += 1
        if node.node.resource_type == "model":
            result.models.append(node.node.name)
    if result.failed or not outcome.success:
        raise MartsBuildFailed(f"dbt {name}: {len(result.failed)} node(s) failed\n  "
                               + "\n  ".join(result.failed))
    return result
