"""Spark engine: components match networkx (component = smallest key), few rounds on chains."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pyarrow as pa
import pytest

from identity import spark_engine
from identity.spark_engine import spark_components
from identity.synthetic import synthetic_graph

MAX_CHAIN_ROUNDS = 10


def oracle(edges):
    """Component = smallest key; a null end contributes no node, the other end stays."""
    graph = nx.Graph()
    graph.add_nodes_from(key for edge in edges for key in edge if key is not None)
    graph.add_edges_from(edge for edge in edges if None not in edge)
    return {node: min(c) for c in nx.connected_components(graph) for node in c}


def run(spark, lakehouse, edges, **options):
    table = pa.table({"src": [a for a, _ in edges], "dst": [b for _, b in edges]},
                     pa.schema([("src", pa.string()), ("dst", pa.string())]))
    staged = lakehouse.stage_arrow(spark, table, "test/edges")
    result = spark_components(spark, lakehouse, staged, **options)
    rows = result.components.toArrow()
    assert rows.num_rows == len(set(rows.column("node").to_pylist())), "one row per node"
    return dict(zip(rows.column("node").to_pylist(), rows.column("component").to_pylist())), \
        result.rounds


def chain(n, order):
    keys = [f"n{k:05d}" for k in range(n)]
    if order == "shuffled":
        random.Random(7).shuffle(keys)
    return list(itertools.pairwise(keys))


def random_graph(n_nodes, n_edges):
    rng = random.Random(5)
    keys = [f"phone:1{rng.randrange(10**10):010d}" for _ in range(n_nodes)]
    return [(rng.choice(keys), rng.choice(keys)) for _ in range(n_edges)]


CASES = {
    "self loops and isolated nodes": [("a", "a"), ("b", "b"), ("c", "d"), ("d", "d")],
    "duplicates and both directions": [("y", "x"), ("x", "y"), ("x", "y"), ("z", "y")],
    "null end gives an isolated node": [("a", None), (None, None), ("c", "b")],
    "star whose hub is not the smallest key": [("hub", f"leaf{k:03d}") for k in range(300)]
                                              + [("hub", "a-leaf")],
    "binary string order": [("b", "B"), ("B", "é"), ("é", "中"), ("中", "😀"), ("😀", "a")],
    "random graph": random_graph(2_000, 1_500),
}


@pytest.mark.parametrize("name", list(CASES))
def test_edge_cases_match_networkx(spark, lakehouse, name):
    edges = CASES[name]
    assert run(spark, lakehouse, edges)[0] == oracle(edges)


@pytest.mark.parametrize("order", ["shuffled", "sorted"])
def test_long_chain_converges_in_few_rounds(spark, lakehouse, order):
    edges = chain(2_000, order)
    components, rounds = run(spark, lakehouse, edges)
    assert set(components.values()) == {"n00000"} and len(components) == 2_000
    assert rounds <= MAX_CHAIN_ROUNDS


@pytest.mark.parametrize("kind", ["chain", "sorted_chain"])
def test_100k_node_path_converges_in_few_rounds(spark, lakehouse, kind):
    edges = synthetic_graph(99_999, seed=2, kind=kind)
    staged = lakehouse.stage_arrow(spark, edges, "test/path")
    result = spark_components(spark, lakehouse, staged)
    smallest = min(edges.column("src").to_pylist() + edges.column("dst").to_pylist())
    summary = result.components.groupBy("component").count().collect()
    assert [(row["component"], row["count"]) for row in summary] == [(smallest, 100_000)]
    assert result.rounds <= MAX_CHAIN_ROUNDS


def test_two_components_become_one_through_a_single_edge(spark, lakehouse):
    left = [("a1", "a2"), ("a2", "a3"), ("a3", "a4")]
    right = [("b1", "b2"), ("b3", "b2"), ("b4", "b1")]
    apart, _ = run(spark, lakehouse, left + right)
    assert set(apart.values()) == {"a1", "b1"}
    joined, _ = run(spark, lakehouse, left + right + [("b3", "a4")])
    assert set(joined.values()) == {"a1"} and len(joined) == 8


def test_synthetic_identity_graph_matches_networkx(spark, lakehouse):
    table = synthetic_graph(5_000, seed=4)
    edges = list(zip(table.column("src").to_pylist(), table.column("dst").to_pylist()))
    assert run(spark, lakehouse, edges)[0] == oracle(edges)


def test_no_edges(spark, lakehouse):
    assert run(spark, lakehouse, []) == ({}, 0)


def test_progress_and_checkpoints(spark, lakehouse):
    calls = []
    _, rounds = run(spark, lakehouse, chain(300, "shuffled"),
                    progress=lambda r, changed: calls.append((r, changed)))
    assert [r for r, _ in calls] == list(range(1, rounds + 1))
    assert all(changed > 0 for _, changed in calls)
    staging = lakehouse.root / "_staging" / "identity" / "cc"
    assert (staging / "components").is_dir() and not (staging / "work").exists()


def test_round_limit(spark, lakehouse):
    with pytest.raises(RuntimeError, match="did not converge in 1 rounds"):
        run(spark, lakehouse, chain(300, "shuffled"), max_rounds=1)


def test_hash_collision_is_resolved_with_another_salt(spark, lakehouse, monkeypatch):
    real_hash = spark_engine._hash

    def colliding(column, salt):  # the first salt maps every key to one id
        return spark_engine.F.lit(1).cast("long") if salt == 0 else real_hash(column, salt)

    monkeypatch.setattr(spark_engine, "_hash", colliding)
    edges = [("a", "b"), ("c", "d"), ("d", "e")]
    assert run(spark, lakehouse, edges)[0] == oracle(edges)
