"""Failure and deadline alerts of the DAGs: one JSON message posted to the webhook of the
settings (``alert_webhook_url``, ``CDP_ALERT_WEBHOOK_URL``); none set, no call.

``WebhookNotifier`` is an Airflow notifier: the daily DAG's tasks use it as their
``on_failure_callback`` (called with the task's context once its last try failed), and its
Deadline alert runs it in the triggerer (``AsyncCallback``: it is awaitable) with the context
Airflow gives a missed deadline (the run as JSON and the deadline). Both post the same fields::

    {"event": "task_failed" | "deadline_missed", "dag": ..., "task": ..., "run": ...,
     "date": "<business day>", "error": "...", "log_url": ...}

DAG files import this module at parse time, so it imports nothing heavy: the settings are read
when a message is sent, not when the DAG is parsed.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import datetime
from typing import Any

from airflow.sdk import BaseNotifier

from cdp.run_dates import DAG_TIMEZONE, business_date

#: a webhook that does not answer in this many seconds is given up (the alert is logged)
TIMEOUT_SECONDS = 10


class WebhookNotifier(BaseNotifier):
    """Posts a failed task or a missed Deadline to the settings' alert webhook as JSON."""

    def __init__(self, webhook_url: str | None = None, context: Any = None):
        # Airflow's triggerer builds the notifier with the deadline's context, then awaits it.
        super().__init__(context=context)
        self.webhook_url = webhook_url

    def notify(self, context) -> None:
        """Post the alert of ``context`` (a task's failure, or a missed deadline)."""
        url = self.webhook_url or _configured_url()
        if url:
            post_json(url, alert_payload(context))

    async def async_notify(self, context) -> None:
        """The same post from the triggerer's event loop, in a thread so it never blocks it."""
        await asyncio.to_thread(self.notify, context)


def alert_payload(context) -> dict[str, Any]:
    """The message for a task failure context (``ti``, ``dag_run``, ``exception``) or for a
    missed Deadline's context (``dag_run`` as JSON, ``deadline``)."""
    if "deadline" in context:
        return _deadline_payload(context["dag_run"], context["deadline"])
    ti, run = context["ti"], context["dag_run"]
    return {
        "event": "task_failed",
        "dag": ti.dag_id,
        "task": ti.task_id,
        "run": ti.run_id,
        "date": _business_day(run.logical_date, run.run_after),
        "error": _error_text(context.get("exception")),
        "log_url": ti.log_url,
    }


def _deadline_payload(run: dict, deadline: dict) -> dict[str, Any]:
    logical_date, run_after = (
        datetime.fromisoformat(run[key]) if run.get(key) else None
        for key in ("logical_date", "run_after")
    )
    return {
        "event": "deadline_missed",
        "dag": run["dag_id"],
        "task": None,
        "run": run["dag_run_id"],
        "date": _business_day(logical_date, run_after),
        "error": f"run not finished by its deadline {deadline['deadline_time']}",
        "log_url": None,
    }


def _business_day(logical_date: datetime | None, run_after: datetime | None) -> str | None:
    if logical_date is None and run_after is None:
        return None
    return business_date(logical_date, run_after, DAG_TIMEZONE).isoformat()


def _error_text(exception: BaseException | str | None) -> str:
    if exception is None:
        return "unknown error"
    if isinstance(exception, BaseException):
        return f"{type(exception).__name__}: {exception}"
    return str(exception)


def _configured_url() -> str | None:
    from cdp.config import load_settings

    return load_settings().alert_webhook_url


def post_json(url: str, payload: dict[str, Any]) -> None:
    """POST ``payload`` as JSON; raises when the webhook is unreachable or answers an error."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):
        pass
