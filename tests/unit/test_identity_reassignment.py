"""Reassigned identifiers on tiny frames: a phone passed to a new owner never joins two people.

Engine tier (the session ``spark`` fixture). The graph tests build web events with the helper
of ``test_identity_graph``; the last tests resolve a tiny silver lakehouse end to end, for the
rule's effects and ``explain``.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow.compute as pc
import pytest

import identity
from cdp.lakehouse import Table
from identity import graph
from identity.resolve import CUT_LINKS, MAP, RULE_EFFECTS
from identity.rules import Reassignment, load_rules
from spark_jobs.silver.identifiers import identifiers_seen
from spark_jobs.silver.schema import EVENTS, MEMBERS, POINTS
from tests.unit.test_identity_graph import events

RULES = load_rules()
PHONE = "13987654321"
A_SPAN = ("2023-01-05", "2024-03-01")  # the earlier owner, with card CA
B_SPAN = ("2025-02-10", "2025-06-01")  # the current owner, with card CB: 346 days later
REASSIGNED = (
    "phone reassigned: earlier owner's period 2023-01-05..2024-03-01, next from "
    "2025-02-10, gap 346 days > 180"
)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12)


def seen(span: tuple[str, str], **ids) -> list[dict]:
    """Two records carrying ``ids``: on the first and on the last day of ``span``."""
    return [{**ids, "occurred_at": at(day)} for day in span]


def two_owners() -> list[dict]:
    return (
        seen(A_SPAN, phone=PHONE, member_card_no="CA")
        + seen(A_SPAN, member_card_no="CA", app_id="wx1", openid="oA")
        + seen(B_SPAN, phone=PHONE, member_card_no="CB")
    )


def staged(spark, df):
    """``df`` computed once, as ``identity.resolve`` stages its steps: each later step would
    otherwise recompute every earlier one (from seconds to minutes on these tiny frames)."""
    return spark.createDataFrame([tuple(r) for r in df.collect()], df.schema)


def resolve_graph(spark, components_of, rows, rules=RULES):
    """People (sorted groups of keys) and the reassignment cuts (pair -> detail) of ``rows``,
    components solved on the ``engine`` fixture's engine."""
    pairs = staged(spark, graph.pairs(graph.links({"events": events(spark, rows)}, rules), rules))
    no_hubs = graph.without_hubs(pairs, graph.hubs(pairs, rules))
    cuts = staged(spark, graph.reassignment_cuts(no_hubs, rules))
    kept, _ = graph.weak_links(graph.without_links(no_hubs, cuts), rules)
    keys = pairs.selectExpr("a_key AS key").unionByName(pairs.selectExpr("b_key AS key"))
    edges = graph.graph_edges(kept, keys.distinct()).toArrow()
    found = components_of(edges).labels
    groups: dict[str, list[str]] = {}
    for node, component in zip(*[c.to_pylist() for c in found.columns]):
        groups.setdefault(component, []).append(node)
    cut = {(r["a_key"], r["b_key"]): (r["identifier_type"], r["detail"]) for r in cuts.collect()}
    return sorted(sorted(g) for g in groups.values()), cut


def test_pairs_keep_first_and_last_seen(spark):
    links = graph.links({"events": events(spark, two_owners())}, RULES)
    rows = {
        (r["a_key"], r["b_key"]): (r["first_seen_at"], r["last_seen_at"])
        for r in graph.pairs(links, RULES).collect()
    }
    assert rows[("member_card:CA", f"phone:{PHONE}")] == (at(A_SPAN[0]), at(A_SPAN[1]))


def test_a_reassigned_phone_keeps_two_people_apart(spark, components_of):
    people, cut = resolve_graph(spark, components_of, two_owners())
    assert people == [["member_card:CA", "openid:wx1/oA"], ["member_card:CB", f"phone:{PHONE}"]]
    assert cut == {("member_card:CA", f"phone:{PHONE}"): ("phone", REASSIGNED)}


def test_without_the_rule_the_owners_merge(spark, components_of):
    people, cut = resolve_graph(
        spark, components_of, two_owners(), RULES.model_copy(update={"reassignment": {}})
    )
    assert len(people) == 1 and cut == {}


def test_three_owners_keep_the_latest(spark, components_of):
    rows = (
        seen(("2022-01-01", "2022-06-30"), phone=PHONE, member_card_no="C1")
        + seen(("2023-03-01", "2023-04-01"), phone=PHONE, app_id="wx1", openid="o2")
        + seen(("2024-01-01", "2024-02-01"), phone=PHONE, member_card_no="C3")
    )
    people, cut = resolve_graph(spark, components_of, rows)
    assert people == [["member_card:C1"], ["member_card:C3", f"phone:{PHONE}"], ["openid:wx1/o2"]]
    assert {pair: detail for pair, (_, detail) in cut.items()} == {
        (
            "member_card:C1",
            f"phone:{PHONE}",
        ): "phone reassigned: earlier owner's period 2022-01-01..2022-06-30, next from "
        "2023-03-01, gap 244 days > 180",
        (
            "openid:wx1/o2",
            f"phone:{PHONE}",
        ): "phone reassigned: earlier owner's period 2023-03-01..2023-04-01, next from "
        "2024-01-01, gap 275 days > 180",
    }


def test_one_owner_with_overlapping_cards_stays_one_person(spark, components_of):
    # C1 is seen throughout; the openid only early on. C2 starts long after the openid's last
    # sighting but soon after C1's: the gap counts from the latest sighting of all earlier links.
    rows = (
        seen(("2023-01-01", "2024-12-31"), phone=PHONE, member_card_no="C1")
        + seen(("2023-02-01", "2023-03-01"), phone=PHONE, app_id="wx1", openid="o1")
        + seen(("2025-01-15", "2025-05-01"), phone=PHONE, member_card_no="C2")
    )
    people, cut = resolve_graph(spark, components_of, rows)
    assert people == [["member_card:C1", "member_card:C2", "openid:wx1/o1", f"phone:{PHONE}"]]
    assert cut == {}


@pytest.mark.parametrize("gap_days, people_count", [(180, 1), (100, 2)])
def test_a_gap_below_the_threshold_is_one_period(spark, components_of, gap_days, people_count):
    rows = seen(A_SPAN, phone=PHONE, member_card_no="CA") + seen(
        ("2024-08-01", "2024-09-01"), phone=PHONE, member_card_no="CB"
    )  # 153 days
    rules = RULES.model_copy(update={"reassignment": {"phone": Reassignment(gap_days=gap_days)}})
    people, cut = resolve_graph(spark, components_of, rows, rules)
    assert len(people) == people_count and len(cut) == people_count - 1


def test_one_period_is_untouched_whatever_its_weak_ids(spark, components_of):
    # The device is seen with the phone two years before the card: weak links are not periods.
    rows = seen(("2022-01-01", "2022-02-01"), phone=PHONE, device_id="D1") + seen(
        B_SPAN, phone=PHONE, member_card_no="CB"
    )
    people, cut = resolve_graph(spark, components_of, rows)
    assert people == [["device_id:D1", "member_card:CB", f"phone:{PHONE}"]]
    assert cut == {}


def silver_frame(spark, table, rows):
    """A silver table of ``rows`` (dicts), every other column NULL."""
    names = table.column_names
    schema = ", ".join(f"{n} {t}" for n, t in table.columns)
    return spark.createDataFrame([tuple(r.get(n) for n in names) for r in rows], schema)


@pytest.fixture
def two_owners_resolved(engine, spark, lakehouse):
    """A lakehouse holding the two owners' silver events, resolved by each engine."""
    rows = [
        {
            **r,
            "event_id": f"e{k}",
            "source": "web",
            "event_type": "page_view",
            "_source_file": "web_events/2025-06-01/part.jsonl",
            "_batch_id": "b1",
        }
        for k, r in enumerate(two_owners())
    ]
    tables = {
        "events": silver_frame(spark, EVENTS, rows),
        "members": silver_frame(spark, MEMBERS, []),
        "points": silver_frame(spark, POINTS, []),
    }
    for name, df in tables.items():
        lakehouse.overwrite(df, Table("silver", name))
    lakehouse.overwrite(
        identifiers_seen({"events": tables["events"]}), Table("silver", "identifiers")
    )
    outcome = identity.resolve(spark, lakehouse, RULES, engine=engine.name)
    assert outcome.engine == engine.name
    return lakehouse


def test_resolve_cuts_counts_and_explains_the_reassignment(two_owners_resolved):
    lakehouse = two_owners_resolved
    people = lakehouse.to_arrow(MAP, ["identifier_type", "identifier_value", "one_id"])
    one_id = {f"{t}:{v}": o for t, v, o in zip(*[c.to_pylist() for c in people.columns])}
    assert one_id["member_card:CA"] == one_id["openid:wx1/oA"] != one_id["member_card:CB"]
    assert one_id[f"phone:{PHONE}"] == one_id["member_card:CB"]
    assert identity.lookup(lakehouse, "phone", PHONE) == one_id["member_card:CB"]
    cut = {
        "a_key": "member_card:CA",
        "b_key": f"phone:{PHONE}",
        "rule": "reassignment",
        "detail": REASSIGNED,
    }
    assert [
        {k: c[k] for k in cut}
        for c in lakehouse.to_arrow(CUT_LINKS).to_pylist()
        if c["rule"] == "reassignment"
    ] == [cut]
    effects = lakehouse.to_arrow(RULE_EFFECTS)
    effects = effects.filter(pc.equal(effects.column("rule"), "reassignment"))
    assert [(e["identifier_type"], e["identifiers"], e["links"]) for e in effects.to_pylist()] == [
        ("phone", 0, 1)
    ]

    about_phone = identity.explain(lakehouse, "phone", PHONE)
    assert cut in about_phone.cut_links
    apart = identity.explain(lakehouse, "member_card", "CA", to=("member_card", "CB"))
    assert apart.other_one_id == one_id["member_card:CB"] and apart.path == []
    assert apart.kept_apart == [cut]
    same = identity.explain(lakehouse, "member_card", "CA", to=("openid", "wx1/oA"))
    assert same.other_one_id is None and same.kept_apart == [] and len(same.path) == 1
