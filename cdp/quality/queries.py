"""The DuckDB SQL a gate validates: a Delta table read in place, cut to the batches checked.

The gate makes the query a view; Great Expectations' metrics select from it, so DuckDB
reads only the columns and Parquet files (by ``_batch_id`` statistics) a check needs and
aggregates as it streams: nothing is copied into Python, whatever the batch size.
"""

from __future__ import annotations

from cdp.lakehouse import parquet_relation
from cdp.sql_literals import STANDARD


def table_query(
    uri: str,
    columns: list[str],
    batch_ids: list[str] | None = None,
    files: list[str] | None = None,
) -> str:
    """``columns`` of the current version of the Delta table at ``uri``, limited to the rows of
    ``batch_ids`` when given (an empty list selects no row), or to the rows of its data
    ``files`` when given (those written since a gate last passed; a column older files lack
    reads as NULL)."""
    selected = ", ".join(STANDARD.identifier(c) for c in columns)
    source = f"delta_scan({STANDARD.string(uri)})"
    if files:
        source = parquet_relation(files)
    query = f"SELECT {selected} FROM {source}"
    if batch_ids is None:
        return query
    if not batch_ids:
        return f"{query} WHERE FALSE"
    return f"{query} WHERE {STANDARD.identifier('_batch_id')} IN ({STANDARD.strings(batch_ids)})"


def view_ddl(name: str, query: str) -> str:
    """Create or replace the view ``name`` of ``query``."""
    return f"CREATE OR REPLACE VIEW {STANDARD.identifier(name)} AS {query}"


def count_query(relation: str) -> str:
    """The number of rows of the table or view ``relation``."""
    return f"SELECT count(*) FROM {STANDARD.identifier(relation)}"
