"""DAG integrity, without a metadata database: every DAG file imports cleanly, does no work at
import time, and wires the daily steps in order, on China days, with its params, assets and
alerts; the weekly maintenance DAG is one task calling `cdp.tasks.maintain`.

Airflow's DagBag parses DAG files offline (it only needs a database to sync or to run them), so
this runs in the fast tier. It runs in its own interpreter: importing Airflow configures logging
for the whole process, and only a fresh interpreter shows what a DAG file itself imports.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
#: what a DAG file must not import at top level: the platform and its engines belong in tasks
HEAVY_PACKAGES = {
    "spark_jobs",
    "identity",
    "pyspark",
    "pysail",
    "dbt",
    "duckdb",
    "deltalake",
    "great_expectations",
    "pandas",
    "pyarrow",
}
#: the only modules of the platform a DAG file imports at parse time: its alert notifier and
#: the pure date functions (neither loads settings nor an engine)
PARSE_TIME_CDP_MODULES = {"cdp", "cdp.alerts", "cdp.run_dates"}
DAILY_STEPS = [
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

PARSE = textwrap.dedent("""
    import json, sys
    from airflow.dag_processing.dagbag import DagBag

    before = set(sys.modules)
    bag = DagBag(dag_folder=sys.argv[1])
    new_modules = set(sys.modules) - before
    imported = sorted({name.split(".")[0] for name in new_modules})
    cdp_modules = sorted(name for name in new_modules if name.split(".")[0] == "cdp")

    def callback_path(task):
        callbacks = task.on_failure_callback or []
        return [f"{type(c).__module__}.{type(c).__qualname__}" for c in callbacks]

    dags = {dag_id: {
        "fileloc": dag.fileloc, "tags": sorted(dag.tags), "doc_md": dag.doc_md or "",
        "catchup": dag.catchup, "max_active_runs": dag.max_active_runs,
        "start_date_tz": str(dag.start_date.tzinfo) if dag.start_date.tzinfo else None,
        "timetable": type(dag.timetable).__name__,
        "timetable_args": {name: str(getattr(dag.timetable, name, None))
                           for name in ("expression", "timezone")},
        "params": {name: dag.params.get_param(name).dump() for name in dag.params},
        "deadline": [
            {"reference": type(d.reference).__name__, "seconds": d.interval.total_seconds(),
             "callback": type(d.callback).__name__, "path": d.callback.path}
            for d in dag.deadline or []
        ],
        "downstream": {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks},
        "trigger_rules": {t.task_id: t.trigger_rule.value for t in dag.tasks},
        "outlets": {t.task_id: [getattr(o, "uri", None) or o.name for o in t.outlets]
                    for t in dag.tasks},
        "on_failure": {t.task_id: callback_path(t) for t in dag.tasks},
    } for dag_id, dag in bag.dags.items()}
    print(json.dumps({"import_errors": bag.import_errors, "dags": dags, "imported": imported,
                      "cdp_modules": cdp_modules}, default=str))
""")


@pytest.fixture(scope="module")
def parsed() -> dict:
    """What a DagBag of ``dags/`` holds, parsed once in a fresh interpreter with no database."""
    done = subprocess.run(
        [sys.executable, "-c", PARSE, str(DAGS)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_dag_imports_without_errors(parsed):
    assert parsed["import_errors"] == {}
    assert set(parsed["dags"]) >= {"cdp_daily"}
    for dag_id, dag in parsed["dags"].items():
        assert dag["tags"], f"{dag_id} has no tags"
        assert dag["doc_md"].strip(), f"{dag_id} has no documentation"
        assert Path(dag["fileloc"]).stem == dag_id, "one DAG per file, named after the file"
        assert dag["start_date_tz"], f"{dag_id}: start_date has no time zone"
        assert all(
            paths == ["cdp.alerts.WebhookNotifier"] for paths in dag["on_failure"].values()
        ), f"{dag_id}: a task without the failure alert"


def test_dag_files_do_no_work_at_import(parsed):
    heavy = sorted(HEAVY_PACKAGES & set(parsed["imported"]))
    assert heavy == [], f"DAG files import {heavy} at top level: import them inside the tasks"
    platform = sorted(set(parsed["cdp_modules"]) - PARSE_TIME_CDP_MODULES)
    assert platform == [], f"DAG files import {platform} at top level: import them in the tasks"


def test_daily_dag_wires_the_steps_in_order(parsed):
    dag = parsed["dags"]["cdp_daily"]
    assert set(dag["downstream"]) == set(DAILY_STEPS)
    for upstream, downstream in itertools.pairwise(DAILY_STEPS):
        assert dag["downstream"][upstream] == [downstream]
    assert dag["catchup"] is False


def test_daily_dag_counts_china_days_one_run_at_a_time(parsed):
    dag = parsed["dags"]["cdp_daily"]
    assert dag["timetable"] == "CronDataIntervalTimetable"
    assert dag["timetable_args"] == {"expression": "0 0 * * *", "timezone": "Asia/Shanghai"}
    assert dag["max_active_runs"] == 1


def test_daily_dag_params_choose_a_step_or_a_full_run(parsed):
    params = parsed["dags"]["cdp_daily"]["params"]
    assert params["step"]["value"] is None
    assert params["step"]["schema"]["enum"] == [None, *DAILY_STEPS]
    assert params["full"]["value"] is False
    assert params["full"]["schema"]["type"] == "boolean"


def test_a_chosen_step_runs_after_skipped_steps_never_after_failed_ones(parsed):
    rules = parsed["dags"]["cdp_daily"]["trigger_rules"]
    assert set(rules.values()) == {"none_failed"}


def test_daily_dag_updates_an_asset_per_layer(parsed):
    outlets = parsed["dags"]["cdp_daily"]["outlets"]
    assert outlets["check_silver"] == ["x-cdp://lakehouse/silver"]
    assert outlets["check_identity"] == ["x-cdp://lakehouse/identity"]
    assert outlets["build_marts"] == ["x-cdp://marts"]
    # the exports asset through an alias: only a run that exported adds an event to it
    assert outlets["export_segments"] == ["cdp_exports_written"]


def test_daily_dag_alerts_on_failure_and_on_a_missed_deadline(parsed):
    dag = parsed["dags"]["cdp_daily"]
    assert set(dag["on_failure"]) == set(DAILY_STEPS)
    assert all(paths == ["cdp.alerts.WebhookNotifier"] for paths in dag["on_failure"].values())
    assert dag["deadline"] == [
        {
            "reference": "DagRunQueuedAtDeadline",
            "seconds": 6 * 3600.0,
            "callback": "AsyncCallback",
            "path": "cdp.alerts.WebhookNotifier",
        }
    ]


def test_the_maintenance_dag_has_one_task_and_no_catchup(parsed):
    dag = parsed["dags"]["cdp_maintenance"]
    assert dag["downstream"] == {"maintain": []}
    assert dag["catchup"] is False


def test_the_maintenance_task_calls_cdp_tasks_maintain():
    source = (DAGS / "cdp_maintenance.py").read_text()
    calls = {
        ast.unparse(node.func) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
    }
    assert "tasks.maintain" in calls
