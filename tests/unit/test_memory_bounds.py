"""The memory bounds of a pipeline step: Sail's pool from the settings, and the step's
in-process DuckDB limited and spilling (``cdp.local_duckdb``)."""

import os

import duckdb
import pytest

from cdp import local_duckdb
from cdp.config import ConfigError, Settings, load_settings, size_in_bytes
from cdp.runtime import sail_environment


def test_sizes_are_read_as_duckdb_reads_them():
    assert size_in_bytes("4GB") == 4_000_000_000
    assert size_in_bytes("1.5 GB") == 1_500_000_000
    assert size_in_bytes("512MB") == 512_000_000
    with pytest.raises(ValueError, match="'lots' is not a memory size"):
        size_in_bytes("lots")


def test_a_session_asking_for_it_gets_a_fair_pool_of_the_configured_size(tmp_path):
    assert sail_environment(Settings(workspace=tmp_path), memory_pool=True) == {
        "SAIL_RUNTIME__MEMORY_POOL__TYPE": "fair",
        "SAIL_RUNTIME__MEMORY_POOL__FAIR__MAX_SIZE": "4000000000",
    }
    bounded = sail_environment(Settings(workspace=tmp_path, sail_memory_limit="6GB"), True)
    assert bounded["SAIL_RUNTIME__MEMORY_POOL__FAIR__MAX_SIZE"] == "6000000000"


def test_other_sessions_and_an_unbounded_limit_set_no_pool(tmp_path):
    assert sail_environment(Settings(workspace=tmp_path)) == {}
    env = sail_environment(
        Settings(workspace=tmp_path, sail_memory_limit="unbounded", sail_parallelism=2), True
    )
    assert env == {"SAIL_EXECUTION__DEFAULT_PARALLELISM": "2"}


def test_a_bad_sail_memory_limit_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_SAIL_MEMORY_LIMIT", "plenty")
    with pytest.raises(ConfigError, match="sail_memory_limit"):
        load_settings(workspace=tmp_path)


def _memory_limit(con) -> int:
    (limit,) = con.execute(
        "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'"
    ).fetchone()
    return size_in_bytes(limit.replace("iB", "B").replace(" ", ""))


def test_connections_inside_a_step_are_bounded_and_spill_into_its_folder():
    unbounded = _memory_limit(local_duckdb.connect())
    with local_duckdb.bounded("100MB"):
        con = local_duckdb.connect()
        assert _memory_limit(con) < 120_000_000 < unbounded
        (spill,) = con.execute("SELECT current_setting('temp_directory')").fetchone()
        # this sort fails with DuckDB's out-of-memory error under 100 MB without a spill
        # folder: it completes because it spills into the step's
        (n,) = con.execute(
            "SELECT count(*) FROM (SELECT i, md5(i::VARCHAR) AS h FROM range(4000000) t(i) "
            "ORDER BY h)"
        ).fetchone()
        assert n == 4_000_000
        con.close()
        assert os.path.isdir(spill)
    assert not os.path.exists(spill)
    assert _memory_limit(local_duckdb.connect()) == unbounded


def test_the_connections_of_a_step_share_one_database_and_keep_their_own_temp_tables():
    with local_duckdb.bounded("100MB"):
        first, second = local_duckdb.connect(), local_duckdb.connect()
        first.execute("CREATE TABLE shared AS SELECT 1 AS x")
        first.execute("CREATE TEMP TABLE own AS SELECT 2 AS x")
        # one database, so one buffer pool and one limit between them
        assert second.execute("SELECT x FROM shared").fetchone() == (1,)
        assert _memory_limit(second) < 120_000_000
        # a step reports its own progress: no query's bar in its log
        assert second.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (
            False,
        )
        with pytest.raises(duckdb.CatalogException, match="own"):
            second.execute("SELECT x FROM own")
        second.execute("CREATE TEMP TABLE own AS SELECT 3 AS x")
        assert first.execute("SELECT x FROM own").fetchone() == (2,)
    # outside a step each connection is a database of its own
    local_duckdb.connect().execute("CREATE TABLE shared AS SELECT 1 AS x")
    with pytest.raises(duckdb.CatalogException, match="shared"):
        local_duckdb.connect().execute("SELECT x FROM shared")
