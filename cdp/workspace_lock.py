"""One writer per workspace: an exclusive lock every writing step takes.

Two runs on one workspace at once doubled bronze rows and left the gates failing for good.
The lock is an ``flock`` on ``<workspace>/.cdp.lock``: the kernel releases it when the process
ends, however it ends, so a killed run never leaves a stale lock behind. It is re-entrant within
a process (``run`` takes it, then each step it calls takes it again). The file records who holds
it, so the refusal can say which command to wait for.

Taking the lock first (not re-entering) also clears what a killed run left half done: staging
folders, which nothing else would ever remove.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = ".cdp.lock"
POLL_SECONDS = 0.5

#: workspace -> (open lock file, depth) for the locks this process holds
_held: dict[Path, list] = {}


class WorkspaceBusy(RuntimeError):
    """Another process holds the workspace's lock."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another process"
    return (
        f"process {info.get('pid', '?')} ({info.get('command', '?')}, since "
        f"{info.get('since', '?')})"
    )


@contextmanager
def workspace_lock(
    workspace: Path, wait_seconds: float = 0.0, command: str | None = None
) -> Iterator[None]:
    """Hold the workspace's writer lock; wait up to ``wait_seconds`` for it, then raise
    ``WorkspaceBusy`` naming the holder."""
    workspace = Path(workspace).resolve()
    if workspace in _held:
        _held[workspace][1] += 1
        try:
            yield
        finally:
            _held[workspace][1] -= 1
        return
    workspace.mkdir(parents=True, exist_ok=True)
    path = workspace / LOCK_FILE
    handle = path.open("a+", encoding="utf-8")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(path)
                handle.close()
                raise WorkspaceBusy(
                    f"workspace {workspace} is in use by {holder}; wait for it to finish "
                    f"(or set lock_wait_seconds / CDP_LOCK_WAIT_SECONDS to wait longer)"
                ) from None
            time.sleep(POLL_SECONDS)
    handle.truncate(0)
    handle.write(
        json.dumps(
            {
                "pid": os.getpid(),
                "command": command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
    )
    handle.flush()
    _held[workspace] = [handle, 1]
    try:
        clear_leftovers(workspace)
        yield
    finally:
        del _held[workspace]
        handle.truncate(0)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def clear_leftovers(workspace: Path) -> None:
    """Remove what a killed run left behind: staged intermediate results. Only safe while
    holding the lock (nobody else can be using them)."""
    shutil.rmtree(workspace / "lakehouse" / "_staging", ignore_errors=True)
