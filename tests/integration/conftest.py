"""Integration fixtures: a small generated landing zone and an isolated Airflow home."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import pytest

# Airflow reads its configuration when first imported: isolate it before any test imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="cdp-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[2] / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

CUSTOMERS, DAYS, SEED = 300, 6, 7
START = date(2026, 9, 1)


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """A landing zone and ground truth generated once for the whole session."""
    from cdp.generator import generate

    root = tmp_path_factory.mktemp("generated")
    report = generate(root / "landing", CUSTOMERS, DAYS, seed=SEED, start=START,
                      truth=root / "ground_truth")
    return root, report


@pytest.fixture
def workspace(generated, tmp_path):
    """A fresh workspace whose landing zone is a copy of the generated one."""
    root, _ = generated
    ws = tmp_path / "workspace"
    shutil.copytree(root / "landing", ws / "landing")
    return ws


@pytest.fixture(scope="session")
def marts(generated, tmp_path_factory):
    """The pipeline and the marts built once on the generated data: (settings, result).

    Read-only for tests: open ``settings.marts_db`` with ``duckdb.connect(..., read_only=True)``.
    """
    from cdp import pipeline
    from cdp.config import load_settings
    from cdp.marts import run_dbt

    root, _ = generated
    ws = tmp_path_factory.mktemp("marts")
    shutil.copytree(root / "landing", ws / "landing")
    settings = load_settings(workspace=ws)
    pipeline.run(settings)
    return settings, run_dbt(settings, ["build"])


@pytest.fixture(scope="session")
def airflow_db():
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                   capture_output=True, env=os.environ.copy())
    yield _AIRFLOW_HOME
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)
