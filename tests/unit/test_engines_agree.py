"""Both connected-components engines, through their adapters, give the same Arrow table:
``(node, component)`` strings, one row per node, component = the smallest key (networkx)."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

from benchmarks.synthetic_graphs import synthetic_graph
from identity.engines import LABELS_SCHEMA
from tests.unit.edge_tables import edge_table


def expected_labels(edges: pa.Table) -> pa.Table:
    """The contract computed by networkx, as the table every engine must return."""
    graph = nx.Graph()
    graph.add_edges_from(zip(edges.column("src").to_pylist(), edges.column("dst").to_pylist()))
    labels = sorted((node, min(c)) for c in nx.connected_components(graph) for node in c)
    return pa.table(
        {"node": [n for n, _ in labels], "component": [c for _, c in labels]}, LABELS_SCHEMA
    )


def shuffled_chain(n):
    keys = [f"member_card:M{k:010d}" for k in range(n)]
    random.Random(11).shuffle(keys)
    return edge_table(list(itertools.pairwise(keys)))


def random_graph(seed, n_nodes, n_edges):
    rng = random.Random(seed)
    keys = [
        f"openid:wx{rng.randrange(16**16):016x}/o{rng.randrange(10**12)}" for _ in range(n_nodes)
    ]
    return edge_table([(rng.choice(keys), rng.choice(keys)) for _ in range(n_edges)])


def random_phone_graph():
    rng = np.random.default_rng(3)
    nodes = [f"phone:1{k:010d}" for k in rng.integers(0, 10**10, 4000)]
    return edge_table([(nodes[a], nodes[b]) for a, b in rng.integers(0, len(nodes), (3000, 2))])


GRAPHS = {
    "self loops and isolated nodes": lambda: edge_table([("a", "a"), ("b", "b"), ("c", "d")]),
    "duplicates and both directions": lambda: edge_table(
        [("x", "y"), ("y", "x"), ("x", "y"), ("z", "x")]
    ),
    "star": lambda: edge_table([("hub", f"leaf{k}") for k in range(400)] + [("hub", "a-leaf")]),
    "two components joined by one edge": lambda: edge_table(
        [("a1", "a2"), ("b1", "b2"), ("a2", "b2")]
    ),
    "binary string order": lambda: edge_table([("b", "B"), ("B", "é"), ("é", "中"), ("中", "😀")]),
    "long chain in shuffled key order": lambda: edge_table(
        [(f"n{k:05d}", f"n{(k * 7919 + 1) % 3001:05d}") for k in range(3000)]
    ),
    "shuffled chain": lambda: shuffled_chain(1_500),
    "sparse random graph": lambda: random_graph(1, 3_000, 2_000),
    "dense random graph": lambda: random_graph(2, 1_000, 3_000),
    "random phone graph": random_phone_graph,
    "synthetic mixed": lambda: synthetic_graph(20_000, seed=9),
    "synthetic sorted chain": lambda: synthetic_graph(1_000, seed=9, kind="sorted_chain"),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_every_engine_returns_the_contract_table(components_of, name):
    edges = GRAPHS[name]()
    labels = components_of(edges).labels
    assert labels.schema == LABELS_SCHEMA
    assert labels.sort_by("node").equals(expected_labels(edges))
