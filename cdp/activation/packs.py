"""Audience packs: the files marketers and ad platforms receive, byte-deterministic.

- CSV: UTF-8 with a BOM (Excel then reads Chinese text correctly), comma separated, CRLF line
  ends, a header row. Values are written as they are: an SMS gateway imports them unchanged.
- XLSX (XlsxWriter, streaming; about twice openpyxl's write-only speed): the same rows, every
  value a text cell so that Excel keeps phones and card numbers as typed (a number cell shows
  ``1.38E+10`` in a narrow column and is saved back with digits lost). A sheet holds at most 1,048,575 rows; more continue on further
  sheets. Workbook properties and zip entry times are fixed, so the same rows give the same
  bytes.
- DMP files: the platform writers of ``cdp.activation.dmp``, fed the phones in one_id order.

``write_packs`` writes every channel of an export: a CSV and an XLSX per marketer pack (per
official account for WeChat), a DMP folder per ad platform.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp.activation.channels import DMP_CHANNELS
from cdp.activation.dmp import write_google, write_meta, write_oceanengine, write_tencent
from cdp.activation.dmp.common import file_digest
from cdp.activation.suppression import Outcome

XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header
#: how each DMP channel is written: writer and platform id type
DMP_FORMATS = {
    "tencent": "HASH_MOBILE_PHONE",
    "oceanengine": "MOBILE_HASH_SHA256",
    "google": "Phone (SHA-256, E.164)",
    "meta": "phone (SHA-256)",
}
#: marketer packs: channel -> (columns, column widths in the XLSX)
PACK_COLUMNS = {
    "sms": (("one_id", "phone", "name"), (20, 14, 12)),
    "pos": (
        ("one_id", "member_card_no", "name", "tier", "recommended_items"),
        (20, 16, 12, 10, 60),
    ),
    "wechat_template": (
        ("one_id", "app_id", "openid", "name", "recommended_items"),
        (20, 22, 32, 12, 60),
    ),
    "wechat_cs": (
        ("one_id", "app_id", "openid", "name", "last_interaction_at"),
        (20, 22, 32, 12, 20),
    ),
}

Progress = Callable[[str], None]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> dict:
    """A CSV Excel opens correctly (UTF-8 with BOM, CRLF); returns the file's digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return file_digest(path)


def write_xlsx(
    path: Path,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence],
    as_of: date,
    widths: Sequence[int] | None = None,
) -> dict:
    """An XLSX of text cells with fixed properties (created / modified = the as-of day)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    # constant_memory streams each row to disk; every value goes in with write_string, so
    # nothing is read as a number, formula or URL. XlsxWriter stamps zip entries 1980-01-01
    # and core.xml with the "created" property, so the bytes depend on the rows only.
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    moment = datetime.combine(as_of, datetime.min.time())
    workbook.set_properties({"author": "cdp", "title": title, "created": moment})

    def new_sheet(number: int):
        sheet = workbook.add_worksheet(title if number == 1 else f"{title} ({number})")
        for i, width in enumerate(widths or []):
            sheet.set_column(i, i, width)
        for i, name in enumerate(header):
            sheet.write_string(0, i, str(name))
        return sheet

    sheet, count, number = new_sheet(1), 0, 1
    write = sheet.write_string
    for row in rows:
        if count == XLSX_MAX_ROWS:
            number += 1
            sheet, count = new_sheet(number), 0
            write = sheet.write_string
        count += 1
        for i, value in enumerate(row):
            if value is not None and value != "":
                write(count, i, str(value))
    workbook.close()
    return file_digest(path)


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


def write_assignment(folder: Path, groups: pa.Table) -> dict:
    """``assignment.csv``: every member's stratum and group (treatment / control)."""
    columns = ["one_id", "stratum", "group"]
    return write_csv(
        folder / "assignment.csv", columns, zip(*(groups.column(c).to_pylist() for c in columns))
    )


def _pack_rows(con: duckdb.DuckDBPyConnection, channel: str) -> dict[str, list[tuple]]:
    """The rows of a marketer pack, per file stem, sorted by one_id."""
    select = {
        "sms": "r.one_id, r.address, a.name",
        "pos": "r.one_id, r.address, a.name, a.tier, a.recommended_items",
        "wechat_template": "r.one_id, r.app_id, r.address, a.name, a.recommended_items",
        "wechat_cs": (
            "r.one_id, r.app_id, r.address, a.name, strftime(r.last_interaction_at "
            "AT TIME ZONE 'Asia/Shanghai', '%Y-%m-%d %H:%M:%S')"
        ),
    }[channel]
    rows = con.execute(
        f"SELECT r.app_id, {select} FROM reached AS r JOIN audience AS a "
        f"USING (one_id) WHERE r.channel = ? ORDER BY r.app_id, r.one_id",
        [channel],
    ).fetchall()
    files: dict[str, list[tuple]] = {}
    if channel in ("sms", "pos"):
        files[channel] = [row[1:] for row in rows]
    for row in rows if channel not in ("sms", "pos") else []:
        files.setdefault(f"{channel}_{row[0]}", []).append(row[1:])
    return files


def write_packs(
    folder: Path, outcome: Outcome, audience: pa.Table, as_of: date, segment: str, say: Progress
) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """Every channel's files; returns the files per channel and the DMP writers' manifests."""
    files: dict[str, list[str]] = {}
    dmp: dict[str, dict] = {}
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("audience", audience)
        con.register("reached", outcome.people.filter(pc.is_null(outcome.people["reason"])))
        for channel in outcome.channels:
            if channel in DMP_CHANNELS:
                phones = [
                    p
                    for (p,) in con.execute(
                        "SELECT address FROM reached WHERE channel = ? ORDER BY one_id", [channel]
                    ).fetchall()
                ]
                say(f"{channel}: {len(phones):,} phones")
                out = folder / "dmp" / channel
                dmp[channel] = write_dmp(channel, phones, out)
                written = dmp[channel].get("rows_written", dmp[channel].get("ids_written"))
                if written != len(phones):
                    raise RuntimeError(
                        f"{channel}: the writer dropped {dmp[channel]['dropped']}"
                        " of addresses suppression had accepted"
                    )
                files[channel] = [f"dmp/{channel}/{f['name']}" for f in dmp[channel]["files"]]
                continue
            header, widths = PACK_COLUMNS[channel]
            stems = _pack_rows(con, channel)
            files[channel] = []
            for stem, rows in sorted(stems.items()):
                say(f"{stem}: {len(rows):,} rows (CSV, XLSX)")
                write_csv(folder / f"{stem}.csv", header, rows)
                write_xlsx(folder / f"{stem}.xlsx", segment[:31], header, rows, as_of, widths)
                files[channel] += [f"{stem}.csv", f"{stem}.xlsx"]
    return files, dmp
