"""Which row a silver MERGE keeps: build_merge_sql run on DuckDB (no Spark)."""

import duckdb
import pytest

from cdp.lakehouse import build_merge_sql


def _delivery(row: str) -> list[str]:
    # The shape of spark_jobs.frames.delivery_order: a sortable file text, then a line.
    return [f"{row}.file", f"{row}.line"]


def _merge(target: tuple, source: tuple, tie_breakers=_delivery) -> str:
    """Merge one source row into a one-row table; the content of the row it ends with."""
    db = duckdb.connect()
    for name, row in (("t", target), ("s", source)):
        db.execute(f"CREATE TABLE {name} (k VARCHAR, v INT, file VARCHAR, line BIGINT, x VARCHAR)")
        db.execute(f"INSERT INTO {name} VALUES ('k', ?, ?, ?, ?)", list(row))
    sql = build_merge_sql("t", "s", ["k"], "v", tie_breakers)
    db.execute(sql.replace("`", '"'))  # Spark quotes names with backticks, DuckDB with quotes
    [(content,)] = db.execute("SELECT x FROM t").fetchall()
    return content


OLD = (1, "2026-09-02/a.csv", 5, "old")


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ((2, "2026-09-01/a.csv", 9, "new"), "new"),  # newer version, whatever its delivery
        ((0, "2026-09-03/a.csv", 9, "new"), "old"),  # older version delivered late
        ((1, "2026-09-03/a.csv", 1, "new"), "new"),  # correction in a later folder
        ((1, "2026-09-02/b.csv", 1, "new"), "new"),  # ... in a later file of the same folder
        ((1, "2026-09-02/a.csv", 6, "new"), "new"),  # ... on a later line of the same file
        ((1, "2026-09-01/z.csv", 9, "new"), "old"),  # an old re-delivery: earlier folder
        ((1, "2026-09-02/a.csv", 5, "new"), "old"),  # the same row again: nothing changes
        ((None, "2026-09-03/a.csv", 1, "new"), "old"),  # no version never beats one
    ],
)
def test_merge_keeps_the_newer_version_then_the_later_delivery(source, kept):
    assert _merge(OLD, source) == kept


def test_a_version_beats_none_and_equal_missing_versions_go_by_delivery():
    assert _merge((None, "2026-09-02/a.csv", 5, "old"), (1, "2026-09-01/a.csv", 1, "new")) == "new"
    assert (
        _merge((None, "2026-09-02/a.csv", 5, "old"), (None, "2026-09-03/a.csv", 1, "new")) == "new"
    )


def test_without_tie_breakers_equal_versions_leave_the_row():
    assert _merge(OLD, (1, "2026-09-03/a.csv", 1, "new"), tie_breakers=None) == "old"


def test_new_keys_are_inserted():
    db = duckdb.connect()
    db.execute("CREATE TABLE t (k VARCHAR, v INT, file VARCHAR, line BIGINT)")
    db.execute("INSERT INTO t VALUES ('k1', 1, 'f', 1)")
    db.execute("CREATE TABLE s AS SELECT 'k2' AS k, 1 AS v, 'f' AS file, 1::BIGINT AS line")
    db.execute(build_merge_sql("t", "s", ["k"], "v", _delivery).replace("`", '"'))
    assert db.execute("SELECT k FROM t ORDER BY k").fetchall() == [("k1",), ("k2",)]
