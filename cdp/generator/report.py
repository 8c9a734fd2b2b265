"""What a generation run produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class GenerationReport:
    out: Path
    truth: Path
    customers: int
    days: int
    seed: int
    #: rows written per channel (original files; re-delivered copies not counted again)
    rows: dict[str, int] = field(default_factory=dict)
    #: files per channel, re-delivered copies included
    files: dict[str, int] = field(default_factory=dict)
    #: malformed rows injected per channel and kind
    malformed: dict[str, dict[str, int]] = field(default_factory=dict)
    #: paths (relative to ``out``) of byte-identical copies delivered again later
    redelivered_files: list[str] = field(default_factory=list)
    #: paths (relative to ``out``) of files delivered in a later day's folder
    late_files: list[str] = field(default_factory=list)
    #: paths of history backfills: records dated before the window, in the first folder
    history_files: list[str] = field(default_factory=list)
    #: paths of corrections files, delivered after the files they correct
    correction_files: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def malformed_total(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.malformed.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.elapsed_seconds if self.elapsed_seconds else 0.0

    def summary(self) -> str:
        width = max(len(c) for c in self.rows) if self.rows else 10
        lines = [
            f"{self.customers:,} customers x {self.days} days (seed {self.seed}) -> {self.out}",
            f"{'channel':<{width}}  {'rows':>11}  {'files':>6}  malformed",
        ]
        for channel, rows in self.rows.items():
            bad = self.malformed.get(channel, {})
            detail = ", ".join(f"{k} {v}" for k, v in sorted(bad.items()) if v) or "-"
            lines.append(
                f"{channel:<{width}}  {rows:>11,}  {self.files.get(channel, 0):>6}  {detail}"
            )
        lines.append(
            f"total {self.total_rows:,} rows, {self.malformed_total:,} malformed, "
            f"{len(self.late_files)} late files, {len(self.redelivered_files)} "
            f"re-delivered files, {len(self.history_files)} history files, "
            f"{len(self.correction_files)} corrections files"
        )
        lines.append(
            f"{self.elapsed_seconds:.1f} s ({self.rows_per_second:,.0f} rows/s); "
            f"ground truth in {self.truth}"
        )
        return "\n".join(lines)
