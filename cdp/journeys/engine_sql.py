"""The SQL of the journey engine (``cdp.journeys.engine`` runs it on DuckDB).

Each builder returns one query over the relations the engine registers: ``activity`` (what
people did: one_id, record_id, record_type, channel, event_type, occurred_at, scene,
campaign, amount_fen), ``instances`` (every person's journeys so far), ``state`` (the active
ones), ``groups`` and the people sets of marts conditions. Configured values reach the SQL
only as literals of ``cdp.sql_literals``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cdp.journeys import definitions as d
from cdp.sql_literals import STANDARD

#: a person's number in [0, 1) for a salt: the first 60 bits of SHA-256(salt:one_id)
FRACTION_METHOD = "first 60 bits of sha256(salt:one_id) / 2**60"


def ts(moment: datetime) -> str:
    """A UTC timestamp literal."""
    return f"TIMESTAMPTZ '{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


def fraction_sql(salt: str, one_id: str = "one_id") -> str:
    """The person's number in [0, 1) for ``salt`` (``FRACTION_METHOD``)."""
    return (
        f"(('0x' || substr(sha256({STANDARD.string(salt + ':')} || {one_id}), 1, 15))::BIGINT"
        " / 1152921504606846976.0)"
    )


def event_filter_sql(event: d.EventFilter, alias: str = "a") -> str:
    """The test of one activity row against an event filter."""
    parts = [f"{alias}.record_type = {STANDARD.string(event.record_type)}"]
    if event.event_type:
        parts.append(f"{alias}.event_type IN ({STANDARD.strings(event.event_type)})")
    if event.channel:
        parts.append(f"{alias}.channel IN ({STANDARD.strings(event.channel)})")
    if event.campaign:
        parts.append(f"{alias}.campaign IN ({STANDARD.strings(event.campaign)})")
    if event.scene_prefix:
        tests = " OR ".join(
            f"starts_with({alias}.scene, {STANDARD.string(p)})" for p in event.scene_prefix
        )
        parts.append(f"({tests})")
    if event.min_amount_fen is not None:
        parts.append(f"{alias}.amount_fen >= {int(event.min_amount_fen)}")
    if event.max_amount_fen is not None:
        parts.append(f"{alias}.amount_fen <= {int(event.max_amount_fen)}")
    return " AND ".join(parts)


def history_sql() -> str:
    """Per person: their journeys so far (count, last entry, last exit, one still active)."""
    return """
        SELECT one_id, count(*) AS instances, max(entered_at) AS last_entered_at,
               max(exited_at) AS last_exited_at, bool_or(status = 'active') AS has_active
        FROM instances GROUP BY one_id"""


def policy_sql(re_entry: d.ReEntry) -> str:
    """Whether a candidate ``c`` may enter given the person's history ``h`` (no history:
    always)."""
    if re_entry.policy == "once":
        allowed = "FALSE"
    elif re_entry.policy == "once_per_period":
        allowed = f"c.occurred_at >= h.last_entered_at + INTERVAL {int(re_entry.period_days)} DAY"
    else:
        allowed = "TRUE"
    return (
        "(h.one_id IS NULL OR (NOT h.has_active AND c.occurred_at > h.last_exited_at "
        f"AND {allowed}))"
    )


def entries_sql(candidates: str, re_entry: d.ReEntry, salt: str, ratio: float) -> str:
    """New instances from ``candidates`` (one_id, trigger_id, occurred_at): the first
    candidate of each person the re-entry policy lets in, numbered after their earlier ones,
    with their group (control below ``ratio``)."""
    return f"""
        WITH eligible AS (
            SELECT c.*, coalesce(h.instances, 0) + 1 AS instance
            FROM ({candidates}) AS c
            LEFT JOIN history AS h USING (one_id)
            WHERE {policy_sql(re_entry)}
            QUALIFY row_number() OVER (PARTITION BY c.one_id
                                       ORDER BY c.occurred_at, c.trigger_id) = 1
        )
        SELECT one_id, instance, trigger_id, occurred_at AS entered_at,
               CASE WHEN {fraction_sql(salt)} < {float(ratio)} THEN 'control'
                    ELSE 'treatment' END AS split_group
        FROM eligible"""


def event_candidates_sql(
    event: d.EventFilter, since: datetime, cutoff: datetime, with_audience: bool
) -> str:
    """Trigger events in the run's window [since, cutoff) not used by an earlier entry."""
    audience = "AND a.one_id IN (SELECT one_id FROM audience)" if with_audience else ""
    return f"""
        SELECT a.one_id, a.record_id AS trigger_id, a.occurred_at
        FROM activity AS a
        WHERE {event_filter_sql(event)}
          AND a.occurred_at >= {ts(since)} AND a.occurred_at < {ts(cutoff)} {audience}
          AND a.record_id NOT IN (SELECT trigger_id FROM instances)"""


def audience_candidates_sql(trigger_id: str, moment: datetime) -> str:
    """Everyone of ``audience`` as a candidate entering at ``moment``."""
    return f"""
        SELECT one_id, {STANDARD.string(trigger_id)} AS trigger_id,
               {ts(moment)} AS occurred_at
        FROM audience
        WHERE {STANDARD.string(trigger_id)} NOT IN (SELECT trigger_id FROM instances)"""


def conversions_sql(converted: list[d.EventFilter], cutoff: datetime) -> str:
    """Per active instance, its first conversion after entering (known by ``cutoff``)."""
    tests = " OR ".join(f"({event_filter_sql(e)})" for e in converted)
    return f"""
        SELECT s.one_id, s.instance, min(a.occurred_at) AS converted_at
        FROM state AS s
        JOIN activity AS a ON a.one_id = s.one_id
        WHERE a.occurred_at >= s.entered_at AND a.occurred_at < {ts(cutoff)} AND ({tests})
        GROUP BY s.one_id, s.instance"""


def due_sql(step: d.Step, end_moment: datetime | None, until: datetime | None) -> str:
    """When an instance at ``step`` acts: a wait's end, or at once."""
    if isinstance(step, d.WaitStep):
        if step.seconds is not None:
            return f"s.step_at + INTERVAL ({step.seconds}) SECOND"
        return f"greatest(s.step_at, {ts(until)})"
    return "s.step_at"


def branch_sql(condition: d.BranchCondition, step_id: str) -> str:
    """Whether the branch's condition holds for instance ``s`` at its due time ``due_at``."""
    if isinstance(condition, d.EventSinceEntry):
        return f"""EXISTS (SELECT 1 FROM activity AS a WHERE a.one_id = s.one_id
                    AND a.occurred_at >= s.entered_at AND a.occurred_at <= s.due_at
                    AND {event_filter_sql(condition.event)})"""
    if isinstance(condition, d.InGroup):
        return f"""EXISTS (SELECT 1 FROM groups AS g WHERE g.one_id = s.one_id
                    AND g.group_name = {STANDARD.string(condition.group)} AND g.is_member)"""
    return f"s.one_id IN (SELECT one_id FROM {people_relation(step_id)})"


def people_relation(step_id: str) -> str:
    """The relation holding the people a marts condition of a step selects."""
    return f"people_{step_id}"


def decisions_sql(
    step: d.Step,
    next_step: str | None,
    cutoff: datetime,
    end_moment: datetime | None,
    until: datetime | None,
) -> str:
    """What every active instance at ``step`` does in this round: exit converted, exit at the
    journey's end, act (move on, send, change a group, exit), or nothing yet (no row).

    Columns: one_id, instance, seq, event_at, action (moved | exited), step, to_step, reason,
    side_action (sent | group_added | group_removed), side_reason."""
    end = ts(end_moment) if end_moment else "NULL::TIMESTAMPTZ"
    to_next = STANDARD.string(next_step) if next_step else "NULL::VARCHAR"
    next_action = "'moved'" if next_step else "'exited'"
    next_reason = "'completed'" if not next_step else "{reason}"
    side_action, side_reason = "NULL::VARCHAR", "NULL::VARCHAR"
    holds = "NULL::BOOLEAN"
    if isinstance(step, d.WaitStep):
        action, to_step, reason = next_action, to_next, next_reason.format(reason="'waited'")
    elif isinstance(step, d.BranchStep):
        holds = branch_sql(step.condition, step.id)
        then, other = STANDARD.string(step.then), STANDARD.string(step.else_)
        action, reason = "'moved'", "CASE WHEN holds THEN 'true' ELSE 'false' END"
        to_step = f"CASE WHEN holds THEN {then} ELSE {other} END"
    elif isinstance(step, d.ExitStep):
        action, to_step, reason = "'exited'", "NULL::VARCHAR", STANDARD.string(step.reason)
    else:
        action, to_step = next_action, to_next
        if isinstance(step, d.SendStep):
            side_action = "'sent'"
            side_reason = "CASE WHEN s.split_group = 'control' THEN 'control_group' END"
            reason = next_reason.format(reason="'sent'")
        else:
            group = step.add or step.remove
            side_action = "'group_added'" if step.add else "'group_removed'"
            side_reason = STANDARD.string(group)
            reason = next_reason.format(reason="'grouped'")
    return f"""
        WITH timed AS (
            SELECT s.*, {due_sql(step, end_moment, until)} AS due_at,
                   c.converted_at, {end} AS end_at
            FROM state AS s LEFT JOIN conversions AS c USING (one_id, instance)
            WHERE s.step = {STANDARD.string(step.id)}
        ),
        -- the branch's condition once per instance (used twice below, a subquery each time)
        s AS (SELECT *, {holds} AS holds FROM timed AS s)
        SELECT one_id, instance, seq + 2 AS seq,
               CASE
                 WHEN converted_at IS NOT NULL AND converted_at <= due_at THEN converted_at
                 WHEN end_at IS NOT NULL AND due_at >= end_at THEN end_at
                 ELSE due_at
               END AS event_at,
               CASE
                 WHEN converted_at IS NOT NULL AND converted_at <= due_at THEN 'exited'
                 WHEN end_at IS NOT NULL AND due_at >= end_at THEN 'exited'
                 ELSE {action}
               END AS action,
               step,
               CASE
                 WHEN converted_at IS NOT NULL AND converted_at <= due_at THEN NULL
                 WHEN end_at IS NOT NULL AND due_at >= end_at THEN NULL
                 ELSE {to_step}
               END AS to_step,
               CASE
                 WHEN converted_at IS NOT NULL AND converted_at <= due_at THEN 'converted'
                 WHEN end_at IS NOT NULL AND due_at >= end_at THEN 'journey_ended'
                 ELSE {reason}
               END AS reason,
               CASE
                 WHEN converted_at IS NOT NULL AND converted_at <= due_at THEN NULL
                 WHEN end_at IS NOT NULL AND due_at >= end_at THEN NULL
                 ELSE {side_action}
               END AS side_action,
               {side_reason} AS side_reason
        FROM s
        WHERE least(due_at, coalesce(converted_at, due_at), coalesce(end_at, due_at))
              < {ts(cutoff)}"""
