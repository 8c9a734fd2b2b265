"""The Spark Connect runtime: the only module that creates Spark sessions.

By default it starts an embedded Sail server (Spark Connect protocol, Rust engine, no JVM) on
127.0.0.1 on a free port, checks it answers, and connects to it. With ``spark_remote`` set
(``SPARK_REMOTE=sc://host:port`` or ``cdp.yaml``) it connects to that endpoint and starts nothing,
so the same jobs run on a Spark 4 cluster with Delta.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from cdp.config import UNBOUNDED, Settings, size_in_bytes

log = logging.getLogger(__name__)

SESSION_CONF = {
    # Every timestamp is UTC in the lakehouse (see spark_jobs.contracts).
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
}
#: Sail's memory pool: its type and the size of a fair pool
SAIL_MEMORY_POOL = ("SAIL_RUNTIME__MEMORY_POOL__TYPE", "SAIL_RUNTIME__MEMORY_POOL__FAIR__MAX_SIZE")
HEALTH_CHECK_TIMEOUT_S = 30.0
#: a remote endpoint may be restarting; past this, with imports, a run still fails inside 30 s
REACHABLE_TIMEOUT_S = 20.0


class EngineError(RuntimeError):
    """The Spark Connect engine could not be started or reached."""


def sail_environment(settings: Settings, memory_pool: bool = False) -> dict[str, str]:
    """The SAIL_* variables of the settings: the default parallelism when set and, for a
    session that asks for it (``memory_pool``), a fair memory pool of ``sail_memory_limit``.

    Sail's pool is unbounded by default. OneID's rules took their process to 8.5 GiB at
    1,000,000 customers; in a 3 GB pool they spill and stay under 3 GiB, 5 s slower. Ingest
    does not get one: its operators that cannot spill took a 4 GB pool whole and failed the
    step, where unbounded it peaks at 5.4 GiB."""
    variables = {}
    if settings.sail_parallelism:
        variables["SAIL_EXECUTION__DEFAULT_PARALLELISM"] = str(settings.sail_parallelism)
    if memory_pool and settings.sail_memory_limit != UNBOUNDED:
        variables.update(
            zip(SAIL_MEMORY_POOL, ("fair", str(size_in_bytes(settings.sail_memory_limit))))
        )
    return variables


def _start_sail(settings: Settings, memory_pool: bool):
    # Sail reads SAIL_* variables when the server object is built, so set them first.
    variables = sail_environment(settings, memory_pool)
    for name in SAIL_MEMORY_POOL:  # an earlier session's pool must not outlive its settings
        os.environ.pop(name, None)
    os.environ.update(variables)
    # Sail logs to this process's stderr; its shutdown warnings are noise for users (-v shows more).
    os.environ.setdefault("RUST_LOG", "error")
    from pysail.spark import SparkConnectServer

    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    address = server.listening_address
    if address is None:
        raise EngineError("the embedded Sail server did not start listening")
    return server, f"sc://{address[0]}:{address[1]}"


def _wait_reachable(url: str, timeout_s: float = REACHABLE_TIMEOUT_S) -> None:
    """Fail within ``timeout_s`` when nothing listens at the endpoint: the Spark Connect
    client itself retries with growing back-off for minutes, printing nothing."""
    parsed = urlsplit(url.replace("sc://", "tcp://", 1))
    host, port = parsed.hostname or "localhost", parsed.port or 15002
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=min(5.0, timeout_s)):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise EngineError(
                    f"Spark Connect endpoint {url} is not reachable "
                    f"({host}:{port}: {exc.strerror or exc}); check "
                    "SPARK_REMOTE / spark_remote, or unset it to use the "
                    "embedded engine"
                ) from None
            time.sleep(0.5)


def _connect(url: str):
    from pyspark.sql import SparkSession

    _wait_reachable(url)

    builder = SparkSession.builder.remote(url)
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    deadline = time.monotonic() + HEALTH_CHECK_TIMEOUT_S
    while True:
        try:
            spark.sql("SELECT 1").collect()
            return spark
        except Exception as exc:  # the server may still be warming up
            if time.monotonic() > deadline:
                raise EngineError(f"Spark Connect endpoint {url} did not answer: {exc}") from exc
            time.sleep(0.2)


@contextmanager
def spark_session(settings: Settings, memory_pool: bool = False) -> Iterator:
    """Yield a Spark Connect session for the configured engine and clean up afterwards; an
    embedded Sail started for it has a bounded memory pool if ``memory_pool``
    (``sail_environment``)."""
    server = None
    if settings.spark_remote:
        url = settings.spark_remote
        log.info("connecting to external Spark Connect endpoint %s", url)
    else:
        server, url = _start_sail(settings, memory_pool)
        log.info("started embedded Sail server at %s", url)
    spark = _connect(url)
    try:
        yield spark
    finally:
        try:
            spark.stop()
        finally:
            if server is not None:
                server.stop()
                log.info("stopped embedded Sail server")
