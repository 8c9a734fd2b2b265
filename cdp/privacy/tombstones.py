"""Tombstones: what keeps an erased person erased.

An erasure records the SHA-256 of each of the person's identifier keys (``keys.key_hash``),
never a value, in ``meta.erasure_tombstones``. Ingest compares the keys of every new row with
them (``erased_lines``): a re-delivered file that still carries the person lands without
their rows, counted as ``erased``.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from cdp.lakehouse import Lakehouse
from cdp.privacy.keys import key_hash
from cdp.tables import TOMBSTONES, TOMBSTONES_SCHEMA


def tombstone_rows(keys: list[str], request_id: str, erased_at: datetime) -> pa.Table:
    """The tombstones of a request's identifier keys: type and hash, no value."""
    return pa.Table.from_pylist(
        [
            {
                "identifier_type": key.split(":", 1)[0],
                "identifier_sha256": key_hash(key),
                "request_id": request_id,
                "erased_at": erased_at,
            }
            for key in sorted(set(keys))
        ],
        schema=TOMBSTONES_SCHEMA,
    )


def known_hashes(lakehouse: Lakehouse) -> set[str]:
    """Every tombstoned hash."""
    if not lakehouse.exists(TOMBSTONES):
        return set()
    column = lakehouse.to_arrow(TOMBSTONES, ["identifier_sha256"]).column(0)
    return set(column.to_pylist())


def record(lakehouse: Lakehouse, requests: list[tuple[list[str], str]], at: datetime) -> list[int]:
    """Add the tombstones of each request's keys (keys, request id) not recorded yet, in one
    read and one commit (a commit per request of a 1,000-person batch re-read the growing
    table each time); a key an earlier request of the batch added is not added again. How
    many each request added."""
    known = known_hashes(lakehouse)
    new_rows, added = [], []
    for keys, request_id in requests:
        rows = tombstone_rows(keys, request_id, at)
        hashes = rows["identifier_sha256"].to_pylist()
        new = rows.filter(pa.array([h not in known for h in hashes]))
        known.update(hashes)
        new_rows.append(new)
        added.append(new.num_rows)
    if sum(added):
        lakehouse.append_arrow(pa.concat_tables(new_rows), TOMBSTONES)
    return added


def erased_lines(spark, lakehouse: Lakehouse, channel: str, rows, tz: str, card_programmes=()):
    """``_batch_id, _line_no`` of the ``rows`` (a channel's typed contract columns with
    lineage) that carry a tombstoned identifier; None when nothing is tombstoned."""
    from cdp.privacy.rows import bronze_line_keys

    hashes = known_hashes(lakehouse)
    keys = bronze_line_keys(channel, rows, tz, card_programmes) if hashes else None
    if keys is None:
        return None
    tombstoned = spark.createDataFrame([(h,) for h in sorted(hashes)], "hash string")
    return (
        keys.selectExpr("_batch_id", "_line_no", "sha2(key, 256) AS hash")
        .join(tombstoned, "hash", "left_semi")
        .select("_batch_id", "_line_no")
        .distinct()
    )
