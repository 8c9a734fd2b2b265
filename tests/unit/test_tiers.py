"""The test tiers of tests/conftest.py: each test gets one tier, and a unit-tier test that starts
the engine fails with a sentence naming the `spark` fixture. Checked on small test suites run by
pytester with this project's conftest and markers; no engine starts."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
MARKERS = tomllib.loads((TESTS.parent / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "pytest"
]["ini_options"]["markers"]

SUITE = {
    "test_pure.py": "def test_pure():\n    assert True\n",
    "test_frames.py": (
        "import pytest\n\n"
        "@pytest.fixture\n"
        "def frame(spark):\n    return spark\n\n"
        "@pytest.fixture\n"
        "def table(frame):\n    return frame\n\n"
        "def test_direct(spark):\n    pass\n\n"
        "def test_through_two_fixtures(table):\n    pass\n\n"
        "@pytest.mark.engine\n"
        "def test_marked_engine():\n    pass\n\n"
        "def test_no_engine(tmp_path):\n    pass\n"
    ),
    "integration/test_end_to_end.py": "def test_whole_run(spark):\n    pass\n",
}
STARTS_SAIL = """
import pysail.spark


def test_starts_sail():
    pysail.spark.SparkConnectServer(ip="127.0.0.1", port=0).start(background=True)


def test_swallows_the_error():
    try:
        pysail.spark.SparkConnectServer(ip="127.0.0.1", port=0)
    except Exception:
        pass


def test_opens_a_session_the_platform_way(tmp_path):
    from cdp.config import load_settings
    from cdp.runtime import spark_session

    with spark_session(load_settings(workspace=tmp_path / "ws")):
        pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester folder with this project's conftest and markers. The conftest sets process
    environment (Airflow home, Sail settings) when imported in-process: restore it after."""
    saved = dict(os.environ)
    pytester.makeconftest((TESTS / "conftest.py").read_text(encoding="utf-8"))
    markers = "\n".join(f"    {m}" for m in MARKERS)
    pytester.makeini(f"[pytest]\naddopts = --strict-markers\nmarkers =\n{markers}\n")
    yield pytester
    os.environ.clear()
    os.environ.update(saved)


def selected(suite: pytest.Pytester, tier: str) -> set[str]:
    """The test ids ``-m <tier>`` collects."""
    result = suite.runpytest("--collect-only", "-q", "-m", tier)
    return {line.split("::")[-1] for line in result.outlines if "::" in line}


def test_every_test_gets_one_tier(suite):
    for name, text in SUITE.items():
        path = suite.path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert selected(suite, "unit") == {"test_pure", "test_no_engine"}
    assert selected(suite, "engine") == {
        "test_direct",
        "test_through_two_fixtures",
        "test_marked_engine",
    }
    assert selected(suite, "integration") == {"test_whole_run"}


def test_a_unit_test_that_starts_the_engine_fails_naming_the_spark_fixture(suite):
    suite.makepyfile(test_starts_sail=STARTS_SAIL)
    result = suite.runpytest("-m", "unit")
    result.assert_outcomes(failed=3)
    failures = [r for r in result.outlines if r.startswith("FAILED")]
    assert len(failures) == 3
    text = "\n".join(result.outlines)
    for test in (
        "test_starts_sail",
        "test_swallows_the_error",
        "test_opens_a_session_the_platform_way",
    ):
        assert (
            f"test_starts_sail.py::{test} is a unit-tier test but started the Spark engine"
        ) in text
    assert "Take the session-scoped `spark` fixture" in text


SHARED = {
    "integration/conftest.py": (
        "import os\nimport pytest\n\n"
        "@pytest.fixture(scope='session')\n"
        "def shared_run(tmp_path_factory):\n"
        "    marker = tmp_path_factory.getbasetemp().parent.parent / f'run-{os.getpid()}'\n"
        "    marker.write_text('ran')\n"
        "    return os.getpid()\n\n"
        "@pytest.fixture\n"
        "def shared_copy(shared_run):\n    return shared_run\n"
    ),
    "integration/test_reads.py": (
        "def test_a(shared_run):\n    pass\n\ndef test_b(shared_copy):\n    pass\n"
    ),
    "integration/test_more_reads.py": "def test_c(shared_run):\n    pass\n",
    "test_others.py": "".join(f"def test_{i}():\n    pass\n\n" for i in range(6)),
}


@pytest.mark.engine  # it starts two pytest worker processes
def test_the_shared_run_happens_once_over_two_workers(suite):
    for name, text in SHARED.items():
        path = suite.path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    result = suite.runpytest_subprocess("-n", "2", "--dist", "loadgroup", "-v")
    result.assert_outcomes(passed=9)
    workers = {
        line.split("]")[0] for line in result.outlines if "@shared_run" in line and "PASSED" in line
    }
    assert len(workers) == 1, result.outlines  # all three on one worker
    runs = list(suite.path.parent.rglob("run-*"))
    assert len(runs) == 1, runs
