"""What a scheduled run of the daily pipeline works on: its business day, and whether it exports.

Pure functions (no Airflow import): the DAG supplies the facts (the run's logical date, when it
was triggered, how many later runs exist) and these decide.

The daily DAG's schedule is ``0 0 * * *`` in the malls' time zone with data intervals, so a
scheduled or backfill run's logical date is the start of the China day it processes (the run
itself starts when that day is over). Its business day is that date, read in the time zone.

A manual run *with* a logical date processes the day of that date as well: Airflow infers its
data interval as the complete day *before* the logical date, but an operator who triggers
``--logical-date 2026-09-05`` means the 5th. A manual run *without* a logical date (``airflow
dags trigger``, the REST API with ``logical_date: null``) processes everything delivered through
the day it was triggered on (the China date of ``run_after``): what an operator pressing
"Trigger" expects is the platform brought up to date now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: the time zone the daily DAG's schedule counts days in: the settings' default
#: ``source_timezone`` (``cdp.tasks.business_day`` refuses settings that disagree)
DAG_TIMEZONE = "Asia/Shanghai"
#: a run looks this many days ahead for later runs of the DAG (see ``later_logical_dates``)
LATER_RUNS_WINDOW_DAYS = 31


def business_date(logical_date: datetime | None, run_after: datetime, tz: str) -> date:
    """The business day a run processes: the date of its logical date in ``tz``, or, for a run
    without a logical date, the date in ``tz`` it was triggered to run after."""
    moment = logical_date if logical_date is not None else run_after
    return _aware(moment, "logical_date or run_after").astimezone(ZoneInfo(tz)).date()


def later_logical_dates(day: date, tz: str, days: int = LATER_RUNS_WINDOW_DAYS) -> list[datetime]:
    """The logical dates of the daily runs for the ``days`` days after ``day`` (midnight in
    ``tz``): the runs whose existence makes ``day`` a past day. More than the next day only, so
    a re-run of a day before a gap in the schedule (days never run) still sees the later run."""
    zone = ZoneInfo(tz)
    return [
        datetime.combine(day + timedelta(days=offset), time(), tzinfo=zone)
        for offset in range(1, days + 1)
    ]


@dataclass(frozen=True)
class ExportDecision:
    """Whether a run exports the daily segments (and records their touches), and why."""

    export: bool
    reason: str


def export_decision(day: date, has_logical_date: bool, later_runs: int) -> ExportDecision:
    """Only the newest run of the DAG exports: a run for a past day (one with a later run,
    e.g. every day of a backfill but the last, or a re-run) builds its marts and exports
    nothing, so no segment is sent, and no touch recorded against frequency caps, for a day
    that is over. A run without a logical date (a manual trigger) is the newest by definition."""
    if not has_logical_date:
        return ExportDecision(True, f"manual run without a logical date: exporting as of {day}")
    if later_runs > 0:
        return ExportDecision(
            False,
            f"{day} is a past day ({later_runs} later run(s) of the DAG exist): "
            "marts built, nothing exported, no touches recorded",
        )
    return ExportDecision(True, f"newest run of the DAG: exporting as of {day}")


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} {moment.isoformat()} has no time zone; expected an aware time")
    return moment
