"""SQL literals per dialect: quotes, backslashes, unicode, NUL, IN lists, identifiers; each
DuckDB spelling read back by DuckDB."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from cdp.sql_literals import SPARK, STANDARD, literal

NASTY = [
    "it's",
    "''",
    "back\\slash",
    "\\'",
    "ends with \\",
    "line\nbreak\ttab",
    "中文 é ﬁ \u200b \U0001f600",
    "\\n is not a newline",
    "'; DROP TABLE x; --",
    "",
]


def test_standard_doubles_quotes_and_leaves_backslashes():
    assert STANDARD.string("it's") == "'it''s'"
    assert STANDARD.string("a\\b") == "'a\\b'"


def test_spark_escapes_backslashes_then_quotes():
    assert SPARK.string("it's") == "'it\\'s'"
    assert SPARK.string("a\\b") == "'a\\\\b'"
    assert SPARK.string("\\'") == "'\\\\\\''"


def test_unicode_is_kept_as_it_is():
    assert STANDARD.string("中文\u200b") == "'中文\u200b'"
    assert SPARK.string("中文\u200b") == "'中文\u200b'"


@pytest.mark.parametrize("dialect", [STANDARD, SPARK], ids=lambda d: d.name)
def test_a_nul_character_is_refused_with_the_value(dialect):
    with pytest.raises(ValueError, match=r"'a\\x00b' holds a NUL character"):
        dialect.string("a\x00b")
    with pytest.raises(ValueError, match="NUL"):
        dialect.identifier("a\x00b")


@pytest.mark.parametrize("value", NASTY)
def test_duckdb_reads_back_every_standard_literal(value):
    assert duckdb.sql(f"SELECT {STANDARD.string(value)}").fetchone()[0] == value


def test_duckdb_in_list_matches_exactly_the_listed_values():
    listed = STANDARD.strings(NASTY)
    found = duckdb.sql(
        f"SELECT v FROM (SELECT unnest(?) AS v) WHERE v IN ({listed})",
        params=[[*NASTY, "its", "back\\\\slash"]],
    ).fetchall()
    assert sorted(v for (v,) in found) == sorted(NASTY)


def test_an_empty_in_list_is_an_error_not_invalid_sql():
    with pytest.raises(ValueError, match="at least one value"):
        SPARK.strings([])


def test_identifiers_double_their_quote_character():
    assert STANDARD.identifier('a"b') == '"a""b"'
    assert SPARK.identifier("a`b") == "`a``b`"
    table, column = STANDARD.identifier('we"ird name'), STANDARD.identifier('gr"oup')
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {table} AS SELECT 1 AS {column}")
    assert con.sql('SELECT "gr""oup" FROM "we""ird name"').fetchone() == (1,)
    with pytest.raises(ValueError, match="empty"):
        STANDARD.identifier("")


def test_typed_literals():
    assert [literal(v) for v in (True, False, 3, 2.5, date(2026, 9, 30), "x'y")] == [
        "TRUE",
        "FALSE",
        "3",
        "2.5",
        "DATE '2026-09-30'",
        "'x''y'",
    ]
    assert literal("x'y", SPARK) == "'x\\'y'"
    with pytest.raises(ValueError, match="no literal for inf"):
        literal(float("inf"))
