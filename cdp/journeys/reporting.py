"""Journey reporting: per step, who entered, waits, moved and left (by reason), messages sent
and suppressed (by reason), and conversions and revenue within 60 days of entering, treatment
against control, with a 95% confidence interval (normal approximation of a difference of
proportions, as the ``campaign_response`` mart does). Pure SQL over Arrow tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

WINDOW_DAYS = 60

STEPS_SQL = """
    WITH moves AS (
        SELECT step, action, reason, channel, count(*) AS rows FROM log
        WHERE step IS NOT NULL GROUP BY ALL
    ),
    arrived AS (
        SELECT to_step AS step, count(*) AS arrived FROM log
        WHERE action IN ('entered', 'moved') GROUP BY ALL
    ),
    waiting AS (
        SELECT step, count(*) AS waiting FROM state WHERE status = 'active' GROUP BY ALL
    )
    SELECT a.step, a.arrived, coalesce(w.waiting, 0) AS waiting,
           coalesce((SELECT sum(rows) FROM moves AS m
                     WHERE m.step = a.step AND m.action = 'moved'), 0) AS moved_on,
           coalesce((SELECT sum(rows) FROM moves AS m
                     WHERE m.step = a.step AND m.action = 'exited'), 0) AS exited,
           coalesce((SELECT sum(rows) FROM moves AS m
                     WHERE m.step = a.step AND m.action = 'sent' AND m.channel IS NOT NULL),
                    0) AS sent
    FROM arrived AS a LEFT JOIN waiting AS w USING (step)
    ORDER BY a.step"""

OUTCOMES_SQL = """
    SELECT action, coalesce(reason, 'sent:' || channel, 'to_send') AS outcome, count(*) AS rows
    FROM log WHERE action IN ('exited', 'sent') GROUP BY ALL ORDER BY action, outcome"""

RESPONSE_SQL = f"""
    WITH people AS (
        SELECT s.split_group, s.one_id, s.instance,
               count(o.one_id) AS orders, coalesce(sum(o.amount_fen), 0) AS revenue_fen
        FROM state AS s
        LEFT JOIN orders AS o
          ON o.one_id = s.one_id AND o.occurred_at > s.entered_at
         AND o.occurred_at <= s.entered_at + INTERVAL {WINDOW_DAYS} DAY
        GROUP BY ALL
    )
    SELECT split_group, count(*) AS people, count(*) FILTER (WHERE orders > 0) AS converted,
           sum(revenue_fen) AS revenue_fen
    FROM people GROUP BY ALL"""


@dataclass
class Response:
    """Treatment against control over the 60 days after entering."""

    treatment: tuple[int, int, int]  # people, converted, revenue in fen
    control: tuple[int, int, int]

    @property
    def uplift(self) -> tuple[float, float, float] | None:
        """Conversion rate difference and its 95% interval (None without both groups)."""
        (nt, ct, _), (nc, cc, _) = self.treatment, self.control
        if not nt or not nc:
            return None
        pt, pc = ct / nt, cc / nc
        margin = 1.96 * ((pt * (1 - pt) / nt + pc * (1 - pc) / nc) ** 0.5)
        return pt - pc, pt - pc - margin, pt - pc + margin


@dataclass
class Report:
    journey: str
    steps: list[tuple]
    outcomes: list[tuple]
    response: Response

    def text(self) -> str:
        """The report ``cdp journeys report`` prints."""
        lines = [f"{self.journey}", "  step: arrived, waiting, moved on, exited, sent"]
        lines += [f"  {s}: {a:,}, {w:,}, {m:,}, {e:,}, {n:,}" for s, a, w, m, e, n in self.steps]
        lines += [f"  {action} {outcome}: {rows:,}" for action, outcome, rows in self.outcomes]
        r = self.response
        for name, (people, converted, revenue) in (
            ("treatment", r.treatment),
            ("control", r.control),
        ):
            lines.append(
                f"  {name}: {people:,} entered, {converted:,} converted within {WINDOW_DAYS} "
                f"days, revenue {revenue / 100:,.2f}"
            )
        if r.uplift:
            u, low, high = r.uplift
            lines.append(f"  uplift {u:+.2%} (95% CI {low:+.2%} .. {high:+.2%})")
        return "\n".join(lines)


def report(journey: str, log: pa.Table, state: pa.Table, orders: pa.Table) -> Report:
    """Counts per step, outcomes and the response of a journey from its log and state and
    the orders (one_id, occurred_at, amount_fen)."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for name, table in (("log", log), ("state", state), ("orders", orders)):
            con.register(name, table)
        steps = con.sql(STEPS_SQL).fetchall()
        outcomes = con.sql(OUTCOMES_SQL).fetchall()
        groups = {g: (p, c, int(r)) for g, p, c, r in con.sql(RESPONSE_SQL).fetchall()}
    empty = (0, 0, 0)
    return Report(
        journey,
        steps,
        outcomes,
        Response(groups.get("treatment", empty), groups.get("control", empty)),
    )
