"""Which columns are personal, declared once in the table catalogue, and the Delta statistics
they are left out of. No engine."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from cdp import tables
from cdp.lakehouse import Table

PHONE, EMAIL = "13800138000", "li.na@example.com"


def test_the_personal_columns_are_the_declared_list():
    declared = {str(s.table): s.personal for s in tables.catalogue() if s.personal}
    assert declared == {
        "bronze.consent": ("identifier_value",),
        "bronze.jd_members": ("mobile",),
        "bronze.mall_events": ("phone", "plate_no"),
        "bronze.miniprogram_members": ("phone_number", "name", "birthday", "email"),
        "bronze.pos_tickets": ("member_phone",),
        "bronze.quarantine": ("raw",),
        "bronze.tmall_members": ("buyer_nick", "mobile"),
        "bronze.tmall_orders": ("buyer_nick",),
        "bronze.web_events": ("user_id",),
        "silver.consent": ("identifier_value",),
        "silver.events": ("phone", "plate_no"),
        "silver.golden_records": ("name", "birthday", "best_phone"),
        "silver.identifiers": ("identifier_value",),
        "silver.identity_cut_links": ("a_key", "b_key"),
        "silver.identity_links": ("a_key", "b_key"),
        "silver.identity_map": ("identifier_value",),
        "silver.identity_rejected": ("identifier_value",),
        "silver.members": ("phone", "name", "birthday", "email"),
        "silver.orders": ("member_phone",),
    }


def test_every_personal_column_is_a_column_of_its_declared_table():
    specs = {str(s.table): s for s in tables.catalogue()}
    for name, columns in tables.PERSONAL_COLUMNS.items():
        assert name in specs, f"{name} is not a declared table"
        missing = set(columns) - set(specs[name].schema.names)
        assert not missing, f"{name}: no column(s) {sorted(missing)}"


def test_statistics_columns_are_the_scalar_columns_but_the_personal_ones():
    members = tables.spec("silver.members")
    kept = tables.stats_columns(members)
    assert not set(kept) & set(members.personal)
    assert {"member_id", "city", "updated_at"} <= set(kept)
    orders = tables.stats_columns(tables.spec("bronze.tmall_orders"))
    assert "orders" not in orders and "buyer_nick" not in orders and "tid" in orders
    assert tables.table_properties(tables.MEMBERS) == {
        tables.STATS_COLUMNS_PROPERTY: ",".join(kept)
    }
    assert tables.table_properties(tables.SEGMENT_RUNS) == {}
    assert tables.table_properties(Table("gold", "not_declared")) == {}


def _log_text(path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((path / "_delta_log").iterdir()) if p.is_file())


def _members(phone: str, name: str) -> pa.Table:
    schema = tables.spec("silver.members").schema
    row = {c: None for c in schema.names} | {
        "source": "miniprogram",
        "member_id": "M1",
        "phone": phone,
        "name": name,
        "email": EMAIL,
        "city": "Shanghai",
    }
    return pa.Table.from_pylist([row], schema=schema)


def test_delta_rs_writes_keep_personal_values_out_of_the_log_and_checkpoints(lakehouse):
    lakehouse.overwrite_arrow(_members(PHONE, "李娜"), tables.MEMBERS)
    lakehouse.append_arrow(_members("13900139000", "王芳"), tables.MEMBERS)
    lakehouse.replace_rows(
        tables.MEMBERS,
        _members("13700137000", "张伟"),
        "source = 'miniprogram'",
        pc.field("source") == "miniprogram",
    )
    lakehouse.overwrite_arrow(_members("13600136000", "赵敏"), tables.MEMBERS)
    delta = lakehouse.delta(tables.MEMBERS)
    delta.create_checkpoint()
    log = _log_text(lakehouse.path(tables.MEMBERS))
    assert any(
        p.name.endswith(".checkpoint.parquet")
        for p in (lakehouse.path(tables.MEMBERS) / "_delta_log").iterdir()
    )
    for value in (PHONE, "13900139000", "13700137000", "13600136000", EMAIL, "李娜", "王芳"):
        assert value.encode() not in log, value
    # the other columns still have statistics: data skipping works on them
    stats = [
        json.loads(json.loads(line)["add"]["stats"])
        for p in sorted((lakehouse.path(tables.MEMBERS) / "_delta_log").glob("*.json"))
        for line in p.read_text().splitlines()
        if '"add"' in line
    ]
    assert stats and all(s["minValues"]["city"] == "Shanghai" for s in stats)
    assert all("phone" not in s["minValues"] and "name" not in s["maxValues"] for s in stats)
    assert (
        DeltaTable(lakehouse.uri(tables.MEMBERS))
        .metadata()
        .configuration[tables.STATS_COLUMNS_PROPERTY]
        .startswith("source,member_id")
    )


@pytest.mark.parametrize("table", [tables.IDENTITY_MAP, tables.QUARANTINE])
def test_tables_created_from_python_carry_the_property(lakehouse, table):
    lakehouse.overwrite_arrow(tables.spec(str(table)).schema.empty_table(), table)
    configuration = lakehouse.delta(table).metadata().configuration
    assert tables.STATS_COLUMNS_PROPERTY in configuration
    assert not set(configuration[tables.STATS_COLUMNS_PROPERTY].split(",")) & set(
        tables.spec(str(table)).personal
    )
