"""The daily DAG runs for real: a 3-day backfill created by Airflow's own CLI, a re-run of a
past day, a manual trigger without a logical date and a failing run that alerts a webhook (its
integrity, which needs no database, is checked in the fast tier: tests/unit/test_dag_integrity.py).

A full run costs about a minute, so the module runs the DAG five times in one workspace, in
order (backfill 09-04, 09-05, 09-06; re-run of 09-05; manual trigger), plus one run that fails
in its first task within seconds. The tests depend on that order: each reads what the earlier
ones left.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cdp.lakehouse import Lakehouse, Table
from cdp.tables import TOUCHES

DAGS = Path(__file__).resolve().parents[2] / "dags"
CHINA = ZoneInfo("Asia/Shanghai")
BACKFILL_DAYS = [date(2026, 9, 4), date(2026, 9, 5), date(2026, 9, 6)]
INGEST_LOG = Table("meta", "ingest_log")
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workspace(generated, tmp_path_factory) -> Path:
    """One workspace for the module's runs: a copy of the generated landing zone (09-01..06)."""
    root, _ = generated
    ws = tmp_path_factory.mktemp("dag-workspace")
    shutil.copytree(root / "landing", ws / "landing")
    return ws


@pytest.fixture(scope="module")
def worker_env(workspace):
    """The workers' environment: the platform's settings come from it, as in production."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDP_HOME", str(workspace))
        for name in ("CDP_LANDING", "SPARK_REMOTE", "CDP_ALERT_WEBHOOK_URL", "CDP_CONFIG"):
            patch.delenv(name, raising=False)
        yield os.environ.copy()


@pytest.fixture(scope="module")
def dag(airflow_db, worker_env):
    from airflow.dag_processing.dagbag import DagBag

    daily = DagBag(dag_folder=str(DAGS)).get_dag("cdp_daily")
    # dag.test crashes after a successful run of a DAG with a Deadline alert: its in-memory
    # copy for the scheduler loop holds the alerts' definitions where the scheduler's holds
    # their database ids (apache/airflow#73428, open in 3.3.2). The scheduler is unaffected;
    # the alert is declared (tests/unit/test_dag_integrity.py) and runs through the
    # triggerer's callback (tests/unit/test_alerts.py).
    daily.deadline = None
    return daily


def airflow_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"airflow {' '.join(args)}: {done.stderr[-3000:]}"
    return done


def dag_runs() -> list[dict]:
    """Every run of the daily DAG in the metadata database, oldest logical date first."""
    from airflow.models import DagRun
    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        runs = session.scalars(select(DagRun).where(DagRun.dag_id == "cdp_daily")).all()
        rows = [
            {
                "run_id": r.run_id,
                "run_type": str(r.run_type),
                "logical_date": r.logical_date,
                "backfill_max_active_runs": (
                    session.get(Backfill, r.backfill_id).max_active_runs
                    if r.backfill_id is not None
                    else None
                ),
            }
            for r in runs
        ]
    return sorted(rows, key=lambda r: r["logical_date"] or datetime.max.replace(tzinfo=UTC))


def export_result(run) -> dict:
    """What the run's export_segments task returned (its XCom)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        xcom = session.scalar(
            XComModel.get_many(
                run_id=run.run_id,
                key="return_value",
                dag_ids="cdp_daily",
                task_ids="export_segments",
            )
        )
        return XComModel.deserialize_value(xcom)


def asset_events() -> dict[str, int]:
    """How many events each asset received, by URI."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.uri, func.count())
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .group_by(AssetModel.uri)
        ).all()
    return dict(rows)


def state_of(workspace: Path) -> dict:
    """What a run leaves that the assertions read: the newest delivery ingested, the as-of day
    of every export (by manifest), the touches recorded and the marts' as-of day."""
    import duckdb

    lakehouse = Lakehouse(workspace / "lakehouse")
    deliveries = lakehouse.to_arrow(INGEST_LOG, ["delivery_date"]).column(0).to_pylist()
    touches = (
        lakehouse.to_arrow(TOUCHES, ["as_of"]).column(0).to_pylist()
        if lakehouse.exists(TOUCHES)
        else []
    )
    with duckdb.connect(str(workspace / "marts" / "cdp.duckdb"), read_only=True) as con:
        as_of = con.sql("SELECT DISTINCT as_of FROM customer_lifecycle").fetchall()
    return {
        "newest_delivery": max(deliveries),
        "exports": {
            str(p.relative_to(workspace)): json.loads(p.read_text())["as_of"]
            for p in sorted((workspace / "exports").rglob("manifest.json"))
        },
        "touches": sorted(str(d) for d in touches),
        "marts_as_of": [str(d) for (d,) in as_of],
    }


def layer_contents(workspace: Path) -> dict[str, list[str]]:
    """Every bronze and silver table (OneID's included) as its sorted rows."""
    lakehouse = Lakehouse(workspace / "lakehouse")
    return {
        str(table): sorted(
            json.dumps(row, sort_keys=True, default=str)
            for row in lakehouse.to_arrow(table).to_pylist()
        )
        for layer in ("bronze", "silver")
        for table in lakehouse.tables(layer)
    }


@pytest.fixture(scope="module")
def backfill(dag, workspace, worker_env) -> list[dict]:
    """``airflow backfill create`` as the README writes it, then its runs executed in order;
    the state the workspace is in after each run."""
    airflow_cli("dags", "reserialize", env=worker_env)
    airflow_cli(
        "backfill",
        "create",
        "--dag-id",
        "cdp_daily",
        "--from-date",
        "2026-09-04",
        "--to-date",
        "2026-09-06",
        "--max-active-runs",
        "1",
        env=worker_env,
    )
    created = dag_runs()
    states = []
    for run in created:
        # dag.test stands in for the scheduler: it replaces the backfill's queued run of that
        # logical date by one it executes at once, leaving the later backfill runs queued.
        done = dag.test(logical_date=run["logical_date"])
        states.append(
            {
                "created": run,
                "state": done.state,
                "export": export_result(done),
                **state_of(workspace),
            }
        )
    return states


def test_backfill_creates_one_run_per_china_day_one_at_a_time(backfill):
    created = [s["created"] for s in backfill]
    assert [r["logical_date"].astimezone(CHINA).date() for r in created] == BACKFILL_DAYS
    assert all(r["logical_date"].astimezone(CHINA).hour == 0 for r in created)
    assert {r["run_type"] for r in created} == {"backfill"}
    assert {r["backfill_max_active_runs"] for r in created} == {1}


def test_each_backfill_day_ingests_through_its_own_day(backfill):
    assert [s["state"] for s in backfill] == ["success"] * 3
    assert [s["newest_delivery"] for s in backfill] == [str(d) for d in BACKFILL_DAYS]
    assert [s["marts_as_of"] for s in backfill] == [[str(d)] for d in BACKFILL_DAYS]


def test_only_the_last_day_of_a_backfill_exports_and_records_touches(backfill):
    first, second, last = backfill
    for past in (first, second):
        assert past["export"]["exported"] is False
        assert "is a past day" in past["export"]["reason"]
        assert past["exports"] == {}
        assert past["touches"] == []
    assert last["export"]["exported"] is True
    assert last["exports"], "the newest day exported nothing"
    assert set(last["exports"].values()) == {"2026-09-06"}
    assert last["touches"] and set(last["touches"]) == {"2026-09-06"}


@pytest.fixture(scope="module")
def rerun(dag, backfill, workspace) -> dict:
    """09-05 again, after the backfill: its tables before and after, and its outcome."""
    before = layer_contents(workspace)
    done = dag.test(logical_date=datetime(2026, 9, 5, tzinfo=CHINA))
    return {
        "before": before,
        "after": layer_contents(workspace),
        "state": done.state,
        "export": export_result(done),
        "previous": backfill[-1],
        **state_of(workspace),
    }


def test_a_rerun_of_a_past_day_exports_nothing(rerun):
    assert rerun["state"] == "success"
    assert rerun["export"]["exported"] is False
    assert rerun["exports"] == rerun["previous"]["exports"]
    assert rerun["touches"] == rerun["previous"]["touches"]
    assert rerun["marts_as_of"] == ["2026-09-05"]


def test_a_rerun_leaves_bronze_silver_and_oneid_as_they_were(rerun):
    assert rerun["before"].keys() == rerun["after"].keys()
    assert "silver.identity_map" in rerun["after"]
    changed = [t for t in rerun["before"] if rerun["before"][t] != rerun["after"][t]]
    assert changed == []


def test_a_manual_trigger_without_a_logical_date_runs_through_its_day_and_exports(
    dag, rerun, workspace
):
    # Triggered at 10:00 on 09-07 China time: it processes everything delivered through 09-07.
    done = dag.test(logical_date=None, run_after=datetime(2026, 9, 7, 2, tzinfo=UTC))
    assert done.state == "success"
    assert done.logical_date is None
    result = export_result(done)
    assert result["exported"] is True
    assert "manual run" in result["reason"]
    after = state_of(workspace)
    assert after["marts_as_of"] == ["2026-09-07"]
    new = {path: as_of for path, as_of in after["exports"].items() if path not in rerun["exports"]}
    assert new and set(new.values()) == {"2026-09-07"}
    # Downstream DAGs see every layer updated, and the exports only by the two runs that
    # exported (the backfill's last day and this one).
    events = asset_events()
    assert events["x-cdp://exports"] == 2
    assert {"x-cdp://lakehouse/silver", "x-cdp://lakehouse/identity", "x-cdp://marts"} <= set(
        events
    )


class Webhook:
    """A local receiver of the DAG's alerts."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"


def test_a_failing_run_posts_its_failure_to_the_webhook(
    dag, tmp_path, monkeypatch, airflow_db, worker_env
):
    import threading

    webhook = Webhook()
    threading.Thread(target=webhook.server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CDP_HOME", str(tmp_path / "no-lakehouse-yet"))
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", webhook.url)
    try:
        # Only the bronze gate, in a workspace nothing was ingested into: it fails at once,
        # after the skipped ingest (a chosen step runs after skipped ones).
        done = dag.test(
            logical_date=datetime(2026, 9, 20, tzinfo=CHINA), run_conf={"step": "check_bronze"}
        )
    finally:
        webhook.server.shutdown()
    states = {ti.task_id: ti.state for ti in done.get_task_instances()}
    assert done.state == "failed"
    assert states["ingest"] == "skipped"
    assert states["check_bronze"] == "failed"
    [alert] = webhook.received
    assert alert["event"] == "task_failed"
    assert (alert["dag"], alert["task"], alert["date"]) == (
        "cdp_daily",
        "check_bronze",
        "2026-09-20",
    )
    assert alert["run"] == done.run_id
    assert alert["error"].startswith("FileNotFoundError: workspace")
    assert "/dags/cdp_daily/runs/" in alert["log_url"]


QUIET_GATE = textwrap.dedent("""
    import collections, json, logging
    from cdp.lakehouse import Lakehouse
    from cdp.config import load_settings
    from cdp.tables import ensure

    lines = collections.Counter()

    class Count(logging.Handler):
        def emit(self, record):
            lines[record.name] += 1

    logging.basicConfig(level=logging.INFO)
    logging.getLogger().addHandler(Count())
    ensure(Lakehouse(load_settings().lakehouse_dir), "silver", "identity")
    from cdp import tasks

    tasks.check("identity")
    print(json.dumps(lines))
""")


def test_a_gate_task_logs_its_summary_not_the_libraries(tmp_path, worker_env):
    # A fresh interpreter: Great Expectations writes most of its lines while it is imported.
    env = {**worker_env, "CDP_HOME": str(tmp_path / "workspace")}
    done = subprocess.run(
        [sys.executable, "-c", QUIET_GATE],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = json.loads(done.stdout.strip().splitlines()[-1])
    assert lines.get("cdp.tasks") == 1, lines  # the gate's summary
    chatty = {name: n for name, n in lines.items() if name != "cdp.tasks"}
    assert sum(chatty.values()) <= 5, chatty
