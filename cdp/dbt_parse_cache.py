"""dbt's saved parse of the project, shared by every workspace of this machine.

Parsing the dbt project takes about ten seconds, most of a small build; dbt saves the parse
(``partial_parse.msgpack`` in the target folder) and reuses it while the project files, the
command-line variables and the connection settings are unchanged. A new workspace has no
target folder yet, so it is seeded with the last parse saved by any workspace of the same
project and dbt version. dbt itself checks that a seeded parse still applies (and parses again
when it does not), so a stale copy costs only the parse it could not save.

The copies live in ``$XDG_CACHE_HOME/cdp/dbt-parse`` (default ``~/.cache``): written whole to a
temporary name and renamed, so concurrent builds never read half a file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

SAVED_PARSE = "partial_parse.msgpack"


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "cdp" / "dbt-parse"


def _cached(project_dir: Path) -> Path:
    """The cached parse of ``project_dir`` for the installed dbt version."""
    from dbt.version import __version__ as dbt_version

    key = hashlib.sha256(f"{Path(project_dir).resolve()}|{dbt_version}".encode()).hexdigest()
    return cache_dir() / f"{key[:16]}.msgpack"


def seed(target_dir: Path, project_dir: Path) -> bool:
    """Copy the cached parse into ``target_dir`` if it has none; whether one was copied."""
    saved, cached = Path(target_dir) / SAVED_PARSE, _cached(project_dir)
    if saved.exists() or not cached.is_file():
        return False
    saved.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, saved)
    return True


def keep(target_dir: Path, project_dir: Path) -> None:
    """Cache ``target_dir``'s parse for the next new workspace (when it differs)."""
    saved, cached = Path(target_dir) / SAVED_PARSE, _cached(project_dir)
    if not saved.is_file():
        return
    data = saved.read_bytes()
    if cached.is_file() and cached.read_bytes() == data:
        return
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cached.parent, suffix=".tmp", delete=False) as out:
            out.write(data)
        os.replace(out.name, cached)
    except OSError:
        # A read-only or full cache only costs the next new workspace its parse.
        for leftover in cached.parent.glob("*.tmp"):
            leftover.unlink(missing_ok=True)
