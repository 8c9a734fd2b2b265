"""Who left since a segment's last export for a reason the receivers must act on: people that
export reached who withdrew consent since, and people erased since.

A platform that received the last packs (an SMS gateway, a DMP audience already uploaded) keeps
those people until told: the next export's manifest says who left and why, under
``left_since_last_export``. People who merely fell out of the segment are not listed
(``cdp segments changes`` shows them). An opt-out is listed with the OneID and the channels
it closes; an erased person is not named, only counted with the erasure requests (the
erasure wrote them into the last export's manifest).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp.activation.rules import ActivationRules
from cdp.activation.suppression import Inputs, data_cutoff
from cdp.activation.suppression_sql import (
    audience_identifiers_sql,
    channel_consent_sql,
    latest_consent_sql,
    opted_out_sql,
)
from cdp.lakehouse import Lakehouse
from cdp.sql_literals import STANDARD
from cdp.tables import SEGMENT_RUNS, SEGMENT_RUNS_SCHEMA, TOUCHES, TOUCHES_SCHEMA

OPT_OUT, ERASED = "opt_out", "erased"


def previous_run(lakehouse: Lakehouse, segment: str, as_of: date) -> tuple[str, date] | None:
    """(run id, as-of day) of the segment's latest export before ``as_of``."""
    runs = lakehouse.scan(
        SEGMENT_RUNS,
        ["run_id", "as_of"],
        (pc.field("segment") == segment) & (pc.field("as_of") < as_of),
        schema=SEGMENT_RUNS_SCHEMA,
    ).to_pylist()
    latest = max(runs, key=lambda r: (r["as_of"], r["run_id"]), default=None)
    return (latest["run_id"], latest["as_of"]) if latest else None


def opted_out_since(
    reached: pa.Table, inputs: Inputs, rules: ActivationRules, since: date, now: date, tz: str
) -> list[dict]:
    """People of ``reached`` (one_id, channel) who had not opted out of a channel they were
    reached on as of day ``since`` and have as of day ``now`` (suppression's consent rules):
    one_id, reason, channels."""
    channels = sorted(
        c for c in set(reached["channel"].to_pylist()) if rules.channels[c].consent != "none"
    )
    if not channels:
        return []
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for name, table in (
            ("reached", reached),
            ("audience", reached.select(["one_id"])),
            ("identity_map", inputs.identity_map),
            ("consent", inputs.consent),
        ):
            con.register(name, table)
        con.execute(f"CREATE TEMP TABLE audience_identifiers AS {audience_identifiers_sql()}")
        for label, day in (("before", since), ("now", now)):
            cutoff = data_cutoff(day, tz)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE latest_consent AS {latest_consent_sql(cutoff)}"
            )
            for i, channel in enumerate(channels):
                topics = rules.channels[channel].consent_topics
                con.execute(
                    f"CREATE TEMP TABLE consent_{label}_{i} AS {channel_consent_sql(topics)}"
                )
                con.execute(
                    f"CREATE TEMP TABLE opted_out_{label}_{i} AS "
                    + opted_out_sql(f"consent_{label}_{i}")
                )
        left = " UNION ALL ".join(
            f"SELECT one_id, {STANDARD.string(channel)} AS channel FROM reached "
            f"WHERE channel = {STANDARD.string(channel)} "
            f"AND one_id IN (SELECT one_id FROM opted_out_now_{i}) "
            f"AND one_id NOT IN (SELECT one_id FROM opted_out_before_{i})"
            for i, channel in enumerate(channels)
        )
        rows = con.sql(
            f"SELECT one_id, list(DISTINCT channel ORDER BY channel) FROM ({left}) "
            "GROUP BY one_id ORDER BY one_id"
        ).fetchall()
    return [{"one_id": o, "reason": OPT_OUT, "channels": c} for o, c in rows]


def erased_since(folder: Path) -> dict:
    """The erasures recorded in the last export's manifest (``folder``): people and requests."""
    manifest = folder / "manifest.json"
    erasures = json.loads(manifest.read_text()).get("erasures", []) if manifest.exists() else []
    return {"people": len(erasures), "requests": sorted(e["request_id"] for e in erasures)}


def left_since_last_export(
    lakehouse: Lakehouse,
    segment_folder: Path,
    inputs: Inputs,
    rules: ActivationRules,
    segment: str,
    as_of: date,
    tz: str,
) -> dict:
    """The manifest's ``left_since_last_export`` section (see the module doc)."""
    previous = previous_run(lakehouse, segment, as_of)
    if previous is None:
        return {"previous_run": None, "opted_out": [], ERASED: {"people": 0, "requests": []}}
    run_id, previous_as_of = previous
    reached = lakehouse.scan(
        TOUCHES, ["one_id", "channel"], pc.field("run_id") == run_id, schema=TOUCHES_SCHEMA
    )
    return {
        "previous_run": run_id,
        "opted_out": opted_out_since(reached, inputs, rules, previous_as_of, as_of, tz),
        ERASED: erased_since(segment_folder / run_id),
    }
