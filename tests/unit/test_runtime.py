"""The runtime: with SPARK_REMOTE it uses that endpoint and starts nothing."""

import subprocess
import sys
import textwrap

import pytest

# The engine starts in a subprocess, out of reach of the unit tier's guard: say so here.
pytestmark = pytest.mark.engine

# Runs in its own interpreter: a Spark Connect client keeps one active session per process,
# and stopping this one must not disturb the session the other tests share.
SCRIPT = textwrap.dedent("""
    import sys
    from pysail.spark import SparkConnectServer
    from cdp.config import load_settings
    from cdp.runtime import spark_session

    external = SparkConnectServer(ip="127.0.0.1", port=0)
    external.start(background=True)
    host, port = external.listening_address
    settings = load_settings(workspace=sys.argv[1], spark_remote=f"sc://{host}:{port}")
    with spark_session(settings) as spark:
        print("answer", spark.sql("SELECT 40 + 2 AS answer").first().answer)
        print("timezone", spark.conf.get("spark.sql.session.timeZone"))
    print("still running", external.running)
    external.stop()
""")


def test_external_endpoint_is_used_and_left_running(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "answer 42" in lines
    assert "timezone UTC" in lines
    # The platform did not start this server, so it must not stop it.
    assert "still running True" in lines
