"""Suppression and channel choice, each rule on tiny frames."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from cdp.activation.definitions import Campaign
from cdp.activation.rules import ActivationRules, load_activation_rules
from cdp.activation.suppression import Inputs, data_cutoff, send_moment, suppress
from cdp.config import packaged

AS_OF = date(2026, 9, 30)
SEND_AT = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # 10:00 China time the next day
APP, OTHER_APP = "wx00000000000000aa", "wx00000000000000bb"
TS = pa.timestamp("us", tz="UTC")

RULES = ActivationRules.model_validate(
    {
        "interaction_events": ["follow", "qr_scan", "menu_click", "menu_view"],
        "channel_priority": [
            "wechat_cs",
            "wechat_template",
            "sms",
            "pos",
            "tencent",
            "oceanengine",
            "google",
            "meta",
        ],
        "exclusive_groups": [["wechat_cs", "wechat_template", "sms"]],
        "channels": {
            "wechat_cs": {"consent": "not_opted_out", "consent_topics": ["wechat_template"]},
            "wechat_template": {"consent": "opt_in", "consent_topics": ["wechat_template"]},
            "sms": {"consent": "opt_in", "consent_topics": ["sms"]},
            "pos": {"consent": "none"},
            **{
                c: {"consent": "not_opted_out"}
                for c in ("tencent", "oceanengine", "google", "meta")
            },
        },
        "frequency_caps": [
            {
                "name": "wechat_monthly",
                "channels": ["wechat_cs", "wechat_template"],
                "max_touches": 4,
                "window_days": 30,
            },
            {"name": "sms_weekly", "channels": ["sms"], "max_touches": 2, "window_days": 7},
        ],
    }
)


def before_send(hours: float) -> datetime:
    return SEND_AT - timedelta(hours=hours)


def phone_of(one_id: str) -> str:
    return f"139{sum(map(ord, one_id)) % 10**8:08d}"


def audience(*one_ids: str, phones: dict | None = None, cards: dict | None = None) -> pa.Table:
    phones = phones if phones is not None else {o: phone_of(o) for o in one_ids}
    cards = cards or {}
    return pa.table(
        {
            "one_id": list(one_ids),
            "phone": [phones.get(o) for o in one_ids],
            "name": ["王宁"] * len(one_ids),
            "member_card_no": [cards.get(o) for o in one_ids],
            "tier": [None] * len(one_ids),
        },
        schema=pa.schema(
            [(c, pa.string()) for c in ("one_id", "phone", "name", "member_card_no", "tier")]
        ),
    )


def consent(*rows) -> pa.Table:
    """rows: (identifier_type, identifier_value, channel, status, occurred_at)."""
    return pa.table(
        {
            "identifier_type": [r[0] for r in rows],
            "identifier_value": [r[1] for r in rows],
            "identifier_is_valid": [True] * len(rows),
            "channel": [r[2] for r in rows],
            "status": [r[3] for r in rows],
            "occurred_at": pa.array([r[4] for r in rows], TS),
        },
        schema=pa.schema(
            [
                ("identifier_type", pa.string()),
                ("identifier_value", pa.string()),
                ("identifier_is_valid", pa.bool_()),
                ("channel", pa.string()),
                ("status", pa.string()),
                ("occurred_at", TS),
            ]
        ),
    )


def sms_opt_in(*one_ids: str) -> list[tuple]:
    return [("phone", phone_of(o), "sms", "opt_in", before_send(100)) for o in one_ids]


def follows(*pairs) -> pa.Table:
    """pairs: (app_id, openid[, is_subscribed])."""
    return pa.table(
        {
            "app_id": [p[0] for p in pairs],
            "openid": [p[1] for p in pairs],
            "is_subscribed": [p[2] if len(p) > 2 else True for p in pairs],
            "subscribed_at": pa.array([before_send(24 * 60)] * len(pairs), TS),
        },
        schema=pa.schema(
            [
                ("app_id", pa.string()),
                ("openid", pa.string()),
                ("is_subscribed", pa.bool_()),
                ("subscribed_at", TS),
            ]
        ),
    )


def events(*rows) -> pa.Table:
    """rows: (app_id, openid, event_type, occurred_at)."""
    return pa.table(
        {
            "app_id": [r[0] for r in rows],
            "openid": [r[1] for r in rows],
            "event_type": [r[2] for r in rows],
            "occurred_at": pa.array([r[3] for r in rows], TS),
        },
        schema=pa.schema(
            [
                ("app_id", pa.string()),
                ("openid", pa.string()),
                ("event_type", pa.string()),
                ("occurred_at", TS),
            ]
        ),
    )


def touches(*rows) -> pa.Table:
    """rows: (one_id, channel, touched_at[, segment, as_of])."""
    return pa.table(
        {
            "one_id": [r[0] for r in rows],
            "channel": [r[1] for r in rows],
            "touched_at": pa.array([r[2] for r in rows], TS),
            "run_id": ["run"] * len(rows),
            "segment": [r[3] if len(r) > 3 else "earlier" for r in rows],
            "as_of": pa.array(
                [r[4] if len(r) > 4 else date(2026, 9, 20) for r in rows], pa.date32()
            ),
        },
        schema=pa.schema(
            [
                ("one_id", pa.string()),
                ("channel", pa.string()),
                ("touched_at", TS),
                ("run_id", pa.string()),
                ("segment", pa.string()),
                ("as_of", pa.date32()),
            ]
        ),
    )


def identity(
    people: pa.Table,
    openids: dict[str, list[tuple[str, str]]] | None = None,
    extra: list[tuple[str, str, str]] = (),
) -> pa.Table:
    rows = [
        ("phone", p, o)
        for o, p in zip(people.column("one_id").to_pylist(), people.column("phone").to_pylist())
        if p
    ]
    rows += [
        ("openid", f"{app}/{openid}", o)
        for o, ids in (openids or {}).items()
        for app, openid in ids
    ]
    rows += list(extra)
    return pa.table(
        {
            "identifier_type": [r[0] for r in rows],
            "identifier_value": [r[1] for r in rows],
            "one_id": [r[2] for r in rows],
        },
        schema=pa.schema(
            [
                ("identifier_type", pa.string()),
                ("identifier_value", pa.string()),
                ("one_id", pa.string()),
            ]
        ),
    )


def run(
    people: pa.Table,
    *,
    channels=("wechat_cs", "wechat_template", "sms"),
    consent_rows=(),
    openids=None,
    followers=None,
    wechat=None,
    history=None,
    extra_ids=(),
    official_account=None,
    rules=RULES,
):
    inputs = Inputs(
        audience=people,
        identity_map=identity(people, openids, extra_ids),
        consent=consent(*consent_rows),
        followers=followers or follows(),
        wechat_events=wechat or events(),
        touches=history or touches(),
    )
    campaign = Campaign(channels=list(channels), official_account=official_account)
    outcome = suppress(inputs, rules, campaign, AS_OF, "probe", "Asia/Shanghai")
    assert outcome.exported + sum(outcome.suppressed.values()) == people.num_rows
    return outcome


def result(outcome) -> dict[str, tuple]:
    """one_id -> (channel, address) for people reached, (None, reason) otherwise."""
    out: dict[str, tuple] = {}
    for row in outcome.people.to_pylist():
        out.setdefault(row["one_id"], []).append(
            (row["channel"], row["address"]) if row["reason"] is None else (None, row["reason"])
        )
    return {k: v[0] if len(v) == 1 else tuple(v) for k, v in out.items()}


def test_send_moment_and_cutoff():
    assert send_moment(AS_OF, RULES.send_time, "Asia/Shanghai") == SEND_AT
    assert data_cutoff(AS_OF, "Asia/Shanghai") == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)


def test_send_moment_and_cutoff_follow_the_source_time_zone():
    # Tokyo is an hour ahead of China: its day ends, and its send time comes, an hour earlier.
    assert send_moment(AS_OF, RULES.send_time, "Asia/Tokyo") == SEND_AT - timedelta(hours=1)
    assert data_cutoff(AS_OF, "Asia/Tokyo") == datetime(2026, 9, 30, 15, 0, tzinfo=UTC)


def test_opt_in_needed_and_the_latest_record_wins():
    people = audience("A", "B", "C", "D")
    outcome = run(
        people,
        channels=("sms",),
        consent_rows=[
            *sms_opt_in("A", "B", "C"),
            ("phone", phone_of("B"), "sms", "opt_out", before_send(50)),  # later: out
            ("phone", phone_of("C"), "sms", "opt_out", before_send(200)),  # earlier: in again
            # known only after the as-of day: ignored
            ("phone", phone_of("A"), "sms", "opt_out", before_send(1)),
        ],
    )
    assert result(outcome) == {
        "A": ("sms", phone_of("A")),
        "B": (None, "opted_out"),
        "C": ("sms", phone_of("C")),
        "D": (None, "no_consent"),
    }
    assert outcome.suppressed == {"no_consent": 1, "opted_out": 1}


def test_opt_out_on_any_identifier_of_the_person_and_from_all_channels():
    people = audience("A", "B", "C")
    outcome = run(
        people,
        channels=("sms", "tencent"),
        extra_ids=[("email", "a@example.com", "A"), ("phone", "13900000009", "B")],
        consent_rows=[
            *sms_opt_in("A", "B", "C"),
            ("email", "a@example.com", "all", "opt_out", before_send(30)),
            ("phone", "13900000009", "sms", "opt_out", before_send(30)),
            # a tie between an opt-in and an opt-out: the opt-out wins
            ("phone", phone_of("C"), "sms", "opt_out", before_send(100)),
        ],
    )
    got = {(r["one_id"], r["channel"]): r["reason"] for r in outcome.people.to_pylist()}
    assert got == {("A", None): "opted_out", ("B", "tencent"): None, ("C", "tencent"): None}
    assert outcome.channels["sms"]["suppressed"] == {"opted_out": 3}
    assert outcome.channels["tencent"] == {"exported": 2, "suppressed": {"opted_out": 1}}


def test_missing_addresses():
    people = audience("A", "B", phones={"A": "1.38001E+10", "B": None}, cards={"A": "80000000001"})
    outcome = run(people, channels=("sms", "pos"))
    assert result(outcome) == {"A": ("pos", "80000000001"), "B": (None, "no_phone")}
    assert outcome.channels["pos"]["suppressed"] == {"no_member_card": 1}


def test_frequency_cap_counts_touches_in_the_window_before_the_send():
    people = audience("A", "B", "C", "D")
    history = touches(
        ("A", "sms", before_send(24)),
        ("A", "sms", before_send(24 * 6)),  # 2 in 7 days
        ("B", "sms", before_send(24)),
        ("B", "sms", before_send(24 * 7 + 1)),  # 1 in 7 days
        ("C", "sms", before_send(24)),
        ("C", "tencent", before_send(24)),  # 1 sms
        # this segment's own touches for this as-of day are the ones the export replaces
        ("D", "sms", SEND_AT, "probe", AS_OF),
        ("D", "sms", SEND_AT, "probe", AS_OF),
    )
    outcome = run(
        people, channels=("sms",), consent_rows=sms_opt_in("A", "B", "C", "D"), history=history
    )
    assert result(outcome) == {
        "A": (None, "frequency_capped"),
        "B": ("sms", phone_of("B")),
        "C": ("sms", phone_of("C")),
        "D": ("sms", phone_of("D")),
    }


def test_wechat_cap_counts_template_deliveries_once():
    people = audience("A", "B")
    a = [(APP, "oA")]
    b = [(APP, "oB")]
    delivered = [(APP, "oA", "template_delivered", before_send(24 * d)) for d in (2, 3, 4, 5)]
    # B: our own template touch and its delivery a minute later count as one message
    own = [("B", "wechat_template", before_send(24 * d)) for d in (2, 3, 4)]
    delivered += [
        (APP, "oB", "template_delivered", before_send(24 * d) + timedelta(minutes=1))
        for d in (2, 3, 4)
    ]
    outcome = run(
        people,
        channels=("wechat_template", "sms"),
        openids={"A": a, "B": b},
        followers=follows((APP, "oA"), (APP, "oB")),
        wechat=events(*delivered),
        history=touches(*own),
        consent_rows=[
            ("openid", f"{APP}/oA", "wechat_template", "opt_in", before_send(24 * 20)),
            ("openid", f"{APP}/oB", "wechat_template", "opt_in", before_send(24 * 20)),
            *sms_opt_in("A"),
        ],
    )
    assert result(outcome) == {"A": ("sms", phone_of("A")), "B": ("wechat_template", "oB")}
    assert outcome.channels["wechat_template"]["suppressed"] == {"frequency_capped": 1}


def test_exclusive_channels_by_priority_and_others_for_everyone():
    people = audience("A", "B", cards={"A": "80000000001", "B": "80000000002"})
    outcome = run(
        people,
        channels=("sms", "wechat_template", "pos"),
        openids={"A": [(APP, "oA")]},
        followers=follows((APP, "oA")),
        consent_rows=[
            ("openid", f"{APP}/oA", "wechat_template", "opt_in", before_send(100)),
            *sms_opt_in("A", "B"),
        ],
    )
    assert result(outcome) == {
        "A": (("pos", "80000000001"), ("wechat_template", "oA")),
        "B": (("pos", "80000000002"), ("sms", phone_of("B"))),
    }
    # sms was tried only for B: A was already reached by a channel before it in the group
    assert outcome.channels["sms"] == {"exported": 1, "suppressed": {}}
    assert outcome.channels["wechat_template"] == {"exported": 1, "suppressed": {"no_openid": 1}}
    assert outcome.exported == 2


def test_recent_interaction_routes_to_customer_service():
    people = audience("A", "B", "C", "D")
    openids = {o: [(APP, f"o{o}")] for o in "ABCD"}
    followers = follows((APP, "oA"), (APP, "oB"), (APP, "oC"), (APP, "oD", False))
    wechat = events(
        (APP, "oA", "menu_click", before_send(47)),
        (APP, "oB", "menu_click", before_send(49)),
        (APP, "oC", "template_delivered", before_send(2 + 24)),
        (APP, "oD", "menu_click", before_send(20)),
    )
    outcome = run(
        people,
        openids=openids,
        followers=followers,
        wechat=wechat,
        consent_rows=[
            ("openid", f"{APP}/oB", "wechat_template", "opt_in", before_send(100)),
            *sms_opt_in("C", "D"),
        ],
    )
    assert result(outcome) == {
        "A": ("wechat_cs", "oA"),  # interacted 47 h before the send
        "B": ("wechat_template", "oB"),  # 49 h: too late for customer service
        "C": ("sms", phone_of("C")),  # a delivery is not an interaction
        "D": ("sms", phone_of("D")),  # unfollowed
    }
    assert outcome.channels["wechat_cs"]["suppressed"] == {
        "no_openid": 1,
        "no_recent_interaction": 2,
    }
    cs = outcome.people.filter(pa.compute.equal(outcome.people["channel"], "wechat_cs"))
    assert cs.column("last_interaction_at").to_pylist() == [before_send(47)]


def test_account_choice_prefers_the_configured_then_the_recently_used():
    people = audience("A")
    ids = {"A": [(APP, "oA1"), (OTHER_APP, "oA2")]}
    followers = follows((APP, "oA1"), (OTHER_APP, "oA2"))
    consent_rows = [
        ("openid", f"{a}/{o}", "wechat_template", "opt_in", before_send(100)) for a, o in ids["A"]
    ]
    wechat = events((OTHER_APP, "oA2", "template_delivered", before_send(24 * 3)))
    recent = run(
        people,
        channels=("wechat_template",),
        openids=ids,
        followers=followers,
        consent_rows=consent_rows,
        wechat=wechat,
    )
    assert result(recent) == {"A": ("wechat_template", "oA2")}
    preferred = RULES.model_copy(update={"official_accounts": [APP]})
    chosen = run(
        people,
        channels=("wechat_template",),
        openids=ids,
        followers=followers,
        consent_rows=consent_rows,
        wechat=wechat,
        rules=preferred,
    )
    assert result(chosen) == {"A": ("wechat_template", "oA1")}
    only = run(
        people,
        channels=("wechat_template",),
        openids=ids,
        followers=followers,
        consent_rows=consent_rows,
        official_account=APP,
    )
    assert result(only) == {"A": ("wechat_template", "oA1")}


def test_nobody_gets_the_same_address_twice():
    people = audience("A", "B", phones={"A": "13912345678", "B": "13912345678"})
    outcome = run(people, channels=("tencent",))
    assert result(outcome) == {"A": ("tencent", "13912345678"), "B": (None, "duplicate_identifier")}


def test_a_person_suppressed_everywhere_counts_under_the_strongest_reason():
    people = audience("A", phones={"A": None})
    outcome = run(
        people,
        channels=("wechat_template", "sms", "tencent"),
        openids={"A": [(APP, "oA")]},
        followers=follows((APP, "oA")),
        consent_rows=[("openid", f"{APP}/oA", "wechat_template", "opt_out", before_send(100))],
    )
    assert result(outcome) == {"A": (None, "opted_out")}
    assert outcome.channels["sms"]["suppressed"] == {"no_phone": 1}


def test_the_shipped_activation_rules_load():
    rules = load_activation_rules(packaged("segments"))
    assert rules.groups_of(["sms", "tencent", "wechat_cs"]) == [["wechat_cs", "sms"], ["tencent"]]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"channel_priority": ["sms"]}, "channel_priority must list every channel once"),
        ({"exclusive_groups": [["sms"], ["sms", "pos"]]}, "a channel is in two groups"),
    ],
)
def test_activation_rules_are_checked(change, message):
    data = RULES.model_dump(mode="json") | change
    with pytest.raises(ValueError, match=message):
        ActivationRules.model_validate(data)
