"""DAG integrity, without a metadata database: every DAG file imports cleanly, does no work at
import time, and wires the daily steps in order.

Airflow's DagBag parses DAG files offline (it only needs a database to sync or to run them), so
this runs in the fast tier. It runs in its own interpreter: importing Airflow configures logging
for the whole process, and only a fresh interpreter shows what a DAG file itself imports.
"""

from __future__ import annotations

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
    "cdp",
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
DAILY_STEPS = [
    "ingest",
    "check_bronze",
    "standardise",
    "check_silver",
    "resolve_identity",
    "check_identity",
    "build_marts",
    "export_segments",
]

PARSE = textwrap.dedent("""
    import json, sys
    from airflow.dag_processing.dagbag import DagBag

    before = set(sys.modules)
    bag = DagBag(dag_folder=sys.argv[1])
    imported = sorted({name.split(".")[0] for name in set(sys.modules) - before})
    dags = {dag_id: {
        "fileloc": dag.fileloc, "tags": sorted(dag.tags), "doc_md": dag.doc_md or "",
        "catchup": dag.catchup,
        "start_date_tz": str(dag.start_date.tzinfo) if dag.start_date.tzinfo else None,
        "downstream": {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks},
    } for dag_id, dag in bag.dags.items()}
    print(json.dumps({"import_errors": bag.import_errors, "dags": dags, "imported": imported}))
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


def test_dag_files_do_no_work_at_import(parsed):
    heavy = sorted(HEAVY_PACKAGES & set(parsed["imported"]))
    assert heavy == [], f"DAG files import {heavy} at top level: import them inside the tasks"


def test_daily_dag_wires_the_steps_in_order(parsed):
    dag = parsed["dags"]["cdp_daily"]
    assert set(dag["downstream"]) == set(DAILY_STEPS)
    for upstream, downstream in itertools.pairwise(DAILY_STEPS):
        assert dag["downstream"][upstream] == [downstream]
    assert dag["catchup"] is False
