"""What ``cdp journeys list|validate|status|report`` print."""

from __future__ import annotations

import pyarrow as pa

from cdp.activation.inputs import open_marts
from cdp.config import ConfigError, Settings, journeys_folder
from cdp.journeys import definitions as d
from cdp.journeys import reporting, store
from cdp.lakehouse import Lakehouse


def list_journeys(settings: Settings) -> str:
    """One line per journey: owner, entry, steps; or why its file is invalid."""
    lines = []
    for name, path in d.journey_paths(journeys_folder(settings)).items():
        try:
            journey = d.load_journey(path)
        except ConfigError as exc:
            lines.append(f"{name}: INVALID: {exc}")
            continue
        lines.append(
            f"{name} ({journey.owner}): entry {journey.entry.kind}, {len(journey.steps)} steps, "
            f"re-entry {journey.re_entry.policy}, control {journey.control.ratio:.0%}"
            + (f", ends {journey.ends_on}" if journey.ends_on else "")
        )
    return "\n".join(lines) or "no journeys"


def validate_journeys(settings: Settings) -> str:
    """Every journey file validated; the first invalid one raises ConfigError."""
    paths = d.journey_paths(journeys_folder(settings))
    for path in paths.values():
        d.load_journey(path)
    return f"{len(paths)} journeys valid: {', '.join(paths)}"


def status(settings: Settings) -> str:
    """People per journey and step after the latest run, and exits by reason."""
    state = store.read_state(Lakehouse(settings.lakehouse_dir))
    if not state.num_rows:
        return "no journey has run yet"
    import duckdb

    with duckdb.connect() as con:
        con.register("state", state)
        rows = con.sql(
            "SELECT journey, max(run_day), coalesce(step, 'exited:' || exit_reason), count(*) "
            "FROM state GROUP BY journey, 3 ORDER BY journey, 3"
        ).fetchall()
    lines, current = [], None
    for journey, day, where, people in rows:
        if journey != current:
            lines.append(f"{journey} (latest run {day})")
            current = journey
        lines.append(f"  {where}: {people:,}")
    return "\n".join(lines)


def journey_report(settings: Settings, name: str) -> str:
    """A journey's report (``reporting.report``)."""
    d.find_journey(name, journeys_folder(settings))
    lakehouse = Lakehouse(settings.lakehouse_dir)
    with open_marts(settings) as con:
        orders = con.sql(
            "SELECT one_id, ordered_at AS occurred_at, net_amount_fen AS amount_fen "
            "FROM fct_orders WHERE is_purchase AND one_id IS NOT NULL"
        ).to_arrow_table()
    log = store.read_events(lakehouse, name)
    state = store.read_state(lakehouse, name)
    return reporting.report(name, log, state, orders.cast(_ORDERS)).text()


_ORDERS = pa.schema(
    [
        ("one_id", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("amount_fen", pa.int64()),
    ]
)
