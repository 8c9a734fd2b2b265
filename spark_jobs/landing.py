"""The landing zone: finding delivered files, fingerprinting them, and reading their raw rows.

Files live in ``landing/<channel>/<delivery date>/<file>``. A file is identified by the SHA-256
of its bytes, so a re-delivered copy under another name is recognised and skipped. The pass
that hashes a file also checks that it can be read (``spark_jobs.file_checks``). Files
anywhere else are listed as strays: reported, never read.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.csv

from cdp.lakehouse import Lakehouse
from spark_jobs.contracts import Contract
from spark_jobs.file_checks import BOM, FileScan, is_delivery_date, scan_file, schema_drift
from spark_jobs.frames import union_all
from spark_jobs.validation import raw_schema_ddl


@dataclass(frozen=True)
class LandedFile:
    """One delivered file, with what the checksum pass found out about its bytes."""

    channel: str
    path: Path
    delivery_date: str
    checksum: str
    #: why no row of the file can be read (it is quarantined whole), or None
    problem: str | None = None
    #: the first contract encoding that decodes every byte
    encoding: str = "utf-8"
    has_bom: bool = False
    #: ``schema_drift:<field>`` when the file's columns or keys no longer match the contract
    drift: str | None = None
    #: the first bytes: the quarantined raw text of an unreadable file
    raw_prefix: str = ""

    @property
    def batch_id(self) -> str:
        """Deterministic batch id: the same bytes always load as the same batch."""
        return self.checksum[:20]


@dataclass(frozen=True)
class StrayFile:
    """A file outside ``<channel>/<YYYY-MM-DD>/``: never read, reported as ignored."""

    channel: str | None
    path: Path
    reason: str


def discover(
    landing: Path, contract: Contract, through_date: str | None = None
) -> list[LandedFile]:
    """Every file of a channel's delivery folders, oldest delivery first, optionally up to a
    delivery date, checksummed and checked for readability and schema drift."""
    root = landing / contract.channel
    if not root.is_dir():
        return []
    found = [
        (day.name, path)
        for day in sorted(p for p in root.iterdir() if p.is_dir())
        if is_delivery_date(day.name) and not (through_date and day.name > through_date)
        for path in sorted(p for p in day.iterdir() if p.is_file() and not _hidden(p))
    ]
    # hashlib and zlib release the GIL, so scans run on every core (7 GiB of checksums:
    # 5.8 s -> 3.6 s on two).
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        scans = list(
            pool.map(lambda path: scan_file(path, contract.encodings), [path for _, path in found])
        )
    return [_landed(contract, path, day, scan) for (day, path), scan in zip(found, scans)]


def _landed(contract: Contract, path: Path, day: str, scan: FileScan) -> LandedFile:
    drift = None if scan.problem else schema_drift(contract, scan.head)
    return LandedFile(
        contract.channel,
        path,
        day,
        scan.checksum,
        scan.problem,
        scan.encoding,
        scan.has_bom,
        drift,
        scan.raw_prefix,
    )


def _hidden(path: Path) -> bool:
    # Dot files are system files (.DS_Store) and uploads in progress, not deliveries.
    return path.name.startswith(".")


def _files_under(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def stray_files(
    landing: Path, channels: Iterable[str], known: Iterable[str] | None = None
) -> list[StrayFile]:
    """Files no ingest reads: outside ``<channel>/<YYYY-MM-DD>/`` in the folders of
    ``channels``; with ``known`` (every channel) also in the landing root or in a folder
    that is no channel."""
    strays = []
    if known is not None:
        known = set(known)
        for entry in sorted(p for p in landing.iterdir() if not _hidden(p)):
            if entry.is_file():
                strays.append(StrayFile(None, entry, "not in a channel folder"))
            elif entry.name not in known:
                strays += [
                    StrayFile(entry.name, p, f"unknown channel folder '{entry.name}'")
                    for p in _files_under(entry)
                ]
    for channel in channels:
        if (landing / channel).is_dir():
            strays += _strays_of_channel(channel, landing / channel)
    return strays


def _strays_of_channel(channel: str, root: Path) -> list[StrayFile]:
    strays = []
    for entry in sorted(p for p in root.iterdir() if not _hidden(p)):
        if entry.is_file():
            strays.append(
                StrayFile(
                    channel,
                    entry,
                    "directly in the channel folder, not in a delivery folder YYYY-MM-DD",
                )
            )
        elif not is_delivery_date(entry.name):
            strays += [
                StrayFile(channel, p, f"folder '{entry.name}' is not a delivery date YYYY-MM-DD")
                for p in _files_under(entry)
            ]
        else:
            strays += [
                StrayFile(channel, p, "in a sub-folder of a delivery folder")
                for sub in sorted(entry.iterdir())
                if sub.is_dir() and not _hidden(sub)
                for p in _files_under(sub)
            ]
    return strays


def read_text(f: LandedFile) -> str:
    """Text of a landed file in the encoding its scan found (inflated when ``.gz``).

    POS systems export GBK/GB18030; Spark would read such bytes as garbled UTF-8 without an
    error, so CSV files are transcoded here, before any engine sees them.
    """
    data = f.path.read_bytes()
    if f.path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode(f.encoding)


def split_lines(text: str) -> list[str]:
    """Lines of a CSV text, split on ``\\n`` and ``\\r\\n`` only: ``str.splitlines`` also
    splits on characters that are data inside a value (U+2028, U+0085, form feed...)."""
    lines = text.replace("\r\n", "\n").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def parse_csv(text: str, contract: Contract, path: Path) -> pa.Table:
    """Raw rows of a CSV file as strings, one row per line after the header.

    Columns are matched by header name, so a source that reorders columns still loads; a
    missing column is all-NULL (the file's schema-drift check quarantines its rows). A line
    with the wrong number of values is kept with ``_unparseable`` set, and so is a line with
    a carriage return alone inside it (Arrow would end the row there). Values never span
    lines in POS exports, which lets every row keep its own raw line for the quarantine.
    Arrow's CSV reader parses (the csv module took twice as long); it skips the bad lines and
    names them.
    """
    lines = split_lines(text)
    if not lines:
        raise ValueError(f"{path}: empty CSV file, expected a header line")
    header = [h.strip().lstrip(BOM) for h in next(csv.reader([lines[0]]))]
    body = lines[1:]
    # Arrow reads an empty line in place of such a line, to keep one parsed row per line.
    has_cr = np.array(
        ["\r" in line for line in body] if "\r" in text else [False] * len(body), dtype=bool
    )
    bad: list[int] = []

    def skip_bad_line(row) -> str:
        bad.append(row.number)  # 1-based within the body
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    good = (
        pyarrow.csv.read_csv(
            io.BytesIO(
                "\n".join("" if cr else line for line, cr in zip(body, has_cr)).encode("utf-8")
            ),
            read_options=pyarrow.csv.ReadOptions(
                column_names=names, use_threads=False, block_size=1 << 26
            ),
            parse_options=pyarrow.csv.ParseOptions(
                invalid_row_handler=skip_bad_line,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pyarrow.csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        if body
        else None
    )
    skipped = np.zeros(len(body), dtype=bool)
    skipped[np.asarray(bad, dtype=np.int64) - 1] = True
    value = pa.array(body, pa.string())
    # Arrow reads an empty line as a row of empty values; it has none, like a short line.
    unparseable = skipped | has_cr | pa.compute.equal(value, "").to_numpy(zero_copy_only=False)
    # Each line's row in the parsed table, or NULL for a bad line: take() fills it with NULLs.
    rows = np.cumsum(~skipped) - 1
    position = {name: i for i, name in enumerate(header)}
    arrays = {
        "value": value,
        "_line_no": pa.array(range(2, len(body) + 2), pa.int64()),
        "_unparseable": pa.array(unparseable),
    }
    for f in contract.fields:
        i = position.get(f.name)
        arrays[f.name] = (
            good.column(i).take(pa.array(rows, mask=unparseable))
            if i is not None and good is not None
            else pa.nulls(len(body), pa.string())
        )
    return pa.table(arrays)


def read_jsonl(spark, contract: Contract, files: list[LandedFile]):
    """Lines of JSON-lines files, parsed, with their raw text, file, batch and line number."""
    from pyspark.sql import functions as F

    # Line numbers follow the read order of each file, so they come out the same every time;
    # bigint as the CSV reader's, so every bronze table and the quarantine share one type.
    raw = union_all(
        [
            spark.read.text(str(f.path))
            .selectExpr(
                _jsonl_value(f),
                "CAST(row_number() OVER (ORDER BY "
                "monotonically_increasing_id()) AS bigint) AS _line_no",
            )
            .withColumn("_source_file", F.lit(str(f.path)))
            .withColumn("_batch_id", F.lit(f.batch_id))
            .withColumn("_drift", F.lit(f.drift).cast("string"))
            for f in files
        ]
    )
    # explode(array(...)) keeps one row per line but stops the engine from inlining the
    # parse into every later reference to ``rec`` (Sail re-parsed the JSON once per field).
    return raw.selectExpr(
        "value",
        "_line_no",
        "_source_file",
        "_batch_id",
        f"explode(array(from_json(value, '{raw_schema_ddl(contract)}'))) AS rec",
        "false AS _unparseable",
        "_drift",
    )


def _jsonl_value(f: LandedFile) -> str:
    # Only a file that starts with a BOM pays for removing it, which the JSON parser rejects.
    return f"regexp_replace(value, '^{BOM}', '') AS value" if f.has_bom else "value"


def read_csv(
    spark, contract: Contract, files: list[LandedFile], lakehouse: Lakehouse, staging: str
):
    """Rows of CSV files (decoded from UTF-8 or GB18030 in Python) with their raw text.

    The parsed rows reach the engine as staged Parquet rather than through the Spark Connect
    channel, which caps a message at 128 MiB.
    """
    tables = []
    for f in files:
        table = parse_csv(read_text(f), contract, f.path)
        n = table.num_rows
        table = table.append_column("_source_file", pa.array([str(f.path)] * n, pa.string()))
        table = table.append_column("_batch_id", pa.array([f.batch_id] * n, pa.string()))
        tables.append(table.append_column("_drift", pa.array([f.drift] * n, pa.string())))
    raw = lakehouse.stage_arrow(spark, pa.concat_tables(tables), f"{staging}/csv")
    fields = ", ".join(f"`{f.name}`" for f in contract.fields)
    return raw.selectExpr(
        "value",
        "_line_no",
        "_source_file",
        "_batch_id",
        f"struct({fields}) AS rec",
        "_unparseable",
        "_drift",
    )


def read_raw(
    spark, contract: Contract, files: list[LandedFile], lakehouse: Lakehouse, staging: str
):
    """Parsed rows (``rec``), their raw text (``value``), the file's schema drift (``_drift``)
    and lineage, for ``validate``."""
    if contract.format == "csv":
        return read_csv(spark, contract, files, lakehouse, staging)
    return read_jsonl(spark, contract, files)
