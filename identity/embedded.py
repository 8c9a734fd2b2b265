"""Embedded connected-components engine: the whole graph in one process's memory.

Turning string identifiers into integers is the expensive part, not the solve. Keys are hashed
by DuckDB (multi-threaded) with two independent 64-bit hashes; a numba hash table factorises
the first into dense codes and checks the second, so two keys sharing a code would need both
hashes to collide (a first-hash collision alone is detected and falls back to exact dictionary
encoding); codes are exact for all practical purposes without comparing strings. The solve is a union-find
compiled by numba: one pass over the edges with path halving, each root being the smallest
node index of its set, then one flattening pass.

The answer is engine independent: every node's component is the smallest node key of its
component in binary string order, exactly what the Spark engine returns.
"""

from __future__ import annotations

import time

import duckdb
import numpy as np
import pyarrow as pa
from numba import njit

from cdp.lakehouse import read_arrow, write_arrow


@njit(cache=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def _union_find(src, dst, n):
    parent = np.arange(n, dtype=np.int32)
    for i in range(src.shape[0]):
        a = _find(parent, src[i])
        b = _find(parent, dst[i])
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    # A parent never has a larger index than its child, so one ascending pass flattens all.
    for x in range(n):
        parent[x] = parent[parent[x]]
    return parent


def union_find(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """Label of every node 0..n-1: the smallest node index of its component."""
    return _union_find(np.ascontiguousarray(src, dtype=np.int32),
                       np.ascontiguousarray(dst, dtype=np.int32), n)


def _as_array(keys: pa.ChunkedArray | pa.Array) -> pa.Array:
    return keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys


def _chunks(keys: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    return list(keys.chunks) if isinstance(keys, pa.ChunkedArray) else [keys]


@njit(cache=True)
def _factorize(h1, h2):
    """Dense codes in order of first appearance, by open addressing on the first hash.
    Returns (codes, first position of each code, whether two keys shared the first hash).
    The second hash of a code is read from its first position, which keeps the table at 12
    bytes a slot (100M keys: 1.6 GB)."""
    n = h1.shape[0]
    size = 1
    while size < n + n // 3:
        size <<= 1
    mask = np.uint64(size - 1)
    slot_code = np.full(size, -1, np.int32)
    slot_h1 = np.empty(size, np.uint64)
    codes = np.empty(n, np.int32)
    first = np.empty(n, np.int64)
    count = 0
    for i in range(n):
        s = h1[i] & mask
        while True:
            c = slot_code[s]
            if c == -1:
                slot_code[s] = count
                slot_h1[s] = h1[i]
                first[count] = i
                codes[i] = count
                count += 1
                break
            if slot_h1[s] == h1[i]:
                if h2[first[c]] != h2[i]:
                    return codes, first[:0], True
                codes[i] = c
                break
            s = (s + np.uint64(1)) & mask
    return codes, first[:count], False


def encode(a: pa.ChunkedArray | pa.Array,
           b: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Dense int32 codes of the keys in ``a`` and ``b`` (one shared dictionary), and the
    dictionary: ``keys.take(codes)`` gives the original keys back."""
    # Chunks side by side, not combined: combining would copy every key once more.
    key_table = pa.table({"k": pa.chunked_array(_chunks(a) + _chunks(b))})
    # DuckDB keeps row order for a plain projection (preserve_insertion_order is on).
    hashes = duckdb.sql("SELECT hash(k) AS h1, hash(k || '|') AS h2 FROM key_table"
                        ).to_arrow_table()
    codes, first, collided = _factorize(hashes.column("h1").to_numpy(),
                                        hashes.column("h2").to_numpy())
    del hashes
    if collided:
        return _encode_exact(key_table.column("k"), len(a))
    # Codes follow first appearance, so the dictionary is the rows that appear first, in order.
    is_first = np.zeros(len(codes), dtype=bool)
    is_first[first] = True
    keys = _as_array(key_table.column("k").filter(pa.array(is_first)))
    return codes[:len(a)], codes[len(a):], keys


def _encode_exact(keys: pa.ChunkedArray, n_a: int):
    """Dictionary encoding by string comparison: the fallback when two keys share a hash."""
    encoded = _as_array(keys).dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    return codes[:n_a], codes[n_a:], encoded.dictionary


def components(src: pa.ChunkedArray | pa.Array, dst: pa.ChunkedArray | pa.Array) -> pa.Table:
    """``(node, component)`` for every node of the edge list, component = smallest node key."""
    a, b, keys = encode(src, dst)
    labels = union_find(a, b, len(keys))
    return label_components(keys, labels)


@njit(cache=True)
def _key_less(offsets, data, i, j):
    """Key ``i`` sorts before key ``j`` in binary order (Arrow string buffers)."""
    a, b = offsets[i], offsets[j]
    length_a, length_b = offsets[i + 1] - a, offsets[j + 1] - b
    for k in range(min(length_a, length_b)):
        if data[a + k] != data[b + k]:
            return data[a + k] < data[b + k]
    return length_a < length_b


@njit(cache=True)
def _smallest_per_label(offsets, data, labels):
    smallest = np.full(labels.shape[0], -1, dtype=np.int64)
    for node in range(labels.shape[0]):
        label = labels[node]
        if smallest[label] == -1 or _key_less(offsets, data, node, smallest[label]):
            smallest[label] = node
    return smallest


def _string_buffers(keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and bytes of a string array, without copying them."""
    _, offsets, data = keys.buffers()
    width = np.int64 if keys.type == pa.large_string() else np.int32
    offsets = np.frombuffer(offsets, dtype=width)[keys.offset:keys.offset + len(keys) + 1]
    return offsets, (np.frombuffer(data, dtype=np.uint8) if data is not None
                     else np.zeros(0, np.uint8))


def label_components(keys: pa.Array, labels: np.ndarray) -> pa.Table:
    """Replace union-find labels (node indices) by each component's smallest key, found in one
    compiled pass over the keys' bytes; the component column is dictionary-encoded over the
    keys themselves, so no string is copied."""
    offsets, data = _string_buffers(keys)
    smallest = _smallest_per_label(offsets, data, np.ascontiguousarray(labels))
    component = pa.DictionaryArray.from_arrays(pa.array(smallest[labels].astype(np.int32)), keys)
    return pa.table({"node": keys, "component": component})


def solve_delta(edges_uri: str, map_uri: str) -> dict[str, float]:
    """Read ``src``/``dst`` edges from a Delta table, solve, write ``(node, component)`` as a
    Delta table. Returns the seconds spent per phase."""
    seconds = {}
    start = time.perf_counter()
    edges = read_arrow(edges_uri, ["src", "dst"])
    seconds["read"] = time.perf_counter() - start
    start = time.perf_counter()
    a, b, keys = encode(edges.column("src"), edges.column("dst"))
    del edges
    seconds["encode"] = time.perf_counter() - start
    start = time.perf_counter()
    labels = union_find(a, b, len(keys))
    seconds["solve"] = time.perf_counter() - start
    start = time.perf_counter()
    result = label_components(keys, labels)
    seconds["label"] = time.perf_counter() - start
    start = time.perf_counter()
    write_arrow(map_uri, result)
    seconds["write"] = time.perf_counter() - start
    return seconds


__all__ = ["components", "encode", "label_components", "solve_delta", "union_find"]
