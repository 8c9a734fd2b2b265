"""The business day of a daily run and whether it exports (cdp.run_dates: no Airflow)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cdp.run_dates import (
    DAG_TIMEZONE,
    LATER_RUNS_WINDOW_DAYS,
    business_date,
    export_decision,
    later_logical_dates,
)

CHINA = ZoneInfo("Asia/Shanghai")


def china_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHINA)


def test_a_scheduled_run_processes_the_china_day_its_logical_date_starts():
    # Airflow hands the logical date over in UTC: 16:00 on the day before, for China's midnight.
    logical_date = china_midnight(date(2026, 9, 4)).astimezone(UTC)
    assert logical_date.date() == date(2026, 9, 3)
    run_after = logical_date + timedelta(days=1)
    assert business_date(logical_date, run_after, DAG_TIMEZONE) == date(2026, 9, 4)


def test_the_logical_date_decides_whatever_the_run_was_triggered_after():
    logical_date = china_midnight(date(2026, 9, 5))
    much_later = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert business_date(logical_date, much_later, DAG_TIMEZONE) == date(2026, 9, 5)


def test_a_run_without_a_logical_date_processes_through_the_china_day_it_was_triggered():
    # 20:00 UTC is 04:00 the next morning in China.
    assert business_date(None, datetime(2026, 9, 6, 20, tzinfo=UTC), DAG_TIMEZONE) == date(
        2026, 9, 7
    )
    assert business_date(None, datetime(2026, 9, 6, 10, tzinfo=UTC), DAG_TIMEZONE) == date(
        2026, 9, 6
    )


def test_another_time_zone_counts_its_own_days():
    moment = datetime(2026, 9, 6, 20, tzinfo=UTC)
    assert business_date(None, moment, "Europe/Berlin") == date(2026, 9, 6)


def test_a_time_without_a_zone_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match=r"2026-09-04T00:00:00 has no time zone"):
        business_date(datetime(2026, 9, 4), datetime(2026, 9, 5, tzinfo=UTC), DAG_TIMEZONE)


def test_later_logical_dates_are_the_following_china_midnights():
    later = later_logical_dates(date(2026, 9, 4), DAG_TIMEZONE)
    assert len(later) == LATER_RUNS_WINDOW_DAYS
    assert later[0] == datetime(2026, 9, 4, 16, tzinfo=UTC)  # 09-05 00:00 in China
    assert later[1] == datetime(2026, 9, 5, 16, tzinfo=UTC)
    assert [business_date(d, d, DAG_TIMEZONE) for d in later[:3]] == [
        date(2026, 9, 5),
        date(2026, 9, 6),
        date(2026, 9, 7),
    ]


def test_a_day_with_a_later_run_exports_nothing_and_says_why():
    decision = export_decision(date(2026, 9, 4), has_logical_date=True, later_runs=2)
    assert decision.export is False
    assert "2026-09-04 is a past day" in decision.reason
    assert "nothing exported" in decision.reason


def test_the_newest_run_exports():
    decision = export_decision(date(2026, 9, 6), has_logical_date=True, later_runs=0)
    assert decision.export is True
    assert "2026-09-06" in decision.reason


def test_a_manual_run_without_a_logical_date_exports():
    decision = export_decision(date(2026, 9, 7), has_logical_date=False, later_runs=0)
    assert decision.export is True
    assert "manual run" in decision.reason


def test_the_tasks_refuse_settings_that_count_days_in_another_zone(tmp_path, monkeypatch):
    from cdp import tasks
    from cdp.config import ConfigError

    monkeypatch.setenv("CDP_HOME", str(tmp_path / "workspace"))
    logical_date = china_midnight(date(2026, 9, 4))
    monkeypatch.delenv("CDP_SOURCE_TIMEZONE", raising=False)
    assert tasks.business_day(logical_date, logical_date, DAG_TIMEZONE) == "2026-09-04"
    monkeypatch.setenv("CDP_SOURCE_TIMEZONE", "Europe/Berlin")
    with pytest.raises(ConfigError, match="CDP_SOURCE_TIMEZONE.*Europe/Berlin"):
        tasks.business_day(logical_date, logical_date, DAG_TIMEZONE)
