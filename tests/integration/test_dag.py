"""The daily DAG runs for real with dag.test() (its integrity, which needs no database, is
checked in the fast tier: tests/unit/test_dag_integrity.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cdp.lakehouse import Lakehouse, Table

DAGS = Path(__file__).resolve().parents[2] / "dags"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dag_run_lands_the_days_up_to_its_date(dagbag, workspace, monkeypatch):
    monkeypatch.setenv("CDP_HOME", str(workspace))
    monkeypatch.delenv("CDP_LANDING", raising=False)
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    dag = dagbag.get_dag("cdp_daily")
    lakehouse = Lakehouse(workspace / "lakehouse")
    log = Table("meta", "ingest_log")

    run = dag.test(logical_date=datetime(2026, 9, 3, tzinfo=UTC))
    assert run.state == "success"
    first = lakehouse.to_arrow(log, ["delivery_date", "status"]).to_pylist()
    assert first and max(r["delivery_date"] for r in first) == "2026-09-03"
    orders_after_first = lakehouse.count(Table("silver", "orders"))
    assert orders_after_first > 0

    run = dag.test(logical_date=datetime(2026, 9, 20, tzinfo=UTC))
    assert run.state == "success"
    dates = {r["delivery_date"] for r in lakehouse.to_arrow(log, ["delivery_date"]).to_pylist()}
    assert max(dates) > "2026-09-03"
    assert lakehouse.count(Table("silver", "orders")) > orders_after_first
    assert lakehouse.count(Table("silver", "identity_map")) > 0
