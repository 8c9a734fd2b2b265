"""The analysts' DuckDB file of the shared run holds no raw personal value: every table is
scanned for phones, e-mails, Chinese ID numbers and the generated people's names, and no view
reads silver or Delta. The same scan on the restricted file finds them, so it can fail."""

from __future__ import annotations

import csv
import json
import re
import stat

import duckdb
import pytest

from cdp.privacy.analyst_file import manifest_path, personal_columns

pytestmark = pytest.mark.integration

#: alphanumeric boundaries: a hex hash or an order id is not a phone inside it, nor are the
#: digits after a decimal point (an average of 129526.15384615384 fen)
PATTERNS = {
    "phone": re.compile(r"(?<![0-9A-Za-z.])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])"),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "id_number": re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}[01]\d[0-3]\d{4}[\dXx]"),
}
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def is_id_number(text: str) -> bool:
    """An 18-character resident ID with a valid check character (GB 11643)."""
    total = sum(int(d) * w for d, w in zip(text[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == text[17].upper()


@pytest.fixture(scope="module")
def names(generated) -> set[str]:
    root, _ = generated
    with (root / "ground_truth" / "people.csv").open(encoding="utf-8") as f:
        return {row["name"] for row in csv.DictReader(f) if row["name"]}


def cells(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [c for v in value for c in cells(v)]
    if isinstance(value, dict):
        return [c for v in value.values() for c in cells(v)]
    return [] if value is None else [str(value)]


def scan(database, names: set[str]) -> dict[str, set[str]]:
    """Personal-looking values per kind (and the relations that hold them) in every table and
    view of ``database``, and the views reading silver or Delta."""
    found: dict[str, set[str]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        relations = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        for schema, name in relations:
            try:
                rows = con.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall()
            except duckdb.Error:  # a view onto Delta without the extension: still a leak
                found.setdefault("unreadable_views", set()).add(f"{schema}.{name}")
                continue
            for text in (c for row in rows for c in cells(row)):
                for kind, pattern in PATTERNS.items():
                    for match in pattern.findall(text):
                        if kind != "id_number" or is_id_number(match):
                            found.setdefault(kind, set()).add(f"{schema}.{name}")
                if text in names:
                    found.setdefault("name", set()).add(f"{schema}.{name}")
        for view, sql in con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal"
        ).fetchall():
            if re.search(r"delta_scan|silver|lakehouse", sql, re.IGNORECASE):
                found.setdefault("views_onto_silver", set()).add(view)
    return found


def test_the_analysts_file_has_no_raw_personal_values(marts, names):
    settings, _ = marts
    assert scan(settings.marts_db, names) == {}


def test_the_restricted_file_has_them_so_the_scan_can_fail(marts, names):
    settings, _ = marts
    found = scan(settings.restricted_marts_db, names)
    assert {"phone", "email", "name", "views_onto_silver"} <= set(found)
    assert "main.customer_360" in found["phone"] and "main.customer_360" in found["name"]
    assert "intermediate.int_identity__keys" in found["phone"]
    assert stat.S_IMODE(settings.restricted_marts_db.stat().st_mode) == 0o600


def test_personal_columns_come_hashed_from_the_manifest(marts):
    settings, _ = marts
    declared = personal_columns(json.loads(manifest_path(settings).read_text()))
    assert declared[("staging", "stg_silver__members")] == {"phone", "name", "birthday", "email"}
    assert declared[("intermediate", "int_orders__people")] == {"member_phone"}
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        columns = {
            (t, c)
            for t, c in con.execute(
                "SELECT table_name, column_name FROM duckdb_columns() "
                "WHERE table_name IN ('customer_360', 'int_orders__people', 'int_identity__keys')"
            ).fetchall()
        }
        masked = con.execute("SELECT count(*) FROM customer_360_masked").fetchone()[0]
    assert {("customer_360", "phone_hash"), ("int_orders__people", "member_phone_hash")} <= columns
    assert ("int_identity__keys", "identifier_value_hash") in columns
    assert not {c for _, c in columns} & {"phone", "name", "birthday", "member_phone"}
    assert masked > 0  # the analysts' 360
