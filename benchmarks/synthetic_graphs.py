"""Deterministic synthetic identity graphs for engine tests and benchmarks.

Everything is vectorised: node keys are rendered as fixed-width byte matrices (numpy) and
handed to Arrow as string buffers, edges are integer arrays until the very end (1M edges in
~1.5 s, 50M in ~40 s on 2 cores). Node keys look like the identifiers the platform links
(``phone:13912345678``, ``unionid:o...``, ``openid:wx<appid>/o...``, ``member_card:M...``,
``device_id:<uuid>``, ``cookie_id:...``). Each key embeds a bijective scramble of its node
number, so keys never collide, and their string order is unrelated to the graph's shape.

Kinds:
  ``mixed``         people of 2-10 identifiers with a Pareto tail up to thousands, hub
                    identifiers (shared devices, shop phones) linked to very many nodes, a few
                    long chains, self loops (isolated nodes), duplicated and reversed edges;
  ``chain``         one path, keys in random order along it;
  ``sorted_chain``  one path whose keys increase along it (the worst order for naive min-label
                    propagation).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

KINDS = ("mixed", "chain", "sorted_chain")

_B64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", np.uint8)
_DIGITS = np.frombuffer(b"0123456789", np.uint8)
_PHONE_SECOND_DIGIT = np.frombuffer(b"35789", np.uint8)
_APP_IDS = ("wx4f1c2d3e5a6b7c8d", "wx9a8b7c6d5e4f3a2b", "wx0123456789abcdef")
# node type -> share of ordinary (non-hub) identifiers
_TYPE_SHARES = {
    "openid": 0.28,
    "cookie_id": 0.2,
    "device_id": 0.14,
    "unionid": 0.14,
    "phone": 0.14,
    "member_card": 0.1,
}
_TYPE_NAMES = list(_TYPE_SHARES)
_HUB_TYPES = ("device_id", "phone", "cookie_id")
_PHONE_SPACE = 5 * 10**9
_CHUNK = 4_000_000  # rows per Arrow chunk: keeps every string chunk far below 2 GiB


def synthetic_graph(n_edges: int, seed: int = 0, kind: str = "mixed") -> pa.Table:
    """``n_edges`` edges (columns ``src``, ``dst``: node keys) of a synthetic identity graph."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if n_edges < 1:
        raise ValueError("n_edges must be at least 1")
    rng = np.random.default_rng(seed)
    if kind == "mixed":
        src, dst, node_types = _mixed(rng, n_edges)
        keys, position = _render_keys(rng, node_types)
    else:
        src = np.arange(n_edges, dtype=np.int64)
        dst = src + 1
        if kind == "chain":
            keys, position = _render_keys(rng, rng.integers(0, len(_TYPE_NAMES), n_edges + 1))
        else:
            keys, position = _sorted_phones(n_edges + 1)
    return pa.table(
        {"src": _take(keys, position[src]), "dst": _take(keys, position[dst])},
        schema=pa.schema([("src", pa.string()), ("dst", pa.string())]),
    )


def _mixed(rng: np.random.Generator, n_edges: int):
    """Edges over node numbers and one type per node, mixed shape (see module docstring)."""
    n_hub_edges = n_edges // 100
    n_chain_edges = n_edges // 50
    n_self_loops = n_edges // 200
    n_duplicates = n_edges // 50
    n_people_edges = n_edges - n_hub_edges - n_chain_edges - n_self_loops - n_duplicates

    # People: sizes mostly 2-10, a Pareto tail up to a few thousand identifiers.
    # ~7 edges per person on average: drawing one person per 3.5 edges leaves ample margin.
    n_people = int(n_people_edges / 3.5) + 16
    sizes = rng.integers(2, 8, n_people) + rng.binomial(3, 0.3, n_people)
    tail = rng.random(n_people) < 0.02
    sizes[tail] = np.minimum(10 + rng.pareto(1.2, tail.sum()) * 10, 5_000).astype(np.int64)
    # Each person is a random recursive tree (identifier i links to a random earlier one) plus
    # ~25% extra links inside the person; cut where the edge budget runs out.
    extra = rng.binomial(sizes - 1, 0.25)
    person_edges = np.cumsum(sizes - 1 + extra)
    n_people = int(np.searchsorted(person_edges, n_people_edges)) + 1
    sizes, extra = sizes[:n_people], extra[:n_people]
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_nodes = n_person_nodes = int(sizes.sum())

    member = np.arange(n_nodes) - np.repeat(first, sizes)  # position inside its person
    child = np.flatnonzero(member > 0)
    parent = child - member[child] + (_uniform(rng, child.size) * member[child]).astype(np.int64)
    owner = np.repeat(np.arange(n_people), extra)
    size = sizes[owner]
    a = (_uniform(rng, owner.size) * size).astype(np.int64)
    b = (a + 1 + (_uniform(rng, owner.size) * (size - 1)).astype(np.int64)) % size  # b != a
    src = np.concatenate([child, first[owner] + a])[:n_people_edges]
    dst = np.concatenate([parent, first[owner] + b])[:n_people_edges]

    # Long chains (lengths 1k-20k) of new nodes.
    lengths = rng.integers(1_000, 20_001, max(1, n_chain_edges // 5_000))
    lengths = np.diff(np.minimum(np.concatenate([[0], np.cumsum(lengths)]), n_chain_edges))
    lengths[-1] += n_chain_edges - lengths.sum()
    chain_nodes = n_nodes + np.arange(n_chain_edges + lengths.size)
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    chain_src = np.delete(chain_nodes, starts + lengths)  # every node but each chain's last
    n_nodes += chain_nodes.size

    # Hubs (a shop's shared device or phone): Zipf-like degrees; mostly one-off identifiers
    # seen only with the hub, 5% existing people, whom the hub merges into one component.
    n_hubs = max(1, n_hub_edges // 2_000)
    weights = 1.0 / np.arange(1, n_hubs + 1)
    degrees = np.diff(
        np.round(np.concatenate([[0], np.cumsum(weights)]) / weights.sum() * n_hub_edges)
    ).astype(np.int64)
    hubs = n_nodes + np.arange(n_hubs)
    hub_src = np.repeat(hubs, degrees)
    hub_dst = n_nodes + n_hubs + np.arange(hub_src.size)
    known = _uniform(rng, hub_src.size) < 0.05
    hub_dst[known] = rng.integers(0, n_person_nodes, known.sum())
    n_nodes += n_hubs + hub_src.size

    # Self loops: mostly isolated identifiers, some on nodes that also have links.
    isolated = n_nodes + np.arange(n_self_loops - n_self_loops // 5)
    loops = np.concatenate([isolated, rng.integers(0, n_nodes, n_self_loops // 5)])
    n_nodes += isolated.size

    src = np.concatenate([src, chain_src, hub_src, loops])
    dst = np.concatenate([dst, chain_src + 1, hub_dst, loops])
    again = rng.integers(0, src.size, n_duplicates)
    src, dst = np.concatenate([src, src[again]]), np.concatenate([dst, dst[again]])
    # Random direction and order, as links arrive from many sources.
    flip = rng.integers(0, 2, src.size, dtype=np.uint8).astype(bool)
    src[flip], dst[flip] = dst[flip], src[flip]
    order = rng.permutation(src.size)
    src, dst = src[order], dst[order]

    shares = np.cumsum(list(_TYPE_SHARES.values()))
    node_types = np.searchsorted(shares[:-1], _uniform(rng, n_nodes), side="right")
    node_types[hubs] = rng.choice([_TYPE_NAMES.index(t) for t in _HUB_TYPES], n_hubs)
    return src, dst, node_types


def _uniform(rng: np.random.Generator, size: int) -> np.ndarray:
    # single precision is plenty for picking among at most a few thousand and twice as fast
    return rng.random(size, dtype=np.float32)


def _render_keys(rng: np.random.Generator, node_types: np.ndarray):
    """Keys of nodes ``0..n-1`` grouped by type, and each node's position among them."""
    groups = [np.flatnonzero(node_types == code) for code in range(len(_TYPE_NAMES))]
    position = np.empty(node_types.size, dtype=np.int64)
    position[np.concatenate(groups)] = np.arange(node_types.size)
    parts = [_strings(_RENDER[name](rng, nodes)) for name, nodes in zip(_TYPE_NAMES, groups)]
    return pa.concat_arrays(parts), position


def _sorted_phones(n: int):
    """Phone keys in ascending string order (fixed width, so string order = numeric order)."""
    value = np.arange(n, dtype=np.int64) * (_PHONE_SPACE // n)
    return _strings(_phone_bytes(value)), np.arange(n)


def _take(keys: pa.LargeStringArray, index: np.ndarray) -> pa.ChunkedArray:
    return pa.chunked_array(
        [
            keys.take(pa.array(index[start : start + _CHUNK])).cast(pa.string())
            for start in range(0, index.size, _CHUNK)
        ],
        pa.string(),
    )


def _strings(matrix: np.ndarray) -> pa.LargeStringArray:
    """One string per row of a fixed-width byte matrix, without a Python loop."""
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        rows, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(matrix))
    )


def _const(text: bytes, rows: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text, np.uint8), (rows, len(text)))


def _digits(value: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return _DIGITS[(value[:, None] // powers) % 10]


def _scramble(node: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on 64-bit integers, so distinct nodes stay distinct."""
    z = node.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _radix(value: np.ndarray, alphabet: np.ndarray, width: int) -> np.ndarray:
    """The low ``width`` digits of unsigned ``value`` in base ``len(alphabet)`` (a power of 2)."""
    bits = int(alphabet.size).bit_length() - 1
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(bits)
    return alphabet[(value[:, None] >> shifts) & np.uint64(alphabet.size - 1)]


def _wechat_id(rng: np.random.Generator, node: np.ndarray) -> np.ndarray:
    """'o' + 27 base64 characters; the first 11 encode the scrambled node (unique)."""
    rows = node.size
    return np.hstack(
        [
            _const(b"o", rows),
            _radix(_scramble(node), _B64, 11),
            _B64[rng.integers(0, 64, (rows, 16), dtype=np.uint8)],
        ]
    )


def _phone_bytes(value: np.ndarray) -> np.ndarray:
    """``phone:1`` + one of 3/5/7/8/9 + 9 digits, for ``value`` in ``[0, _PHONE_SPACE)``."""
    return np.hstack(
        [
            _const(b"phone:1", value.size),
            _PHONE_SECOND_DIGIT[value // 10**9][:, None],
            _digits(value % 10**9, 9),
        ]
    )


def _phone(rng, node):
    # multiplier coprime to the space (odd, not a multiple of 5): a bijection, so no collisions
    return _phone_bytes((node * 2_654_435_761 + 12_345_678) % _PHONE_SPACE)


def _unionid(rng, node):
    return np.hstack([_const(b"unionid:", node.size), _wechat_id(rng, node)])


def _openid(rng, node):
    apps = np.frombuffer("".join(_APP_IDS).encode(), np.uint8).reshape(len(_APP_IDS), -1)
    app = apps[rng.integers(0, len(_APP_IDS), node.size, dtype=np.uint8)]
    return np.hstack(
        [_const(b"openid:", node.size), app, _const(b"/", node.size), _wechat_id(rng, node)]
    )


def _member_card(rng, node):
    return np.hstack(
        [
            _const(b"member_card:M", node.size),
            _digits((node * 7_919_000_003 + 1_000_003) % 10**10, 10),
        ]
    )


def _device_id(rng, node):
    """Upper-case UUID (IDFV / OAID style); the first 16 hex digits are the scrambled node."""
    upper = np.frombuffer(b"0123456789ABCDEF", np.uint8)
    hexes = np.hstack(
        [
            _radix(_scramble(node), upper, 16),
            upper[rng.integers(0, 16, (node.size, 16), dtype=np.uint8)],
        ]
    )
    dash = _const(b"-", node.size)
    return np.hstack(
        [
            _const(b"device_id:", node.size),
            hexes[:, :8],
            dash,
            hexes[:, 8:12],
            dash,
            hexes[:, 12:16],
            dash,
            hexes[:, 16:20],
            dash,
            hexes[:, 20:],
        ]
    )


def _cookie_id(rng, node):
    """Google-Analytics-style client id ``GA1.2.<10 digits>.<10 digit timestamp>``."""
    return np.hstack(
        [
            _const(b"cookie_id:GA1.2.", node.size),
            _digits((node * 3_141_592_653 + 7) % 10**10, 10),
            _const(b".", node.size),
            _digits(1_600_000_000 + rng.integers(0, 10**8, node.size), 10),
        ]
    )


_RENDER = {
    "openid": _openid,
    "cookie_id": _cookie_id,
    "device_id": _device_id,
    "unionid": _unionid,
    "phone": _phone,
    "member_card": _member_card,
}
