"""Audience packs: the files marketers and ad platforms receive, byte-deterministic.

- CSV: UTF-8 with a BOM (Excel then reads Chinese text correctly), comma separated, CRLF line
  ends, a header row. Values are written as they are: an SMS gateway imports them unchanged.
- XLSX (openpyxl, write-only): the same rows, every value a text cell so that Excel keeps
  phones and card numbers as typed (a number cell shows ``1.38E+10`` in a narrow column and is
  saved back with digits lost). A sheet holds at most 1,048,575 rows; more continue on further
  sheets. Workbook properties and zip entry times are fixed, so the same rows give the same
  bytes.
- DMP files: the platform writers of ``cdp.activation.dmp``.
- ``manifest.json``: sorted keys, no wall-clock time.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from cdp.activation.dmp import write_google, write_meta, write_oceanengine, write_tencent
from cdp.activation.dmp.common import file_digest

XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: how each DMP channel is written: writer and platform id type
DMP_FORMATS = {"tencent": "HASH_MOBILE_PHONE", "oceanengine": "MOBILE_HASH_SHA256",
               "google": "Phone (SHA-256, E.164)", "meta": "phone (SHA-256)"}


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> dict:
    """A CSV Excel opens correctly (UTF-8 with BOM, CRLF); returns the file's digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return file_digest(path)


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry the same time and attributes, whatever the clock says."""

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100644 << 16
        info.create_system = 3
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        info = self._info(arcname or Path(filename).name)
        with open(filename, "rb") as source, self.open(info, "w", force_zip64=True) as target:
            shutil.copyfileobj(source, target, 1 << 20)


def write_xlsx(path: Path, title: str, header: Sequence[str], rows: Iterable[Sequence],
               as_of: date, widths: Sequence[int] | None = None) -> dict:
    """An XLSX of text cells with fixed properties (created / modified = the as-of day)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    moment = datetime.combine(as_of, datetime.min.time())
    workbook.properties.creator = "cdp"
    workbook.properties.title = title
    workbook.properties.created = moment

    def new_sheet(number: int):
        sheet = workbook.create_sheet(title if number == 1 else f"{title} ({number})")
        for i, width in enumerate(widths or [], 1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.append(list(header))
        return sheet

    sheet, count, number = new_sheet(1), 0, 1
    for row in rows:
        if count == XLSX_MAX_ROWS:
            number += 1
            sheet, count = new_sheet(number), 0
        sheet.append(["" if v is None else str(v) for v in row])
        count += 1
    workbook.properties.modified = moment
    archive = _FixedTimeZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(workbook, archive).save()  # save_workbook would stamp "modified" with now
    return file_digest(path)


def write_manifest(path: Path, manifest: dict) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def write_dmp(channel: str, phones: list[str], out_dir: Path) -> dict:
    """A DMP pack of ``phones`` in the platform's format; returns the writer's manifest."""
    if channel == "tencent":
        return write_tencent(phones, DMP_FORMATS[channel], out_dir)
    if channel == "oceanengine":
        return write_oceanengine(phones, DMP_FORMATS[channel], out_dir)
    if channel == "google":
        return write_google(({"phone": p} for p in phones), out_dir)
    if channel == "meta":
        return write_meta(({"phone": p} for p in phones), out_dir)
    raise ValueError(f"{channel} is not a DMP channel")
