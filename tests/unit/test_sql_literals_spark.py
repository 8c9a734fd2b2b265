"""Spark SQL literals read back by the engine (Sail): a doubled quote would be dropped."""

from __future__ import annotations

from cdp.sql_literals import SPARK, STANDARD
from tests.unit.test_sql_literals import NASTY


def test_spark_reads_back_every_spark_literal(spark):
    selected = ", ".join(
        f"{SPARK.string(v)} AS {SPARK.identifier(f'v{i}')}" for i, v in enumerate(NASTY)
    )
    assert list(spark.sql(f"SELECT {selected}").collect()[0]) == NASTY


def test_spark_in_list_and_why_standard_quoting_is_wrong_there(spark):
    row = spark.sql(
        f"SELECT 'it''s' IN ({SPARK.strings(NASTY)}) AS doubled, "
        f"{STANDARD.string(NASTY[0])} AS standard"
    ).collect()[0]
    assert row["doubled"] is False  # Spark reads 'it''s' as 'it' 's' = "its"
    assert row["standard"] == "its"


def test_allowed_values_holding_quotes_and_backslashes_are_recognised(spark):
    from spark_jobs.contracts import Field
    from spark_jobs.validation import field_failures

    allowed = ("it's", "a\\b")
    failures = field_failures(Field("v", allowed=allowed), "v", "v", typed="v")
    (condition,) = [c for c, reason in failures if reason == "impossible_value:v"]
    frame = spark.createDataFrame([(v,) for v in (*allowed, "its", "a\\\\b")], ["v"])
    assert sorted(row.v for row in frame.where(condition).collect()) == ["a\\\\b", "its"]
