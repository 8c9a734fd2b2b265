"""Ingest benchmark: generate a dataset, then time bronze ingest and silver standardise.

Prints rows per second per stage and peak memory (resident set size of this process, which
hosts the embedded Sail engine, sampled every 50 ms). Generation runs in a child process so
its memory does not count. Not a test: it reports figures.

    python benchmarks/ingest_benchmark.py --customers 100000 --days 30
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from generated import add_dataset_arguments, generate_landing
from peak_rss import PeakRss


def _timed(started: float):
    """Progress printer showing each step's own duration, to see which channel costs what."""
    last = [started]

    def progress(message: str) -> None:
        now = time.perf_counter()
        print(f"  {now - last[0]:6.1f} s  {message}", flush=True)
        last[0] = now

    return progress


def _run_once(settings, args, size_mb: float) -> float:
    """Bronze then silver on an empty lakehouse; prints the figures, returns the total."""
    from cdp.lakehouse import Lakehouse
    from cdp.runtime import spark_session
    from spark_jobs.ingest import run_ingest
    from spark_jobs.standardise import run_standardise

    lakehouse = Lakehouse(settings.lakehouse_dir)
    with spark_session(settings) as spark:
        with PeakRss() as bronze_mem:
            started = time.perf_counter()
            report = run_ingest(spark, lakehouse, settings.landing_dir, progress=_timed(started))
            bronze_s = time.perf_counter() - started
        with PeakRss() as silver_mem:
            started = time.perf_counter()
            outcomes = run_standardise(spark, lakehouse, progress=_timed(started))
            silver_s = time.perf_counter() - started

    rows = report.rows_in
    silver_rows = sum(o.source_rows for o in outcomes)
    print(
        f"landing zone {size_mb:8.0f} MiB, {len(report.files)} files, {rows:,} raw rows "
        f"({args.customers:,} customers x {args.days} days)"
    )
    print(
        f"bronze       {bronze_s:8.1f} s   {rows / bronze_s:12,.0f} raw rows/s   "
        f"peak RSS {bronze_mem.peak:8.0f} MiB   ({report.loaded:,} loaded, "
        f"{report.quarantined:,} quarantined)"
    )
    print(
        f"silver       {silver_s:8.1f} s   {rows / silver_s:12,.0f} raw rows/s   "
        f"peak RSS {silver_mem.peak:8.0f} MiB   ({silver_rows:,} rows merged into "
        f"{len(outcomes)} tables)"
    )
    total = bronze_s + silver_s
    print(
        f"bronze+silver {total:7.1f} s   {rows / total:12,.0f} raw rows/s   "
        f"peak RSS {max(bronze_mem.peak, silver_mem.peak):8.0f} MiB"
    )
    for o in outcomes:
        print(
            f"  silver.{o.table:<14} {o.source_rows:>12,} rows  {o.inserted:>12,} inserted  "
            f"{o.superseded:>10,} superseded"
        )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser, customers=100_000)
    parser.add_argument(
        "--reuse-landing",
        action="store_true",
        help="skip generation when the workspace already has a landing zone",
    )
    parser.add_argument("--keep", action="store_true", help="keep the workspace afterwards")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="repeat bronze+silver on a fresh lakehouse (timings on a shared "
        "machine vary by a third from run to run)",
    )
    args = parser.parse_args()

    from cdp.config import load_settings

    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-bench-"))
    settings = load_settings(workspace=workspace)
    landing = settings.landing_dir
    if not (args.reuse_landing and landing.is_dir()):
        shutil.rmtree(workspace / "lakehouse", ignore_errors=True)
        gen_s = generate_landing(workspace, args.customers, args.days, args.seed)
        gen_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"generate     {gen_s:8.1f} s   peak RSS {gen_rss:8.0f} MiB (child process)")
    size_mb = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 2**20
    totals = []
    for run in range(1, args.runs + 1):
        if args.runs > 1:
            print(f"run {run} of {args.runs}")
        shutil.rmtree(workspace / "lakehouse", ignore_errors=True)
        # Each run in a fresh process: its own engine, and its own peak memory.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            totals.append(pool.apply(_run_once, (settings, args, size_mb)))
    if args.runs > 1:
        print(
            f"bronze+silver over {args.runs} runs: best {min(totals):.1f} s, "
            f"median {statistics.median(totals):.1f} s, worst {max(totals):.1f} s"
        )
    if not args.keep and not args.workspace:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
