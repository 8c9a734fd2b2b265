"""The marts: `dbt build` of the dbt project (the settings' ``dbt_project_dir``, by default
the one installed with the package) on DuckDB, as one pipeline step.

dbt runs in this process through its programmatic runner (``dbtRunner``), with the settings
handed over as the environment variables the project's profile reads. A plain task calling dbt
was chosen over astronomer-cosmos: one Airflow task per build keeps the DAG small and the build
atomic (dbt orders models itself and stops downstream models on a failure), and the same call
serves the CLI, the demo and the tests without Airflow.

dbt builds the restricted file (``restricted.duckdb``, mode 0600: personal columns in clear);
after a successful build ``publish_files`` derives the analysts' file ``cdp.duckdb`` from it
(personal columns hashed, no views onto silver: ``cdp.privacy.analyst_file``).

A build never writes the file readers open: it builds a copy beside it
(``restricted.duckdb.building``, a copy so that incremental history and models left out by
``--select`` carry over) and renames the copy over ``restricted.duckdb`` only when dbt passes. A
failed or killed build leaves the previous marts in place; the next build removes its copy.
Readers keep the file they opened until they close it (a rename does not touch an open file).

Production builds run the models and their data tests; the project's dbt unit tests (fixed
inputs, expected rows) check the SQL itself, which does not change from one day to the next, so
they run on demand (``unit_tests=True``, ``cdp marts build --unit-tests``) and in the test suite.

dbt parses the project in seconds and reuses that parse (``partial_parse.msgpack`` in the
workspace's ``dbt/target``) only while its inputs are unchanged: the command-line variables
and the connection settings. So what changes from run to run travels in environment variables
(the as-of day, whether segment exports exist), which dbt tracks per file, and dbt runs in the
workspace with the paths relative to it, so a copied or moved workspace keeps its parse too.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cdp import dbt_parse_cache, marts_incremental
from cdp.config import Settings
from cdp.lakehouse import Lakehouse
from cdp.mart_rules import load_vars
from cdp.privacy import analyst_file
from cdp.tables import JOURNEY_EVENTS, SEGMENT_MEMBERSHIP

#: dbt commands that write the marts: they build into a copy that replaces the file on success
WRITING_COMMANDS = ("build", "run", "seed", "snapshot")
#: what a production build leaves out (see the module doc)
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
Progress = Callable[[str], None]


class MartsBuildFailed(RuntimeError):
    """dbt reported failing models or tests; the message lists them."""


class MartsQueryError(ValueError):
    """A query on the marts file failed; the message is one sentence with DuckDB's reason."""


@dataclass
class MartsResult:
    as_of: str | None
    database: Path
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    #: what the reader should know about the build (e.g. why its as-of day is today)
    note: str | None = None

    def summary(self) -> str:
        day = f" as of {self.as_of}" if self.as_of else ""
        text = (
            f"marts{day}: {len(self.models)} models, {self.passed} nodes passed, "
            f"{len(self.failed)} failed -> {self.database}"
        )
        return f"{text}\n  {self.note}" if self.note else text


def delta_extension() -> Path:
    """The DuckDB delta extension shipped in the ``duckdb-extension-delta`` wheel."""
    import duckdb
    import duckdb_extension_delta

    root = Path(duckdb_extension_delta.__file__).parent / "extensions"
    path = root / f"v{duckdb.__version__}" / "delta.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: the delta extension for DuckDB {duckdb.__version__} "
            "is missing; reinstall with constraints.txt"
        )
    return path


def environment(
    settings: Settings, database: Path | None = None, as_of: str | None = None
) -> dict[str, str]:
    """The variables ``dbt_project/profiles.yml``, the sources and the models read; dbt
    writes ``database`` (default: the marts file). Paths are relative to the workspace, where
    dbt runs (``in_workspace``)."""
    return {
        "CDP_MARTS_DB": _relative(database or settings.restricted_marts_db, settings.workspace),
        "CDP_LAKEHOUSE": _relative(settings.lakehouse_dir, settings.workspace),
        "CDP_DUCKDB_DELTA_EXTENSION": str(delta_extension()),
        "CDP_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "CDP_AS_OF": as_of or "",
        "CDP_HAS_SEGMENT_EXPORTS": str(
            Lakehouse(settings.lakehouse_dir).exists(SEGMENT_MEMBERSHIP)
        ).lower(),
        "CDP_HAS_JOURNEY_RUNS": str(
            Lakehouse(settings.lakehouse_dir).exists(JOURNEY_EVENTS)
        ).lower(),
    }


def _relative(path: Path, workspace: Path) -> str:
    return os.path.relpath(Path(path).resolve(), Path(workspace).resolve())


@contextmanager
def in_workspace(settings: Settings) -> Iterator[None]:
    """Run dbt with the workspace as the working directory (and the variables of
    ``environment`` relative to it), restoring both afterwards.

    Python started as ``python -c`` or ``python -m`` has ``''`` on ``sys.path``: the working
    directory, whichever it is at the time of an import. dbt imports every top-level module
    named ``dbt_*`` it finds on ``sys.path`` (its plugin discovery), which from the repository
    root includes the resource package ``dbt_project``, listed from the root but imported after
    the change into the workspace: "No module named 'dbt_project'". So ``''`` stands for the
    directory it meant before the change, for as long as dbt runs."""
    start = os.getcwd()
    saved = sys.path[:]
    sys.path[:] = [entry or start for entry in sys.path]
    try:
        with contextlib.chdir(settings.workspace):
            yield
    finally:
        sys.path[:] = saved


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


def _companions(database: Path) -> list[Path]:
    """The file and its write-ahead log (DuckDB keeps uncheckpointed changes there)."""
    return [database, database.with_name(database.name + ".wal")]


def _remove(database: Path) -> None:
    for path in _companions(database):
        path.unlink(missing_ok=True)


def remove_leftover_builds(database: Path) -> list[Path]:
    """Delete the copies killed builds left beside ``database``; returns what was removed.
    Builds of one workspace never overlap (the workspace lock), so any copy is a leftover."""
    leftovers = sorted(database.parent.glob(f"{database.name}.building*"))
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def _checkpoint(database: Path) -> None:
    """Fold a write-ahead log left by the build into the file, so one rename publishes all."""
    import duckdb

    if _companions(database)[1].exists():
        with duckdb.connect(str(database)) as con:
            con.execute("CHECKPOINT")


@contextmanager
def staged_database(database: Path) -> Iterator[Path]:
    """Yield a copy of ``database`` (an empty path when there is none yet) to build into.
    When the block ends normally the copy replaces ``database`` in one rename; when it raises
    the copy is deleted and ``database`` is left as it was."""
    database.parent.mkdir(parents=True, exist_ok=True)
    remove_leftover_builds(database)
    # One name, not one per process: builds of a workspace never overlap (the workspace lock),
    # and dbt reuses its parse only while the database path it was parsed with is unchanged.
    staged = database.with_name(f"{database.name}.building")
    for source, target in zip(_companions(database), _companions(staged), strict=True):
        if source.exists():
            shutil.copy2(source, target)
    try:
        yield staged
        _checkpoint(staged)
    except BaseException:
        _remove(staged)
        raise
    os.replace(staged, database)
    # the live file's log belonged to the previous file: it must not be replayed on the new one
    _companions(database)[1].unlink(missing_ok=True)


def rules_dir(settings: Settings) -> Path:
    """The business-rule files of the marts: ``config/`` of the settings' dbt project."""
    return settings.dbt_project_dir / "config"


def _kept(database: Path) -> str:
    if database.exists():
        return f"the previous marts are kept in {database}"
    return f"no marts were written to {database}"


def target_dir(settings: Settings) -> Path:
    """dbt's target folder (compiled SQL, run results, the saved parse) in the workspace."""
    return settings.workspace / "dbt" / "target"


def dbt_args(settings: Settings, command: list[str], select: str | None = None) -> list[str]:
    """The arguments of a dbt ``command`` on the settings' project; the variables carry the
    business rules and the source time zone (business dates are days in it), what changes
    from run to run is in ``environment``."""
    project = str(settings.dbt_project_dir)
    # No usage statistics: dbt would write its tracking cookie beside profiles.yml, in the
    # installed package, and a platform of personal data sends nothing out.
    args = [
        *command,
        "--quiet",
        "--no-send-anonymous-usage-stats",
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(target_dir(settings)),
        "--log-path",
        str(settings.workspace / "dbt" / "logs"),
    ]
    args += ["--vars", json.dumps(_variables(settings), default=str)]
    if select:
        args += ["--select", select]
    return args


def _variables(settings: Settings) -> dict:
    return {**load_vars(rules_dir(settings)), "source_timezone": settings.source_timezone}


def run_dbt(
    settings: Settings,
    command: list[str],
    as_of: str | None = None,
    select: str | None = None,
    progress: Progress | None = None,
    unit_tests: bool = False,
    full_refresh: bool = False,
) -> MartsResult:
    """Run a dbt command (``["build"]``, ``["docs", "generate"]``) against the workspace.
    Commands that write build into a copy of the marts file that replaces it when dbt passes
    (see the module doc); on a failure MartsBuildFailed also says the previous file is kept.
    A build leaves the dbt unit tests out unless ``unit_tests``; it is incremental unless
    ``full_refresh`` or ``cdp.marts_incremental.plan`` decides otherwise."""
    restricted = settings.restricted_marts_db
    restricted.parent.mkdir(parents=True, exist_ok=True)
    if command[0] == "build" and not unit_tests:
        command = [*command, *WITHOUT_UNIT_TESTS]
    if command[0] not in WRITING_COMMANDS:
        return _invoke(settings, command, restricted, as_of, select, progress)
    try:
        with staged_database(restricted) as staged:
            build = _plan(settings, staged, as_of, full_refresh, progress)
            full = ["--full-refresh"] if build.full_refresh else []
            with _environment(build.environment()):
                result = _invoke(settings, [*command, *full], staged, as_of, select, progress)
            if select is None and "int_as_of" in result.models:
                _record_state(settings, staged)
            analyst_file.restrict(staged)  # before the rename: never readable by others
    except MartsBuildFailed as exc:
        raise MartsBuildFailed(f"{exc}\n{_kept(restricted)}") from exc
    publish_files(settings, progress)
    _describe_as_of(result, settings.marts_db, settings.source_timezone)
    return result


def _plan(
    settings: Settings,
    staged: Path,
    as_of: str | None,
    full_refresh: bool,
    progress: Progress | None,
) -> marts_incremental.Plan:
    """Full or incremental (``cdp.marts_incremental``), said through ``progress``."""
    build = marts_incremental.plan(
        marts_incremental.read_state(staged),
        _fingerprint(settings),
        _as_of_day(settings, as_of),
        marts_incremental.silver_applied_through(settings.lakehouse_dir) is not None,
        full_refresh,
    )
    if progress:
        progress(f"marts: {build.reason}")
    return build


def _as_of_day(settings: Settings, as_of: str | None) -> date | None:
    """The day a build is computed as of, known before dbt runs: a build without ``--as-of``
    after one with a later day must see that its day went back."""
    if as_of:
        return date.fromisoformat(as_of)
    return marts_incremental.last_data_day(settings.lakehouse_dir)


def _fingerprint(settings: Settings) -> str:
    return marts_incremental.fingerprint(settings.dbt_project_dir, _variables(settings))


def _record_state(settings: Settings, staged: Path) -> None:
    """What this build saw, for the next build to start from (read before dbt ran would
    miss nothing: the workspace lock keeps silver still during a build)."""
    import duckdb

    with duckdb.connect(str(staged), read_only=True) as con:
        (built_as_of,) = con.execute("SELECT as_of FROM intermediate.int_as_of").fetchone()
    marts_incremental.write_state(
        staged,
        marts_incremental.BuildState(
            _fingerprint(settings),
            built_as_of,
            marts_incremental.silver_applied_through(settings.lakehouse_dir),
        ),
    )


def publish_files(settings: Settings, progress: Progress | None = None) -> None:
    """After a successful build: the analysts' file derived from the restricted one (personal
    columns hashed, no views onto silver; ``cdp.privacy.analyst_file``)."""
    published = analyst_file.publish_files(settings)
    if progress:
        progress(published.summary())


def _describe_as_of(result: MartsResult, database: Path, tz: str) -> None:
    """The day the marts were built as of (int_as_of), and why when silver had no data
    (business days are days in the source time zone ``tz``)."""
    import duckdb

    if "int_as_of" not in result.models:  # a --select build that left it out: not this build's
        return
    with duckdb.connect(str(database), read_only=True) as con:
        as_of, last_data_day = con.execute(
            "SELECT as_of, last_data_day FROM intermediate.int_as_of"
        ).fetchone()
    result.as_of = str(as_of)
    if last_data_day is None:
        result.note = (
            f"silver holds no orders or events yet: the marts are built as of "
            f"today, {as_of} in {tz}, with no activity in them"
        )


def _invoke(
    settings: Settings,
    command: list[str],
    database: Path,
    as_of: str | None,
    select: str | None,
    progress: Progress | None,
) -> MartsResult:
    """dbt ``command`` writing ``database``; MartsBuildFailed listing what failed."""
    from dbt.cli.main import dbtRunner

    result = MartsResult(as_of, settings.marts_db)

    def on_event(event) -> None:
        if progress and event.info.name == "LogModelResult":
            progress(f"dbt: {event.data.description} {event.data.status}")

    target = target_dir(settings)
    dbt_parse_cache.seed(target, settings.dbt_project_dir)
    with _environment(environment(settings, database, as_of)), in_workspace(settings):
        try:
            outcome = dbtRunner(callbacks=[on_event]).invoke(dbt_args(settings, command, select))
        finally:
            _release_database()
    dbt_parse_cache.keep(target, settings.dbt_project_dir)
    name = " ".join(c for c in command if c not in WITHOUT_UNIT_TESTS)
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
        raise MartsBuildFailed(
            f"dbt {name}: {len(result.failed)} node(s) failed\n  " + "\n  ".join(result.failed)
        )
    return result


def query(database: Path, sql: str, limit: int) -> tuple[list[str], list[tuple]]:
    """Columns and first ``limit`` rows of ``sql`` on the marts file, opened read-only;
    MartsQueryError (one sentence, DuckDB's reason) when DuckDB refuses the query."""
    import duckdb

    if not database.exists():
        raise FileNotFoundError(f"{database}: no marts yet; run `cdp marts build` first")
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            relation = con.sql(sql)
            if relation is None:  # a statement without a result (SET, PRAGMA ...)
                return [], []
            return relation.columns, relation.limit(limit).fetchall()
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MartsQueryError(f"the query on {database} failed: {reason}") from None
