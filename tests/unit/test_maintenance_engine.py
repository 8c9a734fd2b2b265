"""The engine reads a table that `cdp maintain` compacted, vacuumed and checkpointed, sees the
same rows, and keeps writing to it."""

from __future__ import annotations

from cdp.maintenance import maintain_table
from cdp.tables import Table

TABLE = Table("silver", "maintained")
ROWS = "SELECT id, CAST(id * 10 AS string) AS name FROM range({start}, {stop})"


def _rows(spark, lakehouse) -> list[tuple]:
    return sorted(tuple(r) for r in lakehouse.read(spark, TABLE).collect())


def test_the_engine_reads_a_compacted_vacuumed_table_and_appends_to_it(spark, lakehouse):
    for start in range(0, 40, 10):  # four runs, four small commits
        lakehouse.append(spark.sql(ROWS.format(start=start, stop=start + 10)), TABLE)
    before = _rows(spark, lakehouse)

    done = maintain_table(lakehouse, TABLE, retention_hours=0, below_window=True)

    assert done.files_before >= 4 and done.files_after == 1
    assert done.files_removed == done.files_before  # only the compacted file is left
    assert _rows(spark, lakehouse) == before
    lakehouse.append(spark.sql(ROWS.format(start=40, stop=45)), TABLE)
    assert lakehouse.read(spark, TABLE).count() == 45
