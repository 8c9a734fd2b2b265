"""Who left since the last export because they opted out (cdp.activation.departures), on Arrow
tables with the shipped activation rules. No engine."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pyarrow as pa

from cdp.activation import departures
from cdp.activation.rules import load_activation_rules
from cdp.activation.suppression import Inputs
from cdp.config import packaged

SINCE, NOW = date(2026, 9, 5), date(2026, 9, 7)
TZ = "Asia/Shanghai"


def at(day: int, hour: int = 12) -> datetime:
    """Noon of a September day in China, as UTC."""
    return datetime(2026, 9, day, hour - 8, tzinfo=UTC)


def consent_rows(rows: list[tuple[str, str, str, datetime]]) -> pa.Table:
    """(phone, topic, status, when) rows of silver.consent."""
    return pa.table(
        {
            "identifier_type": ["phone"] * len(rows),
            "identifier_value": [r[0] for r in rows],
            "identifier_is_valid": [True] * len(rows),
            "channel": [r[1] for r in rows],
            "status": [r[2] for r in rows],
            "occurred_at": pa.array([r[3] for r in rows], pa.timestamp("us", tz="UTC")),
        }
    )


def inputs(consent: pa.Table, people: list[str]) -> Inputs:
    empty = pa.table({})
    return Inputs(
        audience=empty,
        identity_map=pa.table(
            {
                "identifier_type": ["phone"] * len(people),
                "identifier_value": [f"1380000000{i}" for i in range(len(people))],
                "one_id": people,
            }
        ),
        consent=consent,
        followers=empty,
        wechat_events=empty,
        touches=empty,
    )


def test_only_those_who_opted_out_of_a_channel_they_were_reached_on_since_then():
    people = ["a", "b", "c", "d", "e", "f"]
    phone = {p: f"1380000000{i}" for i, p in enumerate(people)}
    consent = consent_rows(
        [(phone[p], "sms", "opt_in", at(1)) for p in people]
        + [
            (phone["a"], "sms", "opt_out", at(6)),  # since the last export: listed
            (phone["b"], "sms", "opt_out", at(3)),  # before it: suppressed then already
            (phone["c"], "wechat_template", "opt_out", at(6)),  # not a channel they got
            (phone["d"], "all", "opt_out", at(7)),  # every channel
            (phone["e"], "sms", "opt_out", at(6)),  # reached on a DMP channel only
            (phone["f"], "sms", "opt_out", at(8)),  # after the day of the next export
        ]
    )
    reached = pa.table(
        {
            "one_id": ["a", "b", "c", "d", "d", "e", "f"],
            "channel": ["sms", "sms", "sms", "sms", "wechat_template", "tencent", "sms"],
        }
    )
    rules = load_activation_rules(packaged("segments"))
    left = departures.opted_out_since(reached, inputs(consent, people), rules, SINCE, NOW, TZ)
    assert left == [
        {"one_id": "a", "reason": "opt_out", "channels": ["sms"]},
        {"one_id": "d", "reason": "opt_out", "channels": ["sms", "wechat_template"]},
    ]


def test_erasures_are_counted_from_the_last_manifest_without_names(tmp_path):
    (tmp_path / "manifest.json").write_text(
        json.dumps({"erasures": [{"request_id": "r2", "at": "x", "rows_removed": {}}]})
    )
    assert departures.erased_since(tmp_path) == {"people": 1, "requests": ["r2"]}
    (tmp_path / "never_erased").mkdir()
    (tmp_path / "never_erased" / "manifest.json").write_text(json.dumps({"files": []}))
    for folder in (tmp_path / "never_erased", tmp_path / "missing"):
        assert departures.erased_since(folder) == {"people": 0, "requests": []}
