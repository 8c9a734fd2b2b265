"""Entry points for orchestrators: load settings, run one step, return a small summary.

Airflow tasks call these. Each returns plain JSON-serialisable data (it becomes the task's
XCom and log line) and raises on failure, so the orchestrator's retry and stop rules apply.
Each keeps the libraries it runs quiet (``quiet_libraries``), so a task's log is the step's
own progress and summary.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cdp import maintenance, pipeline
from cdp.config import ConfigError, load_settings
from cdp.run_dates import ExportDecision, business_date

log = logging.getLogger(__name__)

#: loggers that write INFO lines a task log does not need: the offline data docs (one line per
#: CDN asset left out of each page). Warnings still show. Great Expectations, 211 of a bronze
#: gate's 228 lines while importing, is quieted where it is imported (cdp.quality.gx.import_gx).
CHATTY_LOGGERS = ("cdp.quality.offline_docs",)


def quiet_libraries() -> None:
    """Chatty loggers at WARNING."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def business_day(logical_date: datetime | None, run_after: datetime, dag_timezone: str) -> str:
    """The business day (ISO date) a DAG run processes (see ``cdp.run_dates``), once the
    settings are known to count days in the DAG's time zone."""
    source_timezone = load_settings().source_timezone
    if source_timezone != dag_timezone:
        raise ConfigError(
            f"the DAG schedules days in {dag_timezone} but the settings' source_timezone "
            f"(CDP_SOURCE_TIMEZONE) is {source_timezone}: business days would be off by the "
            "difference; set both to the same zone"
        )
    return business_date(logical_date, run_after, dag_timezone).isoformat()


def ingest(through_date: str | None = None) -> dict:
    """Land the files delivered through ``through_date`` (all when None) in bronze."""
    quiet_libraries()
    result = pipeline.ingest(load_settings(), through_date=through_date, progress=log.info)
    return {
        "files_loaded": len(result.by_status("loaded")),
        "rows_in": result.rows_in,
        "loaded": result.loaded,
        "quarantined": result.quarantined,
    }


def standardise() -> dict:
    """Apply the pending bronze batches to silver."""
    quiet_libraries()
    outcomes = pipeline.standardise(load_settings(), progress=log.info)
    return {
        o.table: {"source_rows": o.source_rows, "inserted": o.inserted, "superseded": o.superseded}
        for o in outcomes
    }


def resolve_identity(force: bool = False, full: bool = False) -> dict:
    """OneID over silver; ``force`` re-solves even when silver and the rules are unchanged,
    ``full`` the whole graph rather than the people whose records changed."""
    quiet_libraries()
    outcome = pipeline.resolve_identity(load_settings(), progress=log.info, force=force, full=full)
    if outcome is None:
        return {"people": 0}
    return {
        "run_id": outcome.run_id,
        "engine": outcome.engine,
        "identifiers": outcome.nodes,
        "links": outcome.links,
        "people": outcome.people,
        "changes": outcome.changes,
    }


def build_marts(as_of: str | None = None, full_refresh: bool = False) -> dict:
    """dbt build of the marts as of ``as_of`` (default: the last day with data); every mart
    rebuilt from all history with ``full_refresh``."""
    quiet_libraries()
    result = pipeline.build_marts(
        load_settings(), as_of=as_of, progress=log.info, full_refresh=full_refresh
    )
    return {
        "as_of": as_of,
        "models": len(result.models),
        "passed": result.passed,
        "database": str(result.database),
    }


def export_segments(decision: ExportDecision) -> dict:
    """Export the segments scheduled daily when ``decision`` says so; for a run of a past day
    nothing is exported nor recorded. The reason is logged and returned either way."""
    quiet_libraries()
    log.info("%s", decision.reason)
    if not decision.export:
        return {"exported": False, "reason": decision.reason, "segments": {}}
    results = pipeline.export_segments(load_settings(), progress=log.info)
    return {
        "exported": True,
        "reason": decision.reason,
        "segments": {
            r.segment: {
                "run_id": r.run_id,
                "as_of": str(r.as_of),
                "exported": r.manifest["counts"]["exported"],
            }
            for r in results
        },
    }


def run_journeys(decision: ExportDecision) -> dict:
    """Advance the journeys as of the marts; they send only when ``decision`` exports (the
    newest run of the DAG), as the segment exports do. Each journey's summary is the task's
    log."""
    quiet_libraries()
    log.info("%s", decision.reason)
    runs = pipeline.run_journeys(load_settings(), progress=log.info, send=decision.export)
    for run in runs:
        log.info("%s", run.summary())
    return {
        "sent": decision.export,
        "reason": decision.reason,
        "journeys": {run.journey: run.summary() for run in runs},
    }


def check(layer: str, full: bool = False) -> dict:
    """The quality gate of ``layer`` (every row with ``full``); its summary is the task's
    log."""
    quiet_libraries()
    result = pipeline.check(load_settings(), layer, full=full)
    log.info("%s", result.summary())
    return {"layer": layer, "success": result.success}


def maintain() -> dict:
    """Table maintenance (``cdp maintain``): per table, files before and after, bytes removed."""
    quiet_libraries()
    result = maintenance.maintain(load_settings(), progress=log.info)
    return {
        t.table: {
            "files_before": t.files_before,
            "files_after": t.files_after,
            "bytes_removed": t.bytes_removed,
            "version": t.version_after,
        }
        for t in result.tables
    }
