"""Silver and identity gates on what changed: the rows written since the gate last passed,
every row with ``full``; a bad row in a new batch still fails, and old rows are not read."""

from __future__ import annotations

import pytest
from deltalake import write_deltalake

from cdp.lakehouse import Lakehouse
from cdp.quality import QualityGateFailed, run_gate

from .test_quality import SUITES_DIR, silver_orders

pytestmark = pytest.mark.engine
ORDERS = "silver.orders"


def _next_batch(**changes):
    """Three more valid orders of another batch (new keys)."""
    return silver_orders(order_id=["t2", "j2", "p2"], _batch_id=["b3", "b3", "b3"], **changes)


def test_gates_validate_only_rows_written_since_they_last_passed(tmp_path):
    lakehouse = Lakehouse(tmp_path / "lakehouse")
    orders = str(lakehouse.root / "silver" / "orders")
    write_deltalake(orders, silver_orders(), mode="overwrite")
    docs = tmp_path / "docs"

    first = run_gate(lakehouse, "silver", SUITES_DIR, docs)
    assert first.rows_checked[ORDERS] == 3

    unchanged = run_gate(lakehouse, "silver", SUITES_DIR, docs)
    assert ORDERS not in unchanged.rows_checked
    assert unchanged.tables_skipped[ORDERS] == "unchanged since the gate last passed"

    write_deltalake(orders, _next_batch(), mode="append")
    # Only the new batch's rows are validated: the three of the first delivery are not read.
    assert run_gate(lakehouse, "silver", SUITES_DIR, docs).rows_checked[ORDERS] == 3

    write_deltalake(orders, _next_batch(status=["paid", "lost", "paid"]), mode="append")
    for _attempt in range(2):  # a failed gate records nothing: the bad rows are checked again
        with pytest.raises(QualityGateFailed) as failed:
            run_gate(lakehouse, "silver", SUITES_DIR, docs)
        assert failed.value.result.rows_checked[ORDERS] == 3
        (error,) = failed.value.result.errors
        assert (error.table, error.column, error.unexpected_count) == (ORDERS, "status", 1)
        assert error.sample == ["lost"]

    with pytest.raises(QualityGateFailed) as failed:
        run_gate(lakehouse, "silver", SUITES_DIR, docs, full=True)
    assert failed.value.result.rows_checked[ORDERS] == 9
