"""Erasure in the export history: the rows of erased people leave every pack an export folder
holds (CSV, XLSX, the DMP files' zipped hashes), and the folder's manifest gets the new
checksums and a record of what was removed.

A row is the person's when one of its cells is one of their OneIDs or a spelling of their
identifiers (``keys.hashed_forms``: values, and the MD5 / SHA-256 the DMP files carry); an
Ocean Engine line (base64 of many ids) loses their ids and is encoded again.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from cdp.activation.dmp.common import file_digest
from cdp.activation.dmp.oceanengine import encode_dmp_line
from cdp.activation.manifest import write_manifest
from cdp.activation.packs import write_csv, write_xlsx

Matcher = Callable[[list], bool]
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def matcher(forms: set[str]) -> Matcher:
    """True for a row with a cell that is one of ``forms`` (hex hashes in any case)."""
    lowered = {f.lower() for f in forms}
    return lambda cells: any(c is not None and str(c).strip().lower() in lowered for c in cells)


def scrub_csv(path: Path, is_theirs: Matcher) -> int:
    """Remove the person's rows from a pack CSV (header kept); rows removed."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        header, *rows = list(csv.reader(source))
    kept = [r for r in rows if not is_theirs(r)]
    if len(kept) < len(rows):
        write_csv(path, header, kept)
    return len(rows) - len(kept)


def scrub_xlsx(path: Path, is_theirs: Matcher) -> int:
    """Remove the person's rows from a pack workbook, rewritten by the pack writer with the
    same title, header, widths and as-of day; rows removed."""
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheets = workbook.worksheets
    header = [c.value for c in sheets[0][1]]
    rows = [list(r) for s in sheets for r in s.iter_rows(min_row=2, values_only=True)]
    kept = [r for r in rows if not is_theirs(r)]
    if len(kept) == len(rows):
        return 0
    widths = [d.width for _, d in sorted(sheets[0].column_dimensions.items())]
    as_of = workbook.properties.created.date()
    write_xlsx(path, sheets[0].title, header, kept, as_of, widths)
    return len(rows) - len(kept)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at


def decode_dmp_line(line: str) -> list[str]:
    """The ids of an Ocean Engine line (base64 of ``DmpData``: ``IdItem``s of a data type
    and an id, see ``cdp.activation.dmp.oceanengine``)."""
    data, at, ids = base64.b64decode(line), 0, []
    while at < len(data):
        length, at = _varint(data, at + 1)  # field 1, an IdItem
        item, at = data[at : at + length], at + length
        _, inner = _varint(item, 1)  # field 2, the data type
        size, inner = _varint(item, inner + 1)  # field 3, the id
        ids.append(item[inner : inner + size].decode())
    return ids


def _oceanengine_type(path: Path) -> str | None:
    found = re.fullmatch(r"oceanengine_(.+)_\d{4}\.zip", path.name)
    return found.group(1) if found else None


def _scrub_lines(path: Path, lines: list[str], is_theirs: Matcher) -> tuple[list[str], int]:
    """(lines kept, ids removed): a line of ids separated by commas goes whole; an Ocean
    Engine line loses the person's ids and is encoded again."""
    data_type = _oceanengine_type(path)
    if data_type is None:
        kept = [line for line in lines if not is_theirs(line.split(","))]
        return kept, len(lines) - len(kept)
    kept, removed = [], 0
    for line in lines:
        ids = decode_dmp_line(line)
        others = [i for i in ids if not is_theirs([i])]
        removed += len(ids) - len(others)
        if len(others) == len(ids):
            kept.append(line)
        elif others:
            kept.append(encode_dmp_line(others, data_type).decode())
    return kept, removed


def scrub_zip(path: Path, is_theirs: Matcher) -> int:
    """Remove the person's ids from every text entry of a DMP zip; ids removed."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name).decode() for name in archive.namelist()}
    removed, rewritten = 0, {}
    for name, text in entries.items():
        kept, count = _scrub_lines(path, text.splitlines(), is_theirs)
        removed += count
        rewritten[name] = "".join(f"{line}\n" for line in kept)
    if removed:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in rewritten.items():
                archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), text)
    return removed


SCRUBBERS = {".csv": scrub_csv, ".xlsx": scrub_xlsx, ".zip": scrub_zip}


def scrub_folder(folder: Path, is_theirs: Matcher, request_id: str, at: str) -> dict[str, int]:
    """Remove the person's rows from every pack of one export folder and update its manifest;
    rows removed per file (relative name), only files that had some."""
    removed = {}
    for path in sorted(p for p in folder.rglob("*") if p.suffix in SCRUBBERS):
        if count := SCRUBBERS[path.suffix](path, is_theirs):
            removed[path.relative_to(folder).as_posix()] = count
    manifest_path = folder / "manifest.json"
    if removed and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        manifest["files"] = [
            file_digest(folder / f["name"]) | {"name": f["name"]} if f["name"] in removed else f
            for f in manifest["files"]
        ]
        manifest.setdefault("erasures", []).append(
            {"request_id": request_id, "at": at, "rows_removed": removed}
        )
        write_manifest(manifest_path, manifest)
    return removed


def scrub_exports(root: Path, is_theirs: Matcher, request_id: str, at: str) -> dict[str, int]:
    """``scrub_folder`` on every export folder under ``root`` (``<segment>/<run id>``); rows
    removed per file, named from ``root``."""
    removed = {}
    for manifest in sorted(root.glob("*/*/manifest.json")) if root.is_dir() else []:
        folder = manifest.parent
        for name, count in scrub_folder(folder, is_theirs, request_id, at).items():
            removed[f"{folder.relative_to(root).as_posix()}/{name}"] = count
    return removed


def remaining(root: Path, is_theirs: Matcher) -> int:
    """Rows of the person still in any export file under ``root`` (the verification)."""
    found = 0
    for path in (
        sorted(p for p in root.rglob("*") if p.suffix in SCRUBBERS) if root.is_dir() else []
    ):
        found += _count(path, is_theirs)
    return found


def _count(path: Path, is_theirs: Matcher) -> int:
    if path.suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        return sum(is_theirs(r) for r in csv.reader(io.StringIO(text)))
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return sum(
                _scrub_lines(path, archive.read(name).decode().splitlines(), is_theirs)[1]
                for name in archive.namelist()
            )
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    return sum(
        is_theirs(list(r)) for s in workbook.worksheets for r in s.iter_rows(values_only=True)
    )
