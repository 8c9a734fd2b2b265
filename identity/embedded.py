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

import itertools
import time
from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from cdp import local_duckdb
from cdp.lakehouse import read_arrow, read_arrow_batches, write_arrow


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
    return _union_find(
        np.ascontiguousarray(src, dtype=np.int32), np.ascontiguousarray(dst, dtype=np.int32), n
    )


def _chunks(keys: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    return list(keys.chunks) if isinstance(keys, pa.ChunkedArray) else [keys]


@njit(cache=True)
def _factorize_into(h1, h2, slot_code, slot_h1, code_h2, count, codes, new_positions):
    """Add one column's hashes to the open-addressing table: each row's code (new codes in
    order of first appearance, from ``count`` on) and the positions of the rows that brought
    a new code. Returns (codes so far, new rows, whether two keys shared the first hash; the
    second hash of each code is kept to tell)."""
    mask = np.uint64(slot_code.shape[0] - 1)
    n_new = 0
    for i in range(h1.shape[0]):
        s = h1[i] & mask
        while True:
            c = slot_code[s]
            if c == -1:
                slot_code[s] = count
                slot_h1[s] = h1[i]
                code_h2[count] = h2[i]
                codes[i] = count
                new_positions[n_new] = i
                n_new += 1
                count += 1
                break
            if slot_h1[s] == h1[i]:
                if code_h2[c] != h2[i]:
                    return count, n_new, True
                codes[i] = c
                break
            s = (s + np.uint64(1)) & mask
    return count, n_new, False


def _hashes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes per key (DuckDB keeps row order for a projection)."""
    con = local_duckdb.connect()
    con.register("keys", pa.table({"k": pa.chunked_array(_chunks(column))}))
    hashes = con.sql("SELECT hash(k) AS h1, hash(k || '|') AS h2 FROM keys").to_arrow_table()
    return hashes.column("h1").to_numpy(), hashes.column("h2").to_numpy()


def encode_columns(
    columns: Callable[[], Iterable], total_rows: int
) -> tuple[list[np.ndarray], pa.Array]:
    """Dense int32 codes of the keys of every column (or piece of a column) ``columns()``
    yields, in one shared dictionary, and the dictionary: ``keys.take(codes[i])`` gives piece
    i back.

    Pieces are encoded one at a time and only their new keys are kept, so a caller that reads
    each piece when asked holds one piece of strings at a time. The table has 12
    bytes a slot plus 8 a key (100M keys: 2.4 GB). ``total_rows`` bounds the keys."""
    size = 1
    while size < total_rows + total_rows // 3:
        size <<= 1
    slot_code = np.full(size, -1, np.int32)
    slot_h1 = np.empty(size, np.uint64)
    code_h2 = np.empty(max(total_rows, 1), np.uint64)
    count, all_codes, new_keys, key_type = 0, [], [], pa.string()
    for column in columns():
        h1, h2 = _hashes(column)
        codes = np.empty(len(column), np.int32)
        new_positions = np.empty(len(column), np.int64)
        count, n_new, collided = _factorize_into(
            h1, h2, slot_code, slot_h1, code_h2, count, codes, new_positions
        )
        del h1, h2
        if collided:
            return _encode_exact(columns)
        is_new = np.zeros(len(column), dtype=bool)
        is_new[new_positions[:n_new]] = True
        key_type = column.type
        new_keys += _chunks(pa.chunked_array(_chunks(column)).filter(pa.array(is_new)))
        all_codes.append(codes)
        del column, is_new, new_positions
        # Hand the column's buffers back to the system before the next one is read.
        pa.default_memory_pool().release_unused()
    return all_codes, pa.chunked_array(new_keys, type=key_type).combine_chunks()


def encode(
    a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array
) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Codes of ``a`` and ``b`` in one dictionary, and the dictionary (see encode_columns)."""
    (codes_a, codes_b), keys = encode_columns(lambda: (a, b), len(a) + len(b))
    return codes_a, codes_b, keys


def _encode_exact(columns: Callable[[], Iterable]) -> tuple[list[np.ndarray], pa.Array]:
    """Dictionary encoding by string comparison: the fallback when two keys share a hash."""
    chunks, lengths = [], []
    for column in columns():
        chunks += _chunks(column)
        lengths.append(len(column))
    encoded = pa.chunked_array(chunks).combine_chunks().dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    bounds = np.cumsum([0, *lengths])
    return [codes[lo:hi] for lo, hi in itertools.pairwise(bounds)], encoded.dictionary


def _null_ends_as_self_loops(src, dst):
    """An edge with one null end is a self loop of its other end (an isolated node), one with
    two is no edge: what the Spark engine does with them too."""
    if not (src.null_count or dst.null_count):
        return src, dst
    src, dst = pc.coalesce(src, dst), pc.coalesce(dst, src)
    present = pc.is_valid(src)
    return src.filter(present), dst.filter(present)


def components(src: pa.ChunkedArray | pa.Array, dst: pa.ChunkedArray | pa.Array) -> pa.Table:
    """``(node, component)`` for every node of the edge list, component = smallest node key."""
    a, b, keys = encode(*_null_ends_as_self_loops(src, dst))
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
    offsets = np.frombuffer(offsets, dtype=width)[keys.offset : keys.offset + len(keys) + 1]
    return offsets, (
        np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    )


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
    seconds = {"read": 0.0}
    lengths = {"src": 0, "dst": 0}

    def pieces():
        # Batch by batch, so no column of key strings is ever held whole.
        for name in lengths:
            batches = read_arrow_batches(edges_uri, name)
            while True:
                start = time.perf_counter()
                batch = next(batches, None)
                seconds["read"] += time.perf_counter() - start
                if batch is None:
                    break
                lengths[name] += len(batch)
                yield batch

    start = time.perf_counter()
    codes, keys = encode_columns(pieces, read_arrow(edges_uri, []).num_rows * 2)
    codes = np.concatenate(codes) if codes else np.zeros(0, np.int32)
    a, b = codes[: lengths["src"]], codes[lengths["src"] :]
    seconds["encode"] = time.perf_counter() - start - seconds["read"]
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


__all__ = [
    "components",
    "encode",
    "encode_columns",
    "label_components",
    "solve_delta",
    "union_find",
]
