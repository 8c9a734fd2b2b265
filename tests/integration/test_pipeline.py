"""The whole pipeline on a small generated dataset: counts add up, re-runs change nothing."""

from __future__ import annotations

import pytest

from cdp import pipeline
from cdp.config import load_settings
from cdp.lakehouse import Lakehouse, Table
from spark_jobs.ingest import INGEST_LOG, QUARANTINE
from spark_jobs.silver import SILVER_TABLES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ran(generated, tmp_path_factory):
    """One pipeline run, then a second run over the same landing zone."""
    import shutil

    root, gen_report = generated
    ws = tmp_path_factory.mktemp("pipeline")
    shutil.copytree(root / "landing", ws / "landing")
    settings = load_settings(workspace=ws)
    first = pipeline.run(settings)
    lakehouse = Lakehouse(settings.lakehouse_dir)
    versions = {str(t): lakehouse.version(t) for t in lakehouse.tables()}
    counts = {str(t): lakehouse.count(t) for t in lakehouse.tables()}
    second = pipeline.run(settings)
    return settings, lakehouse, gen_report, first, second, versions, counts


def test_every_input_row_is_loaded_or_quarantined(ran):
    _, lakehouse, gen_report, first, *_ = ran
    ingest = first.ingest
    assert ingest.rows_in == ingest.loaded + ingest.quarantined > 0
    # Re-delivered copies are skipped whole, so the rows in are the generator's originals.
    assert ingest.rows_in == gen_report.total_rows
    bronze_rows = sum(lakehouse.count(t) for t in lakehouse.tables("bronze")
                      if t != QUARANTINE)
    assert bronze_rows == ingest.loaded
    assert lakehouse.count(QUARANTINE) == ingest.quarantined


def test_quarantine_matches_the_injected_malformed_rows(ran):
    _, _lakehouse, gen_report, first, *_ = ran
    found = {}
    for (channel, reason), n in first.ingest.quarantine_reasons.items():
        kind = reason.split(":")[0]
        found[(channel, kind)] = found.get((channel, kind), 0) + n
    injected = {(channel, kind): n for channel, kinds in gen_report.malformed.items()
                for kind, n in kinds.items() if n}
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
    bronze = lakehouse.to_arrow(Table("bronze", "tmall_orders"),
                                ["tid", "status", "modified"]).to_pylist()
    latest = {}
    for r in sorted(bronze, key=lambda r: r["modified"]):
        latest[r["tid"]] = r["status"]
    silver = {r["order_id"]: r["source_status"] for r in lakehouse.to_arrow(
        Table("silver", "orders"), ["channel", "order_id", "source_status"]).to_pylist()
        if r["channel"] == "tmall"}
    assert silver == latest
    assert any(b["tid"] for b in bronze if sum(1 for x in bronze if x["tid"] == b["tid"]) > 1), \
        "the generated data should contain status updates"


def test_gates_pass_and_write_data_docs(ran):
    settings, _, _, first, *_ = ran
    assert [(g.layer, g.success) for g in first.gates] == [
        ("bronze", True), ("silver", True), ("identity", True)]
    assert (settings.reports_dir / "data_docs").is_dir()


def test_rerun_changes_nothing(ran):
    _, lakehouse, _, _, second, versions, counts = ran
    assert second.ingest.rows_in == 0 and second.silver == []
    after = {str(t): lakehouse.version(t) for t in lakehouse.tables()}
    assert after == versions
    assert {str(t): lakehouse.count(t) for t in lakehouse.tables()} == counts
    assert str(INGEST_LOG) in counts
