"""The pipeline's steps, callable from the CLI, the Airflow DAG and tests alike.

Each step opens its own Spark session unless one is passed in, so every step also runs as a
separate process (one Airflow task each). Steps are idempotent: they work on what is new
(files not yet ingested, bronze batches not yet applied to silver).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field

from cdp import local_duckdb
from cdp.config import Settings
from cdp.lakehouse import Lakehouse
from cdp.runtime import spark_session
from cdp.tables import ensure
from cdp.workspace_lock import workspace_lock

Progress = Callable[[str], None]


def lakehouse_of(settings: Settings) -> Lakehouse:
    return Lakehouse(settings.lakehouse_dir)


def _session(settings: Settings, spark, memory_pool: bool = False):
    return nullcontext(spark) if spark is not None else spark_session(settings, memory_pool)


def locked(settings: Settings):
    """The workspace's writer lock (see ``cdp.workspace_lock``): every step that writes
    takes it, so two runs on one workspace never interleave."""
    return workspace_lock(settings.workspace, settings.lock_wait_seconds)


@contextmanager
def _writing(settings: Settings, spark, memory_pool: bool = False) -> Iterator:
    """The writer lock, then a Spark session (the given one, or a new one, with Sail's
    bounded memory pool if ``memory_pool``); the step's in-process DuckDB bounded by
    ``duckdb_memory_limit`` (``cdp.local_duckdb``)."""
    with ExitStack() as stack:
        stack.enter_context(locked(settings))
        stack.enter_context(local_duckdb.bounded(settings.duckdb_memory_limit))
        yield stack.enter_context(_session(settings, spark, memory_pool))


def ingest(
    settings: Settings,
    spark=None,
    channels: list[str] | None = None,
    through_date: str | None = None,
    progress: Progress | None = None,
):
    """Land new files of every (or the given) channel in bronze."""
    from identity.rules import load_rules
    from spark_jobs.ingest import run_ingest

    cards = load_rules(settings.identity_rules).member_cards
    with _writing(settings, spark) as session:
        return run_ingest(
            session,
            lakehouse_of(settings),
            settings.landing_dir,
            channels,
            through_date,
            progress,
            tz=settings.source_timezone,
            card_programmes=cards,
        )


def standardise(settings: Settings, spark=None, progress: Progress | None = None):
    """Apply pending bronze batches to the silver tables."""
    from identity.rules import load_rules
    from spark_jobs.standardise import run_standardise

    cards = load_rules(settings.identity_rules).member_cards
    with _writing(settings, spark) as session:
        return run_standardise(
            session, lakehouse_of(settings), progress, cards, tz=settings.source_timezone
        )


def resolve_identity(
    settings: Settings,
    spark=None,
    progress: Progress | None = None,
    force: bool = False,
    full: bool = False,
):
    """Resolve OneIDs from silver: identity graph, components, stable ids, golden records.
    Skipped when silver and the rules are unchanged since the last run, unless ``force``;
    only the people whose silver records changed are re-solved, unless ``full``."""
    import identity
    from identity.rules import load_rules

    rules = load_rules(settings.identity_rules)
    lakehouse = lakehouse_of(settings)
    # Sail's memory pool bounds OneID's rules when the step starts its own session (an
    # Airflow task, `cdp identity resolve`); `cdp run` shares one unbounded session.
    with _writing(settings, spark, memory_pool=True) as session:
        ensure(lakehouse, "silver")
        outcome = identity.resolve(
            session,
            lakehouse,
            rules,
            engine=settings.identity_engine,
            embedded_max_edges=settings.identity_embedded_max_edges,
            progress=progress,
            force=force,
            full=full,
        )
        ensure(lakehouse, "identity")
        return outcome


def build_marts(
    settings: Settings,
    as_of: str | None = None,
    select: str | None = None,
    progress: Progress | None = None,
    unit_tests: bool = False,
    full_refresh: bool = False,
):
    """`dbt build` of the marts into the DuckDB file, as of a business day (default: the last
    day with data): the models and their data tests, and the dbt unit tests if ``unit_tests``.
    Incremental after an earlier build unless ``full_refresh`` (``cdp.marts_incremental``).
    Raises ``MartsBuildFailed`` when a model or a test fails."""
    from cdp.marts import run_dbt

    with locked(settings):
        # The marts read every published table, whichever channels delivered anything.
        ensure(lakehouse_of(settings), "silver", "identity", "gold")
        return run_dbt(
            settings,
            ["build"],
            as_of=as_of,
            select=select,
            progress=progress,
            unit_tests=unit_tests,
            full_refresh=full_refresh,
        )


def export_segments(settings: Settings, progress: Progress | None = None):
    """Export every segment scheduled daily (``schedule: daily`` in the settings'
    ``segments_dir``) as of the marts: audience packs, DMP files and manifest under
    ``<workspace>/exports/``."""
    from cdp.activation.export import export_scheduled

    with locked(settings):
        return export_scheduled(settings, progress=progress)


def run_journeys(
    settings: Settings,
    names: list[str] | None = None,
    progress: Progress | None = None,
    send: bool = True,
):
    """Advance every journey (``journeys_dir``) as of the marts: state and transitions in
    gold, messages exported through suppression and packs (``cdp.journeys.runs``); with
    ``send=False`` (a run of a past day) nothing is exported nor counted as a touch."""
    from cdp.journeys.runs import run_journeys as advance

    with locked(settings):
        return advance(settings, names, progress=progress, send=send)


def check(settings: Settings, layer: str, full: bool = False):
    """Run the quality gate of a layer; raises ``QualityGateFailed`` when it fails.

    The bronze gate checks the batches about to flow into silver (loaded, not yet applied),
    so it gates exactly what the next step would publish; the silver and identity gates the
    rows written since they last passed, or every row with ``full``.
    """
    from cdp.quality import run_gate
    from spark_jobs.standardise import pending_batches

    lakehouse = lakehouse_of(settings)
    if not lakehouse.root.is_dir():
        raise FileNotFoundError(
            f"workspace {settings.workspace} has no lakehouse to check; "
            "run `cdp run` (or `cdp ingest`) first"
        )
    batch_ids = None
    if layer == "bronze":
        batch_ids = sorted(b for ids in pending_batches(lakehouse).values() for b in ids)
    return run_gate(
        lakehouse,
        layer,
        settings.expectations_dir,
        settings.reports_dir / "data_docs",
        batch_ids=batch_ids,
        memory_limit=settings.duckdb_memory_limit,
        full=full,
    )


@dataclass
class RunSummary:
    """What one end-to-end run did."""

    ingest: object = None
    silver: list = field(default_factory=list)
    identity: object = None
    gates: list = field(default_factory=list)
    marts: object = None
    exports: list = field(default_factory=list)
    journeys: list = field(default_factory=list)


def run(
    settings: Settings,
    through_date: str | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> RunSummary:
    """ingest -> bronze gate -> standardise -> silver gate -> OneID -> identity gate (sharing
    one Spark session) -> marts (dbt build, as of the last day delivered) -> daily segment
    exports. Incremental where each step can be; ``full``: OneID re-solved from scratch, a dbt
    full refresh and the gates over every row."""
    from cdp.import_ahead import import_ahead

    say = progress or (lambda _msg: None)
    summary = RunSummary()
    import_ahead()
    with locked(settings):
        _run_steps(settings, summary, through_date, say, full)
    return summary


def _run_steps(
    settings: Settings,
    summary: RunSummary,
    through_date: str | None,
    say: Progress,
    full: bool = False,
) -> None:
    with spark_session(settings) as spark:
        say("ingesting new landing files into bronze")
        summary.ingest = ingest(settings, spark, through_date=through_date, progress=say)
        say("checking bronze quality")
        summary.gates.append(check(settings, "bronze"))
        say("standardising bronze into silver (MERGE)")
        summary.silver = standardise(settings, spark, progress=say)
        say("checking silver quality")
        summary.gates.append(check(settings, "silver", full=full))
        say("resolving OneIDs")
        summary.identity = resolve_identity(settings, spark, progress=say, full=full)
    say("checking identity quality")
    summary.gates.append(check(settings, "identity", full=full))
    say("building the marts (dbt build on DuckDB)")
    summary.marts = build_marts(settings, as_of=through_date, progress=say, full_refresh=full)
    say("exporting the segments scheduled daily")
    summary.exports = export_segments(settings, progress=say)
    say("advancing the journeys")
    summary.journeys = run_journeys(settings, progress=say)
