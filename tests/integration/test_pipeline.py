"""The whole pipeline on a small generated dataset (the shared run): counts add up, re-runs
change nothing."""

from __future__ import annotations

import pytest

from cdp import pipeline
from cdp.lakehouse import Lakehouse, Table
from spark_jobs.ingest import INGEST_LOG, QUARANTINE
from spark_jobs.silver import SILVER_TABLES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ran(shared_run, generated):
    """The shared pipeline run: (settings, lakehouse, generator report, run summary)."""
    _, gen_report = generated
    settings = shared_run.settings
    return settings, Lakehouse(settings.lakehouse_dir), gen_report, shared_run.summary


def test_every_input_row_is_loaded_or_quarantined(ran):
    _, lakehouse, gen_report, first, *_ = ran
    ingest = first.ingest
    assert ingest.rows_in == ingest.loaded + ingest.quarantined > 0
    # Re-delivered copies are skipped whole, so the rows in are the generator's originals.
    assert ingest.rows_in == gen_report.total_rows
    bronze_rows = sum(lakehouse.count(t) for t in lakehouse.tables("bronze") if t != QUARANTINE)
    assert bronze_rows == ingest.loaded
    assert lakehouse.count(QUARANTINE) == ingest.quarantined


def test_quarantine_matches_the_injected_malformed_rows(ran):
    _, _lakehouse, gen_report, first, *_ = ran
    found = {}
    for (channel, reason), n in first.ingest.quarantine_reasons.items():
        kind = reason.split(":")[0]
        found[(channel, kind)] = found.get((channel, kind), 0) + n
    injected = {
        (channel, kind): n
        for channel, kinds in gen_report.malformed.items()
        for kind, n in kinds.items()
        if n
    }
    assert injected and found == injected


def test_redelivered_files_are_skipped(ran):
    _, _, gen_report, first, *_ = ran
    skipped = {f.source_file for f in first.ingest.by_status("duplicate")}
    assert len(skipped) == len(gen_report.redelivered_files) > 0


def test_silver_has_one_row_per_key_and_every_bronze_row_is_accounted_for(ran):
    _settings, lakehouse, _, first, *_ = ran
    for outcome in first.silver:
        assert outcome.source_rows == outcome.superseded + outcome.merge.source_rows
        assert outcome.merge.rows_after == outcome.inserted  # first run: all new
        table = SILVER_TABLES[outcome.table]
        keys = lakehouse.to_arrow(Table("silver", table.name), list(table.key)).to_pylist()
        assert len({tuple(k.values()) for k in keys}) == len(keys), table.name


def test_orders_carry_their_latest_status(ran):
    _, lakehouse, *_ = ran
    bronze = lakehouse.to_arrow(
        Table("bronze", "tmall_orders"), ["tid", "status", "modified"]
    ).to_pylist()
    latest = {}
    for r in sorted(bronze, key=lambda r: r["modified"]):
        latest[r["tid"]] = r["status"]
    silver = {
        r["order_id"]: r["source_status"]
        for r in lakehouse.to_arrow(
            Table("silver", "orders"), ["channel", "order_id", "source_status"]
        ).to_pylist()
        if r["channel"] == "tmall"
    }
    assert silver == latest
    assert any(b["tid"] for b in bronze if sum(1 for x in bronze if x["tid"] == b["tid"]) > 1), (
        "the generated data should contain status updates"
    )


def test_gates_pass_and_write_data_docs(ran):
    settings, _, _, first, *_ = ran
    assert [(g.layer, g.success) for g in first.gates] == [
        ("bronze", True),
        ("silver", True),
        ("identity", True),
    ]
    assert (settings.reports_dir / "data_docs").is_dir()


def test_every_written_table_has_the_catalogue_s_schema(ran):
    """What the pipeline writes is what cdp/tables.py declares, column for column, and it
    writes no table the catalogue does not know."""
    from cdp.tables import schema_differences, spec, undeclared, written_schema

    _, lakehouse, *_ = ran
    written = lakehouse.tables()
    assert len(written) > 30 and undeclared(lakehouse) == []
    differences = {
        str(t): d
        for t in written
        if (d := schema_differences(spec(str(t)).schema, written_schema(lakehouse, t)))
    }
    assert differences == {}


def test_rerun_changes_nothing(shared_run, shared_copy):
    # A second run over the same landing zone, on a copy of the shared run's workspace.
    second = pipeline.run(shared_copy)
    lakehouse = Lakehouse(shared_copy.lakehouse_dir)
    assert second.ingest.rows_in == 0 and second.silver == []
    after = {str(t): lakehouse.version(t) for t in lakehouse.tables()}
    assert after == shared_run.versions
    assert {str(t): lakehouse.count(t) for t in lakehouse.tables()} == shared_run.counts
    assert str(INGEST_LOG) in shared_run.counts
