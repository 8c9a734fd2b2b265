"""The lakehouse layer: the one module that knows where tables live and how they are written.

Tables are Delta tables under ``<workspace>/lakehouse/<layer>/<name>``. Spark jobs read and
write them through a Spark Connect session; table maintenance, small reads (counts, log
tables, quality gates) and commits of files the engine staged go through delta-rs
(``deltalake``), which needs no Spark at all.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset
import pyarrow.parquet
from deltalake import DeltaTable, Schema, write_deltalake
from deltalake import Field as DeltaField
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from cdp.sql_literals import STANDARD

LAYERS = ("bronze", "silver", "gold", "meta")
STAGE_COMPRESSION = "lz4_raw"


@dataclass(frozen=True)
class Table:
    """A table's identity: its layer and name (every table is declared in ``cdp.tables``)."""

    layer: str
    name: str

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}; expected one of {LAYERS}")

    def __str__(self) -> str:
        return f"{self.layer}.{self.name}"


class SchemaMismatch(ValueError):
    """Rows do not fit the table they are meant for."""


@dataclass(frozen=True)
class MergeResult:
    """What an upsert did, in rows."""

    source_rows: int
    inserted: int
    rows_before: int
    rows_after: int

    @property
    def matched(self) -> int:
        """Source rows whose key already existed (updated when newer, else left unchanged)."""
        return self.source_rows - self.inserted


def _ordered_later(order: list[tuple[str, str]]) -> str:
    """SQL true when the source's values of ``order`` (pairs of source and target expression)
    come strictly after the target's, compared in turn."""
    (source, target), rest = order[0], order[1:]
    if not rest:
        return f"{source} > {target}"
    later = _ordered_later(rest)
    return f"({source} > {target} OR ({source} IS NOT DISTINCT FROM {target} AND {later}))"


def build_merge_sql(
    target: str,
    source_view: str,
    keys: list[str],
    version_column: str,
    tie_breakers: Callable[[str], list[str]] | None = None,
) -> str:
    """MERGE that inserts new keys and updates a key only when the source row is newer.

    Newer: a higher version (a version beats none); of equal versions, one that
    ``tie_breakers`` (row alias -> SQL expressions) orders later, such as a correction
    delivered after the row it corrects. Re-applying the same rows therefore changes nothing,
    and an old re-delivery never overwrites a newer state.
    """
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    newer = newer_condition(version_column, tie_breakers)
    return (
        f"MERGE INTO {target} AS t USING {source_view} AS s ON {on} "
        f"WHEN MATCHED AND ({newer}) THEN UPDATE SET * "
        f"WHEN NOT MATCHED THEN INSERT *"
    )


def newer_condition(
    version_column: str, tie_breakers: Callable[[str], list[str]] | None = None
) -> str:
    """SQL true when the source row ``s`` is newer than the target row ``t`` of the same key
    (see ``build_merge_sql``)."""
    new, old = f"s.`{version_column}`", f"t.`{version_column}`"
    newer = f"{new} > {old} OR ({new} IS NOT NULL AND {old} IS NULL)"
    if tie_breakers:
        ties = _ordered_later(list(zip(tie_breakers("s"), tie_breakers("t"), strict=True)))
        newer = f"{newer} OR ({new} IS NOT DISTINCT FROM {old} AND {ties})"
    return newer


class Lakehouse:
    """Locations and I/O of every table in one workspace."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, table: Table) -> Path:
        return self.root / table.layer / table.name

    def uri(self, table: Table) -> str:
        return str(self.path(table))

    def exists(self, table: Table) -> bool:
        return (self.path(table) / "_delta_log").is_dir()

    def tables(self, layer: str | None = None) -> list[Table]:
        """Every existing table, optionally of one layer, sorted by name."""
        found = []
        for lay in [layer] if layer else LAYERS:
            folder = self.root / lay
            if folder.is_dir():
                found += [
                    Table(lay, p.name)
                    for p in sorted(folder.iterdir())
                    if (p / "_delta_log").is_dir()
                ]
        return found

    # -- Spark side -------------------------------------------------------------------------
    def read(self, spark, table: Table):
        return spark.read.format("delta").load(self.uri(table))

    def _writer(self, df, table: Table, mode: str):
        """The engine's Delta writer; a table it creates gets its catalogue properties (the
        engine takes them as write options; an existing table keeps its own)."""
        writer = df.write.format("delta").mode(mode)
        if not self.exists(table):
            writer = writer.options(**creation_properties(table))
        return writer

    def append(self, df, table: Table) -> None:
        self._writer(df, table, "append").option("mergeSchema", "true").save(self.uri(table))

    def overwrite(self, df, table: Table) -> None:
        (
            self._writer(df, table, "overwrite")
            .option("overwriteSchema", "true")
            .save(self.uri(table))
        )

    def delete_where(self, spark, table: Table, condition: str) -> None:
        if self.exists(table):
            spark.sql(f"DELETE FROM delta.`{self.uri(table)}` WHERE {condition}")

    def merge(
        self,
        spark,
        source,
        table: Table,
        keys: list[str],
        version_column: str,
        source_rows: int,
        tie_breakers: Callable[[str], list[str]] | None = None,
    ) -> MergeResult:
        """Upsert ``source`` (already one row per key, ``source_rows`` of them) into ``table``;
        ``tie_breakers`` order rows of equal version (see ``build_merge_sql``)."""
        if not self.exists(table):
            self.overwrite(source, table)
            return MergeResult(source_rows, source_rows, 0, source_rows)
        self.add_new_columns(table, source.schema)
        before = self.count(table)
        view = f"merge_source_{table.layer}_{table.name}"
        source.createOrReplaceTempView(view)
        spark.sql(
            build_merge_sql(f"delta.`{self.uri(table)}`", view, keys, version_column, tie_breakers)
        )
        after = self.count(table)
        return MergeResult(source_rows, after - before, before, after)

    def files_holding(self, table: Table, keys: pa.Table) -> list[str]:
        """The active files of ``table`` (paths relative to it) holding a row whose key is one of
        ``keys`` (an Arrow table of the key columns), found by reading only the key columns.

        This is the target side of an upsert: only these files need rewriting. The embedded
        engine's MERGE scans every row of its target to find them (68 s of a next day's 80 s
        for silver events at 100,000 customers, against a second for the key columns here).
        """
        if not self.exists(table) or keys.num_rows == 0:
            return []
        names = keys.column_names
        wanted = keys.group_by(names).aggregate([])
        holding = []
        for path in self.delta(table).file_uris():
            present = pyarrow.parquet.read_table(path, columns=names).cast(wanted.schema)
            if present.join(wanted, names, join_type="left semi").num_rows:
                holding.append(Path(path).name)
        return holding

    def rewrite_files(self, spark, table: Table, removed: list[str], rows, name: str) -> int:
        """Replace the files ``removed`` of ``table`` by ``rows`` (a DataFrame) in one commit;
        returns the rows written.

        The engine writes ``rows`` as a Delta table under the staging folder ``name`` (with
        ``table``'s properties, so statistics are what the engine's own writes keep); its
        files move into ``table`` and one transaction removes the old files and adds them, so a
        reader sees the table before or after, never between.
        """
        folder = self.root / "_staging" / name
        shutil.rmtree(folder, ignore_errors=True)
        rows.write.format("delta").mode("overwrite").options(**creation_properties(table)).save(
            str(folder)
        )
        adds = _added_files(folder)
        now = int(time.time() * 1000)
        actions: list[AddAction | RemoveAction] = [
            RemoveAction(path, True, now, partition_values={}) for path in removed
        ]
        written = 0
        for add in adds:
            target = self.path(table) / add["path"]
            if target.exists():  # engine file names are random; a clash must not replace one
                raise FileExistsError(f"{target} exists; {add['path']} not added to {table}")
            (folder / add["path"]).rename(target)
            written += json.loads(add["stats"])["numRecords"]
            actions.append(
                AddAction(add["path"], add["size"], {}, add["modificationTime"], True, add["stats"])
            )
        delta = self.delta(table)
        delta.create_write_transaction(actions, "append", delta.schema())
        return written

    def stage(self, spark, df, name: str, partition_by: str | None = None):
        """Write an intermediate result once (Parquet) and return it read back.

        Staged files are written fast rather than small: LZ4 writes 13.5M events in 7.9 s
        where the engine's default zstd takes 9.9 s, and reads back faster. With
        ``partition_by`` each value of that (string) column gets its own folder,
        ``<name>/<column>=<value>``, which ``append_staged`` can hand to a table.
        """
        folder = self.root / "_staging" / name
        writer = df.write.mode("overwrite").option("compression", STAGE_COMPRESSION)
        if partition_by:
            writer = writer.partitionBy(partition_by)
        writer.parquet(str(folder))
        if not any(folder.rglob("*.parquet")):
            # An empty result leaves no file to read the schema back from.
            folder.mkdir(parents=True, exist_ok=True)
            pyarrow.parquet.write_table(df.limit(0).toArrow(), folder / "part-0.parquet")
        return spark.read.parquet(str(folder))

    def append_staged(self, name: str, table: Table, schema: pa.Schema) -> None:
        """Append the Parquet files staged under ``name`` to ``table`` (``schema``: the
        table's columns) by moving them into the table and committing them, not rewriting
        them: bronze would otherwise write every row twice.

        The files may carry more columns than ``schema`` (bronze files keep the all-NULL
        rejection column of the validation pass); Delta readers read the table's columns
        only. Columns the table lacks are refused: the embedded engine cannot read a table
        whose older files lack a column (and its own append drops new columns silently).
        """
        if self.exists(table):
            known = set(self.delta(table).schema().to_arrow().names)
            if missing := [n for n in schema.names if n not in known]:
                raise SchemaMismatch(
                    f"{table} has no column(s) {', '.join(missing)}; adding "
                    f"columns to an existing table is not supported"
                )
        folder = self.root / "_staging" / name
        actions = []
        for staged in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
            target = self.path(table) / staged.name
            if target.exists():  # engine file names are random; a clash must not replace one
                raise FileExistsError(f"{target} exists; {staged} not appended to {table}")
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.rename(target)
            size, mtime = target.stat().st_size, target.stat().st_mtime_ns // 1_000_000
            rows = pyarrow.parquet.read_metadata(target).num_rows
            actions.append(
                AddAction(staged.name, size, {}, mtime, True, json.dumps({"numRecords": rows}))
            )
        if self.exists(table):
            self.delta(table).create_write_transaction(actions, "append", schema)
        else:
            create_table_with_add_actions(
                self.uri(table),
                Schema.from_arrow(schema),
                actions,
                mode="append",
                configuration=creation_properties(table),
            )

    def stage_arrow(self, spark, data: pa.Table, name: str):
        """Hand a table built in Python to the engine through a staged Parquet file."""
        folder = self.root / "_staging" / name
        folder.mkdir(parents=True, exist_ok=True)
        pyarrow.parquet.write_table(data, folder / "part-0.parquet")
        return spark.read.parquet(str(folder))

    def read_staged(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """A staged result read back from Python (Arrow), e.g. to hand it to an engine."""
        return pyarrow.dataset.dataset(
            str(self.root / "_staging" / name), format="parquet"
        ).to_table(columns=columns)

    def drop_staging(self, name: str) -> None:
        """Remove a staged result, or every result staged under ``name/``."""
        shutil.rmtree(self.root / "_staging" / name, ignore_errors=True)

    # -- delta-rs side ----------------------------------------------------------------------
    def delta(self, table: Table) -> DeltaTable:
        return DeltaTable(self.uri(table))

    def add_new_columns(self, table: Table, schema) -> list[str]:
        """Add the columns of ``schema`` (a Spark schema) that ``table`` lacks, NULL in its
        rows so far; returns their names.

        A MERGE on the engine silently drops source columns the table does not have, so a
        table created before a column was added to it (silver's ``_line_no``) would never
        get it.
        """
        existing = {field.name for field in self.delta(table).schema().fields}
        new = [
            DeltaField.from_json(field.json())
            for field in schema.fields
            if field.name not in existing
        ]
        if new:
            self.delta(table).alter.add_columns(
                [DeltaField(field.name, field.type, nullable=True) for field in new]
            )
        return [field.name for field in new]

    def count(self, table: Table) -> int:
        """Row count from the Delta log's file statistics (no data scan)."""
        if not self.exists(table):
            return 0
        # delta-rs returns an arro3 table; pyarrow takes it through the Arrow C interface.
        actions = pa.table(self.delta(table).get_add_actions(flatten=True))
        return int(pa.compute.sum(actions.column("num_records")).as_py() or 0)

    def version(self, table: Table) -> int | None:
        return self.delta(table).version() if self.exists(table) else None

    def to_arrow(self, table: Table, columns: list[str] | None = None) -> pa.Table:
        """Current rows of a (non-partitioned) table.

        Reads the active Parquet files directly: going through delta-rs's pyarrow filesystem
        (``to_pyarrow_table``) aborts the interpreter at exit with pyarrow 26.
        """
        return read_arrow(self.uri(table), columns)

    def duckdb_scan(self, table: Table, columns: list[str]) -> str | None:
        """DuckDB SQL selecting ``columns`` of a table's current rows from its Parquet files
        where they lie (a column older files lack reads as NULL), so that DuckDB streams them
        within its memory limit instead of holding a copy in Arrow; None when the table has
        no data file (DuckDB cannot scan an empty list)."""
        files = self.delta(table).file_uris() if self.exists(table) else []
        if not files:
            return None
        picked = ", ".join(STANDARD.identifier(c) for c in columns)
        return f"SELECT {picked} FROM {parquet_relation(files)}"

    def to_pandas(self, table: Table, columns: list[str] | None = None):
        return self.to_arrow(table, columns).to_pandas()

    def scan(
        self, table: Table, columns: list[str], where=None, schema: pa.Schema | None = None
    ) -> pa.Table:
        """Rows of a table with a pyarrow filter pushed down to its Parquet files (an empty
        table of ``schema`` when the table does not exist yet)."""
        if not self.exists(table):
            if schema is None:
                raise FileNotFoundError(f"{table} does not exist yet; run the pipeline first")
            return schema.empty_table().select(columns)
        return _current_files(self.uri(table)).to_table(columns=columns, filter=where)

    def replace_rows(self, table: Table, data: pa.Table, predicate: str, where) -> bool:
        """Replace the rows matching ``predicate`` (SQL) / ``where`` (the same condition as a
        pyarrow expression) by ``data`` in one commit; nothing is written when they are
        already those rows, so a repeated run leaves the table's version alone."""
        if not self.exists(table):
            self.append_arrow(data, table)
            return True
        order = [(c, "ascending") for c in data.column_names]
        current = self.scan(table, data.column_names, where)
        # sorting by every column costs seconds at a million rows: only when the counts agree
        unchanged = current.num_rows == data.num_rows and (
            current.cast(data.schema).sort_by(order).equals(data.sort_by(order))
        )
        if unchanged:
            return False
        write_deltalake(self.uri(table), data, mode="overwrite", predicate=predicate)
        return True

    def overwrite_arrow(self, data: pa.Table, table: Table) -> None:
        """Replace a table's rows from Python (results computed outside Spark)."""
        write_arrow(self.uri(table), data, "overwrite", self._new_table_properties(table))

    def append_arrow(self, data: pa.Table, table: Table) -> None:
        """Small appends from Python (log tables) without a Spark round trip."""
        write_arrow(self.uri(table), data, "append", self._new_table_properties(table))

    def _new_table_properties(self, table: Table) -> dict[str, str] | None:
        return None if self.exists(table) else creation_properties(table)


def creation_properties(table: Table) -> dict[str, str]:
    """The Delta properties ``table`` is created with (``cdp.tables.table_properties``)."""
    from cdp.tables import table_properties  # the catalogue imports this module

    return table_properties(table)


def _added_files(folder: Path) -> list[dict]:
    """The add actions of the Delta table the engine just wrote at ``folder`` (one commit)."""
    adds = []
    for log in sorted((folder / "_delta_log").glob("*.json")):
        for line in log.read_text(encoding="utf-8").splitlines():
            action = json.loads(line)
            if "add" in action:
                adds.append(action["add"])
    return adds


def _current_files(uri: str) -> pyarrow.dataset.Dataset:
    """The active Parquet files of the Delta table at ``uri`` as a dataset: going through
    delta-rs's pyarrow filesystem (``to_pyarrow_table``) aborts the interpreter at exit with
    pyarrow 26."""
    delta = DeltaTable(uri)
    return pyarrow.dataset.dataset(
        delta.file_uris(), schema=pa.schema(delta.schema()), format="parquet"
    )


def parquet_relation(files: list[str]) -> str:
    """DuckDB relation of the rows of Parquet ``files`` (at least one), a column some files
    lack reading as NULL in theirs (a table's files from before a column was added)."""
    return f"read_parquet([{STANDARD.strings(files)}], union_by_name = true)"


def read_arrow(uri: str, columns: list[str] | None = None) -> pa.Table:
    """Current rows of the Delta table at ``uri``."""
    return _current_files(uri).to_table(columns=columns)


def read_arrow_batches(uri: str, column: str, batch_rows: int = 4_000_000):
    """One column of the Delta table at ``uri`` as record batches, so that a large column is
    never held whole."""
    for batch in _current_files(uri).to_batches(columns=[column], batch_size=batch_rows):
        yield batch.column(0)


def write_arrow(
    uri: str, data: pa.Table, mode: str = "overwrite", properties: dict[str, str] | None = None
) -> None:
    """Write Arrow data as the Delta table at ``uri`` (``overwrite`` also replaces the schema);
    ``properties``: the table properties of a table this write creates."""
    schema_mode = "overwrite" if mode == "overwrite" else "merge"
    write_deltalake(uri, data, mode=mode, schema_mode=schema_mode, configuration=properties or None)
