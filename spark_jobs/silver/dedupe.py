"""Keeping one row per business key."""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.sql.window import Window

from spark_jobs.frames import delivery_order


def latest_by(df, keys: list[str], version: str | None = None):
    """One row per key: the highest ``version``; among equal versions the last delivered.

    A correction (same key and version, other content) delivered later therefore replaces
    the record, as ``cdp.lakehouse.build_merge_sql`` does against the table. The batch only
    separates rows of one path and line: a file replaced in place, which a clean run over
    the landing zone never sees; it keeps even that pick reproducible.
    """
    order = (
        ([F.col(version).desc_nulls_last()] if version else [])
        + [F.expr(e).desc_nulls_last() for e in delivery_order()]
        + [F.col("_batch_id").desc()]
    )
    window = Window.partitionBy(*keys).orderBy(*order)
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def repeated_keys(df, keys: list[str]):
    """Keys that occur more than once, with their ``count``."""
    return df.groupBy(*keys).count().where("count > 1")


def keep_latest(df, keys: list[str], version: str | None = None, repeated=None):
    """``latest_by``, with only the rows of repeated keys going through the window.

    The embedded engine's window sorts every row it gets (5.8 s for 1.6M POS lines); most keys
    occur once, and an aggregate and two joins find them for less. ``repeated`` (from
    ``repeated_keys``) may be passed in when it is already at hand (the engine recomputes an
    aggregate at every use). Both joins build their hash table on the repeated keys, the
    small side (the engine turns the semi join around itself): the whole batch there cost
    12 GiB at 13M events.
    """
    repeated = (repeated_keys(df, keys) if repeated is None else repeated).select(*keys)
    latest = latest_by(df.join(repeated, keys, "left_semi"), keys, version)
    unique = (
        repeated.withColumn("_repeated", F.lit(True))
        .join(df, keys, "right")
        .where("_repeated IS NULL")
        .drop("_repeated")
    )
    return unique.unionByName(latest)
