"""Why is this identifier this person? Explanations and statistics over the identity tables.

``explain`` loads one OneID's identifiers and the links among them into a networkx graph; the
chain between any two identifiers is the shortest path, each hop with the records (source,
first and last time, count) that linked them. Links the rules cut and rejected identifiers
(blocklisted, hubs) next to the person are listed with the rule that stopped them. Asked about
two identifiers of different people, it lists the cut links that kept the two apart (a phone
reassigned to a new owner: the earlier owner's period, the next one, the gap).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import duckdb
import networkx as nx
import pyarrow as pa

from cdp.lakehouse import Lakehouse
from identity.resolve import CUT_LINKS, LINKS, MAP, REJECTED, RULE_EFFECTS, RUNS


class UnknownIdentifier(LookupError):
    """The identifier is not in the identity map."""


@dataclass
class Hop:
    a: str
    b: str
    sources: list[str]
    first_seen_at: object
    last_seen_at: object
    records: int


@dataclass
class Explanation:
    one_id: str
    identifiers: list[str]
    links: list[Hop]
    path: list[Hop] = field(default_factory=list)
    cut_links: list[dict] = field(default_factory=list)
    rejected_neighbours: list[dict] = field(default_factory=list)
    #: asked ``--to`` an identifier of another person: that person's OneID ...
    other_one_id: str | None = None
    #: ... and the cut links between the two people, with the rule and why
    kept_apart: list[dict] = field(default_factory=list)


def _connect(lakehouse: Lakehouse, *tables) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for table in tables:
        if lakehouse.exists(table):
            con.register(table.name, lakehouse.to_arrow(table))
    return con


def explain(
    lakehouse: Lakehouse, kind: str, value: str, to: tuple[str, str] | None = None
) -> Explanation:
    if not lakehouse.exists(MAP):
        raise UnknownIdentifier("no identity map yet: run `cdp identity resolve` first")
    con = _connect(lakehouse, MAP, LINKS, CUT_LINKS, REJECTED)
    one_id = _one_id(con, kind, value)
    keys = _keys(con, one_id)
    con.register("person", pa.table({"key": keys}))
    cut = (
        con.execute("""
        SELECT a_key, b_key, rule, detail FROM identity_cut_links
        WHERE a_key IN (SELECT key FROM person) OR b_key IN (SELECT key FROM person)
        ORDER BY a_key, b_key""")
        .to_arrow_table()
        .to_pylist()
    )
    cut_pairs = {(c["a_key"], c["b_key"]) for c in cut}
    rows = con.execute("""
        SELECT a_key, b_key, list(source ORDER BY source) AS sources,
               min(first_seen_at) AS first_seen_at, max(last_seen_at) AS last_seen_at,
               sum(records)::BIGINT AS records
        FROM identity_links
        WHERE a_key IN (SELECT key FROM person) AND b_key IN (SELECT key FROM person)
        GROUP BY a_key, b_key ORDER BY a_key, b_key""").fetchall()
    hops = [Hop(*row) for row in rows if (row[0], row[1]) not in cut_pairs]
    rejected = (
        con.execute("""
        SELECT r.identifier_type || ':' || r.identifier_value AS identifier, r.rule, r.detail,
               l.a_key, l.b_key
        FROM identity_links l JOIN identity_rejected r
          ON r.identifier_type || ':' || r.identifier_value IN (l.a_key, l.b_key)
        WHERE l.a_key IN (SELECT key FROM person) OR l.b_key IN (SELECT key FROM person)
        ORDER BY 1""")
        .to_arrow_table()
        .to_pylist()
        if lakehouse.exists(REJECTED)
        else []
    )
    result = Explanation(one_id, keys, hops, cut_links=cut, rejected_neighbours=rejected)
    if to is not None:
        other = _one_id(con, *to)
        if other == one_id:
            result.path = chain(hops, f"{kind}:{value}", f"{to[0]}:{to[1]}")
        else:
            result.other_one_id = other
            result.kept_apart = _cut_between(con, keys, _keys(con, other))
    return result


def _one_id(con, kind: str, value: str) -> str:
    found = con.execute(
        "SELECT one_id FROM identity_map WHERE identifier_type = ? AND identifier_value = ?",
        [kind, value],
    ).fetchone()
    if found is None:
        raise UnknownIdentifier(
            f"{kind}:{value} is not in the identity map (blocklisted, a "
            "hub, or never seen; see `cdp identity stats`)"
        )
    return found[0]


def _keys(con, one_id: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT identifier_type || ':' || identifier_value FROM identity_map WHERE one_id = ? "
            "ORDER BY 1",
            [one_id],
        ).fetchall()
    ]


def _cut_between(con, keys: list[str], other_keys: list[str]) -> list[dict]:
    """Cut links with one end in each of two people: what kept them apart."""
    con.register("one_side", pa.table({"key": keys}))
    con.register("other_side", pa.table({"key": other_keys}))
    return (
        con.execute("""
        SELECT a_key, b_key, rule, detail FROM identity_cut_links
        WHERE (a_key IN (SELECT key FROM one_side) AND b_key IN (SELECT key FROM other_side))
           OR (b_key IN (SELECT key FROM one_side) AND a_key IN (SELECT key FROM other_side))
        ORDER BY a_key, b_key""")
        .to_arrow_table()
        .to_pylist()
    )


def chain(hops: list[Hop], start: str, end: str) -> list[Hop]:
    """The shortest chain of links from ``start`` to ``end`` (fewest hops; among equally short
    chains networkx's deterministic choice on the sorted graph)."""
    graph = nx.Graph()
    for hop in hops:
        graph.add_edge(hop.a, hop.b, hop=hop)
    if start not in graph or end not in graph:
        missing = end if start in graph else start
        raise UnknownIdentifier(f"{missing} is not linked within this person")
    nodes = nx.shortest_path(graph, start, end)
    return [graph.edges[a, b]["hop"] for a, b in itertools.pairwise(nodes)]


SIZE_BUCKETS = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (21, 50), (51, None))


def stats(lakehouse: Lakehouse) -> dict:
    """Component sizes, hubs, rule effects of the last run, recent runs."""
    if not lakehouse.exists(MAP):
        raise UnknownIdentifier("no identity map yet: run `cdp identity resolve` first")
    con = _connect(lakehouse, MAP, REJECTED, RULE_EFFECTS, RUNS)
    sizes = con.execute(
        "SELECT n, count(*) FROM (SELECT one_id, count(*) AS n FROM "
        "identity_map GROUP BY one_id) GROUP BY n"
    ).fetchall()
    buckets = []
    for low, high in SIZE_BUCKETS:
        people = sum(c for n, c in sizes if n >= low and (high is None or n <= high))
        label = str(low) if low == high else (f"{low}-{high}" if high else f"{low}+")
        buckets.append((label, people))
    hubs = con.execute("""SELECT identifier_type, identifier_value, detail FROM identity_rejected
        WHERE rule = 'hub' ORDER BY identifier_type, identifier_value LIMIT 20""").fetchall()
    effects = (
        con.execute("""SELECT rule, identifier_type, identifiers, links
        FROM identity_rule_effects
        WHERE run_id = (SELECT max(run_id) FROM identity_rule_effects)
        ORDER BY rule, identifier_type""").fetchall()
        if lakehouse.exists(RULE_EFFECTS)
        else []
    )
    runs = (
        con.execute("""SELECT run_id, engine, identifiers, links, people, merges, splits
        FROM identity_runs ORDER BY run_id DESC LIMIT 5""").fetchall()
        if lakehouse.exists(RUNS)
        else []
    )
    largest = max((n for n, _ in sizes), default=0)
    return {
        "people": sum(c for _, c in sizes),
        "identifiers": sum(n * c for n, c in sizes),
        "largest": largest,
        "sizes": buckets,
        "hubs": hubs,
        "effects": effects,
        "runs": runs,
    }
