"""The DAGs' webhook alerts (cdp.alerts), posted to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from cdp.alerts import WebhookNotifier, post_json
from cdp.config import ConfigError, load_settings


class Receiver:
    """A local webhook: records every JSON body posted to it; answers ``status``."""

    def __init__(self, status: int = 204):
        self.received: list[dict] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                receiver.received.append(
                    {
                        "path": self.path,
                        "content_type": self.headers["Content-Type"],
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/cdp"
        # shutdown() waits for the serving loop's next poll: poll often (the default is 0.5 s)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def workspace_env(tmp_path, monkeypatch):
    """Settings from the environment, as on a worker: a workspace and no webhook yet."""
    monkeypatch.setenv("CDP_HOME", str(tmp_path / "workspace"))
    monkeypatch.delenv("CDP_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("CDP_CONFIG", raising=False)


def failed_task_context() -> dict:
    """What Airflow gives a task's on_failure_callback (the parts the alert reads)."""
    ti = SimpleNamespace(
        dag_id="cdp_daily",
        task_id="ingest",
        run_id="backfill__2026-09-03T16:00:00+00:00",
        log_url="http://localhost:8080/dags/cdp_daily/runs/r/tasks/ingest?try_number=3",
    )
    run = SimpleNamespace(
        logical_date=datetime(2026, 9, 3, 16, tzinfo=UTC),
        run_after=datetime(2026, 9, 4, 16, tzinfo=UTC),
    )
    error = FileNotFoundError("landing folder /srv/cdp/landing does not exist")
    return {"ti": ti, "dag_run": run, "exception": error}


def deadline_context() -> dict:
    """The context Airflow's scheduler sends with a missed deadline (the run as JSON)."""
    return {
        "dag_run": {
            "dag_run_id": "manual__2026-09-07T01:00:00+00:00",
            "dag_id": "cdp_daily",
            "logical_date": None,
            "run_after": "2026-09-07T01:00:00Z",
            "queued_at": "2026-09-07T01:00:05Z",
        },
        "deadline": {"id": "0192", "deadline_time": "2026-09-07T07:00:05+00:00"},
    }


def test_a_failed_task_posts_its_dag_task_run_date_error_and_log(
    receiver, workspace_env, monkeypatch
):
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", receiver.url)
    WebhookNotifier()(failed_task_context())

    [request] = receiver.received
    assert request["path"] == "/hooks/cdp"
    assert request["content_type"] == "application/json"
    assert request["body"] == {
        "event": "task_failed",
        "dag": "cdp_daily",
        "task": "ingest",
        "run": "backfill__2026-09-03T16:00:00+00:00",
        "date": "2026-09-04",  # the China day of the run, not the UTC date of its logical date
        "error": "FileNotFoundError: landing folder /srv/cdp/landing does not exist",
        "log_url": "http://localhost:8080/dags/cdp_daily/runs/r/tasks/ingest?try_number=3",
    }


def test_no_webhook_configured_sends_nothing(receiver, workspace_env):
    WebhookNotifier()(failed_task_context())
    assert receiver.received == []


def test_a_missed_deadline_posts_through_airflows_triggerer_callback(
    receiver, workspace_env, monkeypatch
):
    from airflow.models.callback import CallbackState
    from airflow.sdk import AsyncCallback
    from airflow.triggers.callback import CallbackTrigger

    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", receiver.url)
    callback = AsyncCallback(WebhookNotifier)  # what the DAG declares: accepted as awaitable
    # What the triggerer runs for a missed deadline: the callback's path, the context as kwarg.
    trigger = CallbackTrigger(callback.path, {**callback.kwargs, "context": deadline_context()})

    async def events():
        return [event.payload async for event in trigger.run()]

    states = [payload["state"] for payload in asyncio.run(events())]
    assert states == [CallbackState.RUNNING, CallbackState.SUCCESS]
    [request] = receiver.received
    assert request["body"] == {
        "event": "deadline_missed",
        "dag": "cdp_daily",
        "task": None,
        "run": "manual__2026-09-07T01:00:00+00:00",
        "date": "2026-09-07",
        "error": "run not finished by its deadline 2026-09-07T07:00:05+00:00",
        "log_url": None,
    }


def test_an_explicit_url_wins_over_the_settings(receiver, workspace_env, monkeypatch):
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/nobody-listens")
    WebhookNotifier(webhook_url=receiver.url)(failed_task_context())
    assert len(receiver.received) == 1


def test_a_webhook_answering_an_error_raises():
    with Receiver(status=500) as failing, pytest.raises(urllib.error.HTTPError, match="500"):
        post_json(failing.url, {"event": "task_failed"})


def test_a_webhook_url_that_is_not_http_is_refused_naming_the_variable(workspace_env, monkeypatch):
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", "hooks.example.com/cdp")
    with pytest.raises(ConfigError, match="CDP_ALERT_WEBHOOK_URL: alert_webhook_url"):
        load_settings()
