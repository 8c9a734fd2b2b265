"""Erasure in the marts' DuckDB files, after they are rebuilt: rows of the person that history
models keep (incremental models hold past days) are deleted from every table of the restricted
file, which is written afresh (``COPY FROM DATABASE``), so no freed block still holds their
values; the analysts' file is then derived from it again (``analyst_file``)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from cdp.config import Settings


def _string_columns(con, schema: str, table: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? AND data_type = 'VARCHAR'",
            [schema, table],
        ).fetchall()
    ]


def _tables(con) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND table_catalog = current_database() "
        "ORDER BY 1, 2"
    ).fetchall()


def _matching(con, schema: str, table: str, values: list[str]) -> str | None:
    """SQL condition: a string cell of the row is one of the values (registered ``erased``)."""
    columns = _string_columns(con, schema, table)
    if not columns:
        return None
    return " OR ".join(f'"{c}" IN (SELECT value FROM erased)' for c in columns)


def rows_of(database: Path, values: set[str]) -> dict[str, int]:
    """Rows per table with a string cell equal to one of ``values`` (the verification)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return _per_table(con, values, "SELECT count(*) FROM {table} WHERE {condition}")


def _register(con, values: set[str]) -> None:
    import pyarrow as pa

    con.register("erased", pa.table({"value": sorted(values)}))


def erase_rows(settings: Settings, values: set[str]) -> dict[str, int]:
    """Delete every row with a string cell equal to one of ``values`` from every table of the
    restricted file, rewrite it and publish the analysts' file anew; rows deleted per table."""
    from cdp.privacy import analyst_file

    database = settings.restricted_marts_db
    if not database.exists():
        return {}
    with duckdb.connect(str(database)) as con:
        deleted = _per_table(con, values, "DELETE FROM {table} WHERE {condition}")
    _rewrite(settings)
    analyst_file.publish_files(settings)
    return deleted


def _per_table(con, values: set[str], statement: str) -> dict[str, int]:
    """``statement`` (a count or a delete, formatted with the quoted ``table`` and the
    ``condition`` matching ``values``) on every table with a matching column; the row count it
    returned per table, where not zero."""
    _register(con, values)
    counts = {}
    for schema, table in _tables(con):
        if condition := _matching(con, schema, table, sorted(values)):
            quoted = f'"{schema}"."{table}"'
            (count,) = con.execute(statement.format(table=quoted, condition=condition)).fetchone()
            if count:
                counts[f"{schema}.{table}"] = count
    return counts


def _rewrite(settings: Settings) -> None:
    """Copy the database into a new file and put it in place: deleted rows leave nothing in
    freed blocks. The views onto silver are bound on the copy, so it runs where dbt does, with
    the delta extension."""
    from cdp.marts import delta_extension, in_workspace
    from cdp.privacy.analyst_file import restrict

    database = settings.restricted_marts_db.resolve()
    fresh = database.with_name(f"{database.name}.erasing")
    fresh.unlink(missing_ok=True)
    with in_workspace(settings), duckdb.connect(str(database)) as con:
        con.execute(f"LOAD '{delta_extension()}'")
        (name,) = con.execute("SELECT current_database()").fetchone()
        con.execute(f"ATTACH '{fresh}' AS erasing")
        con.execute(f'COPY FROM DATABASE "{name}" TO erasing')
        con.execute("DETACH erasing")
    restrict(fresh)
    os.replace(fresh, database)
    database.with_name(database.name + ".wal").unlink(missing_ok=True)
