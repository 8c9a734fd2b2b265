"""Any channel mix works: every published table exists from the first run, golden records are
always written, and the marts and exports build whatever a customer's channels delivered."""

from __future__ import annotations

import shutil

import pyarrow.compute as pc
import pytest

from cdp import pipeline
from cdp.config import load_settings
from cdp.lakehouse import Lakehouse, Table
from cdp.runtime import spark_session
from cdp.tables import IDENTITY_MAP, published
from spark_jobs.contracts import CONTRACTS

pytestmark = pytest.mark.integration


def _landing_with(generated, tmp_path, channels):
    root, _ = generated
    ws = tmp_path / "-".join(sorted(channels))[:60]
    for channel in channels:
        shutil.copytree(root / "landing" / channel, ws / "landing" / channel)
    return load_settings(workspace=ws)


def _assert_every_published_table(lakehouse: Lakehouse, label: str) -> None:
    for spec in published():
        if spec.table.layer == "gold":
            continue  # written by the marts build / exports, checked below
        assert lakehouse.exists(spec.table), f"{label}: {spec.table} missing"
        columns = set(lakehouse.delta(spec.table).schema().to_arrow().names)
        assert set(spec.schema.names) <= columns, f"{label}: {spec.table} lacks columns"


def test_each_channel_alone_publishes_every_table_and_golden_records(generated, tmp_path):
    settings = load_settings(workspace=tmp_path / "session")
    with spark_session(settings) as spark:
        for channel in sorted(CONTRACTS):
            one = _landing_with(generated, tmp_path, [channel])
            pipeline.ingest(one, spark)
            pipeline.standardise(one, spark)
            pipeline.resolve_identity(one, spark)
            lakehouse = pipeline.lakehouse_of(one)
            _assert_every_published_table(lakehouse, channel)
            people = pc.count_distinct(
                lakehouse.to_arrow(IDENTITY_MAP, ["one_id"]).column("one_id")
            ).as_py()
            golden = lakehouse.count(Table("silver", "golden_records"))
            assert golden == people, f"{channel}: {golden} golden records for {people} people"


@pytest.mark.parametrize(
    "channels",
    [
        ["pos_tickets"],
        sorted(set(CONTRACTS) - {"loyalty_events", "consent", "coupons"}),
    ],
    ids=["pos-only", "no-loyalty-consent-coupons"],
)
def test_the_whole_run_builds_the_marts_and_exports_on_a_partial_landing(
    generated, tmp_path, channels
):
    settings = _landing_with(generated, tmp_path, channels)
    summary = pipeline.run(settings)
    assert not summary.marts.failed and summary.marts.passed > 0
    assert all(gate.success for gate in summary.gates)
    assert summary.exports, "the scheduled segment was not exported"
    lakehouse = pipeline.lakehouse_of(settings)
    _assert_every_published_table(lakehouse, "+".join(channels))
    assert lakehouse.count(Table("silver", "golden_records")) > 0
