"""Connected components over Spark Connect DataFrames: the OneID engine beyond one machine.

Algorithm: min-label hooking with graph contraction. Node keys are hashed to 64-bit ids
(``xxhash64``), so ids are in random order with respect to the graph. Each round, on the
current graph (undirected, no self loops, no duplicates):

1. hook: every node takes the smallest id within two hops (the smallest id of its closed
   neighbourhood, then the smallest of those over its closed neighbourhood again);
2. jump: pointer jumping, twice (``label(label(x))``, then again), so chains of pointers that
   end at a local minimum mostly collapse onto it;
3. contract: every edge ``(a, b)`` becomes ``(label(a), label(b))``; self loops and
   duplicates are dropped. Labels stay inside their component, so components are preserved.

Why few rounds: only nodes that are the minimum of their two-hop neighbourhood survive a round.
With ids in random order that is about one node in five even on a path (the worst case:
nothing to share), so the graph shrinks ~5x per round and rounds grow with log(nodes): a
100k-node path takes 7-8 rounds and a 1M-node path 9, whatever the order of its keys (hashing
makes sorted keys random). Ordinary identity graphs (small components, stars around hubs)
collapse in the first two or three rounds; later rounds only touch what is left.
Finally each node's root follows from composing the rounds' labels backwards (each join is
the size of its round, so the composition costs about one pass over the nodes), and the
component name is the smallest node key of the root's component by plain string comparison,
the engine-independent answer the embedded engine gives too.

Checkpoints: every intermediate result that is read more than once, and each round's graph
and labels, is written to Parquet with ``Lakehouse.stage`` and read back, because Sail
re-evaluates a shared sub-plan once per reference and plans would otherwise grow every round
(``cache()`` does nothing there). Joins put the smaller input on the left: Sail builds its hash
table from the left side and does not spill. Only DataFrame API functions that Spark has too
are used, so the same code runs on a Spark cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cdp.lakehouse import Lakehouse


@dataclass(frozen=True)
class SparkComponents:
    """``components``: columns ``node``, ``component`` (string), one row per distinct node.

    It is backed by ``<lakehouse>/_staging/<checkpoint>/components``: persist it before the
    next run with the same checkpoint, then ``lakehouse.drop_staging(checkpoint)``.
    """

    components: DataFrame
    rounds: int


def staged_components(checkpoint: str) -> str:
    """The staging name of the labels ``spark_components`` leaves under ``checkpoint``."""
    return f"{checkpoint}/components"


class HashCollisionError(RuntimeError):
    """Distinct node keys hashed to the same 64-bit id with every salt tried."""


# A collision of 64-bit ids has odds of about nodes^2 / 2^65 (3e-8 at 1M nodes, 3e-4 at 100M):
# rare, but a daily job at scale would meet one, so the ids are re-salted rather than failing.
HASH_SALTS = 4
# Two jumps (pointers followed 4 steps) save a round on long chains for ~10% more work a round.
JUMPS = 2


def spark_components(
    spark,
    lakehouse: Lakehouse,
    edges: DataFrame,
    *,
    max_rounds: int = 40,
    checkpoint: str = "identity/cc",
    progress: Callable[[int, int], None] | None = None,
) -> SparkComponents:
    """Label every node of ``edges`` (columns ``src``, ``dst``) with the smallest node key of
    its connected component.

    Duplicates, both directions and self loops are allowed; a self loop ``(x, x)`` gives an
    isolated node, and so does an edge with one null end. ``edges`` is read twice (node keys,
    hashed edges): pass a table scan or a staged result, not an expensive plan.
    ``progress(round, changed)`` is called after each round with the number of nodes that took
    another node's label in it.
    """
    lakehouse.drop_staging(checkpoint)
    work = f"{checkpoint}/work"
    nodes, salt = _node_ids_without_collision(spark, lakehouse, edges, f"{work}/nodes")
    graph = lakehouse.stage(spark, hashed_edges(edges, salt), f"{work}/round_0/edges")

    labels = []
    while not graph.isEmpty():
        if len(labels) == max_rounds:
            raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
        round_dir = f"{work}/round_{len(labels) + 1}"
        hop1 = lakehouse.stage(spark, min_neighbour(graph), f"{round_dir}/hop1")
        label = lakehouse.stage(spark, min_neighbour_label(graph, hop1), f"{round_dir}/hop2")
        for step in range(JUMPS):
            label = lakehouse.stage(spark, jump(label), f"{round_dir}/jump_{step + 1}")
        graph = lakehouse.stage(spark, contract(graph, label), f"{round_dir}/edges")
        labels.append(label)
        if progress is not None:
            progress(len(labels), label.where(F.col("node") != F.col("label")).count())

    labelled = lakehouse.stage(spark, node_roots(nodes, labels), f"{work}/labelled")
    components = lakehouse.stage(spark, name_components(labelled), staged_components(checkpoint))
    lakehouse.drop_staging(work)
    return SparkComponents(components, len(labels))


def node_ids(edges: DataFrame, salt: int = 0) -> DataFrame:
    """Every distinct node ``key`` with its 64-bit ``id``."""
    keys = (
        edges.select(F.col("src").alias("key"))
        .unionAll(edges.select(F.col("dst").alias("key")))
        .where(F.col("key").isNotNull())
        .distinct()
    )
    return keys.select("key", _hash("key", salt).alias("id"))


def hashed_edges(edges: DataFrame, salt: int = 0) -> DataFrame:
    """The graph over ids: one row ``(a, b)`` with ``a < b`` per linked pair of nodes."""
    ids = edges.where(F.col("src").isNotNull() & F.col("dst").isNotNull()).select(
        _hash("src", salt).alias("s"), _hash("dst", salt).alias("d")
    )
    return _undirected(ids, "s", "d")


def min_neighbour(graph: DataFrame) -> DataFrame:
    """``(node, label)``: the smallest id of each node's closed neighbourhood."""
    return (
        _both_directions(graph)
        .groupBy("node")
        .agg(F.min("neighbour").alias("label"))
        .select("node", F.least("node", "label").alias("label"))
    )


def min_neighbour_label(graph: DataFrame, label: DataFrame) -> DataFrame:
    """``(node, label)``: the smallest ``label`` over each node's closed neighbourhood."""
    itself = label.select("node", F.col("node").alias("neighbour"))
    closed = _both_directions(graph).unionAll(itself)
    return (
        label.select(F.col("node").alias("neighbour"), "label")
        .join(closed, "neighbour")
        .groupBy("node")
        .agg(F.min("label").alias("label"))
    )


def jump(label: DataFrame) -> DataFrame:
    """Follow each node's pointer once more: ``label(label(node))``."""
    target = label.select(F.col("node").alias("target"), F.col("label").alias("next"))
    return target.join(label, F.col("target") == F.col("label")).select(
        "node", F.col("next").alias("label")
    )


def contract(graph: DataFrame, label: DataFrame) -> DataFrame:
    """The graph between labels: each edge's ends replaced by their labels."""
    one_end = label.select(F.col("node").alias("a"), F.col("label").alias("label_a")).join(
        graph, "a"
    )
    both_ends = label.select(F.col("node").alias("b"), F.col("label").alias("label_b")).join(
        one_end, "b"
    )
    return _undirected(both_ends, "label_a", "label_b")


def node_roots(nodes: DataFrame, labels: list[DataFrame]) -> DataFrame:
    """``(key, root)`` for every node: its rounds' labels composed, last round first."""
    root = None
    for label in reversed(labels):
        if root is None:
            root = label.select("node", F.col("label").alias("root"))
        else:
            # a label that left the graph in this round (no edges after contraction) is final
            root = (
                root.select(F.col("node").alias("label"), "root")
                .join(label, "label", "right")
                .select("node", F.coalesce("root", "label").alias("root"))
            )
    if root is None:
        return nodes.select("key", F.col("id").alias("root"))
    return root.join(nodes, F.col("node") == F.col("id"), "right").select(
        "key", F.coalesce("root", "id").alias("root")
    )


def name_components(labelled: DataFrame) -> DataFrame:
    """``(node, component)``: the component is named by its smallest node key."""
    names = labelled.groupBy("root").agg(F.min("key").alias("component"))
    return names.join(labelled, "root").select(F.col("key").alias("node"), "component")


def _node_ids_without_collision(spark, lakehouse: Lakehouse, edges: DataFrame, name: str):
    for salt in range(HASH_SALTS):
        nodes = lakehouse.stage(spark, node_ids(edges, salt), name)
        keys, ids = nodes.agg(F.count(F.lit(1)), F.countDistinct("id")).first()
        if keys == ids:
            return nodes, salt
    raise HashCollisionError(
        f"node keys collided on 64-bit ids with each of {HASH_SALTS} salts ({keys - ids} "
        f"collisions among {keys:,} nodes on the last): the keys are probably not what they seem"
    )


def _hash(column: str, salt: int):
    return F.xxhash64(column) if salt == 0 else F.xxhash64(F.lit(salt), column)


def _both_directions(graph: DataFrame) -> DataFrame:
    return graph.select(F.col("a").alias("node"), F.col("b").alias("neighbour")).unionAll(
        graph.select(F.col("b").alias("node"), F.col("a").alias("neighbour"))
    )


def _undirected(pairs: DataFrame, one: str, other: str) -> DataFrame:
    return (
        pairs.select(F.least(one, other).alias("a"), F.greatest(one, other).alias("b"))
        .where(F.col("a") != F.col("b"))
        .distinct()
    )
