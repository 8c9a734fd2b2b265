"""cdp.spark_server without a JVM: the command line, the jar fetch's failure, stop and status."""

from __future__ import annotations

import subprocess

import pytest

from cdp import spark_server


def conf_of(command: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in command if arg.startswith("-Dspark."))


def test_java_command_has_delta_on_loopback_and_extra_settings(tmp_path):
    state = spark_server.state_of(15099, tmp_path)
    command = spark_server.java_command(
        tmp_path / "jars", state, "2g", 2, {"spark.sql.shuffle.partitions": "3"}
    )
    conf = conf_of(command)
    assert command[:2] == ["java", "-Xmx2g"]
    assert command[-3:] == ["-cp", f"{tmp_path / 'jars'}/*", spark_server.MAIN_CLASS]
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.catalog.spark_catalog"].endswith("delta.catalog.DeltaCatalog")
    assert conf["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert conf["spark.connect.grpc.binding.port"] == "15099"
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.sql.shuffle.partitions"] == "3"  # the extra setting wins


def test_pom_pins_the_server_and_delta_versions():
    pom = spark_server.POM_TEMPLATE.format(
        scala=spark_server.SCALA_VERSION,
        spark=spark_server.SPARK_VERSION,
        delta=spark_server.DELTA_VERSION,
    )
    assert "<artifactId>spark-connect_2.13</artifactId>" in pom
    assert "<artifactId>delta-spark_2.13</artifactId>" in pom
    # Delta's 4.0 line is the one for Spark 4.0 (docs.delta.io/releases)
    assert spark_server.DELTA_VERSION.split(".")[:2] == spark_server.SPARK_VERSION.split(".")[:2]


def test_fetch_without_mvn_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(spark_server.SparkServerError, match="mvn .* is not on PATH"):
        spark_server.fetch_jars(tmp_path, say=lambda _msg: None)


def test_a_cached_fetch_runs_no_mvn(tmp_path, monkeypatch):
    jars = spark_server.jars_dir(tmp_path)
    jars.mkdir(parents=True)
    (jars / ".complete").write_text("done\n")
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn: a call would fail
    assert spark_server.fetch_jars(tmp_path, say=lambda _msg: None) == jars


def test_stop_and_status_of_a_dead_pid_file(tmp_path):
    # a real process that has exited: its pid file is stale
    child = subprocess.Popen(["true"])
    child.wait()
    state = spark_server.state_of(15098, tmp_path)
    state.folder.mkdir(parents=True)
    state.pid_file.write_text(f"{child.pid}\n")
    assert "no Spark Connect server is running" in spark_server.status(15098, tmp_path)
    assert spark_server.stop(15098, tmp_path, say=lambda _msg: None) is False
    assert not state.pid_file.exists()


def test_stop_ends_a_running_server_process(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    state = spark_server.state_of(15097, tmp_path)
    state.folder.mkdir(parents=True)
    state.pid_file.write_text(f"{sleeper.pid}\n")
    assert spark_server.status(15097, tmp_path).startswith(f"running: pid {sleeper.pid}")
    assert spark_server.stop(15097, tmp_path, say=lambda _msg: None) is True
    assert sleeper.poll() is not None
    assert not state.pid_file.exists()


def test_no_table_keeps_statistics_of_a_boolean_column():
    """Delta Lake on Spark refuses a boolean in ``delta.dataSkippingStatsColumns`` (silver
    identifiers' ``identifier_is_valid`` failed the JVM server's standardise)."""
    import pyarrow as pa

    from cdp import tables

    for declared in tables.catalogue():
        if not declared.personal:
            continue
        kept = set(tables.stats_columns(declared))
        booleans = {f.name for f in declared.schema if pa.types.is_boolean(f.type)}
        assert not kept & booleans, f"{declared.table}: {sorted(kept & booleans)}"
