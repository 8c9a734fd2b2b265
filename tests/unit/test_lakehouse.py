"""Staging and handing staged files to a Delta table."""

import pytest

from cdp.lakehouse import SchemaMismatch, Table

TABLE = Table("bronze", "staged_demo")
ROWS = (
    "SELECT id, CAST(id AS string) AS name, "
    "CASE WHEN id % 3 = 0 THEN 'quarantined' ELSE 'loaded' END AS _outcome, "
    "CAST(NULL AS string) AS _scratch FROM range({n})"
)


def _stage(spark, lakehouse, name, n):
    staged = lakehouse.stage(spark, spark.sql(ROWS.format(n=n)), name, partition_by="_outcome")
    return staged.select("id", "name").limit(0).toArrow().schema


def test_partitioned_stage_has_a_folder_per_value(spark, lakehouse):
    staged = lakehouse.stage(spark, spark.sql(ROWS.format(n=9)), "s", partition_by="_outcome")
    assert staged.where("_outcome = 'quarantined'").count() == 3
    folders = {p.name for p in (lakehouse.root / "_staging" / "s").iterdir()}
    assert folders == {"_outcome=loaded", "_outcome=quarantined"}


def test_staged_files_become_the_table_files(spark, lakehouse):
    schema = _stage(spark, lakehouse, "a", 9)
    staged_files = {p.name for p in (lakehouse.root / "_staging/a/_outcome=loaded").iterdir()}
    lakehouse.append_staged("a/_outcome=loaded", TABLE, schema)
    schema = _stage(spark, lakehouse, "b", 6)
    lakehouse.append_staged("b/_outcome=loaded", TABLE, schema)

    assert staged_files <= {p.name for p in lakehouse.path(TABLE).glob("*.parquet")}
    assert lakehouse.count(TABLE) == 6 + 4  # from the Delta log's statistics
    table = lakehouse.read(spark, TABLE)
    # Columns the files carry beyond the table's schema are not read.
    assert table.columns == ["id", "name"]
    assert sorted(r.id for r in table.collect()) == [1, 1, 2, 2, 4, 4, 5, 5, 7, 8]
    assert lakehouse.version(TABLE) == 1


def test_nothing_staged_still_creates_the_table(spark, lakehouse):
    schema = _stage(spark, lakehouse, "c", 1)  # id 0 only: quarantined
    lakehouse.append_staged("c/_outcome=loaded", TABLE, schema)
    assert lakehouse.exists(TABLE) and lakehouse.count(TABLE) == 0
    assert lakehouse.read(spark, TABLE).columns == ["id", "name"]


def test_new_columns_are_refused_and_nothing_is_moved(spark, lakehouse):
    lakehouse.append_staged("d/_outcome=loaded", TABLE, _stage(spark, lakehouse, "d", 3))
    wider = spark.sql("SELECT id, CAST(id AS string) AS name, 'x' AS extra FROM range(10, 12)")
    lakehouse.stage(spark, wider, "e")
    with pytest.raises(SchemaMismatch, match="bronze.staged_demo has no column.s. extra"):
        lakehouse.append_staged("e", TABLE, wider.limit(0).toArrow().schema)
    assert lakehouse.count(TABLE) == 2
    assert list((lakehouse.root / "_staging/e").glob("*.parquet"))
