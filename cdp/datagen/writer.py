"""Writing records into landing-zone files, as the channels deliver them."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

from cdp.datagen.malformed import KINDS, break_record
from spark_jobs.contracts import CONTRACTS

MALFORMED_RATE = 0.002
GB18030_FILE_KEYS = {"SH002", "SH004"}  # their POS systems export GBK


class LandingWriter:
    """Buffers one chunk of people's records per file, then appends them to disk."""

    def __init__(self, out: Path, rng: random.Random, end: date):
        self.out, self.rng, self.end = out, rng, end
        self.buffers: dict[tuple[str, date, str], list[str]] = defaultdict(list)
        self.rows: Counter = Counter()
        self.malformed: dict[str, Counter] = defaultdict(Counter)

    def emit(self, channel: str, day: date, file_key: str, record) -> None:
        if day >= self.end:
            return  # has not happened yet when the data set is cut
        contract = CONTRACTS[channel]
        if self.rng.random() < MALFORMED_RATE:
            kind = self.rng.choice(KINDS)
            self.malformed[channel][kind] += 1
            broken = break_record(self.rng, contract, record, kind)
            line = self._serialise(contract.format, record if broken is None else broken)
            if broken is None:
                line = line[: len(line) // 2] if contract.format == "jsonl" else \
                    ",".join(line.split(",")[:3])
        else:
            line = self._serialise(contract.format, record)
        self.buffers[(channel, day, file_key)].append(line)
        self.rows[channel] += 1

    @staticmethod
    def _serialise(fmt: str, record) -> str:
        if fmt == "csv":
            return ",".join("" if v is None else str(v) for v in record)
        return json.dumps({k: v for k, v in record.items() if v is not None},
                          ensure_ascii=False, separators=(",", ":"))

    def flush(self, chunk: int) -> None:
        """Write the buffered chunk: one file per channel, file key and day."""
        for (channel, day, file_key), lines in sorted(self.buffers.items()):
            contract = CONTRACTS[channel]
            folder = self.out / channel / day.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            suffix = "csv" if contract.format == "csv" else "jsonl"
            path = folder / f"{file_key}_{day:%Y%m%d}_{chunk:03d}.{suffix}"
            if contract.format == "csv":
                lines = [",".join(f.name for f in contract.fields), *lines]
            encoding = "gb18030" if file_key in GB18030_FILE_KEYS else "utf-8"
            path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
        self.buffers.clear()


def deliver_late_and_twice(out: Path, rng: random.Random, late_rate: float = 0.03,
                           resend_rate: float = 0.01) -> tuple[int, int, Counter]:
    """Move some files to a later day's folder and re-deliver copies of others.

    Returns (late files, re-delivered files, re-delivered rows per channel).
    """
    files = sorted(p for p in out.rglob("*") if p.is_file())
    late = resent = 0
    resent_rows: Counter = Counter()
    for path in files:
        channel, day = path.parent.parent.name, date.fromisoformat(path.parent.name)
        roll = rng.random()
        if roll < late_rate:
            target = out / channel / (day + timedelta(days=rng.randint(1, 2))).isoformat()
            target.mkdir(parents=True, exist_ok=True)
            path.rename(target / path.name)
            late += 1
        elif roll < late_rate + resend_rate:
            target = out / channel / (day + timedelta(days=rng.randint(1, 3))).isoformat()
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / f"{path.stem}_resend{path.suffix}")
            resent += 1
            lines = path.read_bytes().count(b"\n")
            resent_rows[channel] += lines - (1 if path.suffix == ".csv" else 0)
    return late, resent, resent_rows
