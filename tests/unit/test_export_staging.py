"""Export folders appear whole or not at all: written beside the final folder, renamed."""

from __future__ import annotations

import os

import pytest

from cdp.activation.staging import staged_folder


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_the_pack_appears_only_when_complete(tmp_path):
    final = tmp_path / "segment" / "20260930-abc"
    with staged_folder(final) as staged:
        (staged / "dmp").mkdir()
        (staged / "dmp" / "part_0001.zip").write_bytes(b"zip")
        (staged / "manifest.json").write_text("{}")
        assert staged.parent == final.parent and staged.name.startswith(".partial-")
        assert not final.exists()
    assert names(final) == ["dmp", "manifest.json"]
    assert names(final.parent) == ["20260930-abc"]


def test_a_rerun_replaces_the_previous_pack_whole(tmp_path):
    final = tmp_path / "20260930-abc"
    final.mkdir()
    (final / "stale.csv").write_text("old")
    with staged_folder(final) as staged:
        (staged / "manifest.json").write_text("{}")
    assert names(final) == ["manifest.json"]
    assert names(tmp_path) == ["20260930-abc"]


def test_a_failed_export_leaves_the_previous_pack_and_no_partial_folder(tmp_path):
    final = tmp_path / "20260930-abc"
    final.mkdir()
    (final / "manifest.json").write_text("previous")
    with pytest.raises(OSError, match="disk full"), staged_folder(final) as staged:
        (staged / "sms.csv").write_text("half")
        raise OSError("disk full")
    assert (final / "manifest.json").read_text() == "previous"
    assert names(tmp_path) == ["20260930-abc"]


def test_leftovers_of_a_killed_export_are_removed_by_the_next(tmp_path):
    killed = tmp_path / f".partial-20260929-abc-{os.getpid() + 1}"
    (killed / "dmp").mkdir(parents=True)
    (killed / "sms.csv").write_text("half, no manifest")
    other_run = tmp_path / "20260928-abc"
    other_run.mkdir()
    with staged_folder(tmp_path / "20260930-abc") as staged:
        (staged / "manifest.json").write_text("{}")
    assert names(tmp_path) == ["20260928-abc", "20260930-abc"]
