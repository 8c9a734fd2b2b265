"""An export's history in gold: its run, its members and the touches it plans.

A run is identified by the as-of day and the hash of everything that decides it (``run_id_of``,
``definition_hash``). ``record_run`` writes ``gold.segment_runs``, ``gold.segment_membership``
(the members with their group) and ``gold.touches``; each replaces what an earlier export of
the same segment for the same as-of day recorded, and leaves the tables untouched when nothing
changed, so re-running never counts twice. ``membership_changes`` reads who entered and left
between the two latest runs. The tables are declared in ``cdp.tables``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp.activation.definitions import SegmentDefinition
from cdp.activation.rules import ActivationRules
from cdp.lakehouse import Lakehouse
from cdp.sql_literals import STANDARD
from cdp.tables import SEGMENT_MEMBERSHIP as MEMBERSHIP
from cdp.tables import SEGMENT_MEMBERSHIP_SCHEMA as MEMBERSHIP_SCHEMA
from cdp.tables import SEGMENT_RUNS as RUNS
from cdp.tables import SEGMENT_RUNS_SCHEMA as RUNS_SCHEMA
from cdp.tables import TOUCHES, TOUCHES_SCHEMA


def definition_hash(
    definition: SegmentDefinition,
    rules: ActivationRules,
    list_files: dict[str, bytes] | None = None,
) -> str:
    """SHA-256 of everything that decides an export: the definition, the activation rules and
    the bytes of the list files it names."""
    payload = {
        "segment": definition.model_dump(mode="json", by_alias=True),
        "activation": rules.model_dump(mode="json"),
        "files": {k: hashlib.sha256(v).hexdigest() for k, v in sorted((list_files or {}).items())},
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_id_of(as_of: date, digest: str) -> str:
    """The run id of an export: the as-of day and the definition hash, e.g.
    ``20260930-3fa2b1c4d5e6``. Same segment, rules and day: same run, same folder."""
    return f"{as_of:%Y%m%d}-{digest[:12]}"


def record_run(
    lakehouse: Lakehouse, manifest: dict, groups: pa.Table, touched: pa.Table, touched_at: datetime
) -> None:
    """The run, its membership and its touches, replacing those of an earlier export of the
    same segment for the same as-of day (the run is recorded even when nobody is in it, so
    that everyone can be seen leaving)."""
    segment, run_id = manifest["segment"], manifest["run_id"]
    as_of = date.fromisoformat(manifest["as_of"])
    counts = manifest["counts"]
    same_day = (
        f"segment = {STANDARD.string(segment)} AND as_of = {STANDARD.string(as_of.isoformat())}"
    )
    same_day_rows = (pc.field("segment") == segment) & (pc.field("as_of") == as_of)
    run = pa.table(
        {
            "segment": [segment],
            "run_id": [run_id],
            "as_of": [as_of],
            "definition_sha256": [manifest["definition_sha256"]],
            "send_at": [touched_at],
            "members": [counts["segment"]],
            "treatment": [counts["treatment"]],
            "control": [counts["control"]],
            "exported": [counts["exported"]],
        },
        schema=RUNS_SCHEMA,
    )
    lakehouse.replace_rows(RUNS, run, same_day, same_day_rows)
    n = groups.num_rows
    membership = pa.table(
        {
            "segment": pa.array([segment] * n, pa.string()),
            "run_id": pa.array([run_id] * n, pa.string()),
            "as_of": pa.array([as_of] * n, pa.date32()),
            "one_id": groups.column("one_id"),
            "group": groups.column("group"),
            "stratum": groups.column("stratum"),
        },
        schema=MEMBERSHIP_SCHEMA,
    )
    lakehouse.replace_rows(MEMBERSHIP, membership, same_day, same_day_rows)
    m = touched.num_rows
    touches = pa.table(
        {
            "one_id": touched.column("one_id"),
            "channel": touched.column("channel"),
            "touched_at": pa.array([touched_at] * m, pa.timestamp("us", tz="UTC")),
            "run_id": pa.array([run_id] * m, pa.string()),
            "segment": pa.array([segment] * m, pa.string()),
            "as_of": pa.array([as_of] * m, pa.date32()),
        },
        schema=TOUCHES_SCHEMA,
    )
    lakehouse.replace_rows(TOUCHES, touches, same_day, same_day_rows)


@dataclass
class MembershipChanges:
    """Who entered and who left a segment between its two latest runs."""

    segment: str
    previous: tuple[str, date] | None  # (run id, as-of day)
    latest: tuple[str, date] | None
    entered: list[str]
    left: list[str]

    def summary(self) -> str:
        """One line for ``cdp segments changes``."""
        if self.latest is None:
            return f"{self.segment}: never exported"
        if self.previous is None:
            return f"{self.segment}: one run so far ({self.latest[0]}, as of {self.latest[1]})"
        return (
            f"{self.segment}: {len(self.entered):,} entered, {len(self.left):,} left between "
            f"{self.previous[0]} (as of {self.previous[1]}) and {self.latest[0]} "
            f"(as of {self.latest[1]})"
        )


def membership_changes(lakehouse: Lakehouse, segment: str) -> MembershipChanges:
    """Who entered and who left the segment between its two latest runs (by as-of day)."""
    of_segment = pc.field("segment") == segment
    runs_of_segment = lakehouse.scan(RUNS, ["run_id", "as_of"], of_segment, schema=RUNS_SCHEMA)
    with duckdb.connect() as con:
        con.register("runs", runs_of_segment)
        runs = con.sql("SELECT run_id, as_of FROM runs ORDER BY as_of DESC LIMIT 2").fetchall()
        if len(runs) < 2:
            return MembershipChanges(segment, None, tuple(runs[0]) if runs else None, [], [])
        (latest_run, _), (previous_run, _) = runs
        con.register(
            "membership",
            lakehouse.scan(
                MEMBERSHIP,
                ["run_id", "one_id"],
                of_segment & pc.field("run_id").isin([latest_run, previous_run]),
                schema=MEMBERSHIP_SCHEMA,
            ),
        )

        def difference(a: str, b: str) -> list[str]:
            return [
                one_id
                for (one_id,) in con.execute(
                    "SELECT one_id FROM membership WHERE run_id = ? EXCEPT "
                    "SELECT one_id FROM membership WHERE run_id = ? ORDER BY 1",
                    [a, b],
                ).fetchall()
            ]

        return MembershipChanges(
            segment,
            tuple(runs[1]),
            tuple(runs[0]),
            difference(latest_run, previous_run),
            difference(previous_run, latest_run),
        )
