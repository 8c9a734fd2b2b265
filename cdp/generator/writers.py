"""The landing zone on disk: file names, late deliveries, splits, encodings, re-deliveries,
history backfills (records dated before the window, in the first folder) and corrections
files (``..._correction``, delivered ``lag`` days after their records' day).

Each chunk of people appends its lines to the files they belong to, in chunk order, so the
output does not depend on how many workers produced the chunks. Whether a file arrives late
(or is re-delivered) is decided from a stable hash of its name and the seed.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cdp.generator.catalog import Catalog
from cdp.generator.clock import Clock
from cdp.generator.render import csv_header
from spark_jobs.contracts import CONTRACTS

ROWS_PER_FILE = 500_000
LATE_SHARE = 0.03
REDELIVERED_SHARE = 0.01


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by its inputs (Python's hash() is salted per process)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class _File:
    path: Path
    rows: int = 0


@dataclass
class LandingWriter:
    out: Path
    clock: Clock
    catalog: Catalog
    seed: int
    files: dict[tuple, _File] = field(default_factory=dict)
    parts: dict[tuple, int] = field(default_factory=dict)
    late: list[str] = field(default_factory=list)
    redelivered: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)

    def _encoding(self, channel: str, key: str) -> str:
        if channel == "pos_tickets":
            for store in self.catalog.stores:
                if store.code == key:
                    return store.encoding
        return "utf-8"

    def _delivery(self, name: str, day: int, lag: int) -> tuple[int, list[str] | None]:
        """The delivery day of a file, and the list of unusual files it belongs to."""
        if day < 0:
            return 0, self.history  # a backfill of old records arrives with the first files
        if lag:
            return day + lag, self.corrections
        u = stable_fraction(self.seed, "late", name)
        if u < LATE_SHARE:
            late = 1 + int(u / LATE_SHARE * 3)
            if day + late < self.clock.days:
                return day + late, self.late
        return day, None

    def _open(self, channel: str, key: str, day: int, part: int, suffix: str, lag: int) -> _File:
        contract = CONTRACTS[channel]
        stem = f"{channel}_{key}_{self.clock.compact_name(day)}{suffix}"
        if part > 1:
            stem += f"_part{part}"
        name = f"{stem}.{contract.format}"
        delivery, listed = self._delivery(name, day, lag)
        path = self.out / channel / self.clock.iso_dates[delivery] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if listed is not None:
            listed.append(str(path.relative_to(self.out)))
        if contract.format == "csv":
            path.write_bytes((csv_header(contract) + "\n").encode(self._encoding(channel, key)))
        else:
            path.write_bytes(b"")
        return _File(path)

    def encoding(self, channel: str, key: str) -> str:
        return self._encoding(channel, key)

    def append(
        self,
        channel: str,
        key: str,
        day: int,
        data: bytes,
        rows: int,
        suffix: str = "",
        lag: int = 0,
    ) -> None:
        """Append encoded lines to the file of (channel, key, day, suffix), rolling over at
        ROWS_PER_FILE rows. ``data`` is ``rows`` newline-terminated lines (UTF-8 or GB18030:
        neither encoding ever uses the byte 0x0A inside a character, so splitting is safe).
        A negative ``day`` is a history backfill; ``lag`` delays a corrections file."""
        logical = (channel, key, day, suffix)
        while rows:
            part = self.parts.get(logical, 1)
            handle = self.files.get((*logical, part))
            if handle is None:
                handle = self.files[(*logical, part)] = self._open(
                    channel, key, day, part, suffix, lag
                )
            room = ROWS_PER_FILE - handle.rows
            if room <= 0:
                self.parts[logical] = part + 1
                continue
            take = min(room, rows)
            if take < rows:
                lines = data.split(b"\n")
                head, data = b"\n".join(lines[:take]) + b"\n", b"\n".join(lines[take:rows]) + b"\n"
            else:
                head = data
            with handle.path.open("ab") as f:
                f.write(head)
            handle.rows += take
            rows -= take

    def redeliver(self, progress=None) -> None:
        """Copy about 1% of files, byte for byte, under a new name into a later day's folder.

        Small runs still get one re-delivered file (the most likely one), so that every
        reality of the landing zone shows up even in a demo.
        """
        items = sorted(self.files.values(), key=lambda f: str(f.path))
        chosen = []
        best = None
        for handle in items:
            day = self.clock.iso_dates.index(handle.path.parent.name)
            u = stable_fraction(self.seed, "redeliver", handle.path.name)
            later = day + 1 + int(u * 300) % 3
            if later >= self.clock.days:
                continue
            if u < REDELIVERED_SHARE:
                chosen.append((handle, later))
            if best is None or u < best[0]:
                best = (u, handle, later)
        if not chosen and best is not None:
            chosen.append(best[1:])
        for done, (handle, later) in enumerate(chosen, 1):
            stem, ext = handle.path.name.rsplit(".", 1)
            copy = (
                self.out
                / handle.path.parent.parent.name
                / self.clock.iso_dates[later]
                / f"{stem}_resend.{ext}"
            )
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(handle.path, copy)
            self.redelivered.append(str(copy.relative_to(self.out)))
            if progress:
                progress("redeliver", done, len(chosen))

    def files_per_channel(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for channel, *_ in self.files:
            counts[channel] = counts.get(channel, 0) + 1
        for rel in self.redelivered:
            channel = rel.split("/", 1)[0]
            counts[channel] = counts.get(channel, 0) + 1
        return dict(sorted(counts.items()))
