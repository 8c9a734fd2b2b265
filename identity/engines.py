"""Where a connected-components engine plugs into OneID: one contract, an adapter per engine.

The algorithm contract (as splink has one algorithm and an adapter per backend): given the
graph's edges (columns ``src``, ``dst``: node keys ``<type>:<value>``), label every node with
the smallest node key of its connected component, in binary string order. Every engine gets
the edges the same way, staged once as Parquet (``StagedEdges``), and returns the same Arrow
table ``(node string, component string)``, one row per node. An adapter hides how its engine
works on them:

- ``embedded`` (``identity.embedded``): reads the staged key columns into this process,
  union-find in memory; no iteration, so no rounds;
- ``spark`` (``identity.spark_engine``): solves the staged files as a Spark DataFrame in
  rounds, checkpointing under ``StagedEdges.work``, and hands back its staged labels.

A new engine is a class with a ``name`` and ``components`` added to ``ENGINES``. Engines are
imported when they solve, so choosing one (``choose_engine``) loads neither Spark nor numba.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from cdp.lakehouse import Lakehouse

#: what every engine returns: one row per node, named by its component's smallest key
LABELS_SCHEMA = pa.schema([("node", pa.string()), ("component", pa.string())])

Say = Callable[[str], None]


class UnknownEngine(ValueError):
    """No connected-components engine has the name asked for."""


@dataclass(frozen=True)
class StagedEdges:
    """The edges to solve, staged once: ``name`` in the lakehouse's staging area (read as
    Arrow by embedded engines) and ``frame``, the same files read by Spark."""

    spark: Any
    lakehouse: Lakehouse
    name: str
    frame: Any

    @classmethod
    def stage(cls, spark, lakehouse: Lakehouse, edges, name: str) -> StagedEdges:
        """Stage a Spark DataFrame of edges under ``name``."""
        return cls(spark, lakehouse, name, lakehouse.stage(spark, edges, name))

    @classmethod
    def from_arrow(cls, spark, lakehouse: Lakehouse, edges: pa.Table, name: str) -> StagedEdges:
        """Stage an Arrow table of edges (built in Python, e.g. in tests) under ``name``."""
        return cls(spark, lakehouse, name, lakehouse.stage_arrow(spark, edges, name))

    @property
    def work(self) -> str:
        """Staging name where an engine may checkpoint: ``cc`` beside the edges, so it is
        dropped with them (``identity/edges`` -> ``identity/cc``)."""
        parent = posixpath.dirname(self.name)
        return f"{parent}/cc" if parent else f"{self.name}_cc"


@dataclass(frozen=True)
class Components:
    """An engine's answer: ``labels`` (``LABELS_SCHEMA``) and the rounds it took (None for
    an engine that does not iterate)."""

    labels: pa.Table
    rounds: int | None


class ComponentsEngine(Protocol):
    """A connected-components engine behind the OneID contract (see the module docstring)."""

    name: str

    def components(self, edges: StagedEdges, say: Say | None = None) -> Components:
        """Label every node of ``edges`` with its component's smallest key; ``say`` receives
        progress sentences."""
        ...


class EmbeddedEngine:
    """Adapter of ``identity.embedded``: the staged key columns, solved in this process."""

    name = "embedded"

    def components(self, edges: StagedEdges, say: Say | None = None) -> Components:
        from identity import embedded

        data = edges.lakehouse.read_staged(edges.name, ["src", "dst"])
        # The engine's component column is dictionary-encoded over the keys: plain strings,
        # as the contract says.
        labels = embedded.components(data.column("src"), data.column("dst"))
        return Components(labels.cast(LABELS_SCHEMA), None)


class SparkEngine:
    """Adapter of ``identity.spark_engine``: the staged files solved as a Spark DataFrame."""

    name = "spark"

    def components(self, edges: StagedEdges, say: Say | None = None) -> Components:
        from identity.spark_engine import spark_components, staged_components

        def progress(rounds: int, moved: int) -> None:
            if say is not None:
                say(f"identity: round {rounds}: {moved:,} moved")

        result = spark_components(
            edges.spark, edges.lakehouse, edges.frame, checkpoint=edges.work, progress=progress
        )
        # Read the engine's staged labels directly: collecting them through Spark Connect
        # would be slower.
        labels = edges.lakehouse.read_staged(staged_components(edges.work), ["node", "component"])
        return Components(labels.cast(LABELS_SCHEMA), result.rounds)


ENGINES: dict[str, ComponentsEngine] = {
    engine.name: engine for engine in (EmbeddedEngine(), SparkEngine())
}


def engine_for(name: str) -> ComponentsEngine:
    """The engine registered under ``name``; an unknown name is an error naming the choices."""
    try:
        return ENGINES[name]
    except KeyError:
        raise UnknownEngine(
            f"unknown connected-components engine {name!r}: choose "
            f"{', '.join(sorted(ENGINES))} or auto"
        ) from None


def choose_engine(configured: str, edges: int, embedded_max: int) -> ComponentsEngine:
    """The engine of the ``identity_engine`` setting; ``auto`` takes the embedded engine up to
    ``embedded_max`` edges (the graph fits one machine's memory) and Spark beyond."""
    if configured == "auto":
        configured = "embedded" if edges <= embedded_max else "spark"
    return engine_for(configured)
