"""The in-process DuckDB of a pipeline step (OneID's components, limits, stable ids, change
detection and golden records): one database, one memory limit and one spill folder for all
its connections.

Each ``duckdb.connect()`` is a database of its own, whose default memory limit is 80% of the
machine's memory, while the step also holds Sail's memory and the Arrow tables it passes
DuckDB: at 1,000,000 customers the golden records alone took OneID's peak to 8 GiB. The
pipeline bounds a step once (``bounded``, with the workspace's ``duckdb_memory_limit``, as
``cdp.runtime`` bounds Sail's pool): the block opens one database with that limit, spilling
past it, and every connection made here is a cursor of it. A cursor has its own temporary
tables, registered Arrow tables and settings, as a connection of its own would, but shares
the database's buffer pool, so the connections an incremental run keeps open side by side
(its change detection, a table's rewrite, the golden records) share one limit instead of
taking one each.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import duckdb

#: the running step's database; None outside one (each connection a database with DuckDB's
#: defaults)
_BOUND: ContextVar[duckdb.DuckDBPyConnection | None] = ContextVar("cdp_local_duckdb", default=None)


@contextmanager
def bounded(memory_limit: str) -> Iterator[None]:
    """Connections made inside the block (``connect``) use at most ``memory_limit`` (DuckDB
    syntax: 4GB) between them and spill past it into a temporary folder; the database and
    the folder go when the block ends."""
    with tempfile.TemporaryDirectory(prefix="cdp-duckdb-") as spill:
        database = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": spill})
        token = _BOUND.set(database)
        try:
            yield
        finally:
            _BOUND.reset(token)
            database.close()


def connect() -> duckdb.DuckDBPyConnection:
    """A connection to the running step's database (``bounded``), or outside a step an
    in-memory database of its own."""
    database = _BOUND.get()
    con = duckdb.connect() if database is None else database.cursor()
    # no progress bars (a setting of each connection): the step reports its own progress,
    # and a query's bar was a hundred lines of a task's log
    con.execute("SET enable_progress_bar = false")
    return con
