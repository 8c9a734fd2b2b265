"""Keeping one row per business key."""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.sql.window import Window


def latest_by(df, keys: list[str], version: str | None = None):
    """One row per key: the highest ``version``; ties are broken by batch, file and line.

    The tie-breakers only make the choice deterministic, so a re-run picks the same row.
    """
    order = ([F.col(version).desc_nulls_last()] if version else []) + [
        F.col("_batch_id").desc(), F.col("_source_file").desc()]
    if "_line_no" in df.columns:
        order.append(F.col("_line_no").desc())
    window = Window.partitionBy(*keys).orderBy(*order)
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")
