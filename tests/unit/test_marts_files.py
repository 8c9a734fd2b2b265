"""The marts file: builds swap in atomically, failed builds keep the previous file, query
errors are one sentence. dbt itself is replaced by a stand-in: no engine, no dbt project."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from cdp import marts
from cdp.cli import main
from cdp.config import load_settings


def write_marts(path, rows: list[int], table: str = "customer_rfm") -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT unnest(?) AS one_id", [rows])


def read_ids(path, table: str = "customer_rfm") -> list[int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [i for (i,) in con.execute(f"SELECT one_id FROM {table} ORDER BY 1").fetchall()]


@pytest.fixture
def settings(tmp_path):
    return load_settings(workspace=tmp_path / "workspace")


def model_node(name: str, status: str = "success") -> SimpleNamespace:
    return SimpleNamespace(
        status=status,
        message="Binder Error: no column x",
        node=SimpleNamespace(unique_id=f"model.cdp.{name}", resource_type="model", name=name),
    )


class FakeDbt:
    """Stands in for dbtRunner: writes the file the profile names, then passes or fails;
    with ``last_data_day`` it also builds int_as_of (as of 2026-09-30)."""

    def __init__(self, fails: bool, last_data_day: str | None = "absent"):
        self.fails, self.last_data_day = fails, last_data_day
        self.database = None

    def __call__(self, callbacks=None):
        return self

    def invoke(self, args):
        self.database = os.environ["CDP_MARTS_DB"]
        write_marts(self.database, [7, 8, 9])
        write_manifest(Path(args[args.index("--target-path") + 1]))
        nodes = [model_node("customer_rfm", "error" if self.fails else "success")]
        if self.last_data_day != "absent":
            with duckdb.connect(self.database) as con:
                con.execute(
                    "CREATE SCHEMA intermediate; CREATE TABLE intermediate.int_as_of "
                    "AS SELECT DATE '2026-09-30' AS as_of, ?::DATE AS last_data_day",
                    [self.last_data_day],
                )
            nodes.append(model_node("int_as_of"))
        return SimpleNamespace(
            exception=None, success=not self.fails, result=SimpleNamespace(results=nodes)
        )


def write_manifest(target: Path) -> None:
    """The manifest a build leaves: the tables the analysts' file is published from."""
    nodes = {
        f"model.cdp.{name}": {"resource_type": "model", "schema": schema, "name": name}
        for schema, name in [("main", "customer_rfm"), ("main", "rfm_daily")]
        + [("intermediate", "int_as_of")]
    }
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}))


@pytest.fixture
def fake_dbt(monkeypatch):
    def install(fails: bool, **options) -> FakeDbt:
        fake = FakeDbt(fails, **options)
        monkeypatch.setattr("dbt.cli.main.dbtRunner", fake)
        return fake

    return install


def test_a_failing_build_keeps_the_previous_file_and_says_so(settings, fake_dbt):
    restricted = settings.restricted_marts_db  # the file dbt builds
    restricted.parent.mkdir(parents=True)
    write_marts(restricted, [1, 2])
    fake = fake_dbt(fails=True)
    with pytest.raises(marts.MartsBuildFailed) as caught:
        marts.run_dbt(settings, ["build"])
    assert fake.database != str(restricted)  # dbt never wrote the live file
    assert f"the previous marts are kept in {restricted}" in str(caught.value)
    assert "model.cdp.customer_rfm: Binder Error: no column x" in str(caught.value)
    assert read_ids(restricted) == [1, 2]
    assert sorted(p.name for p in restricted.parent.iterdir()) == ["restricted.duckdb"]


def test_a_first_build_that_fails_writes_no_file(settings, fake_dbt):
    fake_dbt(fails=True)
    with pytest.raises(marts.MartsBuildFailed, match="no marts were written to"):
        marts.run_dbt(settings, ["build"])
    assert list(settings.marts_db.parent.iterdir()) == []


def test_a_passing_build_replaces_the_file_and_keeps_what_it_did_not_rebuild(settings, fake_dbt):
    settings.restricted_marts_db.parent.mkdir(parents=True)
    write_marts(settings.restricted_marts_db, [1, 2])
    write_marts(settings.restricted_marts_db, [5], table="rfm_daily")  # history it appends to
    fake_dbt(fails=False)
    result = marts.run_dbt(settings, ["build"])
    assert (result.database, result.models, result.passed) == (
        settings.marts_db,
        ["customer_rfm"],
        1,
    )
    assert read_ids(settings.marts_db) == [7, 8, 9]
    assert read_ids(settings.marts_db, "rfm_daily") == [5]
    names = sorted(p.name for p in settings.marts_db.parent.iterdir())
    assert names == ["analyst_hash.key", "cdp.duckdb", "restricted.duckdb"]


def test_a_build_on_empty_silver_says_it_is_as_of_today(settings, fake_dbt):
    fake_dbt(fails=False, last_data_day=None)
    result = marts.run_dbt(settings, ["build"])
    assert result.as_of == "2026-09-30"
    assert result.summary().startswith("marts as of 2026-09-30: 2 models, 2 nodes passed")
    assert result.note == (
        "silver holds no orders or events yet: the marts are built as of "
        "today, 2026-09-30 in Asia/Shanghai, with no activity in them"
    )


def test_a_build_with_data_reports_its_day_without_a_note(settings, fake_dbt):
    fake_dbt(fails=False, last_data_day="2026-09-30")
    result = marts.run_dbt(settings, ["build"])
    assert (result.as_of, result.note) == ("2026-09-30", None)


def test_readers_keep_the_file_they_opened_while_a_build_swaps_in(tmp_path):
    database = tmp_path / "cdp.duckdb"
    write_marts(database, [1, 2])
    reader = duckdb.connect(str(database), read_only=True)
    with marts.staged_database(database) as staged:
        write_marts(staged, [3])  # a read-only reader does not block the build
        assert read_ids(database) == [1, 2]
    assert [i for (i,) in reader.execute("SELECT one_id FROM customer_rfm").fetchall()] == [1, 2]
    reader.close()
    assert read_ids(database) == [3]


def test_a_killed_build_leaves_a_copy_the_next_build_removes(tmp_path):
    database = tmp_path / "cdp.duckdb"
    write_marts(database, [1])
    leftover = tmp_path / "cdp.duckdb.building-99999"
    leftover.write_bytes(b"half a database")
    with pytest.raises(RuntimeError, match="interrupted"), marts.staged_database(database):
        assert not leftover.exists()
        raise RuntimeError("interrupted")
    assert read_ids(database) == [1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdp.duckdb"]


def test_an_sql_error_is_one_sentence_with_duckdbs_message(tmp_path):
    database = tmp_path / "cdp.duckdb"
    write_marts(database, [1])
    with pytest.raises(marts.MartsQueryError) as caught:
        marts.query(database, "SELECT nope FROM customer_rfm", 5)
    message = str(caught.value)
    assert message.startswith(f"the query on {database} failed: Binder Error: ")
    assert "nope" in message and "\n" not in message
    assert marts.query(database, "FROM customer_rfm", 5) == (["one_id"], [(1,)])


def test_marts_query_prints_the_error_and_exits_with_2(settings, monkeypatch, capsys):
    settings.marts_db.parent.mkdir(parents=True)
    write_marts(settings.marts_db, [1])
    monkeypatch.setattr(
        sys, "argv", ["cdp", "--workspace", str(settings.workspace), "marts", "query", "SELEC 1"]
    )
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "error: the query on" in err and "Parser Error: syntax error" in err
    assert "Traceback" not in err
