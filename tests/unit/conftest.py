"""Engine fixtures: every connected-components case runs once per engine of the registry."""

from __future__ import annotations

import pytest

from tests.unit.edge_tables import edge_table


@pytest.fixture(params=["embedded", "spark"])
def engine(request):
    """Each registered engine in turn, through its adapter."""
    from identity.engines import engine_for

    return engine_for(request.param)


@pytest.fixture
def components_of(engine, spark, lakehouse):
    """Solve edges (``(src, dst)`` pairs or an Arrow table) on ``engine`` as OneID does:
    staged as Parquet, handed to the adapter. Returns the engine's ``Components``."""
    from identity.engines import StagedEdges

    def solve(edges, say=None):
        staged = StagedEdges.from_arrow(spark, lakehouse, edge_table(edges), "test/edges")
        return engine.components(staged, say)

    return solve
