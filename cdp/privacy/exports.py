"""Erasure in the export history: the rows of erased people leave every pack an export folder
holds (CSV, XLSX, the DMP files' zipped hashes), and the folder's manifest gets the new
checksums and a record of what was removed.

A row is the person's when one of its cells is one of their OneIDs or a spelling of their
identifiers (``keys.hashed_forms``: values, and the MD5 / SHA-256 the DMP files carry); an
Ocean Engine line (base64 of many ids) loses their ids and is encoded again. A batch of
requests reads and rewrites each file once for all its people (``owners``): one pass per
person rewrote a 1M-person export's workbooks a thousand times.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from cdp.activation.dmp.common import file_digest
from cdp.activation.dmp.oceanengine import encode_dmp_line
from cdp.activation.manifest import write_manifest
from cdp.activation.packs import write_csv, write_xlsx

#: the owner (a request id) of a row, list of cells, or None when it is nobody's
Owner = Callable[[list], str | None]
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def owners(forms_by_owner: dict[str, set[str]]) -> Owner:
    """The owner of a row with a cell that is one of their forms (hex hashes in any case)."""
    lookup = {form.lower(): owner for owner, forms in forms_by_owner.items() for form in forms}

    def owner_of(cells: list) -> str | None:
        for cell in cells:
            if cell is not None and (owner := lookup.get(str(cell).strip().lower())) is not None:
                return owner
        return None

    return owner_of


def matcher(forms: set[str]) -> Owner:
    """One person's rows (owner ``person``): for ``remaining`` and one-person scrubs."""
    return owners({"person": forms})


def _split(rows: list, owner_of: Owner) -> tuple[list, Counter]:
    """(rows kept, rows removed per owner)."""
    kept, removed = [], Counter()
    for row in rows:
        if (owner := owner_of(row)) is None:
            kept.append(row)
        else:
            removed[owner] += 1
    return kept, removed


def scrub_csv(path: Path, owner_of: Owner) -> Counter:
    """Remove the owners' rows from a pack CSV (header kept); rows removed per owner."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        header, *rows = list(csv.reader(source))
    kept, removed = _split(rows, owner_of)
    if removed:
        write_csv(path, header, kept)
    return removed


def scrub_xlsx(path: Path, owner_of: Owner) -> Counter:
    """Remove the owners' rows from a pack workbook, rewritten by the pack writer with the
    same title, header, widths and as-of day; rows removed per owner."""
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheets = workbook.worksheets
    header = [c.value for c in sheets[0][1]]
    rows = [list(r) for s in sheets for r in s.iter_rows(min_row=2, values_only=True)]
    kept, removed = _split(rows, owner_of)
    if not removed:
        return removed
    # XlsxWriter stores a width w as w plus its padding (under 1): the whole part is w
    widths = [int(d.width) for _, d in sorted(sheets[0].column_dimensions.items())]
    as_of = workbook.properties.created.date()
    write_xlsx(path, sheets[0].title, header, kept, as_of, widths)
    return removed


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


def _scrub_lines(path: Path, lines: list[str], owner_of: Owner) -> tuple[list[str], Counter]:
    """(lines kept, ids removed per owner): a line of ids separated by commas goes whole; an
    Ocean Engine line loses the owners' ids and is encoded again."""
    data_type = _oceanengine_type(path)
    if data_type is None:
        kept, removed = _split([line.split(",") for line in lines], owner_of)
        return [",".join(cells) for cells in kept], removed
    kept, removed = [], Counter()
    for line in lines:
        ids = decode_dmp_line(line)
        others, theirs = _split([[i] for i in ids], owner_of)
        removed += theirs
        if not theirs:
            kept.append(line)
        elif others:
            kept.append(encode_dmp_line([i for [i] in others], data_type).decode())
    return kept, removed


def scrub_zip(path: Path, owner_of: Owner) -> Counter:
    """Remove the owners' ids from every text entry of a DMP zip; ids removed per owner."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name).decode() for name in archive.namelist()}
    removed, rewritten = Counter(), {}
    for name, text in entries.items():
        kept, count = _scrub_lines(path, text.splitlines(), owner_of)
        removed += count
        rewritten[name] = "".join(f"{line}\n" for line in kept)
    if removed:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in rewritten.items():
                archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), text)
    return removed


SCRUBBERS = {".csv": scrub_csv, ".xlsx": scrub_xlsx, ".zip": scrub_zip}


def scrub_folder(folder: Path, owner_of: Owner, at: dict[str, str]) -> dict[str, dict[str, int]]:
    """Remove the owners' rows from every pack of one export folder, each file read once, and
    update its manifest (new checksums, one erasure record per owner with rows removed, at
    ``at[owner]``); rows removed per owner and file (relative name), only files that had some."""
    removed: dict[str, dict[str, int]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.suffix in SCRUBBERS):
        for owner, count in sorted(SCRUBBERS[path.suffix](path, owner_of).items()):
            removed.setdefault(owner, {})[path.relative_to(folder).as_posix()] = count
    manifest_path = folder / "manifest.json"
    if removed and manifest_path.exists():
        changed = {name for files in removed.values() for name in files}
        manifest = json.loads(manifest_path.read_text())
        manifest["files"] = [
            file_digest(folder / f["name"]) | {"name": f["name"]} if f["name"] in changed else f
            for f in manifest["files"]
        ]
        manifest.setdefault("erasures", []).extend(
            {"request_id": owner, "at": at[owner], "rows_removed": files}
            for owner, files in sorted(removed.items())
        )
        write_manifest(manifest_path, manifest)
    return removed


def scrub_exports(root: Path, owner_of: Owner, at: dict[str, str]) -> dict[str, dict[str, int]]:
    """``scrub_folder`` on every export folder under ``root`` (``<segment>/<run id>``); rows
    removed per owner and file, named from ``root``."""
    removed: dict[str, dict[str, int]] = {}
    for manifest in sorted(root.glob("*/*/manifest.json")) if root.is_dir() else []:
        folder = manifest.parent
        prefix = folder.relative_to(root).as_posix()
        for owner, files in scrub_folder(folder, owner_of, at).items():
            removed.setdefault(owner, {}).update({f"{prefix}/{n}": c for n, c in files.items()})
    return removed


def remaining(root: Path, owner_of: Owner) -> int:
    """Rows of the owners still in any export file under ``root`` (the verification)."""
    found = 0
    for path in (
        sorted(p for p in root.rglob("*") if p.suffix in SCRUBBERS) if root.is_dir() else []
    ):
        found += _count(path, owner_of)
    return found


def _count(path: Path, owner_of: Owner) -> int:
    if path.suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        return sum(owner_of(r) is not None for r in csv.reader(io.StringIO(text)))
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return sum(
                _scrub_lines(path, archive.read(name).decode().splitlines(), owner_of)[1].total()
                for name in archive.namelist()
            )
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    return sum(
        owner_of(list(r)) is not None
        for s in workbook.worksheets
        for r in s.iter_rows(values_only=True)
    )
