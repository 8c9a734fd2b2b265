"""
### cdp_daily

The platform's daily pipeline: land the channel files delivered up to the run's date in
bronze, gate them, upsert them into silver, gate silver, resolve OneIDs (identity map, merges
and splits, golden records), gate OneID, build the marts as of the run's date (dbt on DuckDB), export the segments scheduled
daily (audience packs and DMP files with their manifest).

Every task calls `cdp.tasks`; nothing is computed here. Each step only works on what is new
(files not yet ingested, batches not yet applied), so re-running a day or backfilling with
`airflow backfill create` never duplicates data. Settings come from the environment of the
workers (`CDP_HOME`, `CDP_LANDING`, `SPARK_REMOTE`; see the README).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task

RETRYABLE = {"retries": 2, "retry_delay": timedelta(minutes=5)}


@dag(
    dag_id="cdp_daily",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 9, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["cdp", "lakehouse"],
    doc_md=__doc__,
)
def cdp_daily():
    @task(**RETRYABLE)
    def ingest() -> dict:
        from cdp import tasks

        return tasks.ingest(through_date=get_current_context()["ds"])

    # Quality gates are deterministic: retrying a failed gate cannot make it pass.
    @task(retries=0)
    def check_bronze() -> dict:
        from cdp import tasks

        return tasks.check("bronze")

    @task(**RETRYABLE)
    def standardise() -> dict:
        from cdp import tasks

        return tasks.standardise()

    @task(retries=0)
    def check_silver() -> dict:
        from cdp import tasks

        return tasks.check("silver")

    @task(**RETRYABLE)
    def resolve_identity() -> dict:
        from cdp import tasks

        return tasks.resolve_identity()

    @task(retries=0)
    def check_identity() -> dict:
        from cdp import tasks

        return tasks.check("identity")

    # dbt orders the models and runs their data tests; one task keeps the build atomic.
    @task(**RETRYABLE)
    def build_marts() -> dict:
        from cdp import tasks

        return tasks.build_marts(as_of=get_current_context()["ds"])

    @task(**RETRYABLE)
    def export_segments() -> dict:
        from cdp import tasks

        return tasks.export_segments()

    (
        ingest()
        >> check_bronze()
        >> standardise()
        >> check_silver()
        >> resolve_identity()
        >> check_identity()
        >> build_marts()
        >> export_segments()
    )


cdp_daily()
