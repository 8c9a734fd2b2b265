"""Running the journeys: what the pipeline step, the daily DAG and ``cdp journeys`` call.

A run is as of the marts' day: it reads what people did from the marts (events, coupon events
and orders with their one_id), the people of the marts conditions of entries and branches
(compiled like segments), and the journey's log before that day; advances the journey
(``engine``); passes the messages through suppression into export packs (``sends``); and
records the day's log and the state (``store``). Journeys advance in day order: a run of a day
before the journey's latest run day changes nothing and says so; a re-run of the latest day
replaces it with the same rows. A dry run stops before the sends and records nothing.

A run of a past day (``send=False``: a day of a backfill with later runs, like the segment
exports' ``cdp.run_dates.export_decision``) advances the journeys and records the day, so the
state stays right for the days after it, but sends nothing: its messages are logged with the
reason ``past_day``, no export is written and no touch recorded. Only the newest day sends.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cdp.activation.catalog import UNIVERSE, MartCatalog, marts_as_of
from cdp.activation.compiler import compile_segment, members
from cdp.activation.definitions import SegmentDefinition
from cdp.activation.inputs import identity_lookup, open_marts, read_contacts
from cdp.activation.rules import load_activation_rules
from cdp.config import ConfigError, Settings, journeys_folder, segments_folder
from cdp.journeys import definitions as d
from cdp.journeys import engine, sends, store
from cdp.journeys.engine_sql import event_filter_sql, ts
from cdp.lakehouse import Lakehouse
from cdp.tables import ensure

ACTIVITY_SQL = """
    SELECT one_id, 'event:' || event_id AS record_id, 'event' AS record_type,
           event_source AS channel, event_type, occurred_at, scene, campaign, amount_fen
    FROM intermediate.int_activity__events WHERE one_id IS NOT NULL
    UNION ALL
    SELECT one_id, 'coupon:' || event_id, 'coupon', 'coupons', event_type, occurred_at,
           NULL, campaign_id, face_value_fen
    FROM intermediate.int_activity__coupon_events WHERE one_id IS NOT NULL
    UNION ALL
    SELECT one_id, 'order:' || order_key, 'order', channel, 'order', ordered_at, NULL, NULL,
           net_amount_fen
    FROM fct_orders WHERE one_id IS NOT NULL AND is_purchase"""


@dataclass
class JourneyRun:
    """One journey's run: what moved, and the exports of its sends."""

    journey: str
    run_day: date
    skipped: str | None = None
    result: engine.RunResult | None = None
    exports: list[sends.StepSend] = field(default_factory=list)
    recorded: bool = False

    def summary(self) -> str:
        """What ``cdp journeys dry-run`` and the pipeline print."""
        if self.skipped:
            return f"{self.journey}: {self.skipped}"
        r = self.result
        sent = r.events.filter(pa.compute.equal(r.events["action"], "sent"))
        reasons: dict[str, int] = {}
        for reason, channel in zip(sent["reason"].to_pylist(), sent["channel"].to_pylist()):
            key = reason or (f"sent:{channel}" if channel else "to_send")
            reasons[key] = reasons.get(key, 0) + 1
        messages = ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items())) or "none"
        active = r.state.filter(pa.compute.equal(r.state["status"], "active")).num_rows
        return (
            f"{self.journey} as of {self.run_day}: {r.count('entered'):,} entered, "
            f"{r.count('moved'):,} moves, {r.count('exited'):,} exited, {active:,} active; "
            f"messages: {messages}" + ("" if self.recorded else " (nothing recorded)")
        )


def _filters(definition: d.JourneyDefinition) -> list[d.EventFilter]:
    found = list(definition.converted)
    if isinstance(definition.entry, d.EventEntry):
        found.append(definition.entry.event)
    for step in definition.steps:
        if isinstance(step, d.BranchStep) and isinstance(step.condition, d.EventSinceEntry):
            found.append(step.condition.event)
    return found


def read_activity(con, definition: d.JourneyDefinition, window) -> pa.Table:
    """What people did that the journey's filters can match, from the marts, within
    ``window`` (from, to: ``engine.activity_window``)."""
    filters = _filters(definition)
    if not filters:
        return engine.ACTIVITY_SCHEMA.empty_table()
    tests = " OR ".join(f"({event_filter_sql(f)})" for f in filters)
    tests = f"({tests}) AND occurred_at >= {ts(window[0])} AND occurred_at < {ts(window[1])}"
    table = con.sql(f"SELECT * FROM ({ACTIVITY_SQL}) AS a WHERE {tests}").to_arrow_table()
    return table.cast(engine.ACTIVITY_SCHEMA)


def _people(con, definition, rules, path: Path, key: str, lookup, catalog) -> pa.Table:
    segment = SegmentDefinition(
        name=definition.name,
        owner=definition.owner,
        description=definition.description,
        rules=rules,
    )
    compiled = compile_segment(segment, path, con, lookup, catalog)
    return members(con, compiled).select(["one_id"])


def _date_people(con, entry: d.DateAttributeEntry, run_day: date, catalog, path) -> pa.Table:
    catalog.column_type(entry.mart, entry.column, f"{path}: entry.column")
    target = run_day + timedelta(days=entry.days_before)
    column = f'"{entry.column}"'
    if entry.yearly:
        test = f"month({column}) = {target.month} AND day({column}) = {target.day}"
    else:
        test = f"{column}::DATE = DATE '{target.isoformat()}'"
    return con.sql(
        f"SELECT DISTINCT one_id FROM {entry.mart} WHERE {column} IS NOT NULL AND {test}"
    ).to_arrow_table()


def inputs_for(con, definition, path, run_day, log, lookup, window) -> engine.Inputs:
    """The engine's inputs for a journey from the marts (what people did within
    ``window``)."""
    catalog = MartCatalog(con)
    entry = definition.entry
    audience = None
    if isinstance(entry, d.DateAttributeEntry):
        audience = _date_people(con, entry, run_day, catalog, path)
    elif entry.rules is not None:
        audience = _people(con, definition, entry.rules, path, "entry.rules", lookup, catalog)
    branch_people = {
        step.id: _people(
            con, definition, step.condition.rules, path, f"steps.{step.id}", lookup, catalog
        )
        for step in definition.steps
        if isinstance(step, d.BranchStep) and isinstance(step.condition, d.MartsCondition)
    }
    return engine.Inputs(read_activity(con, definition, window), log, audience, branch_people)


#: the reason of a message a run of a past day does not send
PAST_DAY = "past_day"


def run_journeys(
    settings: Settings,
    names: list[str] | None = None,
    dry_run: bool = False,
    progress=None,
    send: bool = True,
    as_of: date | None = None,
) -> list[JourneyRun]:
    """Advance every journey (or those named) as of the marts' day; ``send=False`` for a run
    of a past day (see the module doc). ``as_of`` replays an earlier day on these marts: what
    people did is cut off at the end of that day, the marts conditions (segments, tags) and
    contacts are the marts' (for tests and benchmarks that drive days without a build each)."""
    say = progress or (lambda _m: None)
    folder = journeys_folder(settings)
    paths = d.journey_paths(folder)
    for name in names or []:
        if name not in paths:
            raise ConfigError(f"no journey {name!r} in {folder}; defined: {', '.join(paths)}")
    lakehouse = Lakehouse(settings.lakehouse_dir)
    if not dry_run:
        ensure(lakehouse, "gold")
    rules = load_activation_rules(segments_folder(settings))
    lookup = identity_lookup(lakehouse)
    # suppression's consent, followers and WeChat tables, read once for every send of the run
    contacts = functools.cache(lambda: read_contacts(lakehouse))
    runs = []
    with open_marts(settings) as con:
        run_day = _run_day(marts_as_of(MartCatalog(con), [UNIVERSE]), as_of)
        for name, path in paths.items():
            if names and name not in names:
                continue
            definition = d.load_journey(path)
            runs.append(
                _run_one(
                    settings,
                    con,
                    definition,
                    path,
                    run_day,
                    (rules, lookup, contacts),
                    dry_run,
                    say,
                    send,
                )
            )
    return runs


def _run_day(marts_day: date, as_of: date | None) -> date:
    if as_of is None:
        return marts_day
    if as_of > marts_day:
        raise ConfigError(
            f"journeys as of {as_of}: the marts are as of {marts_day}; build them as of "
            f"{as_of} first (cdp marts build --as-of {as_of})"
        )
    return as_of


def unsent(events: pa.Table) -> pa.Table:
    """The log with every message still to be decided marked ``past_day`` (not sent)."""
    pending = pc.and_(pc.equal(events["action"], "sent"), pc.is_null(events["reason"]))
    reasons = pc.if_else(pending, PAST_DAY, events["reason"])
    return events.set_column(events.schema.get_field_index("reason"), "reason", reasons)


def _run_one(settings, con, definition, path, run_day, shared, dry_run, say, send) -> JourneyRun:
    rules, lookup, contacts = shared
    lakehouse = Lakehouse(settings.lakehouse_dir)
    latest = store.latest_day(lakehouse, definition.name)
    if latest is not None and latest > run_day:
        return JourneyRun(
            definition.name,
            run_day,
            skipped=f"already advanced through {latest}; journeys advance in day order, so a "
            f"run as of {run_day} changes nothing",
        )
    say(f"{definition.name}: advancing as of {run_day}")
    log = store.read_log(lakehouse, definition.name, before=run_day)
    tz, lateness = settings.source_timezone, settings.journey_lateness_days
    window = engine.activity_window(definition, run_day, log, tz, lateness)
    inputs = inputs_for(con, definition, path, run_day, log, lookup, window)
    result = engine.advance(definition, run_day, inputs, tz, lateness)
    run = JourneyRun(definition.name, run_day, result=result)
    if dry_run:
        return run
    if send:
        result.events, run.exports = sends.deliver(
            settings, con, definition, run_day, result.events, rules, path, contacts, say
        )
    else:
        say(f"{definition.name}: {run_day} is a past day: messages logged as {PAST_DAY}, none sent")
        result.events = unsent(result.events)
    events = result.events
    store.record(lakehouse, definition.name, run_day, events, result.state)
    run.recorded = True
    return run
