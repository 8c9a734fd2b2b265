"""Identity graph on tiny frames: anchor links, blocklist, hubs, untrusted sources, weak ids."""

from __future__ import annotations

from datetime import datetime

import pytest

from identity import graph
from identity.rules import load_rules

RULES = load_rules()
T = datetime(2026, 9, 1, 12)
EVENTS = (
    "source string, occurred_at timestamp, app_id string, openid string, phone string, "
    "member_card_no string, device_id string, cookie_id string, device_mac_hash string"
)
MEMBERS = (
    "source string, updated_at timestamp, app_id string, openid string, unionid string, "
    "phone string, member_card_no string, tmall_ouid string, jd_pin string, email string"
)


def events(spark, rows):
    """rows: dicts of the identifier columns set on each web event."""
    names = [c.split()[0] for c in EVENTS.split(", ")]
    data = [tuple({"source": "web", "occurred_at": T, **r}.get(n) for n in names) for r in rows]
    return spark.createDataFrame(data, EVENTS)


def pairs_of(df):
    return sorted((r["a_key"], r["b_key"]) for r in df.collect())


def test_each_record_links_its_anchor_to_its_other_identifiers(spark):
    members = spark.createDataFrame(
        [
            ("miniprogram", T, "wx1", "o1", "U1", "13987654321", "C1", None, None, None),
            ("miniprogram", T, "wx1", "o2", None, "13800000000", None, None, None, None),
            ("tmall", T, None, None, None, None, None, "ouid9", None, None),
        ],
        MEMBERS,
    )
    links = graph.links({"members": members}, RULES)
    rows = sorted((r["a_key"], r["b_key"], r["source"], r["records"]) for r in links.collect())
    # unionid is the strongest, so it anchors the first record; 13800000000 is blocklisted, so
    # the second record has one identifier left and links nothing; the third has only one.
    assert rows == [
        ("member_card:C1", "unionid:U1", "members:miniprogram", 1),
        ("openid:wx1/o1", "unionid:U1", "members:miniprogram", 1),
        ("phone:13987654321", "unionid:U1", "members:miniprogram", 1),
    ]


def test_blocklist_patterns_and_values(spark):
    df = spark.createDataFrame(
        [
            ("13800000000",),
            ("13000000000",),
            ("13987654321",),
            ("00000000-0000-0000-0000-000000000000",),
        ],
        "v string",
    )
    blocked_phone = graph.blocked_sql(RULES, "phone", "v")
    blocked_device = graph.blocked_sql(RULES, "device_id", "v")
    rows = df.selectExpr("v", f"{blocked_phone} AS phone", f"{blocked_device} AS device")
    result = {r["v"]: (r["phone"], r["device"]) for r in rows.collect()}
    assert result["13800000000"][0] and result["13000000000"][0]
    assert not result["13987654321"][0]
    assert result["00000000-0000-0000-0000-000000000000"][1]


def test_untrusted_sources_link_only_exclusive_pairs(spark):
    # A clerk's WeChat claims coupons for two customers' cards; a customer claims their own.
    coupon = spark.createDataFrame(
        [(f"e{k}", T, f"C{k}", "wx1", "staff") for k in range(2)] + [("e9", T, "C9", "wx1", "own")],
        "event_id string, occurred_at timestamp, member_card_no string, app_id string, "
        "openid string",
    )
    links = graph.links({"coupon_events": coupon}, RULES)
    assert len(links.collect()) == 3
    assert pairs_of(graph.pairs(links, RULES)) == [("member_card:C9", "openid:wx1/own")]
    untrusted = graph.untrusted_pairs(links, RULES).collect()
    assert sorted((r["a_key"], r["a_partners"], r["b_partners"]) for r in untrusted) == [
        ("member_card:C0", 1, 2),
        ("member_card:C1", 1, 2),
    ]


def test_an_identifier_seen_with_too_many_cards_is_a_hub(spark):
    # A store phone typed for four different members (member_card hub_limit is 3).
    rows = [{"phone": "13987654321", "member_card_no": f"C{k}"} for k in range(4)]
    rows.append({"phone": "13712345678", "member_card_no": "C9"})
    pairs = graph.pairs(graph.links({"events": events(spark, rows)}, RULES), RULES)
    hubs = graph.hubs(pairs, RULES).collect()
    assert [(h["key"], h["neighbour_type"], h["neighbours"]) for h in hubs] == [
        ("phone:13987654321", "member_card", 4)
    ]
    kept = graph.without_hubs(pairs, graph.hubs(pairs, RULES))
    assert pairs_of(kept) == [("member_card:C9", "phone:13712345678")]


def weak_case(spark, rules):
    rows = (
        [{"member_card_no": "A", "device_id": "D1"}] * 3  # D1 mostly with card A
        + [{"member_card_no": "B", "device_id": "D1"}]  # once with card B
        + [{"device_id": "D1", "cookie_id": "K1"}]  # an anonymous cookie on D1
        + [{"device_id": "D2", "cookie_id": "K2"}]
    )  # never logged in
    pairs = graph.pairs(graph.links({"events": events(spark, rows)}, rules), rules)
    kept, cut = graph.weak_links(pairs, rules)
    return pairs_of(kept), {(r["a_key"], r["b_key"]): r["detail"] for r in cut.collect()}


def test_weak_identifiers_attach_to_one_person_only(spark):
    kept, cut = weak_case(spark, RULES)
    assert kept == [("device_id:D1", "member_card:A")]
    assert cut == {
        ("device_id:D1", "member_card:B"): "a weak identifier keeps only its best link",
        ("cookie_id:K1", "device_id:D1"): "links two weak identifiers",
        ("cookie_id:K2", "device_id:D2"): "links two weak identifiers",
    }


def test_weak_relays_when_enabled(spark):
    rules = RULES.model_copy(update={"weak_relays": True})
    kept, _ = weak_case(spark, rules)
    # D1 is seen with two member cards, so it relays nothing; D2 has no joining neighbour.
    assert kept == [("device_id:D1", "member_card:A")]
    rows = [{"member_card_no": "A", "device_id": "D1"}, {"device_id": "D1", "cookie_id": "K1"}]
    pairs = graph.pairs(graph.links({"events": events(spark, rows)}, rules), rules)
    kept, _ = graph.weak_links(pairs, rules)
    assert pairs_of(kept) == [("cookie_id:K1", "device_id:D1"), ("device_id:D1", "member_card:A")]


@pytest.mark.parametrize("key", ["phone:13987654321", "openid:wx1/o:1"])
def test_graph_edges_add_a_self_loop_per_node(spark, key):
    nodes = spark.createDataFrame([(key,)], "key string")
    kept = spark.createDataFrame([], "a_key string, b_key string")
    assert [(r["src"], r["dst"]) for r in graph.graph_edges(kept, nodes).collect()] == [(key, key)]
