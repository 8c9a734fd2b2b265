"""Journeys in gold: ``gold.journey_events`` (the log of every transition) and
``gold.journey_state`` (every instance after the latest run), declared in ``cdp.tables``.

A run of a day replaces that day's rows of the journey's log and the journey's state; when
they are already those rows nothing is written (``Lakehouse.replace_rows``), so re-running a
day changes no table.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from cdp.lakehouse import Lakehouse
from cdp.sql_literals import STANDARD
from cdp.tables import (
    JOURNEY_EVENTS,
    JOURNEY_EVENTS_SCHEMA,
    JOURNEY_STATE,
    JOURNEY_STATE_SCHEMA,
)


def latest_day(lakehouse: Lakehouse, journey: str) -> date | None:
    """The last run day recorded for ``journey`` (None: never run)."""
    days = lakehouse.scan(
        JOURNEY_EVENTS,
        ["run_day"],
        pc.field("journey") == journey,
        schema=JOURNEY_EVENTS_SCHEMA,
    ).column("run_day")
    return pc.max(days).as_py() if len(days) else None


def read_log(lakehouse: Lakehouse, journey: str, before: date) -> pa.Table:
    """The journey's log of the runs before ``before``."""
    where = (pc.field("journey") == journey) & (pc.field("run_day") < before)
    return lakehouse.scan(
        JOURNEY_EVENTS, JOURNEY_EVENTS_SCHEMA.names, where, schema=JOURNEY_EVENTS_SCHEMA
    ).cast(JOURNEY_EVENTS_SCHEMA)


def read_state(lakehouse: Lakehouse, journey: str | None = None) -> pa.Table:
    """Every instance of ``journey`` (or of all journeys) after its latest run."""
    where = None if journey is None else pc.field("journey") == journey
    return lakehouse.scan(
        JOURNEY_STATE, JOURNEY_STATE_SCHEMA.names, where, schema=JOURNEY_STATE_SCHEMA
    )


def read_events(lakehouse: Lakehouse, journey: str | None = None) -> pa.Table:
    """The whole log of ``journey`` (or of all journeys)."""
    where = None if journey is None else pc.field("journey") == journey
    return lakehouse.scan(
        JOURNEY_EVENTS, JOURNEY_EVENTS_SCHEMA.names, where, schema=JOURNEY_EVENTS_SCHEMA
    )


def record(
    lakehouse: Lakehouse, journey: str, run_day: date, events: pa.Table, state: pa.Table
) -> bool:
    """Replace the journey's rows of ``run_day`` in the log and its state; True when a table
    changed."""
    name = STANDARD.string(journey)
    day = (pc.field("journey") == journey) & (pc.field("run_day") == run_day)
    changed = lakehouse.replace_rows(
        JOURNEY_EVENTS,
        events.cast(JOURNEY_EVENTS_SCHEMA),
        f"journey = {name} AND run_day = {STANDARD.string(run_day.isoformat())}",
        day,
    )
    changed |= lakehouse.replace_rows(
        JOURNEY_STATE,
        state.cast(JOURNEY_STATE_SCHEMA),
        f"journey = {name}",
        pc.field("journey") == journey,
    )
    return changed
