"""Embedded engine: encoding is exact, components match networkx, labels are min keys."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

from identity import embedded


def oracle(edges):
    graph = nx.Graph()
    graph.add_edges_from(edges)
    return {node: min(c) for c in nx.connected_components(graph) for node in c}


def solve(edges):
    src = pa.array([a for a, _ in edges], pa.string())
    dst = pa.array([b for _, b in edges], pa.string())
    result = embedded.components(src, dst)
    return dict(zip(result.column("node").to_pylist(), result.column("component").to_pylist()))


CASES = {
    "self loops and isolated nodes": [("a", "a"), ("b", "b"), ("c", "d")],
    "duplicates and both directions": [("x", "y"), ("y", "x"), ("x", "y"), ("z", "x")],
    "long chain in shuffled key order": [(f"n{k:05d}", f"n{(k * 7919 + 1) % 3001:05d}")
                                         for k in range(3000)],
    "star": [("hub", f"leaf{k}") for k in range(500)],
    "two components joined by one edge": [("a1", "a2"), ("a2", "a3"), ("b1", "b2"),
                                          ("a3", "b2")],
}


@pytest.mark.parametrize("name", list(CASES))
def test_edge_cases_match_networkx(name):
    edges = CASES[name]
    assert solve(edges) == oracle(edges)


def test_random_graph_matches_networkx():
    rng = np.random.default_rng(3)
    nodes = [f"phone:1{k:010d}" for k in rng.integers(0, 10**10, 4000)]
    edges = [(nodes[a], nodes[b]) for a, b in rng.integers(0, len(nodes), (3000, 2))]
    assert solve(edges) == oracle(edges)


def test_encode_round_trips_keys():
    a = pa.chunked_array([pa.array(["x", "y"]), pa.array(["x"])])
    b = pa.array(["z", "x", "w"])
    codes_a, codes_b, keys = embedded.encode(a, b)
    assert keys.take(pa.array(codes_a)).to_pylist() == ["x", "y", "x"]
    assert keys.take(pa.array(codes_b)).to_pylist() == ["z", "x", "w"]
    assert sorted(keys.to_pylist()) == ["w", "x", "y", "z"]


def _fresh_table(rows: int):
    return (np.full(8, -1, np.int32), np.empty(8, np.uint64), np.empty(rows, np.uint64))


def test_first_hash_collision_is_detected():
    # Two different keys with the same first hash must not share a code.
    codes, new = np.empty(3, np.int32), np.empty(3, np.int64)
    h1 = np.array([5, 5, 9], dtype=np.uint64)
    *_, collided = embedded._factorize_into(h1, np.array([1, 2, 3], dtype=np.uint64),
                                            *_fresh_table(3), 0, codes, new)
    assert collided
    count, n_new, collided = embedded._factorize_into(
        h1, np.array([1, 1, 3], dtype=np.uint64), *_fresh_table(3), 0, codes, new)
    assert not collided and codes.tolist() == [0, 0, 1] and new[:n_new].tolist() == [0, 2]
    assert count == 2


def test_collision_falls_back_to_exact_encoding():
    codes, keys = embedded._encode_exact(lambda: (pa.array(["x", "y"]), pa.array(["y", "z"])))
    assert [keys.take(pa.array(c)).to_pylist() for c in codes] == [["x", "y"], ["y", "z"]]


def test_columns_are_encoded_one_at_a_time_into_one_dictionary():
    read = []

    def columns():
        for values in (["b", "a", "b"], ["c", "a"]):
            read.append(values)
            yield pa.chunked_array([pa.array(values[:1]), pa.array(values[1:])])

    (first, second), keys = embedded.encode_columns(columns, 5)
    assert keys.to_pylist() == ["b", "a", "c"] and len(read) == 2
    assert first.tolist() == [0, 1, 0] and second.tolist() == [2, 1]


def test_union_find_labels_are_smallest_index():
    labels = embedded.union_find(np.array([3, 2, 5]), np.array([2, 1, 4]), 6)
    assert labels.tolist() == [0, 1, 1, 1, 4, 4]


def test_solve_delta_writes_the_map(tmp_path):
    from cdp.lakehouse import read_arrow, write_arrow

    write_arrow(str(tmp_path / "edges"), pa.table({"src": ["b", "c", "e"],
                                                   "dst": ["a", "b", "e"]}))
    seconds = embedded.solve_delta(str(tmp_path / "edges"), str(tmp_path / "map"))
    assert set(seconds) >= {"read", "encode", "solve", "write"}
    result = read_arrow(str(tmp_path / "map"))
    assert dict(zip(result.column("node").to_pylist(),
                    result.column("component").to_pylist())) == {
        "a": "a", "b": "a", "c": "a", "e": "e"}
