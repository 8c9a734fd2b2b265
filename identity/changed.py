"""What changed in silver since the last OneID run, and the region an incremental run re-solves.

Changed records come from the Delta log, not from a scan: between the version a table had at
the last run (recorded in that run's fingerprint) and now, the data files removed and the
files added. Rows of the added files that are not in the removed ones, and the other way
round, are the records inserted, updated or deleted (``EXCEPT ALL``: a MERGE rewrites a file
with its unchanged rows too, and those cancel out). Their identifiers are *changed*.

The region (``Region``), all in node keys ``<type>:<value>``:

- ``touched``: the changed identifiers, their neighbours in the last run's links (a changed
  record moves the counts the rules decide on at both ends of a link: hubs, weak links,
  untrusted partners, reassignment periods), and every identifier of the people those
  belonged to. Their OneIDs are recomputed.
- ``context``: the touched identifiers and their neighbours. Every silver record holding one
  of them is read, so each rule sees every link of the identifiers it decides about.

The work happens in one in-process DuckDB over the tables' Parquet files (the map, the links
and the silver records are read where they lie, never through the engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import DeltaTable

from cdp.lakehouse import Lakehouse, Table
from cdp.tables import IDENTITY_LINKS, IDENTITY_MAP
from spark_jobs.silver.identifiers import SIGHTINGS

#: lineage columns: a re-delivery changes them, never the links a record makes
LINEAGE = ("_source_file", "_batch_id", "_line_no")


class HistoryGone(RuntimeError):
    """A file of the last run's table version was removed (vacuumed): no diff is possible."""


def _files(lakehouse: Lakehouse, table: Table, version: int | None = None) -> set[str]:
    if version is None and not lakehouse.exists(table):
        return set()
    return set(DeltaTable(lakehouse.uri(table), version=version).file_uris())


def _parquet(files: list[str]) -> str:
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"read_parquet([{listed}], union_by_name = true)"


def _columns(con, files: list[str]) -> set[str]:
    return {row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {_parquet(files)}").fetchall()}


def changed_rows(con, lakehouse: Lakehouse, table: Table, since: int | None) -> str | None:
    """SQL of the rows of ``table`` inserted, updated or deleted since version ``since``
    (None: the table did not exist then), lineage left out; None when nothing changed.
    Raises ``HistoryGone`` when a file of version ``since`` no longer exists."""
    now = _files(lakehouse, table)
    then = _files(lakehouse, table, since) if since is not None else set()
    added, removed = sorted(now - then), sorted(then - now)
    if missing := [f for f in removed if not Path(f.removeprefix("file://")).exists()]:
        raise HistoryGone(f"{table}: {missing[0]} of version {since} was removed")
    sides = [files for files in (added, removed) if files]
    if not sides:
        return None
    names = sorted(set().union(*(_columns(con, f) for f in sides)) - set(LINEAGE))

    def rows(files):
        present = _columns(con, files)
        picked = ", ".join(f'"{n}"' if n in present else f'NULL AS "{n}"' for n in names)
        return f"SELECT {picked} FROM {_parquet(files)}"

    if len(sides) == 1:
        return rows(sides[0])
    return (
        f"(({rows(added)}) EXCEPT ALL ({rows(removed)})) "
        f"UNION ALL (({rows(removed)}) EXCEPT ALL ({rows(added)}))"
    )


def _strict(value: str) -> str:
    """A silver identifier expression in DuckDB: Spark's ``concat`` is NULL when a part is,
    DuckDB's skips NULL parts; its ``||`` does what Spark's ``concat`` does."""
    if value.startswith("concat(") and value.endswith(")"):
        return "(" + " || ".join(value[len("concat(") : -1].split(", ")) + ")"
    return value


def _key_exprs(table: str) -> list[str]:
    """SQL of each identifier a record of a silver ``table`` carries, as a node key."""
    _, _, ids = SIGHTINGS[table]
    return [f"'{kind}:' || NULLIF({_strict(value)}, '')" for kind, value in ids]


@dataclass(frozen=True)
class Region:
    """Node keys an incremental run re-solves (see the module docstring)."""

    changed: int
    touched: pa.Table
    context: pa.Table


class Changes:
    """The DuckDB connection an incremental run keeps: the previous map (``prev``: node,
    one_id), the last run's links (``links``: a_key, b_key) and the changed identifiers."""

    def __init__(self, lakehouse: Lakehouse, previous_map: pa.Table):
        self.lakehouse = lakehouse
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.register("prev_arrow", previous_map)
        self.con.execute("CREATE TEMP TABLE prev AS SELECT * FROM prev_arrow")
        link_files = sorted(_files(lakehouse, IDENTITY_LINKS))
        links = (
            f"SELECT DISTINCT a_key, b_key FROM {_parquet(link_files)}"
            if link_files
            else "SELECT ''::VARCHAR AS a_key, ''::VARCHAR AS b_key WHERE FALSE"
        )
        self.con.execute(f"CREATE TEMP TABLE links AS {links}")
        self.con.execute("CREATE TEMP TABLE changed (key VARCHAR)")

    def find_changed(self, versions: dict[str, int | None]) -> int:
        """Collect the identifiers of the silver records changed since ``versions`` (table ->
        version at the last run); returns how many."""
        for name in SIGHTINGS:
            table = Table("silver", name)
            if not self.lakehouse.exists(table):
                continue
            rows = changed_rows(self.con, self.lakehouse, table, versions.get(name))
            if rows is None:
                continue
            keys = " UNION ALL ".join(f"SELECT {k} AS key FROM diff" for k in _key_exprs(name))
            self.con.execute(
                f"INSERT INTO changed WITH diff AS ({rows}) "
                f"SELECT DISTINCT key FROM ({keys}) WHERE key IS NOT NULL"
            )
        self.con.execute("CREATE OR REPLACE TEMP TABLE changed AS SELECT DISTINCT key FROM changed")
        return self.con.sql("SELECT count(*) FROM changed").fetchone()[0]

    def _neighbourhood(self, table: str) -> str:
        return f"""
            SELECT key FROM {table}
            UNION SELECT b_key FROM links SEMI JOIN {table} ON a_key = key
            UNION SELECT a_key FROM links SEMI JOIN {table} ON b_key = key"""

    def region(self, extra: pa.Table | None = None) -> Region:
        """The region around the changed identifiers, plus the node keys of ``extra`` (a
        ``key`` column: identifiers a previous attempt's components reached) with their
        people."""
        con = self.con
        con.register("extra_arrow", extra if extra is not None else pa.table({"key": []}))
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE near AS
            {self._neighbourhood("changed")}
            UNION SELECT CAST(key AS VARCHAR) FROM extra_arrow""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE touched AS
            SELECT key FROM near
            UNION SELECT node FROM prev SEMI JOIN (
                SELECT one_id FROM prev SEMI JOIN near ON node = key) AS people USING (one_id)""")
        con.execute(f"CREATE OR REPLACE TEMP TABLE context AS {self._neighbourhood('touched')}")
        return Region(
            con.sql("SELECT count(*) FROM changed").fetchone()[0],
            con.sql("SELECT key FROM touched ORDER BY key").to_arrow_table(),
            con.sql("SELECT key FROM context ORDER BY key").to_arrow_table(),
        )

    def _current(self, table: Table) -> str:
        """SQL relation of the current rows of ``table`` (an empty one without files)."""
        files = sorted(_files(self.lakehouse, table))
        if files:
            return _parquet(files)
        view = f"empty_{table.layer}_{table.name}"
        self.con.register(view, pa.schema(self.lakehouse.delta(table).schema()).empty_table())
        return view

    def records(self, table: Table) -> pa.Table:
        """The current rows of a silver sightings table that hold a ``context`` identifier."""
        holds = " OR ".join(f"({k}) IN (SELECT key FROM context)" for k in _key_exprs(table.name))
        return self.con.sql(f"SELECT * FROM {self._current(table)} WHERE {holds}").to_arrow_table()

    def previous_rows(self, table: Table, where: str) -> pa.Table | None:
        """The current rows of an identity ``table`` matching ``where`` (SQL over this
        connection's temp tables); None when the table does not exist."""
        if not self.lakehouse.exists(table):
            return None
        return self.con.sql(f"SELECT * FROM {self._current(table)} WHERE {where}").to_arrow_table()

    def people_of_map(self) -> tuple[int, int]:
        """Identifiers and people of the identity map now."""
        return self.con.sql(
            f"SELECT count(*), count(DISTINCT one_id) FROM {self._current(IDENTITY_MAP)}"
        ).fetchone()
