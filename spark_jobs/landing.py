"""The landing zone: finding delivered files, fingerprinting them, and reading their raw rows.

Files live in ``landing/<channel>/<delivery date>/<file>``. A file is identified by the SHA-256
of its bytes, so a re-delivered copy under another name is recognised and skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.csv

from cdp.lakehouse import Lakehouse
from spark_jobs.contracts import Contract
from spark_jobs.frames import union_all
from spark_jobs.validation import raw_schema_ddl

CHUNK = 1 << 20


@dataclass(frozen=True)
class LandedFile:
    """One delivered file."""

    channel: str
    path: Path
    delivery_date: str
    checksum: str

    @property
    def batch_id(self) -> str:
        """Deterministic batch id: the same bytes always load as the same batch."""
        return self.checksum[:20]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def discover(landing: Path, contract: Contract, through_date: str | None = None
             ) -> list[LandedFile]:
    """Every file of a channel, oldest delivery first, optionally up to a delivery date."""
    root = landing / contract.channel
    if not root.is_dir():
        return []
    found = [(day.name, path)
             for day in sorted(p for p in root.iterdir() if p.is_dir())
             if not (through_date and day.name > through_date)
             for path in sorted(p for p in day.iterdir()
                                if p.is_file() and not p.name.startswith("."))]
    # hashlib releases the GIL, so checksums run on every core (7 GiB: 5.8 s -> 3.6 s on two).
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        checksums = list(pool.map(sha256_of, [path for _, path in found]))
    return [LandedFile(contract.channel, path, day, checksum)
            for (day, path), checksum in zip(found, checksums)]


def decode(data: bytes, contract: Contract, path: Path) -> str:
    """Text of a file in the first of the contract's encodings that decodes it cleanly.

    POS systems export GBK/GB18030; Spark would read such bytes as garbled UTF-8 without an
    error, so files are transcoded here, before any engine sees them.
    """
    for encoding in contract.encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path}: not decodable as any of {', '.join(contract.encodings)}")


def parse_csv(text: str, contract: Contract, path: Path) -> pa.Table:
    """Raw rows of a CSV file as strings, one row per line after the header.

    Columns are matched by header name, so a source that reorders columns still loads; a
    missing column is all-NULL (its required check then quarantines the rows). A line with
    the wrong number of values is kept with ``_unparseable`` set. Values never span lines in
    POS exports, which lets every row keep its own raw line for the quarantine. Arrow's CSV
    reader parses (the csv module took twice as long); it skips the bad lines and names them.
    """
    lines = text.splitlines()
    if not lines:
        raise ValueError(f"{path}: empty CSV file, expected a header line")
    header = [h.strip().lstrip("\ufeff") for h in next(csv.reader([lines[0]]))]
    body = lines[1:]
    bad: list[int] = []

    def skip_bad_line(row) -> str:
        bad.append(row.number)  # 1-based within the body
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    good = pyarrow.csv.read_csv(
        io.BytesIO("\n".join(body).encode("utf-8")),
        read_options=pyarrow.csv.ReadOptions(column_names=names, use_threads=False,
                                             block_size=1 << 26),
        parse_options=pyarrow.csv.ParseOptions(invalid_row_handler=skip_bad_line,
                                               newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pyarrow.csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
            quoted_strings_can_be_null=False),
    ) if body else None
    skipped = np.zeros(len(body), dtype=bool)
    skipped[np.asarray(bad, dtype=np.int64) - 1] = True
    value = pa.array(body, pa.string())
    # Arrow reads an empty line as a row of empty values; it has none, like a short line.
    unparseable = skipped | pa.compute.equal(value, "").to_numpy(zero_copy_only=False)
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
        arrays[f.name] = (good.column(i).take(pa.array(rows, mask=unparseable))
                          if i is not None and good is not None
                          else pa.nulls(len(body), pa.string()))
    return pa.table(arrays)


def read_jsonl(spark, contract: Contract, files: list[LandedFile]):
    """Lines of JSON-lines files, parsed, with their raw text, file, batch and line number."""
    from pyspark.sql import functions as F

    # Line numbers follow the read order of each file, so they come out the same every time.
    raw = union_all([
        spark.read.text(str(f.path))
        .selectExpr("value", "row_number() OVER (ORDER BY monotonically_increasing_id()) "
                             "AS _line_no")
        .withColumn("_source_file", F.lit(str(f.path))).withColumn("_batch_id", F.lit(f.batch_id))
        for f in files
    ])
    # explode(array(...)) keeps one row per line but stops the engine from inlining the
    # parse into every later reference to ``rec`` (Sail re-parsed the JSON once per field).
    return raw.selectExpr(
        "value", "_line_no", "_source_file", "_batch_id",
        f"explode(array(from_json(value, '{raw_schema_ddl(contract)}'))) AS rec",
        "false AS _unparseable")


def read_csv(spark, contract: Contract, files: list[LandedFile], lakehouse: Lakehouse,
             staging: str):
    """Rows of CSV files (decoded from UTF-8 or GB18030 in Python) with their raw text.

    The parsed rows reach the engine as staged Parquet rather than through the Spark Connect
    channel, which caps a message at 128 MiB.
    """
    tables = []
    for f in files:
        table = parse_csv(decode(f.path.read_bytes(), contract, f.path), contract, f.path)
        n = table.num_rows
        table = table.append_column("_source_file", pa.array([str(f.path)] * n, pa.string()))
        tables.append(table.append_column("_batch_id", pa.array([f.batch_id] * n, pa.string())))
    raw = lakehouse.stage_arrow(spark, pa.concat_tables(tables), f"{staging}/csv")
    fields = ", ".join(f"`{f.name}`" for f in contract.fields)
    return raw.selectExpr("value", "_line_no", "_source_file", "_batch_id",
                          f"struct({fields}) AS rec", "_unparseable")


def read_raw(spark, contract: Contract, files: list[LandedFile], lakehouse: Lakehouse,
             staging: str):
    """Parsed rows (``rec``), their raw text (``value``) and lineage, for ``validate``."""
    if contract.format == "csv":
        return read_csv(spark, contract, files, lakehouse, staging)
    return read_jsonl(spark, contract, files)
