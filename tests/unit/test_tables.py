"""The table catalogue (cdp/tables.py): complete, described, in line with its writers' sources
of truth and with the marts' dbt sources; ``ensure`` and ``cdp tables`` on it. No engine."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import jinja2
import pyarrow as pa
import pytest
import yaml
from click.testing import CliRunner

from cdp import tables
from cdp.cli import cli
from cdp.lakehouse import Lakehouse, Table
from spark_jobs.contracts import CONTRACTS
from spark_jobs.silver.schema import SILVER_TABLES

DBT_MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
SOURCES_YAML = DBT_MODELS / "staging" / "silver" / "_silver__sources.yml"


def _declared() -> dict[str, tables.TableSpec]:
    return {str(s.table): s for s in tables.catalogue()}


# -- the catalogue itself ----------------------------------------------------------------------
def test_every_table_is_declared_once_with_description_owner_step_and_schema():
    specs = tables.catalogue()
    assert len({s.table for s in specs}) == len(specs)
    for s in specs:
        assert s.description.strip() and s.owner.strip(), s.table
        assert s.step in tables.STEPS, s.table
        assert importlib.util.find_spec(s.owner) is not None, f"{s.table}: no module {s.owner}"
        assert len(s.schema) > 0 and len(set(s.schema.names)) == len(s.schema), s.table
        assert set(s.key) <= set(s.schema.names), f"{s.table}: key {s.key} not in its columns"


def test_every_layer_s_tables_are_in_the_catalogue():
    declared = set(_declared())
    bronze = {f"bronze.{channel}" for channel in CONTRACTS} | {"bronze.quarantine"}
    silver = {f"silver.{name}" for name in SILVER_TABLES}
    identity = {
        f"silver.{name}"
        for name in (
            "identity_map",
            "identity_links",
            "identity_changes",
            "identity_rejected",
            "identity_cut_links",
            "identity_rule_effects",
            "golden_records",
        )
    }
    meta = {"meta.ingest_log", "meta.silver_applied", "meta.identity_runs"}
    gold = {"gold.segment_membership", "gold.segment_runs", "gold.touches"}
    gold |= {"gold.journey_events", "gold.journey_state"}
    privacy = {"gold.audit_log", "meta.erasure_tombstones"}
    assert declared == bronze | silver | identity | meta | gold | privacy


def test_table_constants_are_the_catalogue_s_tables():
    constants = {v for v in vars(tables).values() if isinstance(v, Table)}
    non_bronze = {
        s.table
        for s in tables.catalogue()
        if s.table.layer != "bronze" or s.table == tables.QUARANTINE
    }
    assert constants == non_bronze


def test_bronze_schemas_follow_the_contracts_typed_with_lineage():
    tmall = tables.bronze_schema("tmall_orders")
    assert tmall.names == [*CONTRACTS["tmall_orders"].field_names, *tables.LINEAGE]
    assert tmall.field("total_fee").type == pa.decimal128(18, 2)
    assert tmall.field("created").type == pa.timestamp("us", tz="UTC")
    items = tmall.field("orders").type
    assert pa.types.is_list(items) and items.value_type.field("num").type == pa.int32()
    assert tables.bronze_schema("douyin_orders").field("order_amount").type == pa.int64()
    # CSV lines are numbered in Python, JSON lines by the engine: both bigint
    assert tables.bronze_schema("pos_tickets").field("_line_no").type == pa.int64()
    assert tables.bronze_schema("web_events").field("_line_no").type == pa.int64()


def test_silver_schemas_follow_the_silver_declarations():
    orders = tables.spec("silver.orders")
    assert orders.schema.names == SILVER_TABLES["orders"].column_names
    assert orders.key == ("channel", "order_id")
    assert orders.schema.field("line_count").type == pa.int32()
    assert tables.spec("silver.consent").schema.field("identifier_is_valid").type == pa.bool_()


def test_identity_changes_are_oneid_changes_with_their_run():
    from identity.oneid import CHANGES_SCHEMA

    assert tables.IDENTITY_CHANGES_SCHEMA == CHANGES_SCHEMA.append(pa.field("run_id", pa.string()))


def test_names_the_catalogue_does_not_declare_are_a_sentence():
    assert tables.spec("orders").table == tables.ORDERS
    assert tables.bronze("pos_tickets") == Table("bronze", "pos_tickets")
    with pytest.raises(tables.UnknownTable, match="ambiguous: say bronze.consent or silver"):
        tables.spec("consent")
    with pytest.raises(tables.UnknownTable, match=r"no table 'silver.nope' in the catalogue"):
        tables.spec("silver.nope")
    with pytest.raises(tables.UnknownTable, match=r"no contract in spark_jobs/contracts.py"):
        tables.bronze("fax_orders")
    with pytest.raises(tables.UnknownTable, match="no silver table 'nope'"):
        tables.silver("nope")
    with pytest.raises(ValueError, match="unknown step"):
        tables.published("marts")


def test_importing_the_catalogue_needs_no_spark():
    code = "import sys, cdp.tables; print('pyspark' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


# -- the marts' dbt sources --------------------------------------------------------------------
def _dbt_sources() -> set[str]:
    spec = yaml.safe_load(SOURCES_YAML.read_text(encoding="utf-8"))
    return {f"{source['name']}.{t['name']}" for source in spec["sources"] for t in source["tables"]}


def test_the_dbt_sources_are_exactly_the_published_tables():
    assert _dbt_sources() == {str(s.table) for s in tables.published()}


def _models_reading_sources() -> list[Path]:
    return sorted(p for p in DBT_MODELS.rglob("*.sql") if "source(" in p.read_text())


def _render(model: Path) -> str:
    """The model's SQL with each source as a view named ``<layer>__<table>`` and every ``var``
    and environment switch on (``CDP_HAS_SEGMENT_EXPORTS``: read gold). A project macro called
    on a column (``china_date('occurred_at')``) stands for that column: the test is about which
    columns a model reads, not what the macros compute."""
    text = model.read_text(encoding="utf-8")
    macros = {name: lambda column, *_: column for name in re.findall(r"\{\{\s*(\w+)\(", text)}
    return (
        jinja2.Environment(undefined=jinja2.StrictUndefined)
        .from_string(text)
        .render(
            {
                **macros,
                "source": lambda layer, name: f"{layer}__{name}",
                "var": lambda name: True,
                "env_var": lambda name, default=None: "true",
            }
        )
    )


def test_the_models_reading_dbt_sources_run_on_the_catalogue_schemas():
    """Every column a model selects from a source exists in the catalogue, with a type
    DuckDB can use as the model does."""
    models = _models_reading_sources()
    assert len(models) >= len(_dbt_sources())
    con = duckdb.connect()
    for s in tables.published():
        con.register(f"{s.table.layer}__{s.table.name}", s.schema.empty_table())
    for model in models:
        try:
            con.execute(_render(model)).fetchall()
        except duckdb.Error as exc:
            pytest.fail(f"{model.name} does not run on the catalogue's schemas: {exc}")


# -- ensure and the schema check ---------------------------------------------------------------
def test_ensure_creates_exactly_the_published_tables_with_their_schemas(tmp_path):
    lakehouse = Lakehouse(tmp_path / "lakehouse")
    created = tables.ensure(lakehouse)
    assert set(created) == {s.table for s in tables.published()}
    assert set(lakehouse.tables()) == set(created)
    for s in tables.published():
        assert (
            tables.schema_differences(s.schema, tables.written_schema(lakehouse, s.table)) == []
        ), s.table
        assert lakehouse.count(s.table) == 0
    assert tables.ensure(lakehouse) == []


def test_ensure_of_one_step_leaves_the_others_alone(tmp_path):
    lakehouse = Lakehouse(tmp_path / "lakehouse")
    created = tables.ensure(lakehouse, "identity")
    assert set(created) == {tables.IDENTITY_MAP, tables.GOLDEN_RECORDS}
    assert set(lakehouse.tables()) == set(created)


def test_schema_differences_name_missing_extra_and_retyped_columns():
    declared = pa.schema([("a", pa.string()), ("b", pa.int64()), ("c", pa.list_(pa.string()))])
    same = pa.schema(
        [
            pa.field("a", pa.string(), nullable=False),
            ("b", pa.int64()),
            ("c", pa.list_(pa.field("element", pa.string()))),
        ]
    )
    assert tables.schema_differences(declared, same) == []
    written = pa.schema([("a", pa.string()), ("b", pa.int32()), ("d", pa.date32())])
    assert tables.schema_differences(declared, written) == [
        "declared but not written: c",
        "written but not declared: d",
        "b: declared int64, written int32",
    ]
    reordered = pa.schema([("b", pa.int64()), ("a", pa.string()), ("c", pa.list_(pa.string()))])
    assert tables.schema_differences(declared, reordered) == ["columns in another order: b, a, c"]


# -- cdp tables --------------------------------------------------------------------------------
@pytest.fixture
def wide(monkeypatch):
    """The console wide enough that every row is one line."""
    from cdp import report

    monkeypatch.setattr(report.console, "width", 400)


def test_cdp_tables_lists_every_declared_table_written_or_not(tmp_path, wide):
    lakehouse = Lakehouse(tmp_path / "lakehouse")
    tables.ensure(lakehouse, "identity")
    lakehouse.overwrite_arrow(pa.table({"x": [1]}), Table("gold", "left_over"))
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path), "tables"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for s in tables.catalogue():
        [line] = [li for li in lines if f" {s.table} " in li]
        assert s.owner in line and s.description in line, line
        assert ("not yet written" in line) != (
            s.table in (tables.IDENTITY_MAP, tables.GOLDEN_RECORDS)
        ), line
    [stray] = [li for li in lines if " gold.left_over " in li]
    assert "not in the catalogue" in stray


def test_cdp_tables_schema_prints_one_table_s_columns(tmp_path, wide):
    result = CliRunner().invoke(
        cli, ["--workspace", str(tmp_path), "tables", "--schema", "golden_records"]
    )
    assert result.exit_code == 0, result.output
    assert "silver.golden_records" in result.output and "not yet written" in result.output
    cells = [li.split("│") for li in result.output.splitlines()]
    printed = {c[1].strip(): c[2].strip() for c in cells if len(c) == 4}
    assert printed == {f.name: str(f.type) for f in tables.GOLDEN_RECORDS_SCHEMA}


def test_cdp_tables_schema_shows_how_a_written_table_differs(tmp_path, wide):
    lakehouse = Lakehouse(tmp_path / "lakehouse")
    lakehouse.overwrite_arrow(pa.table({"one_id": ["O1"]}), tables.GOLDEN_RECORDS)
    result = CliRunner().invoke(
        cli, ["--workspace", str(tmp_path), "tables", "--schema", "silver.golden_records"]
    )
    assert "1 rows" in result.output
    assert "the written table differs: declared but not written: name, gender" in result.output
