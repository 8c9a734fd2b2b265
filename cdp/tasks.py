"""Entry points for orchestrators: load settings, run one step, return a small summary.

Airflow tasks call these. Each returns plain JSON-serialisable data (it becomes the task's
XCom and log line) and raises on failure, so the orchestrator's retry and stop rules apply.
"""

from __future__ import annotations

import logging

from cdp import maintenance, pipeline
from cdp.config import load_settings

log = logging.getLogger(__name__)


def ingest(through_date: str | None = None) -> dict:
    result = pipeline.ingest(load_settings(), through_date=through_date, progress=log.info)
    return {
        "files_loaded": len(result.by_status("loaded")),
        "rows_in": result.rows_in,
        "loaded": result.loaded,
        "quarantined": result.quarantined,
    }


def standardise() -> dict:
    outcomes = pipeline.standardise(load_settings(), progress=log.info)
    return {
        o.table: {"source_rows": o.source_rows, "inserted": o.inserted, "superseded": o.superseded}
        for o in outcomes
    }


def resolve_identity() -> dict:
    outcome = pipeline.resolve_identity(load_settings(), progress=log.info)
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


def build_marts(as_of: str | None = None) -> dict:
    result = pipeline.build_marts(load_settings(), as_of=as_of, progress=log.info)
    return {
        "as_of": as_of,
        "models": len(result.models),
        "passed": result.passed,
        "database": str(result.database),
    }


def export_segments() -> dict:
    results = pipeline.export_segments(load_settings(), progress=log.info)
    return {
        r.segment: {
            "run_id": r.run_id,
            "as_of": str(r.as_of),
            "exported": r.manifest["counts"]["exported"],
        }
        for r in results
    }


def check(layer: str) -> dict:
    result = pipeline.check(load_settings(), layer)
    log.info("%s", result.summary())
    return {"layer": layer, "success": result.success}


def maintain() -> dict:
    """Table maintenance (``cdp maintain``): per table, files before and after, bytes removed."""
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
