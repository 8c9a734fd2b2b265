"""The workspace lock: one writer at a time, re-entrant, released however a process ends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cdp.workspace_lock import WorkspaceBusy, workspace_lock

HOLD = textwrap.dedent("""
    import sys, time
    from cdp.workspace_lock import workspace_lock
    with workspace_lock(sys.argv[1], command="holder-under-test"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _hold(workspace: Path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(workspace), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path):
    holder = _hold(tmp_path, 30)
    try:
        with (
            pytest.raises(WorkspaceBusy, match=f"process {holder.pid} \\(holder-under-test"),
            workspace_lock(tmp_path),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_releases_the_lock(tmp_path):
    holder = _hold(tmp_path, 30)
    holder.kill()
    holder.wait()
    with workspace_lock(tmp_path):
        pass


def test_a_waiting_writer_gets_the_lock_when_the_holder_finishes(tmp_path):
    holder = _hold(tmp_path, 1.0)
    started = time.monotonic()
    with workspace_lock(tmp_path, wait_seconds=20):
        waited = time.monotonic() - started
    assert 0.5 < waited < 20  # it waited for the holder's second, then got the lock
    holder.wait()


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with workspace_lock(tmp_path):
        with workspace_lock(tmp_path):
            pass
        # still held by this process after the inner block
        probe = subprocess.run(
            [sys.executable, "-c", HOLD, str(tmp_path), "0"],
            check=False,
            capture_output=True,
            text=True,
        )
        assert probe.returncode != 0 and "WorkspaceBusy" in probe.stderr


def test_taking_the_lock_clears_what_a_killed_run_staged(tmp_path):
    leftover = tmp_path / "lakehouse" / "_staging" / "ingest-pos-20260901T000000" / "part-0.parquet"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half written")
    with workspace_lock(tmp_path):
        assert not leftover.parent.exists()


def test_a_second_cdp_command_on_a_busy_workspace_exits_2_with_a_sentence(tmp_path):
    holder = _hold(tmp_path, 60)
    try:
        (tmp_path / "landing").mkdir()
        result = subprocess.run(
            [str(Path(sys.executable).with_name("cdp")), "--workspace", str(tmp_path), "ingest"],
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, "CDP_LOCK_WAIT_SECONDS": "0"},
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    message = " ".join((result.stderr + result.stdout).split())  # the console wraps lines
    assert f"is in use by process {holder.pid} (holder-under-test" in message
    assert "Traceback" not in result.stderr
