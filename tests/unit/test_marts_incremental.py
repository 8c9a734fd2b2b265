"""When a marts build is incremental and when a full refresh (cdp.marts_incremental), and the
build state the marts file keeps."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from cdp import marts_incremental
from cdp.config import load_settings
from cdp.marts_incremental import BuildState, plan

DAY = date(2026, 9, 30)
PREVIOUS = BuildState("abc", DAY, "2026-10-01T01:00:00+00:00")


@pytest.mark.parametrize(
    ("previous", "fingerprint", "as_of", "full", "reason"),
    [
        (PREVIOUS, "abc", date(2026, 10, 1), False, "incremental since the build as of"),
        (PREVIOUS, "abc", None, False, "incremental"),
        (PREVIOUS, "abc", DAY, False, "incremental"),
        (None, "abc", DAY, True, "first build"),
        (PREVIOUS, "changed", DAY, True, "the dbt project or the mart rules changed"),
        (PREVIOUS, "abc", date(2026, 9, 29), True, "before the last build's day 2026-09-30"),
    ],
)
def test_plan(previous, fingerprint, as_of, full, reason):
    decided = plan(previous, fingerprint, as_of, True, full_refresh=False)
    assert decided.full_refresh is full
    assert reason in decided.reason


def test_full_refresh_on_demand_and_the_variables_of_each_kind():
    assert plan(PREVIOUS, "abc", DAY, True, full_refresh=True).environment() == {
        "CDP_MARTS_SINCE": "",
        "CDP_MARTS_PREVIOUS_AS_OF": "",
    }
    assert plan(PREVIOUS, "abc", DAY, True, full_refresh=False).environment() == {
        "CDP_MARTS_SINCE": PREVIOUS.silver_applied_through,
        "CDP_MARTS_PREVIOUS_AS_OF": "2026-09-30",
    }


def test_fingerprint_follows_models_macros_and_rules(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(load_settings(workspace=tmp_path).dbt_project_dir, project)
    rules = {"loyalty": {"points_per_yuan": 1}}
    first = marts_incremental.fingerprint(project, rules)
    assert marts_incremental.fingerprint(project, rules) == first
    assert marts_incremental.fingerprint(project, {"loyalty": {"points_per_yuan": 2}}) != first
    model = next((project / "models").rglob("fct_orders.sql"))
    model.write_text(model.read_text() + "\n")
    assert marts_incremental.fingerprint(project, rules) != first
    (project / "README.md").write_text("docs do not change what models compute")
    changed = marts_incremental.fingerprint(project, rules)
    assert marts_incremental.fingerprint(project, rules) == changed


def test_state_round_trip(tmp_path: Path):
    database = tmp_path / "restricted.duckdb"
    assert marts_incremental.read_state(database) is None
    marts_incremental.write_state(database, PREVIOUS)
    marts_incremental.write_state(database, PREVIOUS)
    assert marts_incremental.read_state(database) == PREVIOUS
