"""Export folders appear whole or not at all.

An export writes its files into a hidden folder beside the final one
(``<segment>/.partial-<run id>-<pid>``) and renames it into place once the manifest is
written, so a folder named after a run always holds a complete pack with its manifest. A
killed export leaves only a ``.partial-`` folder, which the next export of the segment removes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL = ".partial-"


def remove_leftovers(parent: Path) -> list[Path]:
    """Delete the partial folders killed exports left in ``parent``; returns what was removed.
    Exports of one workspace never overlap (the workspace lock), so any is a leftover."""
    leftovers = sorted(parent.glob(f"{PARTIAL}*")) if parent.is_dir() else []
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return leftovers


def _replace_folder(staged: Path, final: Path) -> None:
    """Put ``staged`` at ``final``. A folder cannot be renamed over a non-empty one, so the
    previous folder is first moved aside (a reader may then briefly find no folder, never
    half of one) and deleted afterwards."""
    previous = final.with_name(f"{PARTIAL}{final.name}-{os.getpid()}-previous")
    if final.exists():
        os.replace(final, previous)
    os.replace(staged, final)
    shutil.rmtree(previous, ignore_errors=True)


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yield an empty folder beside ``final`` to write into; when the block ends normally it
    replaces ``final``, when it raises it is deleted and ``final`` is left as it was."""
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(final.parent)
    staged = final.with_name(f"{PARTIAL}{final.name}-{os.getpid()}")
    staged.mkdir()
    try:
        yield staged
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    _replace_folder(staged, final)
