"""The journey engine: advance every person's journey as of one run, deterministically.

``advance`` takes a journey, the run's day and Arrow tables (what people did, the people the
entry's and branches' marts conditions select, the journey's log of earlier runs) and returns
this run's transitions. Nothing here reads or writes storage; everything is SQL on an
in-memory DuckDB (``engine_sql``), set-based over all people at once.

One run, as of the end of its day in the source time zone (the *cutoff*):

1. **Entries.** Event entries: matching events that occurred since the start of the run's day
   minus ``lateness_days`` (late deliveries) and before the cutoff, whose record started no
   journey yet; segment and date entries: the audience, entering at the start of the day. The re-entry
   policy decides (``once``; ``once_per_period``; ``every_time`` the entry matches after the
   person left); a person enters at most once per run, on their first candidate. The group
   (control / treatment) comes from the person's number for the journey's salt.
2. **Rounds.** Every active instance acts when its step is due (a wait's end, else at once)
   before the cutoff: it first leaves ``converted`` when a conversion happened after entering
   and no later than that moment, or ``journey_ended`` at the journey's end; otherwise waits
   end, branches test their condition at that moment, sends and group changes are recorded
   and the instance moves on. Rounds repeat until nobody is due, so a late event can carry a
   person through several steps in one run.
3. **Sends** are recorded with ``reason`` ``control_group`` (control), ``held_out`` (the
   step's holdout share of treatment, by the person's number for ``<salt>:<step>``) or NULL:
   to be decided by suppression (``cdp.journeys.sends``).

Re-running a day over the same inputs gives the same rows: the caller passes the log without
that day's rows (``cdp.journeys.runs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from cdp.journeys import definitions as d
from cdp.journeys import engine_sql as q
from cdp.tables import JOURNEY_EVENTS_SCHEMA, JOURNEY_STATE_SCHEMA

#: activity columns the engine reads
ACTIVITY_SCHEMA = pa.schema(
    [
        ("one_id", pa.string()),
        ("record_id", pa.string()),
        ("record_type", pa.string()),
        ("channel", pa.string()),
        ("event_type", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("scene", pa.string()),
        ("campaign", pa.string()),
        ("amount_fen", pa.int64()),
    ]
)
PEOPLE_SCHEMA = pa.schema([("one_id", pa.string())])


def day_start(day: date, tz: str) -> datetime:
    """Midnight at the start of ``day`` in ``tz``, as UTC."""
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def cutoff_of(day: date, tz: str) -> datetime:
    """The end of ``day`` in ``tz``: a run of that day knows what occurred before it."""
    return day_start(day + timedelta(days=1), tz)


@dataclass
class Inputs:
    """What one run reads (Arrow tables)."""

    #: ``ACTIVITY_SCHEMA`` rows: events, coupon events and orders with the person's one_id
    activity: pa.Table
    #: the journey's log before this run (``JOURNEY_EVENTS_SCHEMA``)
    log: pa.Table
    #: one_id of the people the entry's marts condition selects (segment and date entries,
    #: or the ``rules`` of an event entry); None when the entry has none
    audience: pa.Table | None = None
    #: step id -> one_id of the people a branch's marts condition selects
    branch_people: dict[str, pa.Table] = field(default_factory=dict)


@dataclass
class RunResult:
    """One run's transitions and the state after it."""

    journey: str
    run_day: date
    #: this run's rows of gold.journey_events
    events: pa.Table
    #: every instance of the journey after the run (gold.journey_state)
    state: pa.Table

    def count(self, action: str, reason: str | None = None) -> int:
        """Rows of this run with ``action`` (and ``reason``)."""
        rows = zip(self.events["action"].to_pylist(), self.events["reason"].to_pylist())
        return sum(1 for a, r in rows if a == action and (reason is None or r == reason))


def _entry_moments(definition: d.JourneyDefinition, run_day: date, tz: str, lateness: int):
    since = day_start(run_day - timedelta(days=lateness), tz)
    if definition.starts_on:
        since = max(since, day_start(definition.starts_on, tz))
    end = cutoff_of(definition.ends_on, tz) if definition.ends_on else None
    return since, end


def activity_window(
    definition: d.JourneyDefinition, run_day: date, log: pa.Table, tz: str, lateness: int
) -> tuple[datetime, datetime]:
    """The part of what people did that a run can use: from the earlier of the entry's
    lookback (``lateness`` days) and the entry of the oldest instance still active in ``log``
    (its conversions and branch events count from its entry), to the run's cutoff."""
    since, _ = _entry_moments(definition, run_day, tz, lateness)
    with duckdb.connect() as con:
        con.register("log", log)
        oldest = con.sql(
            "SELECT min(e.event_at) FROM log AS e ANTI JOIN "
            "(SELECT one_id, instance FROM log WHERE action = 'exited') AS x "
            "USING (one_id, instance) WHERE e.action = 'entered'"
        ).fetchone()[0]
    if oldest is not None:
        since = min(since, oldest.astimezone(UTC))
    return since, cutoff_of(run_day, tz)


def _enters_today(definition: d.JourneyDefinition, run_day: date) -> bool:
    if definition.starts_on and run_day < definition.starts_on:
        return False
    if definition.ends_on and run_day > definition.ends_on:
        return False
    entry = definition.entry
    return not (isinstance(entry, d.SegmentEntry) and entry.dates and run_day not in entry.dates)


def _candidates(definition: d.JourneyDefinition, run_day: date, since, cutoff, end) -> str:
    entry = definition.entry
    since_day = cutoff - timedelta(days=1)
    if isinstance(entry, d.EventEntry):
        until = min(cutoff, end) if end else cutoff
        return q.event_candidates_sql(entry.event, since, until, entry.rules is not None)
    # in the audience as of the run's day: they enter at its start, and its steps are due
    return q.audience_candidates_sql(f"{entry.kind}:{run_day.isoformat()}", since_day)


def state_sql(log: str) -> str:
    """Every instance's state from a journey log: its entry, its step (since when) or how
    it left."""
    return f"""
    WITH ordered AS (
        SELECT * FROM {log} WHERE action IN ('entered', 'moved', 'exited')
    ),
    entered AS (
        SELECT one_id, instance, event_at AS entered_at, split_group, trigger_id
        FROM {log} WHERE action = 'entered'
    ),
    latest AS (
        SELECT one_id, instance, arg_max(to_step, seq) AS step, max(event_at) AS step_at,
               max(seq) AS seq, arg_max(action, seq) AS last_action,
               arg_max(reason, seq) AS last_reason
        FROM ordered GROUP BY one_id, instance
    )
    SELECT e.one_id, e.instance, e.trigger_id, e.entered_at, e.split_group,
           CASE WHEN l.last_action = 'exited' THEN NULL ELSE l.step END AS step,
           l.step_at, l.seq,
           CASE WHEN l.last_action = 'exited' THEN 'exited' ELSE 'active' END AS status,
           CASE WHEN l.last_action = 'exited' THEN l.last_reason END AS exit_reason,
           CASE WHEN l.last_action = 'exited' THEN l.step_at END AS exited_at
    FROM entered AS e JOIN latest AS l USING (one_id, instance)"""


GROUPS_SQL = """
    SELECT one_id, reason AS group_name, arg_max(action = 'group_added', (event_at, seq)) AS is_member
    FROM log WHERE action IN ('group_added', 'group_removed')
    GROUP BY one_id, reason"""


def _register(con: duckdb.DuckDBPyConnection, inputs: Inputs) -> None:
    con.register("activity", inputs.activity)
    con.register("log", inputs.log)
    con.register(
        "audience", inputs.audience if inputs.audience is not None else PEOPLE_SCHEMA.empty_table()
    )
    for step_id, people in inputs.branch_people.items():
        con.register(q.people_relation(step_id), people)


def _new_rows(con, definition, run_day: date, select: str) -> None:
    con.execute(
        f"""INSERT INTO new_events
        SELECT {q.STANDARD.string(definition.name)} AS journey, DATE '{run_day}' AS run_day,
               one_id, instance, seq, event_at, action, step, to_step, reason,
               NULL AS channel, split_group, trigger_id
        FROM ({select})"""
    )


def _enter(con, definition, run_day, since, cutoff, end) -> None:
    if not _enters_today(definition, run_day):
        return
    candidates = _candidates(definition, run_day, since, cutoff, end)
    salt = definition.control.salt or definition.name
    con.execute(
        "CREATE TEMP TABLE entering AS "
        + q.entries_sql(candidates, definition.re_entry, salt, definition.control.ratio)
    )
    first = q.STANDARD.string(definition.steps[0].id)
    _new_rows(
        con,
        definition,
        run_day,
        f"SELECT one_id, instance, 0 AS seq, entered_at AS event_at, 'entered' AS action, "
        f"NULL AS step, {first} AS to_step, NULL AS reason, split_group, trigger_id "
        "FROM entering",
    )
    con.execute(
        f"""INSERT INTO state SELECT one_id, instance, trigger_id, entered_at, split_group,
               {first} AS step, entered_at AS step_at, 0 AS seq FROM entering"""
    )


def _until(step: d.Step, definition: d.JourneyDefinition, tz: str) -> datetime | None:
    if not isinstance(step, d.WaitStep):
        return None
    if step.until is not None:
        return day_start(step.until, tz)
    if step.days_before_end is not None:
        return cutoff_of(definition.ends_on, tz) - timedelta(days=step.days_before_end)
    return None


def _round(con, definition, run_day, cutoff, end, tz) -> int:
    occupied = {step for (step,) in con.sql("SELECT DISTINCT step FROM state").fetchall()}
    parts = [
        q.decisions_sql(
            step, definition.next_of(step.id), cutoff, end, _until(step, definition, tz)
        )
        for step in definition.steps
        if step.id in occupied
    ]
    if not parts:
        return 0
    union = " UNION ALL ".join(f"SELECT * FROM ({part})" for part in parts)
    con.execute(f"CREATE OR REPLACE TEMP TABLE decided AS {union}")
    moved = con.sql("SELECT count(*) FROM decided").fetchone()[0]
    if not moved:
        return 0
    with_state = (
        "SELECT d.*, s.split_group, s.trigger_id FROM decided AS d JOIN state AS s "
        "USING (one_id, instance)"
    )
    _new_rows(
        con,
        definition,
        run_day,
        "SELECT one_id, instance, seq - 1 AS seq, event_at, side_action AS action, step, "
        f"NULL AS to_step, side_reason AS reason, split_group, trigger_id FROM ({with_state}) "
        "WHERE side_action IS NOT NULL",
    )
    _new_rows(
        con,
        definition,
        run_day,
        "SELECT one_id, instance, seq, event_at, action, step, to_step, reason, split_group, "
        f"trigger_id FROM ({with_state})",
    )
    changes = "FROM decided WHERE side_action IN ('group_added', 'group_removed')"
    con.execute(
        f"""DELETE FROM groups USING (SELECT one_id, side_reason {changes}) AS c
        WHERE groups.one_id = c.one_id AND groups.group_name = c.side_reason"""
    )
    con.execute(
        f"INSERT INTO groups SELECT one_id, side_reason, side_action = 'group_added' {changes}"
    )
    con.execute(
        """UPDATE state SET step = d.to_step, step_at = d.event_at, seq = d.seq
        FROM decided AS d WHERE state.one_id = d.one_id AND state.instance = d.instance"""
    )
    con.execute(
        """DELETE FROM state USING decided AS d WHERE state.one_id = d.one_id
        AND state.instance = d.instance AND d.action = 'exited'"""
    )
    return moved


def _hold_out(con, definition: d.JourneyDefinition) -> None:
    salt = definition.control.salt or definition.name
    for step in definition.steps:
        if isinstance(step, d.SendStep) and step.holdout > 0:
            fraction = q.fraction_sql(f"{salt}:{step.id}")
            con.execute(
                f"""UPDATE new_events SET reason = 'held_out'
                WHERE action = 'sent' AND reason IS NULL
                  AND step = {q.STANDARD.string(step.id)} AND {fraction} < {step.holdout}"""
            )


def advance(
    definition: d.JourneyDefinition,
    run_day: date,
    inputs: Inputs,
    tz: str,
    lateness_days: int = 2,
) -> RunResult:
    """This run's transitions of ``definition`` and the state after them (module doc)."""
    cutoff = cutoff_of(run_day, tz)
    since, end = _entry_moments(definition, run_day, tz, lateness_days)
    max_rounds = 2 * len(definition.steps) + 2  # instant steps in a cycle stop here
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        _register(con, inputs)
        con.execute(f"CREATE TEMP TABLE instances AS {state_sql('log')}")
        con.execute(f"CREATE TEMP TABLE history AS {q.history_sql()}")
        con.execute(
            "CREATE TEMP TABLE state AS SELECT one_id, instance, trigger_id, entered_at, "
            "split_group, step, step_at, seq FROM instances WHERE status = 'active'"
        )
        con.execute(f"CREATE TEMP TABLE groups AS {GROUPS_SQL}")
        con.execute("CREATE TEMP TABLE new_events AS SELECT * FROM log WHERE FALSE")
        _enter(con, definition, run_day, since, cutoff, end)
        if definition.converted:
            con.execute(
                "CREATE TEMP TABLE conversions AS "
                + q.conversions_sql(definition.converted, cutoff)
            )
        else:
            con.execute(
                "CREATE TEMP TABLE conversions AS SELECT one_id, instance, "
                "NULL::TIMESTAMPTZ AS converted_at FROM state WHERE FALSE"
            )
        for _ in range(max_rounds):
            if not _round(con, definition, run_day, cutoff, end, tz):
                break
        _hold_out(con, definition)
        events = (
            con.sql("SELECT * FROM new_events ORDER BY one_id, instance, seq")
            .to_arrow_table()
            .cast(JOURNEY_EVENTS_SCHEMA)
        )
        con.register("run_events", events)
        con.execute(
            "CREATE TEMP VIEW log_after AS SELECT * FROM log UNION ALL BY NAME "
            "SELECT * FROM run_events"
        )
        state = con.sql(
            f"SELECT {q.STANDARD.string(definition.name)} AS journey, s.*, "
            f"DATE '{run_day}' AS run_day FROM ({state_sql('log_after')}) AS s "
            "ORDER BY one_id, instance"
        ).to_arrow_table()
    state = state.select(JOURNEY_STATE_SCHEMA.names).cast(JOURNEY_STATE_SCHEMA)
    return RunResult(definition.name, run_day, events, state)
