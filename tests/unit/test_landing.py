"""Reading CSV landing files into raw rows (no engine): one row per line, bad lines flagged."""

from pathlib import Path

import pytest

from spark_jobs.contracts import Contract, Field
from spark_jobs.landing import parse_csv

CONTRACT = Contract("shop", "csv", "test", (Field("a"), Field("b"), Field("c")), key=("a",))
PATH = Path("landing/shop/2026-09-01/x.csv")


def test_each_line_is_one_row_and_bad_lines_are_flagged_in_place():
    text = "\ufeffb,a,extra\n1,x,e\n2,\"y,z\",e\n3,w\n\n4,v,e,more\n5,,e\n"
    table = parse_csv(text, CONTRACT, PATH).to_pylist()
    assert [(r["_line_no"], r["value"], r["_unparseable"]) for r in table] == [
        (2, "1,x,e", False), (3, '2,"y,z",e', False), (4, "3,w", True), (5, "", True),
        (6, "4,v,e,more", True), (7, "5,,e", False)]
    # Matched by header name; a bad line has no values; an empty value stays empty text.
    assert [(r["a"], r["b"]) for r in table] == [
        ("x", "1"), ("y,z", "2"), (None, None), (None, None), (None, None), ("", "5")]
    # A contract column the file lacks is all NULL (its required check quarantines the rows).
    assert {r["c"] for r in table} == {None}


def test_header_only_and_all_bad_files():
    assert parse_csv("a,b,c\n", CONTRACT, PATH).num_rows == 0
    table = parse_csv("a,b,c\n1\n2\n", CONTRACT, PATH).to_pylist()
    assert [(r["_unparseable"], r["a"]) for r in table] == [(True, None), (True, None)]


def test_empty_file_names_the_file():
    with pytest.raises(ValueError, match="x.csv: empty CSV file"):
        parse_csv("", CONTRACT, PATH)
