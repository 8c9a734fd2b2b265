"""The SQL side of the quality gates, without Great Expectations: the queries a gate validates
and the DuckDB dialect GX runs them through."""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlalchemy as sa
from deltalake import write_deltalake

from cdp.quality import duckdb_dialect
from cdp.quality.queries import count_query, table_query, view_ddl


@pytest.fixture(scope="module")
def engine():
    engine = sa.create_engine(f"{duckdb_dialect.URL_SCHEME}:///:memory:")
    yield engine
    engine.dispose()


def test_table_query_reads_the_delta_table_in_place_with_quoted_names():
    query = table_query("/lake/it's", ["order_id", 'odd "name"'])
    assert query == 'SELECT "order_id", "odd ""name""" FROM delta_scan(\'/lake/it\'\'s\')'


def test_table_query_filters_the_batches_in_sql():
    query = table_query("/lake/t", ["a"], ["b1", "b'2"])
    assert query.endswith(" WHERE \"_batch_id\" IN ('b1', 'b''2')")
    assert table_query("/lake/t", ["a"], []).endswith(" WHERE FALSE")


def test_queries_run_on_duckdb_with_the_delta_extension(tmp_path):
    from cdp.marts import delta_extension

    rows = pa.table({"a": [1, 2, 3], "_batch_id": ["b1", "b'2", "b3"]})
    write_deltalake(str(tmp_path / "t"), rows)
    connect_args = {"preload_extensions": [f"'{delta_extension()}'"]}
    engine = sa.create_engine(f"{duckdb_dialect.URL_SCHEME}:///:memory:", connect_args=connect_args)
    counted = []
    with engine.connect() as connection:
        for batches in (None, ["b'2", "b3"], []):
            query = table_query(str(tmp_path / "t"), ["a"], batches)
            connection.execute(sa.text(view_ddl("batch's rows", query)))
            counted.append(connection.execute(sa.text(count_query("batch's rows"))).scalar_one())
    engine.dispose()
    assert counted == [3, 2, 0]


def test_rows_outlive_the_connection(engine):
    # GX reads a query's rows after closing the connection; plain duckdb-engine returns none.
    with engine.connect() as connection:
        result = connection.execute(sa.select(sa.literal(7).label("x")))
    assert result.fetchall() == [(7,)]


@pytest.mark.parametrize(
    ("operator", "expected"), [("~", [True, True, False]), ("!~", [False, False, True])]
)
def test_regex_operators_search_like_postgres(engine, operator, expected):
    # DuckDB's own ~ is a full match: 'abc123' ~ '[0-9]+' would be false.
    value = sa.column("value")
    condition = sa.BinaryExpression(value, sa.literal("[0-9]+"), sa.custom_op(operator))
    values = sa.values(sa.column("value", sa.String), name="v").data(
        [("abc123",), ("42",), ("abc",)]
    )
    with engine.connect() as connection:
        rows = connection.execute(sa.select(condition.label("matches")).select_from(values))
        assert [r.matches for r in rows] == expected


def test_spell_as_postgres_refuses_another_engine():
    class Other:
        engine = sa.create_engine("sqlite://")

    with pytest.raises(TypeError, match="expected an engine on duckdb\\+cdp_buffered"):
        duckdb_dialect.spell_as_postgres(Other())


def test_a_gate_connection_shows_no_progress_bar(engine):
    # a gate's log is its summary: DuckDB's bar for a longer query was printed into it
    with engine.connect() as connection:
        setting = connection.execute(sa.text("SELECT current_setting('enable_progress_bar')"))
        assert setting.scalar_one() is False
