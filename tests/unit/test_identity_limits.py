"""Over-merge limits: violating components found, rebuilt strongest link first."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from identity.limits import enforce, violating_components
from identity.rules import Rules

RULES = Rules(
    types={
        "unionid": {"priority": 1, "joins": True, "max_per_person": 1, "hub_limit": 3},
        "phone": {"priority": 3, "joins": True, "max_per_person": 2, "hub_limit": 3},
        "openid": {"priority": 4, "joins": True, "max_per_person": 8, "hub_limit": 8},
    },
    max_component_size=4,
)
T = datetime(2026, 9, 1)


def test_violations_by_type_limit_and_size():
    assignment = pa.table(
        {
            "node": [
                "unionid:u1",
                "unionid:u2",
                "phone:1",  # two unionids
                "phone:2",
                "openid:a",
                "openid:b",
                "openid:c",
                "openid:d",  # size 5 > 4
                "phone:3",
                "openid:e",
            ],  # fine
            "component": ["A", "A", "A", "B", "B", "B", "B", "B", "C", "C"],
        }
    )
    assert violating_components(assignment, RULES).column("component").to_pylist() == ["A", "B"]


def test_enforce_cuts_the_weakest_link_that_breaks_a_limit():
    # u1 - p (1 record), p - u2 (5 records), p - o: joining u1 to u2 breaks unionid <= 1.
    links = [
        ("phone:p", "unionid:u1", 1, T),
        ("phone:p", "unionid:u2", 5, T),
        ("openid:o", "phone:p", 2, T),
    ]
    nodes = ["openid:o", "phone:p", "unionid:u1", "unionid:u2"]
    outcome = enforce(links, nodes, RULES)
    assert outcome.reassigned == {
        "openid:o": "openid:o",
        "phone:p": "openid:o",
        "unionid:u2": "openid:o",
        "unionid:u1": "unionid:u1",
    }
    assert outcome.cuts == [("phone:p", "unionid:u1", "max_per_person", "2 unionid > 1")]


def test_enforce_respects_the_size_limit():
    links = [(f"openid:{k}", "phone:p", 10 - k, T) for k in range(6)]
    nodes = ["phone:p"] + [f"openid:{k}" for k in range(6)]
    outcome = enforce(links, nodes, RULES)
    kept = {n for n, c in outcome.reassigned.items() if c == "openid:0"}
    assert kept == {"phone:p", "openid:0", "openid:1", "openid:2"}  # the 3 strongest links
    assert [c[2] for c in outcome.cuts] == ["max_component_size"] * 3
