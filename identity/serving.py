"""Serving the OneID map to other systems: DuckDB views and a lookup function.

The map is a Delta table; DuckDB reads its current Parquet files directly (the DuckDB delta
extension cannot be installed offline), so a view pins the snapshot current when it is made.
"""

from __future__ import annotations

import duckdb

from cdp.lakehouse import Lakehouse
from cdp.sql_literals import STANDARD
from identity.resolve import MAP


def register_views(con: duckdb.DuckDBPyConnection, lakehouse: Lakehouse, tables=None) -> list[str]:
    """Create a view ``<layer>_<table>`` per lakehouse table (or the given ones) on ``con``
    over the table's current files; returns the view names."""
    names = []
    for table in tables if tables is not None else lakehouse.tables():
        files = lakehouse.delta(table).file_uris()
        if not files:
            continue
        name = f"{table.layer}_{table.name}"
        con.execute(
            f"CREATE OR REPLACE VIEW {STANDARD.identifier(name)} AS SELECT * FROM "
            f"read_parquet([{STANDARD.strings(files)}])"
        )
        names.append(name)
    return names


def one_id_of(
    lakehouse: Lakehouse, kind: str, value: str, con: duckdb.DuckDBPyConnection | None = None
) -> str | None:
    """The OneID of identifier ``kind:value`` (normalised as in silver: phone as 11 digits,
    openid as ``<app_id>/<openid>``), or None when it is unknown, blocklisted or a hub.
    Pass a connection with the views registered to look up many identifiers cheaply."""
    if con is None:
        if not lakehouse.exists(MAP):
            return None
        con = duckdb.connect()
        register_views(con, lakehouse, [MAP])
    row = con.execute(
        "SELECT one_id FROM silver_identity_map WHERE identifier_type = ? AND identifier_value = ?",
        [kind, value],
    ).fetchone()
    return row[0] if row else None
