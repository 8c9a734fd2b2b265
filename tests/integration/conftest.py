"""Integration fixtures: a small generated landing zone, one shared pipeline run, private copies
of it for the tests that write, and an Airflow metadata database for the DAG run.

The whole pipeline (``cdp run``: ingest to marts and exports) runs once per test run
(``shared_run``); every test that only reads its result uses it. A test that writes (a re-run,
other rules, another as-of day) takes ``shared_copy``, a copy of that workspace, so it starts
from the shared result without running the pipeline again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from cdp.config import Settings
from cdp.pipeline import RunSummary
from tests.integration.console_support import console_server  # noqa: F401  (a fixture)

CUSTOMERS, DAYS, SEED = 300, 6, 7
START = date(2026, 9, 1)


@dataclass(frozen=True)
class SharedRun:
    """The one pipeline run of the test session. Read only: write on a ``shared_copy``."""

    settings: Settings
    summary: RunSummary
    #: Delta version and row count of every lakehouse table right after the run
    versions: dict[str, int]
    counts: dict[str, int]


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """A landing zone and ground truth generated once for the whole session."""
    from cdp.generator import generate

    root = tmp_path_factory.mktemp("generated")
    report = generate(
        root / "landing", CUSTOMERS, DAYS, seed=SEED, start=START, truth=root / "ground_truth"
    )
    return root, report


@pytest.fixture
def workspace(generated, tmp_path):
    """A fresh workspace whose landing zone is a copy of the generated one."""
    root, _ = generated
    ws = tmp_path / "workspace"
    shutil.copytree(root / "landing", ws / "landing")
    return ws


@pytest.fixture(scope="session")
def shared_run(generated, tmp_path_factory) -> SharedRun:
    """``cdp run`` once on a copy of the generated landing zone: ingest, gates, silver, OneID,
    marts and the daily segment exports."""
    from cdp import pipeline
    from cdp.config import load_settings
    from cdp.lakehouse import Lakehouse

    root, _ = generated
    ws = tmp_path_factory.mktemp("shared-run")
    shutil.copytree(root / "landing", ws / "landing")
    settings = load_settings(workspace=ws)
    summary = pipeline.run(settings)
    lakehouse = Lakehouse(settings.lakehouse_dir)
    tables = list(lakehouse.tables())
    return SharedRun(
        settings,
        summary,
        versions={str(t): lakehouse.version(t) for t in tables},
        counts={str(t): lakehouse.count(t) for t in tables},
    )


@pytest.fixture
def shared_copy(shared_run, tmp_path) -> Settings:
    """Settings of a private copy of the shared run's workspace, for a test that writes.

    The copy reads the shared landing zone (nothing writes there): the ingest log knows files by
    their path, so a copied landing zone would be logged again on a re-run.
    """
    from cdp.config import load_settings

    shared = shared_run.settings
    ws = tmp_path / "workspace"
    landing = shared.landing_dir.resolve()
    shutil.copytree(
        shared.workspace,
        ws,
        ignore=lambda folder, _names: ["landing"] if Path(folder) == shared.workspace else [],
    )
    return load_settings(workspace=ws, landing=landing)


@pytest.fixture(scope="session")
def marts(shared_run):
    """The shared run's settings and marts build: (settings, MartsResult).

    Read-only for tests: open ``settings.marts_db`` with ``duckdb.connect(..., read_only=True)``.
    """
    return shared_run.settings, shared_run.summary.marts


@pytest.fixture(scope="session")
def airflow_db():
    """An initialised Airflow metadata database in the test run's Airflow home (see
    tests/conftest.py): only running a DAG needs one."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture(scope="session")
def jvm_spark_url():
    """A local JVM Spark Connect server with Delta (``cdp.spark_server``) for the session, on a
    free port: its URL. The jars come from the user's cache (fetched by ``mvn`` if missing)."""
    import socket

    from cdp import spark_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = spark_server.start(port, memory="3g", say=lambda _msg: None)
    try:
        yield state.url
    finally:
        spark_server.stop(port, say=lambda _msg: None)
        shutil.rmtree(state.folder, ignore_errors=True)
