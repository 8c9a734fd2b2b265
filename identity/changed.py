"""What changed in silver since the last OneID run, and the region an incremental run re-solves.

Changed records come from the Delta log, not from a scan: between the version a table had at
the last run (recorded in that run's fingerprint) and now, the data files removed and the
files added. Rows of the added files that are not in the removed ones, and the other way
round, are the records inserted, updated or deleted (``EXCEPT ALL``: a MERGE rewrites a file
with its unchanged rows too, and those cancel out). Their identifiers are *sighted*.

Most changed records only re-sight pairs already linked (a new order with a known phone and
card). Their links are made as a full run makes them and compared with the last run's
(``Changes.narrow``): a link only re-sighted, whose counts and dates no rule decides on
(``_resighted_sql`` says when), gets its new counts and dates written and leaves its people
alone; the ends of every other changed link, new identifiers and identifiers that lost
records are *changed*.

The region (``Region``), all in node keys ``<type>:<value>``:

- ``touched``: the changed identifiers, their neighbours in the last run's links (a changed
  record moves the counts the rules decide on at both ends of a link: hubs, weak links,
  untrusted partners, reassignment periods), and every identifier of the people those
  belonged to. Their OneIDs are recomputed.
- ``context``: the touched identifiers and their neighbours. Every silver record holding one
  of them is read, so each rule sees every link of the identifiers it decides about.

The work happens in one in-process DuckDB over the tables' Parquet files (the map, the links
and the silver records are read where they lie; the engine only makes the changed records'
links).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable
from pyspark.sql import functions as F

from cdp import local_duckdb
from cdp.lakehouse import Lakehouse, Table, parquet_relation
from cdp.tables import (
    IDENTITY_CUT_LINKS,
    IDENTITY_CUT_LINKS_SCHEMA,
    IDENTITY_LINKS,
    IDENTITY_LINKS_SCHEMA,
    IDENTITY_MAP,
    IDENTITY_REJECTED,
    IDENTITY_REJECTED_SCHEMA,
)
from identity.graph import record_links
from identity.rules import Rules
from spark_jobs.frames import union_all
from spark_jobs.silver.identifiers import SIGHTINGS

#: lineage columns: a re-delivery changes them, never the links a record makes
LINEAGE = ("_source_file", "_batch_id", "_line_no")


class HistoryGone(RuntimeError):
    """A file of the last run's table version was removed (vacuumed): no diff is possible."""


def _files(lakehouse: Lakehouse, table: Table, version: int | None = None) -> set[str]:
    if version is None and not lakehouse.exists(table):
        return set()
    return set(DeltaTable(lakehouse.uri(table), version=version).file_uris())


def _columns(con, files: list[str]) -> set[str]:
    return {
        row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {parquet_relation(files)}").fetchall()
    }


def changed_rows(con, lakehouse: Lakehouse, table: Table, since: int | None) -> str | None:
    """SQL of the rows of ``table`` inserted, updated or deleted since version ``since``
    (None: the table did not exist then), lineage left out, with ``_sign`` 1 for a row that
    is there now and -1 for one that was there then; None when nothing changed.
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
        return f"SELECT {picked} FROM {parquet_relation(files)}"

    if not removed:
        return f"SELECT *, 1 AS _sign FROM ({rows(added)})"
    if not added:
        return f"SELECT *, -1 AS _sign FROM ({rows(removed)})"
    return (
        f"SELECT *, 1 AS _sign FROM (({rows(added)}) EXCEPT ALL ({rows(removed)})) "
        f"UNION ALL SELECT *, -1 FROM (({rows(removed)}) EXCEPT ALL ({rows(added)}))"
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


#: the cut-link rules whose decision a re-sighting can flip through its counts or dates
LIMIT_RULES = ("max_per_person", "max_component_size")


class Changes:
    """The DuckDB connection an incremental run keeps: the previous map (``prev``: node,
    one_id), the last run's links (``links``: a_key, b_key, source, first_seen_at,
    last_seen_at, records), its cut links (``cut``) and rejected identifiers (``rejected``),
    the changed records (``diff_<table>``), the identifiers they carry (``sighted``), the
    identifiers whose people must be re-solved (``changed``) and the links only re-sighted
    (``resighted``, their rows as a full run would now write them)."""

    def __init__(self, lakehouse: Lakehouse, previous_map: pa.Table):
        self.lakehouse = lakehouse
        self.con = local_duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.register("prev_arrow", previous_map)
        self.con.execute("CREATE TEMP TABLE prev AS SELECT * FROM prev_arrow")
        links = self._current(IDENTITY_LINKS, IDENTITY_LINKS_SCHEMA)
        self.con.execute(f"CREATE TEMP TABLE links AS SELECT * FROM {links}")
        cut = self._current(IDENTITY_CUT_LINKS, IDENTITY_CUT_LINKS_SCHEMA)
        self.con.execute(f"CREATE TEMP TABLE cut AS SELECT a_key, b_key, rule FROM {cut}")
        rejected = self._current(IDENTITY_REJECTED, IDENTITY_REJECTED_SCHEMA)
        self.con.execute(
            "CREATE TEMP TABLE rejected AS "
            f"SELECT identifier_type || ':' || identifier_value AS key FROM {rejected}"
        )
        self.con.execute("CREATE TEMP TABLE sighted (key VARCHAR, adds BIGINT, removes BIGINT)")
        self.diffs: list[str] = []

    def find_changed(self, versions: dict[str, int | None]) -> int:
        """Collect the silver records changed since ``versions`` (table -> version at the last
        run) and the identifiers they carry; returns how many identifiers."""
        for name in SIGHTINGS:
            table = Table("silver", name)
            if not self.lakehouse.exists(table):
                continue
            rows = changed_rows(self.con, self.lakehouse, table, versions.get(name))
            if rows is None:
                continue
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE diff_{name} AS {rows}")
            self.diffs.append(name)
            keys = " UNION ALL ".join(
                f"SELECT {k} AS key, _sign FROM diff_{name}" for k in _key_exprs(name)
            )
            self.con.execute(
                f"INSERT INTO sighted SELECT key, count(*) FILTER (_sign = 1), "
                f"count(*) FILTER (_sign = -1) FROM ({keys}) WHERE key IS NOT NULL GROUP BY key"
            )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE sighted AS "
            "SELECT key, sum(adds) AS adds, sum(removes) AS removes FROM sighted GROUP BY key"
        )
        return self.con.sql("SELECT count(*) FROM sighted").fetchone()[0]

    def narrow(self, spark, rules: Rules, staging: str) -> int:
        """Split the changes into the identifiers whose people must be re-solved
        (``changed``) and the links only re-sighted (``resighted``); returns how many
        identifiers changed. The records' links are made on the engine by the function a
        full run uses (``identity.graph.record_links``), so they are the same links."""
        self._link_diff(spark, rules, staging)
        self._kinds(rules)
        self.con.execute(_resighted_sql(rules))
        self.con.execute(_changed_sql())
        return self.con.sql("SELECT count(*) FROM changed").fetchone()[0]

    def _link_diff(self, spark, rules: Rules, staging: str) -> None:
        """``link_diff``: per link and sighting time, records there now less records there
        then (zero-sum sightings, a record rewritten as it was, left out)."""
        frames = []
        for name in self.diffs:
            rows = self.con.sql(f"SELECT * FROM diff_{name}").to_arrow_table()
            df = self.lakehouse.stage_arrow(spark, rows, f"{staging}/changed/{name}")
            frames += [
                record_links(name, df.where(f"_sign = {sign}"), rules).withColumn("n", F.lit(sign))
                for sign in (1, -1)
            ]
        diff = (
            union_all(frames)
            .groupBy("a_key", "b_key", "source", "seen_at")
            .agg(F.sum("n").alias("n"))
            .where("n <> 0")
            .toArrow()
            if frames
            else pa.table(
                {
                    "a_key": pa.array([], pa.string()),
                    "b_key": pa.array([], pa.string()),
                    "source": pa.array([], pa.string()),
                    "seen_at": pa.array([], pa.timestamp("us", "UTC")),
                    "n": pa.array([], pa.int64()),
                }
            )
        )
        self.con.register("link_diff_arrow", diff)
        self.con.execute("CREATE OR REPLACE TEMP TABLE link_diff AS SELECT * FROM link_diff_arrow")

    def _kinds(self, rules: Rules) -> None:
        self.con.register(
            "kinds_arrow",
            pa.table(
                {
                    "kind": list(rules.types),
                    "joins": [r.joins for r in rules.types.values()],
                    "reassignable": [k in rules.reassignment for k in rules.types],
                }
            ),
        )
        self.con.execute("CREATE OR REPLACE TEMP TABLE kinds AS SELECT * FROM kinds_arrow")

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

    def _current(self, table: Table, schema: pa.Schema | None = None) -> str:
        """SQL relation of the current rows of ``table`` (an empty one without files, of
        ``schema`` when the table does not exist)."""
        files = sorted(_files(self.lakehouse, table))
        if files:
            return parquet_relation(files)
        view = f"empty_{table.layer}_{table.name}"
        if schema is None or self.lakehouse.exists(table):
            schema = pa.schema(self.lakehouse.delta(table).schema())
        self.con.register(view, schema.empty_table())
        return view

    def golden_people(self) -> pa.Table:
        """OneIDs (``key``) of the previous map holding an identifier of a changed record: a
        re-sighting moves the counts and dates their golden records survive by."""
        return self.con.sql(
            "SELECT DISTINCT one_id AS key FROM prev SEMI JOIN sighted ON node = key ORDER BY 1"
        ).to_arrow_table()

    def resighted_outside(self, touched: pa.Table) -> pa.Table:
        """The re-sighted links (rows as a full run writes them) with no end among
        ``touched`` (``key``): the re-solve writes the links of touched identifiers."""
        self.con.register("resighted_touched", touched)
        return self.con.sql("""
            SELECT * FROM resighted
            WHERE a_key NOT IN (SELECT key FROM resighted_touched)
              AND b_key NOT IN (SELECT key FROM resighted_touched)""").to_arrow_table()

    def resighted_count(self) -> int:
        """How many links were only re-sighted."""
        return self.con.sql("SELECT count(*) FROM resighted").fetchone()[0]

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


def _resighted_sql(rules: Rules) -> str:
    """``resighted``: the changed links whose new sightings cannot change any rule's decision,
    with their rows as a full run would now write them. A link qualifies when it was there
    (same pair and source), loses no records on balance, and either loses none and gains
    none before its first sighting, or has every earlier sighting replaced by ones no earlier
    than its last (a record updated later: a member's profile, a follower's snapshot; its
    first sighting then moves, which only the reassignment rule reads), and

    - between two joining identifiers: no end of a reassignable type has links cut by the
      reassignment rule (it then has one period, which a later last sighting only extends),
      nor, when the first sighting moved, is of a reassignable type at all;
    - with one weak end: it is not cut as a weak link (it is that end's best link, or not a
      candidate at all; more records and a later sighting keep it the best);
    - between two weak ends: weak relays are off (such links are then always cut);
    - neither end's person was rebuilt by the limits (Kruskal orders links by records and
      recency).

    Hubs, untrusted sources and the partner counts depend on which pairs and sources exist,
    which a re-sighting leaves as they were."""
    limit_rules = ", ".join(f"'{r}'" for r in LIMIT_RULES)
    weak_weak = "FALSE" if rules.weak_relays else "TRUE"
    return f"""
        CREATE OR REPLACE TEMP TABLE resighted AS
        WITH grouped AS (
            SELECT a_key, b_key, source, sum(n) AS added,
                   coalesce(-sum(n) FILTER (WHERE n < 0), 0) AS removed,
                   min(seen_at) FILTER (WHERE n > 0) AS first_added,
                   max(seen_at) FILTER (WHERE n > 0) AS last_added
            FROM link_diff GROUP BY ALL),
        limit_ends AS (
            SELECT a_key AS key FROM cut WHERE rule IN ({limit_rules})
            UNION SELECT b_key FROM cut WHERE rule IN ({limit_rules})),
        limited AS (
            SELECT node AS key FROM prev SEMI JOIN (
                SELECT one_id FROM prev SEMI JOIN limit_ends ON node = key) p USING (one_id)),
        reassigned AS (
            SELECT a_key AS key FROM cut WHERE rule = 'reassignment'
            UNION SELECT b_key FROM cut WHERE rule = 'reassignment'),
        weak_cut AS (SELECT DISTINCT a_key, b_key FROM cut WHERE rule = 'weak_link'),
        typed AS (
            SELECT g.*, l.first_seen_at, l.last_seen_at AS last_seen_before,
                   l.records AS records_before, ka.joins AS a_joins, kb.joins AS b_joins,
                   ka.reassignable AS a_reassignable, kb.reassignable AS b_reassignable
            FROM grouped g
            JOIN links l USING (a_key, b_key, source)
            JOIN kinds ka ON ka.kind = split_part(g.a_key, ':', 1)
            JOIN kinds kb ON kb.kind = split_part(g.b_key, ':', 1)
            WHERE g.added >= 0 AND (
                (g.removed = 0 AND g.first_added >= l.first_seen_at)
                OR (g.removed = l.records AND g.last_added >= l.last_seen_at)))
        SELECT a_key, b_key, source,
               CASE WHEN removed > 0 THEN first_added ELSE first_seen_at END AS first_seen_at,
               greatest(last_seen_before, last_added) AS last_seen_at,
               records_before + added AS records
        FROM typed
        WHERE CASE
            WHEN a_joins AND b_joins THEN NOT (
                (a_reassignable AND (removed > 0 OR a_key IN (SELECT key FROM reassigned)))
                OR (b_reassignable AND (removed > 0 OR b_key IN (SELECT key FROM reassigned))))
            WHEN a_joins OR b_joins THEN (a_key, b_key) NOT IN (SELECT * FROM weak_cut)
            ELSE {weak_weak} END
          AND a_key NOT IN (SELECT key FROM limited)
          AND b_key NOT IN (SELECT key FROM limited)"""


def _changed_sql() -> str:
    """``changed``: identifiers whose people must be re-solved: the ends of every changed
    link not only re-sighted, identifiers new to the graph (in neither the map nor the
    rejected ones) and identifiers that lost records (one may be gone)."""
    return """
        CREATE OR REPLACE TEMP TABLE changed AS
        WITH known AS (
            SELECT * FROM sighted WHERE split_part(key, ':', 1) IN (SELECT kind FROM kinds)),
        moved AS (
            SELECT DISTINCT a_key, b_key FROM link_diff l
            WHERE NOT EXISTS (
                SELECT 1 FROM resighted r
                WHERE r.a_key = l.a_key AND r.b_key = l.b_key AND r.source = l.source))
        SELECT key FROM known WHERE removes > adds
        UNION SELECT key FROM known
            WHERE key NOT IN (SELECT node FROM prev) AND key NOT IN (SELECT key FROM rejected)
        UNION SELECT a_key FROM moved
        UNION SELECT b_key FROM moved"""
