"""The runtime: with SPARK_REMOTE it uses that endpoint and starts nothing."""

from cdp.config import load_settings
from cdp.runtime import spark_session


def test_external_endpoint_is_used_and_left_running(tmp_path):
    from pysail.spark import SparkConnectServer

    external = SparkConnectServer(ip="127.0.0.1", port=0)
    external.start(background=True)
    try:
        host, port = external.listening_address
        settings = load_settings(workspace=tmp_path, spark_remote=f"sc://{host}:{port}")
        with spark_session(settings) as spark:
            assert spark.sql("SELECT 40 + 2 AS answer").first().answer == 42
            assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
        # The platform did not start this server, so it must not stop it.
        assert external.running
    finally:
        external.stop()
