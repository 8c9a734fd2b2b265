"""An unreachable SPARK_REMOTE fails fast with a sentence, instead of the Spark Connect
client's minutes of silent retries."""

from __future__ import annotations

import socket
import time

import pytest

from cdp import runtime
from cdp.config import load_settings
from cdp.runtime import EngineError


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


def test_an_endpoint_nobody_listens_on_fails_within_the_timeout_naming_it():
    port = _closed_port()
    started = time.monotonic()
    with pytest.raises(EngineError, match=f"sc://127.0.0.1:{port} is not reachable"):
        runtime._wait_reachable(f"sc://127.0.0.1:{port}", timeout_s=1.0)
    assert time.monotonic() - started < 5


def test_a_session_on_an_unreachable_remote_raises_before_connecting(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime._wait_reachable, "__defaults__", (0.5,))  # a short wait
    settings = load_settings(workspace=tmp_path, spark_remote=f"sc://127.0.0.1:{_closed_port()}")
    with pytest.raises(EngineError, match="check SPARK_REMOTE"), runtime.spark_session(settings):
        pass


def test_the_wait_leaves_room_for_imports_inside_30_seconds():
    assert runtime.REACHABLE_TIMEOUT_S <= 20
