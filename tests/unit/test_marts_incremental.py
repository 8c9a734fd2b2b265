"""When a marts build is incremental and when a full refresh (cdp.marts_incremental), and the
build state the marts file keeps."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from cdp import marts, marts_incremental
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


def _silver(lakehouse: Path, table: str, column: str, days: list[date | None]) -> None:
    write_deltalake(
        str(lakehouse / "silver" / table), pa.table({column: pa.array(days, pa.date32())})
    )


def test_last_data_day_is_the_last_order_or_event_day(tmp_path: Path):
    assert marts_incremental.last_data_day(tmp_path) is None
    _silver(tmp_path, "orders", "order_date", [date(2026, 9, 28), None])
    assert marts_incremental.last_data_day(tmp_path) == date(2026, 9, 28)
    _silver(tmp_path, "events", "event_date", [date(2026, 9, 29), date(2026, 9, 27)])
    assert marts_incremental.last_data_day(tmp_path) == date(2026, 9, 29)


def test_a_build_without_as_of_after_a_later_one_is_a_full_refresh(tmp_path: Path):
    settings = load_settings(workspace=tmp_path)
    _silver(settings.lakehouse_dir, "orders", "order_date", [date(2026, 9, 29)])
    applied = pa.array([datetime(2026, 10, 1, 1, tzinfo=UTC)], pa.timestamp("us", "UTC"))
    write_deltalake(
        str(settings.lakehouse_dir.joinpath(*marts_incremental.SILVER_APPLIED_DIR)),
        pa.table({"applied_at": applied}),
    )
    staged = tmp_path / "staged.duckdb"
    later = BuildState(marts._fingerprint(settings), DAY, PREVIOUS.silver_applied_through)
    marts_incremental.write_state(staged, later)
    said: list[str] = []
    assert marts._plan(settings, staged, None, False, said.append).full_refresh
    assert said == ["marts: as of 2026-09-29, before the last build's day 2026-09-30"]
    assert not marts._plan(settings, staged, DAY.isoformat(), False, None).full_refresh
