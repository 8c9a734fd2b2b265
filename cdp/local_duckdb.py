"""The in-process DuckDB of a pipeline step (OneID's components, limits, stable ids, change
detection and golden records): one memory limit and one spill folder for all its connections.

Each ``duckdb.connect()`` is a database of its own, whose default memory limit is 80% of the
machine's memory, while the step also holds Sail's memory and the Arrow tables it passes
DuckDB: at 1,000,000 customers the golden records alone took OneID's peak to 8 GiB. The
pipeline bounds a step once (``bounded``, with the workspace's ``duckdb_memory_limit``, as
``cdp.runtime`` bounds Sail's pool) and every connection made here takes that limit and
spills past it, so a step's memory no longer grows with the data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import duckdb

#: (memory limit, spill folder) of the running step; None outside one (DuckDB's defaults)
_BOUND: ContextVar[tuple[str, str] | None] = ContextVar("cdp_local_duckdb", default=None)


@contextmanager
def bounded(memory_limit: str) -> Iterator[None]:
    """Connections made inside the block (``connect``) use at most ``memory_limit`` (DuckDB
    syntax: 4GB) and spill past it into a temporary folder, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="cdp-duckdb-") as spill:
        token = _BOUND.set((memory_limit, spill))
        try:
            yield
        finally:
            _BOUND.reset(token)


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB bounded as the running step says (``bounded``)."""
    bound = _BOUND.get()
    if bound is None:
        return duckdb.connect()
    memory_limit, spill = bound
    return duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": spill})
