"""Quality gates on tiny Delta tables, with the project's suites and with throw-away ones.

Great Expectations is this module's engine (its SQL data source validating DuckDB views over
the Delta tables; importing it alone takes seconds), so the module is in the engine tier. The
passing gates run once per module and the tests share their results.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from cdp.config import ConfigError
from cdp.lakehouse import Lakehouse
from cdp.quality import QualityGateFailed, load_suites, run_gate

pytestmark = pytest.mark.engine
SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"


def _times(n: int) -> pa.Array:
    return pa.array(
        [datetime(2024, 5, 1, 10, i, tzinfo=UTC) for i in range(n)], pa.timestamp("us", tz="UTC")
    )


def silver_orders(**changes) -> pa.Table:
    """Three valid orders (one a POS return with a negative paid amount); ``changes`` override."""
    columns = {
        "channel": ["tmall", "jd", "pos"],
        "order_id": ["t1", "j1", "p1"],
        "order_type": ["sale", "sale", "return"],
        "status": ["paid", "shipped", "returned"],
        "member_phone": ["13800138000", None, "13912345678"],
        "member_phone_status": ["valid", "missing", "valid"],
        "ordered_at": _times(3),
        "updated_at": _times(3),
        "order_date": pa.array([datetime(2024, 5, 1).date()] * 3, pa.date32()),
        "freight_fen": pa.array([0, 800, 0], pa.int64()),
        "discount_fen": pa.array([100, None, 0], pa.int64()),
        "paid_amount_fen": pa.array([9900, 5000, -2500], pa.int64()),
        "refund_amount_fen": pa.array([0, 0, 0], pa.int64()),
        "_source_file": ["a.jsonl", "b.jsonl", "c.csv"],
        "_batch_id": ["b1", "b1", "b2"],
    }
    return pa.table({**columns, **changes})


def bronze_tmall_orders() -> pa.Table:
    """Batch b1 is valid; batch b2 has a status outside the contract and a NULL required field."""
    items = pa.array(
        [[{"oid": "o1", "num": 1}]] * 3,
        pa.list_(pa.struct([("oid", pa.string()), ("num", pa.int32())])),
    )
    return pa.table(
        {
            "tid": ["t1", "t2", None],
            "shop_id": ["s1", "s1", "s1"],
            "status": ["WAIT_BUYER_PAY", "TRADE_FINISHED", "LOST_IN_TRANSIT"],
            "total_fee": pa.array([Decimal("99.00")] * 3, pa.decimal128(18, 2)),
            "created": _times(3),
            "modified": _times(3),
            "orders": items,
            "_source_file": ["f1.jsonl", "f1.jsonl", "f2.jsonl"],
            "_batch_id": ["b1", "b1", "b2"],
            "_line_no": pa.array([1, 2, 1], pa.int64()),
            "_loaded_at": _times(3),
        }
    )


def bronze_quarantine() -> pa.Table:
    return pa.table(
        {
            "channel": ["tmall_orders"],
            "reason_kind": ["missing_required"],
            "reason": ["missing_required:tid"],
            "raw": ['{"shop_id": "s1"}'],
            "_source_file": ["f1.jsonl"],
            "_batch_id": ["b1"],
            "_line_no": pa.array([3], pa.int64()),
            "_loaded_at": _times(1),
        }
    )


def write(root: Path, layer: str, name: str, data: pa.Table) -> None:
    write_deltalake(str(root / layer / name), data, mode="overwrite")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("quality")
    root = workspace / "lakehouse"
    write(root, "silver", "orders", silver_orders())
    write(root, "bronze", "tmall_orders", bronze_tmall_orders())
    write(root, "bronze", "quarantine", bronze_quarantine())
    return workspace


@pytest.fixture(scope="module")
def docs_dir(workspace) -> Path:
    return workspace / "reports" / "data_docs"


@pytest.fixture(scope="module")
def silver_gate(workspace, docs_dir):
    return run_gate(Lakehouse(workspace / "lakehouse"), "silver", SUITES_DIR, docs_dir)


@pytest.fixture(scope="module")
def bronze_gate(workspace, docs_dir):
    return run_gate(
        Lakehouse(workspace / "lakehouse"), "bronze", SUITES_DIR, docs_dir, batch_ids=["b1"]
    )


def suite_file(tmp_path: Path, text: str, layer: str = "silver") -> Path:
    (tmp_path / f"{layer}.yml").write_text(text, encoding="utf-8")
    return tmp_path


# -- the project's suites ----------------------------------------------------------------------
def test_valid_silver_table_passes(silver_gate):
    assert silver_gate.success
    assert silver_gate.tables_checked == ["silver.orders"]
    assert silver_gate.rows_checked == {"silver.orders": 3}
    checked = {(r.expectation, r.column) for r in silver_gate.results}
    assert ("expect_compound_columns_to_be_unique", "channel,order_id") in checked
    assert ("expect_column_values_to_match_regex", "member_phone") in checked
    assert "silver.orders" in silver_gate.summary()


def test_missing_tables_are_skipped(silver_gate):
    assert silver_gate.tables_skipped["silver.members"] == "table does not exist yet"
    assert "silver.members" in silver_gate.summary()


def test_data_docs_are_built(silver_gate, bronze_gate, docs_dir):
    assert bronze_gate.data_docs_path == docs_dir / "index.html"
    index = bronze_gate.data_docs_path.read_text(encoding="utf-8")
    # The index lists earlier gates too, not only the latest.
    assert "silver" in index and "tmall_orders" in index


def test_bronze_gate_checks_only_the_given_batches(bronze_gate):
    # Batch b2 breaks the contract; b1 alone passes.
    assert bronze_gate.success
    assert bronze_gate.rows_checked == {"bronze.quarantine": 1, "bronze.tmall_orders": 2}


def test_bronze_gate_fails_on_a_bad_batch(workspace, docs_dir):
    with pytest.raises(QualityGateFailed) as failed:
        run_gate(
            Lakehouse(workspace / "lakehouse"), "bronze", SUITES_DIR, docs_dir, batch_ids=["b2"]
        )
    message = str(failed.value)
    assert "'LOST_IN_TRANSIT'" in message and "tid" in message
    skipped = failed.value.result.tables_skipped
    assert skipped["bronze.quarantine"] == "no rows in the batches checked"


def test_bad_silver_table_fails_naming_table_expectation_and_column(tmp_path):
    bad = silver_orders(
        channel=["tmall", "tmall", "pos"],
        order_id=["t1", "t1", None],
        status=["paid", "paid", "lost"],
    )
    write(tmp_path / "lakehouse", "silver", "orders", bad)
    with pytest.raises(QualityGateFailed) as failed:
        run_gate(Lakehouse(tmp_path / "lakehouse"), "silver", SUITES_DIR, tmp_path / "docs")
    message = str(failed.value)
    for expected in (
        "silver.orders  expect_compound_columns_to_be_unique  channel,order_id",
        "silver.orders  expect_column_values_to_not_be_null  order_id",
        "silver.orders  expect_column_values_to_be_in_set  status",
        "'lost'",
        str(tmp_path / "docs" / "index.html"),
    ):
        assert expected in message
    broken = {(r.expectation, r.column) for r in failed.value.result.errors}
    assert broken == {
        ("expect_compound_columns_to_be_unique", "channel,order_id"),
        ("expect_column_values_to_not_be_null", "order_id"),
        ("expect_column_values_to_be_in_set", "status"),
    }
    assert (tmp_path / "docs" / "index.html").is_file()


def test_bronze_suite_follows_the_contracts():
    from spark_jobs.contracts import CONTRACTS

    suites = load_suites(SUITES_DIR / "bronze.yml")
    for channel, contract in CONTRACTS.items():
        specs = suites.for_table(channel)
        not_null = {
            s.column_label for s in specs if s.type == "expect_column_values_to_not_be_null"
        }
        assert {f.name for f in contract.fields if f.required} <= not_null, channel
        in_set = {
            s.column_label: s.kwargs["value_set"]
            for s in specs
            if s.type == "expect_column_values_to_be_in_set"
        }
        for f in contract.fields:
            if f.allowed:
                assert [str(v) for v in in_set[f.name]] == list(f.allowed), (channel, f.name)


def test_suite_files_name_declared_tables_and_columns():
    # A misspelt table would be skipped as "does not exist yet" at every run; catch it here.
    from spark_jobs.contracts import CONTRACTS
    from spark_jobs.ingest import LINEAGE, QUARANTINE
    from spark_jobs.silver.schema import SILVER_TABLES

    quarantine = ["channel", "reason_kind", "reason", "raw", *LINEAGE]
    declared = {
        "bronze": {
            QUARANTINE.name: quarantine,
            **{c: [*k.field_names, *LINEAGE] for c, k in CONTRACTS.items()},
        },
        "silver": {name: t.column_names for name, t in SILVER_TABLES.items()},
    }
    for layer, tables in declared.items():
        suites = load_suites(SUITES_DIR / f"{layer}.yml")
        assert set(suites.tables) <= set(tables), layer
        for name, columns in tables.items():
            for spec in suites.for_table(name):
                assert set(spec.columns) <= set(columns), (layer, name, spec.key)


def test_gates_validate_in_place_without_copying_rows_into_python(tmp_path, monkeypatch):
    # The old gates read each table into Arrow and validated a pandas copy: at 1M customers
    # that held 11-21 GiB. Now no row may reach Python, nor GX's pandas engine run.
    import great_expectations.execution_engine as engines

    import cdp.lakehouse

    write(tmp_path / "lakehouse", "bronze", "tmall_orders", bronze_tmall_orders())

    def refuse(*_args, **_kwargs):
        raise AssertionError("a gate copied table rows into Python")

    monkeypatch.setattr(cdp.lakehouse.Lakehouse, "to_arrow", refuse)
    monkeypatch.setattr(cdp.lakehouse.Lakehouse, "scan", refuse)
    monkeypatch.setattr(cdp.lakehouse, "read_arrow", refuse)
    monkeypatch.setattr(engines.PandasExecutionEngine, "__init__", refuse)
    with pytest.raises(QualityGateFailed) as failed:
        run_gate(
            Lakehouse(tmp_path / "lakehouse"),
            "bronze",
            SUITES_DIR,
            tmp_path / "docs",
            batch_ids=["b1", "b2"],
        )
    assert failed.value.result.rows_checked == {"bronze.tmall_orders": 3}
    broken = {(r.column, r.unexpected_count, tuple(r.sample)) for r in failed.value.result.errors}
    assert broken == {("tid", 1, (None,)), ("status", 1, ("LOST_IN_TRANSIT",))}


def test_a_failing_table_keeps_one_stored_result_with_its_samples(tmp_path):
    # Tables are validated without samples first and again with them only when something
    # fails; the second result must replace the first, or the docs would list both.
    import json

    write(tmp_path / "lakehouse", "bronze", "tmall_orders", bronze_tmall_orders())
    with pytest.raises(QualityGateFailed):
        run_gate(
            Lakehouse(tmp_path / "lakehouse"),
            "bronze",
            SUITES_DIR,
            tmp_path / "docs",
            batch_ids=["b2"],
        )
    (stored,) = (tmp_path / "docs_validation_results" / "bronze" / "tmall_orders").rglob("*.json")
    failed = [r for r in json.loads(stored.read_text())["results"] if not r["success"]]
    samples = sorted(map(str, (v for r in failed for v in r["result"]["partial_unexpected_list"])))
    assert samples == ["LOST_IN_TRANSIT", "None"]


def test_gate_queries_run_within_the_memory_limit(tmp_path, monkeypatch):
    import sqlalchemy as sa

    from cdp.quality import gx

    limits = []
    exit_run = gx.GateRun.__exit__

    def record_limit(run, *exc):
        engine = run.source.get_execution_engine()
        limits.append(
            engine.execute_query(sa.text("SELECT current_setting('memory_limit')")).scalar_one()
        )
        exit_run(run, *exc)

    monkeypatch.setattr(gx.GateRun, "__exit__", record_limit)
    write(tmp_path / "lakehouse", "silver", "orders", silver_orders())
    run_gate(
        Lakehouse(tmp_path / "lakehouse"),
        "silver",
        SUITES_DIR,
        tmp_path / "docs",
        memory_limit="300MB",
    )
    # DuckDB reports the limit in its own units (300MB -> 286.1 MiB).
    assert limits == ["286.1 MiB"]


# -- throw-away suites ---------------------------------------------------------------------------
def test_regex_expectations_search_the_value_as_before(tmp_path):
    # GX's pandas check was a search (str.contains); DuckDB's ~ is a full match, so the gate
    # must still find '1' inside 'p1' and fail only 'jx' on an unanchored pattern.
    write(tmp_path / "lakehouse", "silver", "orders", silver_orders(order_id=["t1", "p1", "jx"]))
    suites = suite_file(
        tmp_path,
        """
tables:
  orders:
    - type: expect_column_values_to_match_regex
      column: order_id
      regex: "[0-9]"
""",
    )
    with pytest.raises(QualityGateFailed) as failed:
        run_gate(Lakehouse(tmp_path / "lakehouse"), "silver", suites, tmp_path / "docs")
    (error,) = failed.value.result.errors
    assert (error.column, error.unexpected_count, error.sample) == ("order_id", 1, ["jx"])


def test_warnings_are_reported_without_failing(tmp_path):
    write(tmp_path / "lakehouse", "silver", "orders", silver_orders())
    suites = suite_file(
        tmp_path,
        """
tables:
  orders:
    - type: expect_column_values_to_be_in_set
      column: status
      value_set: [paid]
      severity: warning
""",
    )
    gate = run_gate(Lakehouse(tmp_path / "lakehouse"), "silver", suites, tmp_path / "docs")
    assert gate.success
    (warning,) = gate.warnings
    assert (warning.column, warning.unexpected_count) == ("status", 2)
    assert "warning" in gate.summary() and "'shipped'" in gate.summary()


def test_unknown_column_names_file_and_key(tmp_path):
    write(tmp_path / "lakehouse", "silver", "orders", silver_orders())
    suites = suite_file(
        tmp_path,
        """
tables:
  orders:
    - type: expect_column_values_to_not_be_null
      columns: [order_id, ordre_id]
""",
    )
    with pytest.raises(
        ConfigError,
        match=r"silver\.yml: tables\.orders\[0\]\.columns\[1\]: "
        r"silver\.orders has no column 'ordre_id'",
    ):
        run_gate(Lakehouse(tmp_path / "lakehouse"), "silver", suites, tmp_path / "docs")


@pytest.mark.parametrize(
    ("item", "key", "problem"),
    [
        (
            "{type: expect_column_values_to_be_purple, column: status}",
            r"tables\.orders\[1\]\.type",
            "unknown expectation type 'expect_column_values_to_be_purple'",
        ),
        (
            "{type: expect_column_values_to_not_be_null, column: status, severity: fatal}",
            r"tables\.orders\[1\]\.severity",
            "expected 'error' or 'warning'",
        ),
        (
            "{type: expect_column_values_to_be_in_set, column: status, value_sett: [paid]}",
            r"tables\.orders\[1\]\.value_set",
            r"field required; tables\.orders\[1\]\.value_sett: extra fields not permitted",
        ),
    ],
)
def test_bad_suite_file_names_file_and_key(tmp_path, item, key, problem):
    path = (
        suite_file(
            tmp_path,
            f"""
tables:
  orders:
    - {{type: expect_column_values_to_not_be_null, column: order_id}}
    - {item}
""",
        )
        / "silver.yml"
    )
    with pytest.raises(ConfigError, match=rf"silver\.yml: {key}: {problem}"):
        load_suites(path)
