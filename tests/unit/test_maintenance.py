"""`cdp maintain` on delta-rs tables: compaction, vacuum, checkpoints and the marts file, with
the rows unchanged and the tables readable by delta-rs and DuckDB afterwards."""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from cdp.cli import cli
from cdp.config import load_settings
from cdp.lakehouse import Lakehouse
from cdp.maintenance import (
    RetentionTooShort,
    check_retention,
    checkpoint_marts,
    existing_tables,
    interval_hours,
    maintain,
    maintain_table,
)
from cdp.marts import delta_extension
from cdp.tables import INGEST_LOG, QUARANTINE, SILVER_APPLIED, Table
from cdp.workspace_lock import WorkspaceBusy
from tests.unit.test_workspace_lock import _hold

APPLIED = pa.schema([("channel", pa.string()), ("batch_id", pa.string())])


def _append_runs(lakehouse: Lakehouse, table: Table, runs: int) -> pa.Table:
    """``runs`` one-file appends (as every pipeline run makes); all the rows written."""
    batches = [
        pa.table(
            {"channel": ["pos", "tmall"], "batch_id": [f"b{run}a", f"b{run}b"]}, schema=APPLIED
        )
        for run in range(runs)
    ]
    for batch in batches:
        lakehouse.append_arrow(batch, table)
    return pa.concat_tables(batches)


def _sorted(rows: pa.Table) -> pa.Table:
    return rows.sort_by([("batch_id", "ascending")])


def _duckdb_rows(path) -> pa.Table:
    with duckdb.connect() as con:
        con.execute(f"LOAD '{delta_extension()}'")
        return con.sql(f"SELECT channel, batch_id FROM delta_scan('{path}')").to_arrow_table()


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("CDP_VACUUM_RETENTION_HOURS", raising=False)
    monkeypatch.delenv("CDP_CONFIG", raising=False)
    return monkeypatch


def test_compaction_leaves_one_file_with_the_same_rows_readable_by_duckdb(lakehouse):
    written = _append_runs(lakehouse, SILVER_APPLIED, 6)

    done = maintain_table(lakehouse, SILVER_APPLIED, retention_hours=168)

    assert (done.files_before, done.files_after) == (6, 1)
    assert done.rows == 12
    assert done.version_before == 5 and done.version_after > done.version_before
    assert _sorted(lakehouse.to_arrow(SILVER_APPLIED)).equals(_sorted(written))
    assert _sorted(_duckdb_rows(lakehouse.path(SILVER_APPLIED))).equals(_sorted(written))


def test_the_log_gets_a_checkpoint_at_the_last_version(lakehouse):
    _append_runs(lakehouse, SILVER_APPLIED, 3)

    done = maintain_table(lakehouse, SILVER_APPLIED, retention_hours=168)

    log = lakehouse.path(SILVER_APPLIED) / "_delta_log"
    assert (log / f"{done.checkpoint_version:020d}.checkpoint.parquet").is_file()
    assert done.checkpoint_version == DeltaTable(lakehouse.uri(SILVER_APPLIED)).version()


def test_log_files_past_their_retention_are_removed(lakehouse):
    _append_runs(lakehouse, SILVER_APPLIED, 4)
    log = lakehouse.path(SILVER_APPLIED) / "_delta_log"
    month_ago = (
        DeltaTable(lakehouse.uri(SILVER_APPLIED)).history(1)[0]["timestamp"] / 1000 - 40 * 86400
    )
    for commit in log.glob("*.json"):
        os.utime(commit, (month_ago, month_ago))

    done = maintain_table(lakehouse, SILVER_APPLIED, retention_hours=168)

    assert done.log_files_after < done.log_files_before
    assert not (log / f"{0:020d}.json").exists()
    assert lakehouse.count(SILVER_APPLIED) == 8


def test_the_default_retention_keeps_files_a_recent_version_uses(lakehouse):
    _append_runs(lakehouse, SILVER_APPLIED, 4)
    files_on_disk = len(list(lakehouse.path(SILVER_APPLIED).glob("*.parquet")))

    done = maintain_table(lakehouse, SILVER_APPLIED, retention_hours=168)

    assert (done.files_removed, done.bytes_removed) == (0, 0)
    # the compacted-away files stay for readers of the versions before the compaction
    assert len(list(lakehouse.path(SILVER_APPLIED).glob("*.parquet"))) == files_on_disk + 1
    before = DeltaTable(lakehouse.uri(SILVER_APPLIED), version=3)
    assert all(os.path.exists(uri) for uri in before.file_uris())


def test_a_retention_below_the_window_set_explicitly_vacuums_the_compacted_files(lakehouse):
    written = _append_runs(lakehouse, SILVER_APPLIED, 4)
    folder = lakehouse.path(SILVER_APPLIED)
    sizes = sum(f.stat().st_size for f in folder.glob("*.parquet"))

    done = maintain_table(lakehouse, SILVER_APPLIED, retention_hours=0, below_window=True)

    assert done.files_removed == 4
    assert done.bytes_removed == sizes
    assert len(list(folder.glob("*.parquet"))) == 1
    assert _sorted(lakehouse.to_arrow(SILVER_APPLIED)).equals(_sorted(written))
    assert _sorted(_duckdb_rows(folder)).equals(_sorted(written))


def test_maintaining_twice_changes_nothing_the_second_time(lakehouse):
    _append_runs(lakehouse, SILVER_APPLIED, 3)
    maintain_table(lakehouse, SILVER_APPLIED, retention_hours=168)

    again = maintain_table(lakehouse, SILVER_APPLIED, retention_hours=168)

    assert (again.files_before, again.files_after) == (1, 1)
    assert again.version_after == again.version_before


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("interval 7 days", 168),
        ("interval 1 week", 168),
        ("interval 36 hours", 36),
        ("INTERVAL 90 MINUTES", 1.5),
        ("interval 30 days", 720),
    ],
)
def test_delta_intervals_in_hours(text, hours):
    assert interval_hours(text) == hours


def test_an_unreadable_interval_is_named():
    with pytest.raises(ValueError, match="'seven days'"):
        interval_hours("seven days")


def _table_with_window(lakehouse, window: str) -> DeltaTable:
    write_deltalake(
        lakehouse.uri(SILVER_APPLIED),
        pa.table({"batch_id": ["b"]}),
        configuration={"delta.deletedFileRetentionDuration": window},
    )
    return lakehouse.delta(SILVER_APPLIED)


def test_a_default_retention_below_a_tables_window_is_refused_naming_table_and_property(lakehouse):
    delta = _table_with_window(lakehouse, "interval 30 days")
    with pytest.raises(
        RetentionTooShort,
        match=r"meta\.silver_applied: vacuum_retention_hours "
        r"168 is below the table's delta\.deletedFileRetentionDuration of 720",
    ):
        check_retention(SILVER_APPLIED, delta, 168, explicit=False)
    assert check_retention(SILVER_APPLIED, delta, 168, explicit=True) is True
    assert check_retention(SILVER_APPLIED, delta, 720, explicit=False) is False


def test_settings_default_to_a_week_and_read_the_environment(tmp_path, clean_env):
    settings = load_settings(workspace=tmp_path)
    assert settings.vacuum_retention_hours == 168
    assert "vacuum_retention_hours" not in settings.model_fields_set
    clean_env.setenv("CDP_VACUUM_RETENTION_HOURS", "24")
    settings = load_settings(workspace=tmp_path)
    assert settings.vacuum_retention_hours == 24
    assert "vacuum_retention_hours" in settings.model_fields_set


def test_a_negative_retention_is_an_error_naming_the_variable(tmp_path, clean_env):
    clean_env.setenv("CDP_VACUUM_RETENTION_HOURS", "-1")
    with pytest.raises(ValueError, match="CDP_VACUUM_RETENTION_HOURS: vacuum_retention_hours"):
        load_settings(workspace=tmp_path)


def test_maintain_does_every_existing_catalogue_table_and_the_marts(settings, lakehouse):
    _append_runs(lakehouse, SILVER_APPLIED, 3)
    lakehouse.append_arrow(pa.table({"channel": ["pos"]}), INGEST_LOG)
    settings.marts_db.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.marts_db)) as con:
        con.execute("SET checkpoint_threshold = '1GB'")
        con.execute("CREATE TABLE customer_rfm AS SELECT range AS r FROM range(1000)")

    result = maintain(settings)

    assert [t.table for t in result.tables] == ["meta.ingest_log", "meta.silver_applied"]
    assert result.retention_hours == 168
    assert result.marts.skipped is None
    assert not settings.marts_db.with_name("cdp.duckdb.wal").exists()
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM customer_rfm").fetchone() == (1000,)
    assert existing_tables(lakehouse) == [INGEST_LOG, SILVER_APPLIED]
    assert QUARANTINE not in existing_tables(lakehouse)


def test_a_refused_retention_touches_no_table(settings, lakehouse):
    _append_runs(lakehouse, INGEST_LOG, 3)
    _table_with_window(lakehouse, "interval 30 days")

    with pytest.raises(RetentionTooShort, match="silver_applied"):
        maintain(settings)

    assert len(lakehouse.delta(INGEST_LOG).file_uris()) == 3


def test_maintain_is_refused_on_a_busy_workspace_and_touches_nothing(settings, lakehouse):
    _append_runs(lakehouse, SILVER_APPLIED, 2)
    holder = _hold(settings.workspace, 30)
    try:
        with pytest.raises(WorkspaceBusy):
            maintain(settings)
    finally:
        holder.kill()
        holder.wait()
    assert len(lakehouse.delta(SILVER_APPLIED).file_uris()) == 2


def test_the_marts_checkpoint_is_skipped_without_a_file(tmp_path):
    assert checkpoint_marts(tmp_path / "cdp.duckdb").skipped == "no marts file yet"


def test_cdp_maintain_prints_what_it_did_per_table(settings, lakehouse, clean_env):
    _append_runs(lakehouse, SILVER_APPLIED, 5)

    result = CliRunner().invoke(cli, ["--workspace", str(settings.workspace), "maintain"])

    assert result.exit_code == 0, result.output
    assert "Table maintenance (vacuum retention 168 hours)" in result.output
    row = next(
        line for line in result.output.splitlines() if "meta.silver_applied" in line and "│" in line
    )
    # table, rows, files, vacuumed, bytes removed, log files, version
    assert [cell.strip() for cell in row.split("│")[1:8]] == [
        "meta.silver_applied",
        "10",
        "5 -> 1",
        "0",
        "0 B",
        "5 -> 8",
        "4 -> 5",
    ]
    assert "no marts file yet" in result.output
