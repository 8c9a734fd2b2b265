"""Deterministic zip files of text lines, split so that no zip exceeds a size limit.

Each zip holds one deflated text entry (``<stem>_<part>.txt``) with a fixed timestamp
(1980-01-01 00:00) and fixed attributes, so the same lines give byte-identical zips.

The zip is written here rather than with ``zipfile`` because the split needs the exact
compressed size *before* a batch of lines is committed: each batch is deflated on a copy of
the compressor and ended with a sync flush, and only kept when the finished zip would still fit.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

from cdp.activation.dmp.common import file_digest, remove_stale_parts

_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00:00
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_OF_CENTRAL = struct.Struct("<IHHHHIIH")
_FINISH_SLACK = 16  # bytes a Z_FINISH after a sync flush may still emit (an empty final block)
_ZIP32_MAX = 0xFFFFFFFF
_BATCH_BYTES = 1 << 20
# Hex ids have ~4 bits of entropy a character, so every level lands near half size: level 1
# is ~3x faster than the default 6 for zips ~2% larger.
_LEVEL = 1


class _ZipPart:
    """One zip being written: a local header, the deflate stream, then the central directory."""

    def __init__(self, path: Path, entry: str, level: int):
        self.path, self.entry = path, entry.encode("ascii")
        self.handle = path.open("wb")
        self.handle.write(b"\0" * (_LOCAL_HEADER.size + len(self.entry)))  # patched on close
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        self.crc = self.compressed = self.uncompressed = self.ids = self.lines = 0

    def overhead(self) -> int:
        return (
            _LOCAL_HEADER.size
            + _CENTRAL_HEADER.size
            + 2 * len(self.entry)
            + _END_OF_CENTRAL.size
            + _FINISH_SLACK
        )

    def try_add(self, lines: list[bytes], ids: int, limit: int) -> bool:
        """Append ``lines`` if the finished zip still fits in ``limit`` bytes; else leave it as is."""
        data = b"".join(lines)
        trial = self.compressor.copy()
        out = trial.compress(data) + trial.flush(zlib.Z_SYNC_FLUSH)
        if (
            self.compressed + len(out) + self.overhead() > limit
            or self.uncompressed + len(data) > _ZIP32_MAX
        ):
            return False
        self.handle.write(out)
        self.compressor = trial
        self.crc = zlib.crc32(data, self.crc)
        self.compressed += len(out)
        self.uncompressed += len(data)
        self.ids += ids
        self.lines += len(lines)
        return True

    def close(self) -> dict:
        tail = self.compressor.flush(zlib.Z_FINISH)
        self.handle.write(tail)
        self.compressed += len(tail)
        offset = _LOCAL_HEADER.size + len(self.entry) + self.compressed
        sizes = (self.crc, self.compressed, self.uncompressed)
        central = (
            _CENTRAL_HEADER.pack(
                0x02014B50,
                (3 << 8) | 20,
                20,
                0,
                8,
                _DOS_TIME,
                _DOS_DATE,
                *sizes,
                len(self.entry),
                0,
                0,
                0,
                0,
                0o100644 << 16,
                0,
            )
            + self.entry
        )
        self.handle.write(central)
        self.handle.write(_END_OF_CENTRAL.pack(0x06054B50, 0, 0, 1, 1, len(central), offset, 0))
        self.handle.seek(0)
        self.handle.write(
            _LOCAL_HEADER.pack(
                0x04034B50, 20, 0, 8, _DOS_TIME, _DOS_DATE, *sizes, len(self.entry), 0
            )
            + self.entry
        )
        self.handle.close()
        return {
            **file_digest(self.path),
            "entry": self.entry.decode(),
            "ids": self.ids,
            "lines": self.lines,
        }


def write_zipped_lines(
    lines: Iterable[tuple[bytes, int]],
    out_dir: Path,
    stem: str,
    max_zip_bytes: int,
    *,
    level: int = _LEVEL,
) -> list[dict]:
    """Write ``(line, ids in line)`` pairs to ``<stem>_0001.zip``, ``<stem>_0002.zip``, ...

    Lines keep their order and end with ``\\n``; a new zip starts when the next batch of lines
    would push the current one past ``max_zip_bytes``. Returns one digest dict per zip (none
    when there are no lines). Raises ValueError when a single line cannot fit in a zip.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out_dir, stem, ".zip")
    batch_bytes = max(1, min(_BATCH_BYTES, max_zip_bytes // 16))
    written: list[dict] = []
    part: _ZipPart | None = None

    def new_part() -> _ZipPart:
        name = f"{stem}_{len(written) + 1:04d}"
        return _ZipPart(out_dir / f"{name}.zip", f"{name}.txt", level)

    def add(batch: list[bytes], ids: list[int]) -> None:
        nonlocal part
        if part is None:
            part = new_part()
        if part.try_add(batch, sum(ids), max_zip_bytes):
            return
        if len(batch) > 1:  # halve, so the zip is filled close to the limit
            half = len(batch) // 2
            add(batch[:half], ids[:half])
            add(batch[half:], ids[half:])
            return
        if part.lines == 0:
            raise ValueError(
                f"a line of {len(batch[0])} bytes does not fit in a zip of "
                f"at most {max_zip_bytes} bytes"
            )
        written.append(part.close())
        part = new_part()
        add(batch, ids)

    batch: list[bytes] = []
    batch_ids: list[int] = []
    size = 0
    try:
        for line, ids in lines:
            batch.append(line + b"\n")
            batch_ids.append(ids)
            size += len(line) + 1
            if size >= batch_bytes:
                add(batch, batch_ids)
                batch, batch_ids, size = [], [], 0
        if batch:
            add(batch, batch_ids)
        if part is not None:
            written.append(part.close())
    except BaseException:
        # half an export must not look like a whole one
        if part is not None and not part.handle.closed:
            part.handle.close()
        remove_stale_parts(out_dir, stem, ".zip")
        raise
    return written
