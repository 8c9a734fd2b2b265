"""The not_null_columns generic test (dbt_project/macros/not_null_columns.sql) on DuckDB: one
row per column holding nulls, none for a clean table (rendered without dbt)."""

import re
from types import SimpleNamespace

import duckdb
import jinja2

from cdp.config import packaged

MACRO = packaged("dbt_project") / "macros" / "not_null_columns.sql"


def render(model: str, columns: list[str]) -> str:
    text = MACRO.read_text(encoding="utf-8")
    body = re.search(
        r"\{% test not_null_columns\(model, columns\) %\}(.*)\{% endtest %\}", text, re.DOTALL
    )
    adapter = SimpleNamespace(quote=lambda name: f'"{name}"')
    return jinja2.Template(body.group(1)).render(model=model, columns=columns, adapter=adapter)


def test_each_column_holding_nulls_is_one_row_with_its_count():
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE t AS SELECT * FROM (VALUES (1, NULL, 'x'), (NULL, NULL, 'y'))
           v(a, "group", c)"""
    )
    rows = con.sql(render("t", ["a", "group", "c"])).fetchall()
    assert sorted(rows) == [("a", 1), ("group", 2)]
    assert con.sql(render("t", ["c"])).fetchall() == []
