"""Embedded engine internals, without Spark: encoding is exact, collisions are caught,
union-find labels are smallest indices, the Delta round trip. Its components are checked
against networkx with every other engine's in test_engines_agree and test_spark_engine."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from identity import embedded


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
    *_, collided = embedded._factorize_into(
        h1, np.array([1, 2, 3], dtype=np.uint64), *_fresh_table(3), 0, codes, new
    )
    assert collided
    count, n_new, collided = embedded._factorize_into(
        h1, np.array([1, 1, 3], dtype=np.uint64), *_fresh_table(3), 0, codes, new
    )
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

    write_arrow(str(tmp_path / "edges"), pa.table({"src": ["b", "c", "e"], "dst": ["a", "b", "e"]}))
    seconds = embedded.solve_delta(str(tmp_path / "edges"), str(tmp_path / "map"))
    assert set(seconds) >= {"read", "encode", "solve", "write"}
    result = read_arrow(str(tmp_path / "map"))
    assert dict(zip(result.column("node").to_pylist(), result.column("component").to_pylist())) == {
        "a": "a",
        "b": "a",
        "c": "a",
        "e": "e",
    }
