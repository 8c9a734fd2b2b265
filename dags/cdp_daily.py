"""
### cdp_daily

The platform's daily pipeline: land the channel files delivered through the run's business
day in bronze, gate them, upsert them into silver, gate silver, resolve OneIDs (identity map,
merges and splits, golden records), gate OneID, build the marts as of the business day (dbt on
DuckDB), export the segments scheduled daily (audience packs and DMP files with their manifest).

**Days.** The schedule is midnight in China time with data intervals: the run whose logical
date is 2026-09-05 00:00 (Asia/Shanghai) processes the China day 2026-09-05 and starts once it
is over. A manual run with a logical date processes the day of that date; a manual run without
one (`airflow dags trigger cdp_daily`) processes everything delivered through the China day it
was triggered on. Set `AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai` so that CLI and UI dates
are China days (`cdp.run_dates`).

**Backfills** run one day at a time, oldest first (`airflow backfill create ...
--max-active-runs 1`: a backfill does not take the DAG's `max_active_runs`). Only the newest run
exports: a run for a day that has a later run of this DAG (every day of a backfill but the last,
a re-run of a past day) builds its marts and exports nothing, so no segment is sent and no touch
recorded for a day that is over; `export_segments` says so in its log and return value.

**Params.** `step`: run only that step (the others skip; each step runs after skipped ones).
`full`: rebuild instead of updating (`cdp run --full`): OneID re-solved over the whole graph
even when silver and the rules are unchanged, a dbt full refresh, the silver and identity gates
over every row.

**Assets** (custom `x-cdp://` URIs: the workspace is a setting of the workers, not a path known
when the DAG is parsed). Downstream DAGs schedule on them, e.g.
`schedule=[Asset.ref(name="cdp_marts")]`:

| asset | URI | updated by |
|---|---|---|
| `cdp_silver` | `x-cdp://lakehouse/silver` | `check_silver`: silver passed its gate |
| `cdp_identity` | `x-cdp://lakehouse/identity` | `check_identity`: OneID passed its gate |
| `cdp_marts` | `x-cdp://marts` | `build_marts` (dbt built and tested them) |
| `cdp_exports` | `x-cdp://exports` | `export_segments`, only when it exported |

**Alerts.** A task that fails its last try, and a run not finished 6 hours after it was queued
(a Deadline alert, run by the triggerer), post JSON (dag, task, run, date, error, log URL) to
`CDP_ALERT_WEBHOOK_URL` (`cdp.alerts`); unset, nothing is sent.

Every task calls `cdp.tasks`; nothing is computed here. Each step only works on what is new
(files not yet ingested, batches not yet applied), so re-running a day never duplicates data.
Settings come from the environment of the workers (`CDP_HOME`, `CDP_LANDING`, `SPARK_REMOTE`;
see the README).
"""

from __future__ import annotations

from datetime import date, timedelta

import pendulum
from airflow.sdk import (
    Asset,
    AssetAlias,
    AsyncCallback,
    CronDataIntervalTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    TriggerRule,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowSkipException

from cdp.alerts import WebhookNotifier
from cdp.run_dates import DAG_TIMEZONE

STEPS = [
    "ingest",
    "check_bronze",
    "standardise",
    "check_silver",
    "resolve_identity",
    "check_identity",
    "build_marts",
    "export_segments",
    "run_journeys",
]
SILVER = Asset(name="cdp_silver", uri="x-cdp://lakehouse/silver")
IDENTITY = Asset(name="cdp_identity", uri="x-cdp://lakehouse/identity")
MARTS = Asset(name="cdp_marts", uri="x-cdp://marts")
EXPORTS = Asset(name="cdp_exports", uri="x-cdp://exports")
# export_segments updates EXPORTS through an alias, so a run that exports nothing emits no event.
EXPORTS_WRITTEN = AssetAlias(name="cdp_exports_written")

RETRYABLE = {"retries": 2, "retry_delay": timedelta(minutes=5)}
# Quality gates are deterministic: retrying a failed gate cannot make it pass.
GATE = {"retries": 0}


def _context_for(step: str):
    """The running task's context; skips the task when `params.step` chose another step."""
    context = get_current_context()
    chosen = context["params"]["step"]
    if chosen is not None and chosen != step:
        raise AirflowSkipException(f"params.step is {chosen!r}: only that step runs")
    return context


def _business_day(context) -> str:
    from cdp import tasks

    run = context["dag_run"]
    return tasks.business_day(run.logical_date, run.run_after, DAG_TIMEZONE)


def _export_decision(context, day: date):
    """Whether this run sends (segment exports, journey messages): only the newest run does."""
    from cdp import run_dates

    run = context["dag_run"]
    later_runs = 0
    if run.logical_date is not None:
        later = run_dates.later_logical_dates(day, DAG_TIMEZONE)
        later_runs = context["ti"].get_dr_count(run.dag_id, logical_dates=later)
    return run_dates.export_decision(
        day, has_logical_date=run.logical_date is not None, later_runs=later_runs
    )


@dag(
    dag_id="cdp_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=DAG_TIMEZONE),
    start_date=pendulum.datetime(2026, 9, 1, tz=DAG_TIMEZONE),
    catchup=False,
    max_active_runs=1,
    tags=["cdp", "lakehouse"],
    doc_md=__doc__,
    params={
        "step": Param(
            None,
            type=["null", "string"],
            enum=[None, *STEPS],
            description="Run only this step; every other task skips.",
        ),
        "full": Param(
            False,
            type="boolean",
            description="Rebuild: OneID re-solved from scratch, dbt full refresh, full gates.",
        ),
    },
    default_args={
        "on_failure_callback": WebhookNotifier(),
        # A step runs after skipped ones (`params.step`), never after a failed one.
        "trigger_rule": TriggerRule.NONE_FAILED,
    },
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(hours=6),
        callback=AsyncCallback(WebhookNotifier),
    ),
)
def cdp_daily():
    @task(**RETRYABLE)
    def ingest() -> dict:
        from cdp import tasks

        return tasks.ingest(through_date=_business_day(_context_for("ingest")))

    @task(**GATE)
    def check_bronze() -> dict:
        from cdp import tasks

        _context_for("check_bronze")
        return tasks.check("bronze")

    @task(**RETRYABLE)
    def standardise() -> dict:
        from cdp import tasks

        _context_for("standardise")
        return tasks.standardise()

    @task(outlets=[SILVER], **GATE)
    def check_silver() -> dict:
        from cdp import tasks

        context = _context_for("check_silver")
        return tasks.check("silver", full=context["params"]["full"])

    @task(**RETRYABLE)
    def resolve_identity() -> dict:
        from cdp import tasks

        context = _context_for("resolve_identity")
        full = context["params"]["full"]
        return tasks.resolve_identity(force=full, full=full)

    @task(outlets=[IDENTITY], **GATE)
    def check_identity() -> dict:
        from cdp import tasks

        context = _context_for("check_identity")
        return tasks.check("identity", full=context["params"]["full"])

    # dbt orders the models and runs their data tests; one task keeps the build atomic.
    @task(outlets=[MARTS], **RETRYABLE)
    def build_marts() -> dict:
        from cdp import tasks

        context = _context_for("build_marts")
        return tasks.build_marts(
            as_of=_business_day(context), full_refresh=context["params"]["full"]
        )

    @task(outlets=[EXPORTS_WRITTEN], **RETRYABLE)
    def export_segments() -> dict:
        from cdp import tasks

        context = _context_for("export_segments")
        day = date.fromisoformat(_business_day(context))
        result = tasks.export_segments(_export_decision(context, day))
        if result["exported"]:
            extra = {"as_of": day.isoformat()}
            context["outlet_events"][EXPORTS_WRITTEN].add(EXPORTS, extra=extra)
        return result

    @task(**RETRYABLE)
    def run_journeys() -> dict:
        from cdp import tasks

        context = _context_for("run_journeys")
        day = date.fromisoformat(_business_day(context))
        return tasks.run_journeys(_export_decision(context, day))

    (
        ingest()
        >> check_bronze()
        >> standardise()
        >> check_silver()
        >> resolve_identity()
        >> check_identity()
        >> build_marts()
        >> export_segments()
        >> run_journeys()
    )


cdp_daily()
