"""Shared fixtures and the three test tiers.

Every test is marked with exactly one tier, at collection:

- ``integration``: the tests under ``tests/integration`` (the pipeline end to end);
- ``engine``: a test that uses the session-scoped ``spark`` fixture, directly or through
  another fixture, or is marked ``engine`` itself: a test that runs an engine of its own
  (Great Expectations validating DuckDB, a server or pytest workers in subprocesses);
- ``unit``: everything else. A unit test must not start the engine: it fails, saying to take
  the ``spark`` fixture, so the fast tier stays fast and every engine test shares one server.

Run one tier with ``-m unit``, ``-m engine`` or ``-m integration``; no ``-m`` runs them all.

The run is spread over one worker per core (pytest-xdist, ``-n auto --dist loadgroup`` in
pyproject.toml). Every test gets a worker group: its module, except that every test using the
session's one pipeline run (``shared_run``) is in one group, so that run happens once. A group's
module- and session-scoped fixtures thus run once; the heaviest groups are scheduled first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# Airflow reads its configuration when first imported (by the DAG tests, or by a subprocess
# they start): point it at a throw-away home before anything imports it.
AIRFLOW_HOME = tempfile.mkdtemp(prefix="cdp-airflow-")
os.environ["AIRFLOW_HOME"] = AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
# CLI dates (`airflow backfill create --from-date`) are China days, as the README tells operators.
os.environ["AIRFLOW__CORE__DEFAULT_TIMEZONE"] = "Asia/Shanghai"

# dbt's saved parse is shared between workspaces through a cache (cdp.dbt_parse_cache): one for
# the test run, made by the process that starts it and inherited by its workers.
OWNS_TEST_CACHE = "CDP_TEST_CACHE_HOME" not in os.environ
if OWNS_TEST_CACHE:
    os.environ["CDP_TEST_CACHE_HOME"] = tempfile.mkdtemp(prefix="cdp-cache-")
TEST_CACHE = os.environ["XDG_CACHE_HOME"] = os.environ["CDP_TEST_CACHE_HOME"]

# pytester: tests/unit/test_tiers.py runs small suites with this conftest.
pytest_plugins = ["pytester"]

INTEGRATION_DIR = Path(__file__).resolve().parent / "integration"
UNIT_TIER_ENGINE_START = (
    "{test} is a unit-tier test but started the Spark engine (pysail SparkConnectServer). "
    "Take the session-scoped `spark` fixture as a parameter instead: the test then runs in "
    "the engine tier (`pytest -m engine`) and shares the one Sail server of the test run."
)


def tier_of(item: pytest.Item) -> str:
    """The tier of a collected test (see the module docstring)."""
    if INTEGRATION_DIR in Path(item.path).resolve().parents:
        return "integration"
    # fixturenames is the fixture closure: it holds `spark` however deep it is requested.
    if "spark" in getattr(item, "fixturenames", ()) or item.get_closest_marker("engine"):
        return "engine"
    return "unit"


#: worker group of every test that reads the session's one pipeline run
SHARED_RUN_GROUP = "shared_run"
#: groups started first (minutes each): a worker that draws one of them late ends the run late
HEAVY_GROUPS = (
    SHARED_RUN_GROUP,
    "integration/test_dag",
    "integration/test_channel_mix",
    "integration/test_realworld",
    "integration/test_engines_equal",
)


def group_of(item: pytest.Item) -> str:
    """The xdist group of a collected test (see the module docstring)."""
    if SHARED_RUN_GROUP in getattr(item, "fixturenames", ()):
        return SHARED_RUN_GROUP
    return item.nodeid.split("::", 1)[0].removeprefix("tests/").removesuffix(".py")


def _schedule_rank(item: pytest.Item) -> tuple[int, int]:
    group = group_of(item)
    heavy = HEAVY_GROUPS.index(group) if group in HEAVY_GROUPS else len(HEAVY_GROUPS)
    return heavy, ("integration", "engine", "unit").index(tier_of(item))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip importing tests/integration when ``-m`` leaves the integration tier out (its
    modules import dbt and Airflow: seconds of a unit-tier run)."""
    from _pytest.mark.expression import Expression

    markexpr = config.getoption("markexpr")
    if not markexpr or collection_path != INTEGRATION_DIR:
        return None
    wanted = Expression.compile(markexpr).evaluate(lambda name, **_: name == "integration")
    return True if not wanted else None


# tryfirst: xdist reads the groups in its own hook of this name, and its hook would run first.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its tier, so that ``-m <tier>`` selects it, and with its worker
    group; the heaviest groups go first (a stable sort keeps the order inside a group)."""
    for item in items:
        item.add_marker(tier_of(item))
        item.add_marker(pytest.mark.xdist_group(group_of(item)))
    items.sort(key=_schedule_rank)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
    if OWNS_TEST_CACHE:
        shutil.rmtree(TEST_CACHE, ignore_errors=True)


class UnitTierStartedEngine(RuntimeError):
    """A unit-tier test tried to start the embedded Sail server."""


#: the engine starts a unit-tier test attempted (stashed on the test item)
ENGINE_STARTS = pytest.StashKey[list[str]]()


@pytest.fixture(autouse=True)
def _unit_tests_start_no_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """In a unit-tier test, starting a Sail server raises UnitTierStartedEngine."""
    if tier_of(request.node) != "unit":
        return
    import pysail.spark

    message = UNIT_TIER_ENGINE_START.format(test=request.node.nodeid)
    attempts = request.node.stash.setdefault(ENGINE_STARTS, [])

    def refuse(*_args, **_kwargs):
        attempts.append(message)
        raise UnitTierStartedEngine(message)

    monkeypatch.setattr(pysail.spark, "SparkConnectServer", refuse)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail a unit-tier test that caught the error of its engine start and passed anyway."""
    outcome = yield
    attempts = item.stash.get(ENGINE_STARTS, [])
    if attempts:
        pytest.fail(attempts[0], pytrace=False)
    return outcome


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One embedded Sail session for the whole test run (the engine tier's marker)."""
    from cdp.config import load_settings
    from cdp.runtime import spark_session

    settings = load_settings(workspace=tmp_path_factory.mktemp("spark-workspace"))
    with spark_session(settings) as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path):
    from cdp.config import load_settings

    return load_settings(workspace=tmp_path / "workspace")


@pytest.fixture
def lakehouse(settings):
    from cdp.lakehouse import Lakehouse

    return Lakehouse(settings.lakehouse_dir)
