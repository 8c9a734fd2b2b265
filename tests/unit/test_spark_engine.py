"""Engine cases against networkx (component = smallest key), run on every engine through its
adapter; then the Spark engine's own behaviour: few rounds on chains, progress, checkpoints,
round limit, hash salts."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pyarrow as pa
import pytest

from benchmarks.synthetic_graphs import synthetic_graph
from identity import spark_engine
from identity.engines import StagedEdges, engine_for
from identity.spark_engine import spark_components

MAX_CHAIN_ROUNDS = 10


def oracle(edges):
    """Component = smallest key; a null end contributes no node, the other end stays."""
    graph = nx.Graph()
    graph.add_nodes_from(key for edge in edges for key in edge if key is not None)
    graph.add_edges_from(edge for edge in edges if None not in edge)
    return {node: min(c) for c in nx.connected_components(graph) for node in c}


def as_dict(labels: pa.Table) -> dict[str, str]:
    nodes = labels.column("node").to_pylist()
    assert labels.num_rows == len(set(nodes)), "one row per node"
    return dict(zip(nodes, labels.column("component").to_pylist()))


def solved(components_of, edges):
    """``(node -> component, rounds)`` of ``edges`` on the fixture's engine."""
    result = components_of(edges)
    return as_dict(result.labels), result.rounds


def run(spark, lakehouse, edges, **options):
    """The Spark engine itself (not its adapter), for its options and internals."""
    table = pa.table(
        {"src": [a for a, _ in edges], "dst": [b for _, b in edges]},
        pa.schema([("src", pa.string()), ("dst", pa.string())]),
    )
    staged = lakehouse.stage_arrow(spark, table, "test/edges")
    result = spark_components(spark, lakehouse, staged, **options)
    return as_dict(result.components.toArrow()), result.rounds


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


def rounds_ok(engine, rounds):
    """The embedded engine does not iterate; the Spark engine needs few rounds."""
    return rounds is None if engine.name == "embedded" else rounds <= MAX_CHAIN_ROUNDS


@pytest.mark.parametrize("name", list(CASES))
def test_edge_cases_match_networkx(components_of, name):
    edges = CASES[name]
    assert solved(components_of, edges)[0] == oracle(edges)


@pytest.mark.parametrize("order", ["shuffled", "sorted"])
def test_long_chain_converges_in_few_rounds(engine, components_of, order):
    components, rounds = solved(components_of, chain(2_000, order))
    assert set(components.values()) == {"n00000"} and len(components) == 2_000
    assert rounds_ok(engine, rounds)


@pytest.mark.parametrize("kind", ["chain", "sorted_chain"])
def test_100k_node_path_converges_in_few_rounds(engine, components_of, kind):
    edges = synthetic_graph(99_999, seed=2, kind=kind)
    result = components_of(edges)
    smallest = min(edges.column("src").to_pylist() + edges.column("dst").to_pylist())
    summary = result.labels.group_by("component").aggregate([("node", "count")])
    assert summary.to_pylist() == [{"component": smallest, "node_count": 100_000}]
    assert rounds_ok(engine, result.rounds)


def test_two_components_become_one_through_a_single_edge(components_of):
    left = [("a1", "a2"), ("a2", "a3"), ("a3", "a4")]
    right = [("b1", "b2"), ("b3", "b2"), ("b4", "b1")]
    apart, _ = solved(components_of, left + right)
    assert set(apart.values()) == {"a1", "b1"}
    joined, _ = solved(components_of, left + right + [("b3", "a4")])
    assert set(joined.values()) == {"a1"} and len(joined) == 8


def test_synthetic_identity_graph_matches_networkx(components_of):
    table = synthetic_graph(5_000, seed=4)
    edges = list(zip(table.column("src").to_pylist(), table.column("dst").to_pylist()))
    assert solved(components_of, edges)[0] == oracle(edges)


def test_no_edges(engine, components_of):
    assert solved(components_of, []) == ({}, None if engine.name == "embedded" else 0)


def test_spark_adapter_reports_rounds_and_works_beside_the_edges(spark, lakehouse):
    said = []
    edges = pa.table(dict(zip(["src", "dst"], zip(*chain(300, "shuffled")))))
    staged = StagedEdges.from_arrow(spark, lakehouse, edges, "run/edges")
    result = engine_for("spark").components(staged, said.append)
    assert result.rounds >= 2 and set(result.labels.column("component").to_pylist()) == {"n00000"}
    assert [m.rsplit(":", 1)[0] for m in said] == [
        f"identity: round {r}" for r in range(1, result.rounds + 1)
    ]
    assert all(m.endswith(" moved") for m in said)
    assert (lakehouse.root / "_staging" / "run" / "cc" / "components").is_dir()


def test_progress_and_checkpoints(spark, lakehouse):
    calls = []
    _, rounds = run(
        spark,
        lakehouse,
        chain(300, "shuffled"),
        progress=lambda r, changed: calls.append((r, changed)),
    )
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
