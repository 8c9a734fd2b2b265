"""A local JVM Spark Connect server with Delta Lake: the production-like engine on one machine.

``cdp spark-server start`` fetches the Spark Connect server and ``delta-spark`` jars from Maven
Central with ``mvn dependency:copy-dependencies`` into a cache folder (once; later starts reuse
it), then starts ``org.apache.spark.sql.connect.service.SparkConnectServer`` with ``java -cp`` on
127.0.0.1 with the Delta catalog and extensions. ``SPARK_REMOTE=sc://127.0.0.1:PORT`` then runs
every Spark job on it (see ``cdp.runtime``).

Versions: the client is pyspark 4.0.5, but Maven Central serves ``spark-connect_2.13`` of the 4.0
line only as 4.0.1 (4.0.2 to 4.0.5 are not found), so the server is Spark 4.0.1, with Delta 4.0.1
(Delta 4.0.x is the line for Spark 4.0.x; 4.0.2 is not served either). Spark Connect keeps one
protocol within a minor version, so a 4.0.5 client talks to a 4.0.1 server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cdp.runtime import EngineError

SCALA_VERSION = "2.13"
SPARK_VERSION = "4.0.1"
DELTA_VERSION = "4.0.1"
DEFAULT_PORT = 15002
DEFAULT_MEMORY = "4g"
#: the JVM answers on its port in 10-25 s on 2 cores; a cold JIT on a busy machine takes longer
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0
MAIN_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
CACHE_ENV = "CDP_SPARK_SERVER_CACHE"

#: What spark-submit adds on Java 17 (org.apache.spark.launcher.JavaModuleOptions): Spark and
#: Arrow reach into these JDK internals, and ``java -cp`` does not add them itself.
JAVA_MODULE_OPTIONS = [
    "-XX:+IgnoreUnrecognizedVMOptions",
    *(
        f"--add-opens=java.base/{package}=ALL-UNNAMED"
        for package in (
            "java.lang",
            "java.lang.invoke",
            "java.lang.reflect",
            "java.io",
            "java.net",
            "java.nio",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "jdk.internal.ref",
            "sun.nio.ch",
            "sun.nio.cs",
            "sun.security.action",
            "sun.util.calendar",
        )
    ),
    "-Djdk.reflect.useDirectMethodHandle=false",
    "-Dio.netty.tryReflectionSetAccessible=true",
]

POM_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by cdp.spark_server: the jars of a local Spark Connect server with Delta Lake. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cdp</groupId>
  <artifactId>spark-server</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.spark</groupId>
      <artifactId>spark-connect_{scala}</artifactId>
      <version>{spark}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.spark</groupId>
      <artifactId>spark-sql_{scala}</artifactId>
      <version>{spark}</version>
    </dependency>
    <dependency>
      <groupId>io.delta</groupId>
      <artifactId>delta-spark_{scala}</artifactId>
      <version>{delta}</version>
    </dependency>
  </dependencies>
</project>
"""


class SparkServerError(EngineError):
    """The JVM Spark Connect server could not be fetched, started or stopped."""


@dataclass(frozen=True)
class ServerState:
    """Where a server on one port keeps its pid file, log and scratch folders."""

    port: int
    folder: Path

    @property
    def pid_file(self) -> Path:
        return self.folder / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"


def cache_root() -> Path:
    """The cache folder of the server's jars and run state: ``$CDP_SPARK_SERVER_CACHE``, or
    ``~/.cache/cdp/spark-server`` (kept across test runs, which point XDG_CACHE_HOME elsewhere)."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "cdp" / "spark-server"


def jars_dir(root: Path | None = None) -> Path:
    """The folder of the jars of this module's versions (filled by ``fetch_jars``)."""
    base = root or cache_root()
    return base / f"spark-{SPARK_VERSION}_delta-{DELTA_VERSION}_scala-{SCALA_VERSION}" / "jars"


def state_of(port: int, root: Path | None = None) -> ServerState:
    """The run state of the server on ``port``."""
    return ServerState(port, (root or cache_root()) / f"run-{port}")


def fetch_jars(root: Path | None = None, say=print) -> Path:
    """The jars folder, filled from Maven Central by ``mvn dependency:copy-dependencies`` the
    first time (about 290 MB, 170 jars; ~1.5 min), reused afterwards."""
    target = jars_dir(root)
    done = target / ".complete"
    if done.is_file():
        return target
    build = target.parent
    build.mkdir(parents=True, exist_ok=True)
    pom = build / "pom.xml"
    pom.write_text(
        POM_TEMPLATE.format(scala=SCALA_VERSION, spark=SPARK_VERSION, delta=DELTA_VERSION)
    )
    partial = build / "jars.partial"
    say(
        f"fetching Spark {SPARK_VERSION} Connect and Delta {DELTA_VERSION} jars with mvn into {target}"
    )
    command = [
        "mvn",
        "-B",
        "-q",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SparkServerError(
            "mvn (Apache Maven) is not on PATH: install it (e.g. apt-get install maven) to fetch "
            "the Spark Connect server's jars"
        ) from None
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise SparkServerError(f"mvn could not fetch the jars of {pom}: " + " | ".join(tail))
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    done.write_text(f"spark {SPARK_VERSION}, delta {DELTA_VERSION}\n")
    return target


def java_command(
    jars: Path, state: ServerState, memory: str, cores: int, extra_conf: dict[str, str]
) -> list[str]:
    """The ``java`` command line of a server on ``state.port``, everything on 127.0.0.1;
    ``extra_conf`` adds or replaces Spark settings."""
    conf = {
        "spark.master": f"local[{cores}]",
        "spark.app.name": "cdp-spark-connect",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(state.port),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.ui.enabled": "false",
        # Spark's 200 shuffle partitions and Delta's 50 snapshot partitions are cluster sizes:
        # on 2 cores every small query would pay for hundreds of tiny tasks.
        "spark.sql.shuffle.partitions": str(cores * 8),
        "spark.databricks.delta.snapshotPartitions": str(cores * 2),
        "spark.local.dir": str(state.folder / "tmp"),
        "spark.sql.warehouse.dir": str(state.folder / "warehouse"),
        **extra_conf,
    }
    return [
        "java",
        f"-Xmx{memory}",
        *JAVA_MODULE_OPTIONS,
        *(f"-D{key}={value}" for key, value in conf.items()),
        "-cp",
        f"{jars}/*",
        MAIN_CLASS,
    ]


def running_pid(state: ServerState) -> int | None:
    """The pid of the server on ``state.port`` if its pid file names a live process."""
    try:
        pid = int(state.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def port_answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def start(
    port: int = DEFAULT_PORT,
    memory: str = DEFAULT_MEMORY,
    cores: int | None = None,
    root: Path | None = None,
    say=print,
    extra_conf: dict[str, str] | None = None,
) -> ServerState:
    """Fetch the jars if needed, start the server on 127.0.0.1:``port`` and wait until the port
    answers. A server already running there (by its pid file) is reused."""
    state = state_of(port, root)
    if running_pid(state) is not None:
        say(f"a Spark Connect server is already running at {state.url} (log {state.log_file})")
        return state
    if port_answers(port):
        raise SparkServerError(f"port {port} on 127.0.0.1 is taken by another program")
    jars = fetch_jars(root, say)
    state.folder.mkdir(parents=True, exist_ok=True)
    command = java_command(jars, state, memory, cores or os.cpu_count() or 2, extra_conf or {})
    # Python UDFs (pandas_udf, mapInArrow) run in workers the JVM starts: this interpreter,
    # whose environment has pyspark and the project's modules the UDFs import.
    # SPARK_LOCAL_IP: the block manager and the executor's host name stay on loopback too.
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    say(f"starting the Spark Connect server at {state.url} (log {state.log_file})")
    with state.log_file.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    state.pid_file.write_text(f"{process.pid}\n")
    _wait_listening(process, state)
    say(f"Spark Connect server {SPARK_VERSION} with Delta {DELTA_VERSION} is up: {state.url}")
    return state


def _wait_listening(process: subprocess.Popen, state: ServerState) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not port_answers(state.port):
        if process.poll() is not None:
            state.pid_file.unlink(missing_ok=True)
            raise SparkServerError(
                f"the Spark Connect server exited with code {process.returncode} before "
                f"listening on port {state.port}; see {state.log_file}: {_log_tail(state)}"
            )
        if time.monotonic() > deadline:
            stop(state.port, state.folder.parent, say=lambda _msg: None)
            raise SparkServerError(
                f"the Spark Connect server did not listen on port {state.port} within "
                f"{START_TIMEOUT_S:.0f} s; see {state.log_file}"
            )
        time.sleep(0.5)


def _log_tail(state: ServerState, lines: int = 3) -> str:
    try:
        text = state.log_file.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "(no log)"
    return " | ".join(text[-lines:])


def stop(port: int = DEFAULT_PORT, root: Path | None = None, say=print) -> bool:
    """Stop the server on ``port`` (SIGTERM, SIGKILL after 30 s); False if none was running."""
    state = state_of(port, root)
    pid = running_pid(state)
    if pid is None:
        state.pid_file.unlink(missing_ok=True)
        say(f"no Spark Connect server is running at {state.url}")
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while running_pid(state) is not None and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.2)
    if running_pid(state) is not None:
        os.kill(pid, signal.SIGKILL)
        _reap(pid)
    state.pid_file.unlink(missing_ok=True)
    say(f"stopped the Spark Connect server at {state.url} (pid {pid})")
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when this process started the server (else it stays a zombie,
    which ``os.kill(pid, 0)`` still finds)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def status(port: int = DEFAULT_PORT, root: Path | None = None) -> str:
    """One line: whether a server runs on ``port``, its pid, URL and log."""
    state = state_of(port, root)
    pid = running_pid(state)
    if pid is None:
        return f"no Spark Connect server is running at {state.url}"
    answering = "answering" if port_answers(port) else "not answering yet"
    return f"running: pid {pid}, {state.url} ({answering}), log {state.log_file}"
