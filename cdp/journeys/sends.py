"""A run's journey messages as ordinary exports: activation's suppression and packs.

Per send step with messages in the run, the treatment people due (not held out) are the
audience of an export named ``journey_<journey>_<step>``: the same suppression (consent,
frequency caps, exclusive channels, WeChat 48-hour routing), the same packs and a manifest,
under ``<workspace>/exports/journeys/<journey>/<step>/<run id>/``; the people reached are
touches in ``gold.touches`` (so later caps count them) and the export is audited like any
other. Each sent row of the log then carries its channel, or the reason it was suppressed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp.activation import packs, staging, suppression
from cdp.activation.catalog import MartCatalog
from cdp.activation.definitions import Campaign
from cdp.activation.dmp.common import file_digest
from cdp.activation.export import _contacts as export_contacts
from cdp.activation.export import exports_dir
from cdp.activation.inputs import Contacts, suppression_inputs
from cdp.activation.manifest import write_manifest
from cdp.activation.rules import ActivationRules
from cdp.journeys import definitions as d
from cdp.lakehouse import Lakehouse
from cdp.privacy import audit
from cdp.sql_literals import STANDARD
from cdp.tables import JOURNEY_EVENTS_SCHEMA, TOUCHES, TOUCHES_SCHEMA


@dataclass
class StepSend:
    """One send step's export in a run."""

    step: str
    run_id: str
    folder: Path
    manifest: dict


def export_name(journey: str, step: str) -> str:
    """The export (and ``gold.touches`` segment) name of a journey's send step."""
    return f"journey_{journey}_{step}"


def run_id_of(definition: d.JourneyDefinition, rules: ActivationRules, run_day: date) -> str:
    """The run day and the hash of the journey and the activation rules."""
    payload = json.dumps(
        {
            "journey": definition.model_dump(mode="json", by_alias=True),
            "rules": rules.model_dump(mode="json"),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return f"{run_day:%Y%m%d}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


def _contacts(marts, one_ids: pa.Table, path: Path) -> pa.Table:
    """The packs' columns of the people due, exactly as a segment export takes them."""
    groups = pa.table(
        {"one_id": one_ids["one_id"], "group": pa.array(["treatment"] * one_ids.num_rows)}
    )
    return export_contacts(marts, groups, MartCatalog(marts), path)


def _manifest(definition, step, run_id, run_day, send_at, outcome, files, dmp, folder, tz):
    digests = sorted(
        (
            file_digest(p) | {"name": p.relative_to(folder).as_posix()}
            for p in folder.rglob("*")
            if p.is_file() and p.name != "manifest.json"
        ),
        key=lambda x: x["name"],
    )
    return {
        "segment": export_name(definition.name, step.id),
        "journey": definition.name,
        "step": step.id,
        "owner": definition.owner,
        "content": step.content,
        "coupons": list(step.coupons),
        "run_id": run_id,
        "as_of": run_day.isoformat(),
        "send_at": send_at.astimezone(ZoneInfo(tz)).isoformat(),
        "counts": {
            "due": outcome.exported + sum(outcome.suppressed.values()),
            "exported": outcome.exported,
            "suppressed": dict(sorted(outcome.suppressed.items())),
        },
        "channels": {
            channel: {**counts, "files": files.get(channel, [])}
            for channel, counts in outcome.channels.items()
        },
        "dmp": {c: {k: v for k, v in m.items() if k != "files"} for c, m in sorted(dmp.items())},
        "files": digests,
    }


def _record_touches(lakehouse, name: str, run_id: str, run_day: date, reached, send_at) -> None:
    m = reached.num_rows
    touches = pa.table(
        {
            "one_id": reached.column("one_id"),
            "channel": reached.column("channel"),
            "touched_at": pa.array([send_at] * m, pa.timestamp("us", tz="UTC")),
            "run_id": pa.array([run_id] * m, pa.string()),
            "segment": pa.array([name] * m, pa.string()),
            "as_of": pa.array([run_day] * m, pa.date32()),
        },
        schema=TOUCHES_SCHEMA,
    )
    same_day = (pc.field("segment") == name) & (pc.field("as_of") == run_day)
    lakehouse.replace_rows(
        TOUCHES,
        touches,
        f"segment = {STANDARD.string(name)} AND as_of = {STANDARD.string(run_day.isoformat())}",
        same_day,
    )


def _apply(events: pa.Table, outcomes: dict[str, suppression.Outcome]) -> pa.Table:
    """The log with each step's pending sends given their channel or suppression reason
    (``outcomes`` per step id): one pass over the log, however many steps sent."""
    if not outcomes:
        return events
    chosen = pa.concat_tables(
        pa.table(
            {
                "step": pa.array([step] * outcome.people.num_rows, pa.string()),
                "one_id": outcome.people["one_id"],
                "channel": outcome.people["channel"].cast(pa.string()),
                "reason": outcome.people["reason"].cast(pa.string()),
            }
        )
        for step, outcome in outcomes.items()
    )
    with duckdb.connect() as con:
        con.register("events", events)
        con.register("outcome", chosen)
        con.execute("SET TimeZone = 'UTC'")
        # only equalities in the join: a condition on the log's side alone in a LEFT JOIN's
        # ON turned the hash join into a nested loop (minutes at a million rows)
        return (
            con.sql(
                """WITH chosen AS (
                    SELECT step, one_id, min(channel) AS channel,
                           arg_min(reason, channel IS NULL) AS reason
                    FROM outcome GROUP BY step, one_id
                )
                SELECT e.* REPLACE (
                    CASE WHEN e.action = 'sent' AND e.reason IS NULL AND c.step IS NOT NULL
                         THEN c.reason ELSE e.reason END AS reason,
                    CASE WHEN e.action = 'sent' AND e.reason IS NULL AND c.step IS NOT NULL
                         THEN c.channel ELSE e.channel END AS channel)
                FROM events AS e LEFT JOIN chosen AS c ON e.one_id = c.one_id
                     AND c.step = CASE WHEN e.action = 'sent' AND e.reason IS NULL
                                       THEN e.step END
                ORDER BY e.one_id, e.instance, e.seq"""
            )
            .to_arrow_table()
            .cast(JOURNEY_EVENTS_SCHEMA)
        )


def deliver(
    settings,
    marts,
    definition: d.JourneyDefinition,
    run_day: date,
    events: pa.Table,
    rules: ActivationRules,
    path: Path,
    contacts: Callable[[], Contacts],
    say=lambda _m: None,
) -> tuple[pa.Table, list[StepSend]]:
    """Suppress and export every send step's due messages of a run (the journey's file at
    ``path``; ``contacts`` gives suppression's tables the run reads once); returns the log
    with each message's channel or reason, and the exports written."""
    lakehouse = Lakehouse(settings.lakehouse_dir)
    tz = settings.source_timezone
    run_id = run_id_of(definition, rules, run_day)
    exports: list[StepSend] = []
    outcomes: dict[str, suppression.Outcome] = {}
    pending = pc.and_(pc.equal(events["action"], "sent"), pc.is_null(events["reason"]))
    for step in definition.steps:
        if not isinstance(step, d.SendStep):
            continue
        due = events.filter(pc.and_(pending, pc.equal(events["step"], step.id)))
        if not due.num_rows:
            continue
        name = export_name(definition.name, step.id)
        audience = _contacts(marts, due.select(["one_id"]), path)
        campaign = Campaign(
            channels=step.channels,
            control_ratio=0,
            send_time=definition.send_time,
        )
        say(f"{definition.name}/{step.id}: suppression for {audience.num_rows:,} people")
        outcome = suppression.suppress(
            suppression_inputs(lakehouse, audience, contacts()), rules, campaign, run_day, name, tz
        )
        send_at = suppression.send_moment(run_day, campaign.send_time or rules.send_time, tz)
        folder = exports_dir(settings) / "journeys" / definition.name / step.id / run_id
        with staging.staged_folder(folder) as staged:
            files, dmp = packs.write_packs(staged, outcome, audience, run_day, name, say)
            manifest = _manifest(
                definition, step, run_id, run_day, send_at, outcome, files, dmp, staged, tz
            )
            write_manifest(staged / "manifest.json", manifest)
        reached = outcome.people.filter(pc.is_null(outcome.people["reason"]))
        _record_touches(lakehouse, name, run_id, run_day, reached, send_at)
        audit.record_export(lakehouse, manifest)
        outcomes[step.id] = outcome
        exports.append(StepSend(step.id, run_id, folder, manifest))
    return _apply(events, outcomes), exports
