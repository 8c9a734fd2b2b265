"""
### cdp_maintenance

Weekly table maintenance of the platform's workspace (`cdp maintain`): compact the small files
every run leaves in the Delta tables, vacuum the files no version within
`vacuum_retention_hours` (168 by default) uses, checkpoint and clean up each table's log, and
checkpoint the marts' DuckDB file. The row counts do not change.

The task calls `cdp.tasks.maintain`; nothing is computed here. It takes the workspace lock, so
it waits for (or is refused by, with a retry later) a daily run in progress: schedule it away
from `cdp_daily`. Settings come from the workers' environment (`CDP_HOME`,
`CDP_VACUUM_RETENTION_HOURS`, `CDP_ALERT_WEBHOOK_URL` for a failure alert; see the README).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from cdp.alerts import WebhookNotifier


@dag(
    dag_id="cdp_maintenance",
    # Sunday 03:00 in the malls' time zone: well after the daily run of Saturday.
    schedule="0 3 * * 0",
    start_date=pendulum.datetime(2026, 9, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["cdp", "lakehouse", "maintenance"],
    doc_md=__doc__,
    # A last failed try posts to CDP_ALERT_WEBHOOK_URL, as the daily DAG's tasks do.
    default_args={"on_failure_callback": WebhookNotifier()},
)
def cdp_maintenance():
    # A busy workspace (the daily run holding the lock) is worth retrying later.
    @task(retries=3, retry_delay=timedelta(minutes=30))
    def maintain() -> dict:
        from cdp import tasks

        return tasks.maintain()

    maintain()


cdp_maintenance()
