"""Both connected-components engines give identical (node, component) rows on the same input."""

from __future__ import annotations

import itertools
import random

import pyarrow as pa
import pytest

from identity import embedded
from identity.spark_engine import spark_components
from identity.synthetic import synthetic_graph

SCHEMA = pa.schema([("src", pa.string()), ("dst", pa.string())])


def table(edges):
    return pa.table({"src": [a for a, _ in edges], "dst": [b for _, b in edges]}, SCHEMA)


def shuffled_chain(n):
    keys = [f"member_card:M{k:010d}" for k in range(n)]
    random.Random(11).shuffle(keys)
    return table(list(itertools.pairwise(keys)))


def random_graph(seed, n_nodes, n_edges):
    rng = random.Random(seed)
    keys = [f"openid:wx{rng.randrange(16**16):016x}/o{rng.randrange(10**12)}"
            for _ in range(n_nodes)]
    return table([(rng.choice(keys), rng.choice(keys)) for _ in range(n_edges)])


GRAPHS = {
    "self loops and isolated nodes": lambda: table([("a", "a"), ("b", "b"), ("c", "d")]),
    "duplicates and both directions": lambda: table([("x", "y"), ("y", "x"), ("x", "y"),
                                                     ("z", "x")]),
    "star": lambda: table([("hub", f"leaf{k}") for k in range(400)] + [("hub", "a-leaf")]),
    "two components joined by one edge": lambda: table([("a1", "a2"), ("b1", "b2"),
                                                        ("a2", "b2")]),
    "binary string order": lambda: table([("b", "B"), ("B", "é"), ("é", "中"), ("中", "😀")]),
    "shuffled chain": lambda: shuffled_chain(1_500),
    "sparse random graph": lambda: random_graph(1, 3_000, 2_000),
    "dense random graph": lambda: random_graph(2, 1_000, 3_000),
    "synthetic mixed": lambda: synthetic_graph(20_000, seed=9),
    "synthetic sorted chain": lambda: synthetic_graph(1_000, seed=9, kind="sorted_chain"),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_engines_agree(spark, lakehouse, name):
    edges = GRAPHS[name]()
    # The embedded engine's component column is dictionary-encoded; compare plain strings.
    strings = pa.schema([("node", pa.string()), ("component", pa.string())])
    by_embedded = embedded.components(edges.column("src"), edges.column("dst")).cast(strings)
    result = spark_components(spark, lakehouse, lakehouse.stage_arrow(spark, edges, "test/edges"))
    by_spark = result.components.toArrow().cast(strings)
    assert by_spark.sort_by("node").equals(by_embedded.sort_by("node"))
