"""The weekly maintenance DAG: one task calling `cdp.tasks.maintain`, no catch-up (the DAG
integrity checks of tests/unit/test_dag_integrity.py cover every DAG file)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.test_dag_integrity import DAGS, parsed  # noqa: F401  (the parsed DagBag)


def test_the_maintenance_dag_has_one_task_and_no_catchup(parsed):  # noqa: F811
    dag = parsed["dags"]["cdp_maintenance"]
    assert dag["downstream"] == {"maintain": []}
    assert dag["catchup"] is False


def test_the_task_calls_cdp_tasks_maintain():
    source = (Path(DAGS) / "cdp_maintenance.py").read_text()
    calls = {
        ast.unparse(node.func) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
    }
    assert "tasks.maintain" in calls
