"""A run of a past day logs its messages as not sent; a replayed day is never after the marts'."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from cdp.config import ConfigError
from cdp.journeys import runs
from cdp.tables import JOURNEY_EVENTS_SCHEMA


def _log(rows: list[tuple[str, str | None, str | None]]) -> pa.Table:
    return pa.table(
        {
            f.name: [{"action": a, "reason": r, "channel": c}.get(f.name) for a, r, c in rows]
            for f in JOURNEY_EVENTS_SCHEMA
        },
        schema=JOURNEY_EVENTS_SCHEMA,
    )


def test_a_past_day_marks_only_the_messages_still_to_send():
    log = _log(
        [
            ("entered", None, None),
            ("sent", None, None),  # would go to suppression
            ("sent", "control_group", None),
            ("sent", "held_out", None),
            ("moved", "sent", None),
        ]
    )
    marked = runs.unsent(log)
    assert marked["reason"].to_pylist() == [
        None,
        runs.PAST_DAY,
        "control_group",
        "held_out",
        "sent",
    ]
    assert marked.schema == log.schema


def test_a_replayed_day_is_on_or_before_the_marts_day():
    marts_day = date(2026, 9, 6)
    assert runs._run_day(marts_day, None) == marts_day
    assert runs._run_day(marts_day, date(2026, 9, 4)) == date(2026, 9, 4)
    with pytest.raises(ConfigError, match=r"the marts are as of 2026-09-06; build them as of"):
        runs._run_day(marts_day, date(2026, 9, 7))
