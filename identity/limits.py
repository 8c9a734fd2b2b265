"""Over-merge limits, applied after connected components by both engines alike.

A component that holds more identifiers of a type than the type's ``max_per_person``, or more
identifiers than ``max_component_size``, is rebuilt from its own links, strongest first
(Kruskal-style): a link is used only if the two groups it joins stay within every limit, and is
cut otherwise. Links are ordered by the weaker end's priority, then records (more first), then
recency, then keys, so the weakest links are the ones cut and the result does not depend on the
order the engine produced. Only violating components are touched; they are few and small, so
this runs in plain Python.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa

from cdp import local_duckdb
from identity.rules import Rules


def kind_of(key: str) -> str:
    return key.split(":", 1)[0]


def violating_components(assignment: pa.Table, rules: Rules) -> pa.Table:
    """Components (``component`` column) that break a per-person limit or the size limit."""
    con = local_duckdb.connect()
    con.register("assignment", assignment)
    con.register(
        "limits",
        pa.table(
            {
                "kind": list(rules.types),
                "max_per_person": [r.max_per_person for r in rules.types.values()],
            }
        ),
    )
    return con.sql(f"""
        WITH typed AS (SELECT component, split_part(node, ':', 1) AS kind FROM assignment),
        per_kind AS (SELECT component, kind, count(*) AS n FROM typed GROUP BY ALL)
        SELECT DISTINCT component FROM per_kind JOIN limits USING (kind)
        WHERE n > max_per_person
        UNION
        SELECT component FROM typed GROUP BY component
        HAVING count(*) > {rules.max_component_size}
        ORDER BY component""").to_arrow_table()


@dataclass
class LimitOutcome:
    #: node -> new component key, for the nodes of violating components
    reassigned: dict[str, str]
    #: (a_key, b_key, rule, detail) of every link cut
    cuts: list[tuple[str, str, str, str]]


def enforce(
    links: list[tuple[str, str, int, object]], nodes: list[str], rules: Rules
) -> LimitOutcome:
    """Rebuild violating components from their ``(a_key, b_key, records, last_seen_at)``
    links within the limits. ``nodes`` are all nodes of those components."""

    def strength(link):
        a, b, records, last_seen = link
        weaker = max(rules.types[kind_of(a)].priority, rules.types[kind_of(b)].priority)
        return (weaker, -records, -(last_seen.timestamp() if last_seen else 0), a, b)

    parent = {n: n for n in nodes}
    counts = {n: Counter({kind_of(n): 1}) for n in nodes}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    cuts = []
    for link in sorted(links, key=strength):
        a, b = link[0], link[1]
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        merged = counts[ra] + counts[rb]
        over = sorted(k for k, n in merged.items() if n > rules.types[k].max_per_person)
        if over:
            cuts.append(
                (
                    a,
                    b,
                    "max_per_person",
                    ", ".join(f"{merged[k]} {k} > {rules.types[k].max_per_person}" for k in over),
                )
            )
        elif sum(merged.values()) > rules.max_component_size:
            cuts.append(
                (
                    a,
                    b,
                    "max_component_size",
                    f"{sum(merged.values())} identifiers > {rules.max_component_size}",
                )
            )
        else:
            root, child = (ra, rb) if ra < rb else (rb, ra)
            parent[child] = root
            counts[root] = merged
            del counts[child]
    # Union by smaller key keeps each root the smallest key of its group.
    return LimitOutcome({n: find(n) for n in nodes}, cuts)
