"""Generation run: people in fixed-size chunks, each chunk -> channel rows -> landing files.

Chunks are independent (their random streams come from (seed, chunk number)) and are written
in chunk order, so the output is byte-identical whatever the number of worker processes.
"""

from __future__ import annotations

import math
import multiprocessing
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from cdp.generator import commerce, engagement, events, journey_events, store, wechat
from cdp.generator import truth as ground_truth
from cdp.generator.catalog import LEGACY_POS_STORES, build_catalog
from cdp.generator.clock import DAY, Clock
from cdp.generator.context import Batch, Context
from cdp.generator.malformed import inject
from cdp.generator.people import Usage, make_people
from cdp.generator.realities import plan_realities
from cdp.generator.render import render
from cdp.generator.report import GenerationReport
from cdp.generator.traps import person_trap_rows, trap_rows
from cdp.generator.writers import LandingWriter
from spark_jobs.contracts import CONTRACTS

CHUNK_PEOPLE = 10_000
# Order matters: loyalty needs the registration times the member builder shares.
BUILDERS = (
    wechat.official_accounts,
    wechat.mini_program_members,
    commerce.tmall,
    commerce.jd,
    commerce.douyin,
    store.pos_tickets,
    events.web_events,
    events.mall_events,
    engagement.coupons,
    engagement.loyalty,
    engagement.consent,
    # Last, on a stream of its own: the files of the builders above stay what they were.
    journey_events.journey_events,
)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class _Settings:
    customers: int
    days: int
    seed: int
    start: date


@dataclass(frozen=True)
class _Part:
    """Encoded lines of one file (or of the part of it one chunk of people wrote)."""

    channel: str
    key: str
    day: int
    data: bytes
    rows: int
    suffix: str
    lag: int


@dataclass
class _ChunkResult:
    people: int
    files: list[_Part]
    rows: dict[str, int]
    malformed: dict[str, dict[str, int]]
    people_lines: list[str]
    identifier_lines: list[str]
    reality_lines: list[str]
    family_devices: list[tuple[str, str, list[str]]]
    traps: list[tuple[str, str, str, str]]
    corrections: list[tuple[str, ...]]


def _file_groups(batch: Batch, clock: Clock, rng: np.random.Generator):
    """Rendered lines of a batch grouped per (key, delivery day), time-ordered, with malformed."""
    contract = CONTRACTS[batch.channel]
    ts = np.asarray(batch.ts, dtype=np.int64)
    lines = render(contract, batch.columns)
    # Versions dated after the window have not been delivered yet; those dated before it are
    # a history backfill (delivered in the first folder).
    valid = ts < clock.end
    injected = inject(contract, batch.columns, lines, valid, rng)
    if isinstance(batch.keys, str):
        names, codes = [batch.keys], np.zeros(ts.size, dtype=np.int64)
    else:
        index: dict[str, int] = {}
        codes = np.array([index.setdefault(k, len(index)) for k in batch.keys], dtype=np.int64)
        names = list(index)
    day = ts // DAY
    order = np.lexsort((ts, day, codes))
    order = order[valid[order]]
    groups = []
    if order.size:
        file_code, file_day = codes[order], day[order]
        cuts = np.flatnonzero((np.diff(file_code) != 0) | (np.diff(file_day) != 0)) + 1
        for part in np.split(order, cuts):
            first = int(part[0])
            groups.append((names[codes[first]], int(day[first]), [lines[i] for i in part.tolist()]))
    return groups, int(valid.sum()), injected


def _chunk(settings: _Settings, number: int) -> _ChunkResult:
    first = number * CHUNK_PEOPLE
    n = min(CHUNK_PEOPLE, settings.customers - first)
    rng = np.random.default_rng([settings.seed, number])
    catalog = build_catalog(settings.seed)
    clock = Clock(settings.start, settings.days)
    people = make_people(rng, catalog, first, n, settings.days)
    plan = plan_realities(rng, people)
    usage = Usage(n)
    ctx = Context(rng, people, catalog, clock, usage, settings.days / 30, plan)
    files, rows, malformed = [], {}, {}
    for build in BUILDERS:
        for batch in build(ctx):
            groups, count, injected = _file_groups(batch, clock, rng)
            for key, day, lines in groups:
                encoding = (
                    "gb18030"
                    if (batch.channel == "pos_tickets" and key in LEGACY_POS_STORES)
                    else "utf-8"
                )
                data = ("\n".join(lines) + "\n").encode(encoding)
                files.append(
                    _Part(batch.channel, key, day, data, len(lines), batch.suffix, batch.lag)
                )
            rows[batch.channel] = rows.get(batch.channel, 0) + count
            kinds = malformed.setdefault(batch.channel, {})
            for kind in injected.values():
                kinds[kind] = kinds.get(kind, 0) + 1
    return _ChunkResult(
        n,
        files,
        rows,
        malformed,
        ground_truth.people_lines(people),
        ground_truth.identifier_lines(people, usage, catalog),
        ground_truth.reality_lines(people, usage, plan),
        ground_truth.family_devices(people, usage),
        person_trap_rows(people, plan, clock),
        ctx.shared.get("corrections", []),
    )


def _chunk_star(args: tuple[_Settings, int]) -> _ChunkResult:
    return _chunk(*args)


def _prepare(out: Path, truth_dir: Path, overwrite: bool) -> None:
    owned = [out / channel for channel in CONTRACTS if (out / channel).exists()]
    if owned and not overwrite:
        raise FileExistsError(
            f"{out} already holds landing files ({owned[0].name}/...); "
            "pass overwrite=True to replace them"
        )
    for path in owned:
        shutil.rmtree(path)
    out.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)


def generate(
    out: Path,
    customers: int,
    days: int,
    seed: int = 42,
    start: date = date(2026, 9, 1),
    truth: Path | None = None,
    progress: Progress | None = None,
    *,
    workers: int = 1,
    overwrite: bool = False,
) -> GenerationReport:
    """Write a landing zone of ``customers`` people over ``days`` days, plus its ground truth.

    Files go to ``out/<channel>/<delivery date>/``; the ground truth (people, identifiers,
    traps, realities, corrections) to ``truth`` (default ``out.parent / "ground_truth"``). The same arguments always
    produce byte-identical files, whatever ``workers`` is. ``overwrite`` replaces the channel
    folders of an earlier run; otherwise an existing landing zone is an error.
    """
    if customers < 1 or days < 1:
        raise ValueError("customers and days must be at least 1")
    began = time.perf_counter()
    out = Path(out)
    truth_dir = Path(truth) if truth is not None else out.parent / "ground_truth"
    if truth_dir.resolve().is_relative_to(out.resolve()):
        raise ValueError(f"the ground truth ({truth_dir}) must not live inside the landing zone")
    _prepare(out, truth_dir, overwrite)
    settings = _Settings(customers, days, seed, start)
    catalog = build_catalog(seed)
    writer = LandingWriter(out, Clock(start, days), catalog, seed)
    report = GenerationReport(out=out, truth=truth_dir, customers=customers, days=days, seed=seed)
    chunks = [(settings, i) for i in range(math.ceil(customers / CHUNK_PEOPLE))]
    family: list = []
    person_traps: list = []
    corrections: list = []
    done = 0
    people_csv = (truth_dir / "people.csv").open("w", encoding="utf-8", newline="")
    ids_csv = (truth_dir / "identifiers.csv").open("w", encoding="utf-8", newline="")
    realities_csv = (truth_dir / "realities.csv").open("w", encoding="utf-8", newline="")
    pool = None
    try:
        people_csv.write(ground_truth.PEOPLE_HEADER + "\n")
        ids_csv.write(ground_truth.IDENTIFIERS_HEADER + "\n")
        realities_csv.write(ground_truth.REALITIES_HEADER + "\n")
        if workers > 1 and len(chunks) > 1:
            pool = multiprocessing.get_context("spawn").Pool(workers)
            results = pool.imap(_chunk_star, chunks)
        else:
            results = map(_chunk_star, chunks)
        if progress:
            progress("generate", 0, customers)
        for result in results:
            for part in result.files:
                writer.append(
                    part.channel, part.key, part.day, part.data, part.rows, part.suffix, part.lag
                )
            for channel, count in result.rows.items():
                report.rows[channel] = report.rows.get(channel, 0) + count
            for channel, kinds in result.malformed.items():
                total = report.malformed.setdefault(channel, {})
                for kind, count in kinds.items():
                    total[kind] = total.get(kind, 0) + count
            people_csv.write("\n".join(result.people_lines) + "\n")
            if result.identifier_lines:
                ids_csv.write("\n".join(result.identifier_lines) + "\n")
            realities_csv.writelines(line + "\n" for line in result.reality_lines)
            family += result.family_devices
            person_traps += result.traps
            corrections += result.corrections
            done += result.people
            if progress:
                progress("generate", done, customers)
    finally:
        people_csv.close()
        ids_csv.close()
        realities_csv.close()
        if pool is not None:
            pool.terminate()
    writer.redeliver(progress)
    with (truth_dir / "traps.csv").open("w", encoding="utf-8", newline="") as f:
        f.write(ground_truth.TRAPS_HEADER + "\n")
        f.writelines(",".join(row) + "\n" for row in trap_rows(catalog, family) + person_traps)
    ground_truth.write_corrections(truth_dir / "corrections.csv", corrections)
    report.rows = {c: report.rows[c] for c in CONTRACTS if c in report.rows}
    report.malformed = {c: report.malformed.get(c, {}) for c in report.rows}
    report.files = writer.files_per_channel()
    report.late_files = sorted(writer.late)
    report.history_files = sorted(writer.history)
    report.correction_files = sorted(writer.corrections)
    report.redelivered_files = sorted(writer.redelivered)
    report.elapsed_seconds = time.perf_counter() - began
    return report
