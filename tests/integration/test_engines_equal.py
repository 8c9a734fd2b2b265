"""The same jobs on both engines give the same tables.

Ingest, standardise and OneID run twice over copies of the session's generated landing zone
(its first two days: the JVM server answers each of the jobs' many small queries in about a
second, and the files a day brings set how many there are), on the embedded Sail engine with the embedded OneID engine (what ``auto`` picks at this size),
and on a local JVM Spark Connect server with Delta Lake (``cdp spark-server``) with OneID's
Spark engine; the marts are built over each run's Delta tables. Every silver and identity table
and every mart must hold the same rows with the same columns and types.

The Sail side is run here rather than taken from ``shared_run``: this module is a worker group
of its own (the JVM run takes minutes), and a second ``shared_run`` on this worker would also
run the gates, exports and journeys, which neither side of the comparison needs.

Columns left out of the comparison, because they record when or where a run happened rather
than what it computed: ``_loaded_at``, ``ingested_at``, ``applied_at``, ``run_id``,
``marts_build_id`` and ``silver_applied_through`` (load times, OneID run ids, the marts build's
stamp and the load time the build read silver up to). File paths (``_source_file``, the ingest
log's ``source_file`` and ``duplicate_of``) are compared relative to each run's landing folder
(the two runs read copies of the same files in different workspaces).
"""

from __future__ import annotations

import shutil

import duckdb
import pyarrow as pa
import pytest

from cdp import pipeline
from cdp.config import load_settings
from cdp.lakehouse import Lakehouse

#: the last delivery day both runs ingest (the generated landing zone starts on 2026-09-01)
THROUGH = "2026-09-02"
#: a clock reading of the run (see the module docstring)
RUN_COLUMNS = {
    "_loaded_at",
    "ingested_at",
    "applied_at",
    "run_id",
    "marts_build_id",
    "silver_applied_through",
}
#: landing file paths (bronze lineage, the ingest log), compared relative to the landing folder
PATH_COLUMNS = {"_source_file", "source_file", "duplicate_of"}
#: the OneID run log: the engine's name, rounds and times differ by design
ENGINE_SPECIFIC_TABLES = {"meta.identity_runs"}


def run_steps(generated, tmp_path_factory, name: str, **overrides):
    """Ingest, standardise, OneID on one engine, then the marts build: the run's settings."""
    from cdp.runtime import spark_session

    root, _ = generated
    ws = tmp_path_factory.mktemp(name)
    shutil.copytree(root / "landing", ws / "landing")
    settings = load_settings(workspace=ws, **overrides)
    with spark_session(settings) as spark:
        pipeline.ingest(settings, spark, through_date=THROUGH)
        pipeline.standardise(settings, spark)
        pipeline.resolve_identity(settings, spark)
    pipeline.build_marts(settings, as_of=THROUGH)
    return settings


@pytest.fixture(scope="module")
def sail_run(generated, tmp_path_factory):
    """The steps on the embedded Sail server, OneID by the embedded engine."""
    return run_steps(generated, tmp_path_factory, "sail-run", identity_engine="embedded")


@pytest.fixture(scope="module")
def jvm_run(generated, jvm_spark_url, tmp_path_factory):
    """The steps on the JVM Spark Connect server, OneID by the Spark engine."""
    return run_steps(
        generated, tmp_path_factory, "jvm-run", spark_remote=jvm_spark_url, identity_engine="spark"
    )


def canonical_rows(table: pa.Table, landing: str) -> list[tuple]:
    """The table's rows, run columns left out, lineage paths relative, in a fixed order."""
    keep = [name for name in table.column_names if name not in RUN_COLUMNS]
    rows = table.select(keep).to_pylist()
    for row in rows:
        for column in PATH_COLUMNS.intersection(row):
            row[column] = row[column] and row[column].removeprefix(landing)
    return sorted(tuple(repr(row[name]) for name in keep) for row in rows)


def schema_of(table: pa.Table) -> list[tuple[str, str]]:
    return [(f.name, str(f.type)) for f in table.schema if f.name not in RUN_COLUMNS]


def lakehouse_tables(settings) -> dict[str, pa.Table]:
    """Every silver and identity table (the silver layer holds both) and the meta tables."""
    from deltalake import DeltaTable

    lakehouse = Lakehouse(settings.lakehouse_dir)
    return {
        str(table): DeltaTable(lakehouse.uri(table)).to_pyarrow_table()
        for layer in ("silver", "meta")
        for table in lakehouse.tables(layer)
        if str(table) not in ENGINE_SPECIFIC_TABLES
    }


def mart_tables(settings) -> dict[str, pa.Table]:
    """Every table of the marts file dbt builds (the restricted one: the analysts' copy hashes
    personal values with a key of each workspace's own, so it differs between any two runs)."""
    with duckdb.connect(str(settings.restricted_marts_db), read_only=True) as con:
        names = [
            f"{schema}.{name}"
            for schema, name in con.sql(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2"
            ).fetchall()
        ]
        return {name: con.sql(f"SELECT * FROM {name}").to_arrow_table() for name in names}


def differences(sail: dict[str, pa.Table], jvm: dict[str, pa.Table], landings) -> list[str]:
    """One line per table whose schema or rows differ between the two runs."""
    found = []
    for name in sorted(set(sail) | set(jvm)):
        if name not in sail or name not in jvm:
            found.append(f"{name}: only in the {'JVM' if name in jvm else 'Sail'} run")
            continue
        if schema_of(sail[name]) != schema_of(jvm[name]):
            found.append(f"{name}: schema Sail {schema_of(sail[name])} JVM {schema_of(jvm[name])}")
            continue
        a, b = (canonical_rows(t, landing) for t, landing in zip((sail[name], jvm[name]), landings))
        if a != b:
            only_sail = sorted(set(a) - set(b))[:2]
            only_jvm = sorted(set(b) - set(a))[:2]
            found.append(
                f"{name}: {len(a)} rows on Sail, {len(b)} on the JVM; "
                f"only on Sail {only_sail}, only on the JVM {only_jvm}"
            )
    return found


def _landings(*runs) -> tuple[str, str]:
    return tuple(str(settings.landing_dir.resolve()) for settings in runs)


def _engines(settings) -> list[str]:
    from deltalake import DeltaTable

    runs = DeltaTable(str(settings.lakehouse_dir / "meta" / "identity_runs")).to_pyarrow_table()
    return runs.column("engine").to_pylist()


def test_identity_ran_on_the_spark_engine_of_the_jvm_server(sail_run, jvm_run):
    assert _engines(sail_run) == ["embedded"]
    assert _engines(jvm_run) == ["spark"]


def test_silver_and_identity_tables_are_identical_on_both_engines(sail_run, jvm_run):
    sail, jvm = lakehouse_tables(sail_run), lakehouse_tables(jvm_run)
    assert {"silver.identity_map", "silver.orders", "silver.golden_records"} <= set(jvm)
    assert differences(sail, jvm, _landings(sail_run, jvm_run)) == []


def test_marts_are_identical_on_both_engines(sail_run, jvm_run):
    sail, jvm = mart_tables(sail_run), mart_tables(jvm_run)
    assert len(jvm) > 10
    assert differences(sail, jvm, _landings(sail_run, jvm_run)) == []
