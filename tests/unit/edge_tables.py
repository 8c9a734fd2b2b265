"""Edge lists as the Arrow tables the connected-components engines are handed."""

from __future__ import annotations

import pyarrow as pa

EDGE_SCHEMA = pa.schema([("src", pa.string()), ("dst", pa.string())])


def edge_table(edges) -> pa.Table:
    """``src``/``dst`` columns of a list of ``(src, dst)`` pairs (an Arrow table is kept)."""
    if isinstance(edges, pa.Table):
        return edges
    return pa.table({"src": [a for a, _ in edges], "dst": [b for _, b in edges]}, EDGE_SCHEMA)
