"""Whole-pipeline benchmark: raw channel files to exports, then the next day's delivery.

Generates N customers x (D + 1) days, runs every daily step on the first D days from an empty
workspace, then delivers day D + 1 and runs them again. Each step runs in its own process,
as an Airflow task does (`cdp.tasks`), so a step's time includes starting Python and its
engine and its peak memory is its own (resident set size, Sail's threads included). Prints one
table with every step's time and peak memory for both runs, the totals and raw rows per second.
Not a test: it reports figures.

    python benchmarks/pipeline_benchmark.py --customers 1000000 --days 30
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from generated import add_dataset_arguments, generate_landing

START = date(2026, 9, 1)
#: one daily run, in the order of dags/cdp_daily.py: (step, cdp.tasks call)
STEPS = [
    ("ingest", "tasks.ingest(through_date=day)"),
    ("bronze gate", "tasks.check('bronze')"),
    ("silver", "tasks.standardise()"),
    ("silver gate", "tasks.check('silver')"),
    ("OneID", "tasks.resolve_identity()"),
    ("identity gate", "tasks.check('identity')"),
    ("marts", "tasks.build_marts(as_of=day)"),
    ("exports", "tasks.export_segments(ExportDecision(True, 'the benchmark exports every run'))"),
]
#: runs one step and prints its summary and the process's peak resident memory, as JSON
RUNNER = """
import json, resource, sys
from cdp import tasks
from cdp.run_dates import ExportDecision
day = sys.argv[2]
result = eval(sys.argv[1])
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"result": result, "peak_mib": peak_mib}, default=str))
"""


def run_step(call: str, day: str, workspace: Path) -> tuple[float, float, dict]:
    """Seconds, peak MiB and the task's summary of one step in its own process."""
    env = {**os.environ, "CDP_HOME": str(workspace)}
    env.pop("CDP_LANDING", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, call, day],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{call} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, report["peak_mib"], report["result"]


def daily_run(workspace: Path, day: str, label: str) -> list[tuple[str, float, float, dict]]:
    rows = []
    for step, call in STEPS:
        seconds, peak, result = run_step(call, day, workspace)
        print(f"  {label} {step:<14} {seconds:7.1f} s  {peak:8.0f} MiB", flush=True)
        rows.append((step, seconds, peak, result))
    return rows


def print_table(first: list, second: list, customers: int, days: int) -> None:
    first_rows = first[0][3]["rows_in"]
    second_rows = second[0][3]["rows_in"]
    print()
    print(f"{customers:,} customers: {days} days, then day {days + 1} delivered")
    print(f"{'step':<15}{'first run':>12}{'peak':>10}   {'next day':>10}{'peak':>10}")
    for (step, s1, m1, _), (_, s2, m2, _) in zip(first, second, strict=True):
        print(f"{step:<15}{s1:>10.1f} s{m1:>6.0f} MiB   {s2:>8.1f} s{m2:>6.0f} MiB")
    t1, t2 = sum(r[1] for r in first), sum(r[1] for r in second)
    p1, p2 = max(r[2] for r in first), max(r[2] for r in second)
    print(f"{'total':<15}{t1:>10.1f} s{p1:>6.0f} MiB   {t2:>8.1f} s{p2:>6.0f} MiB")
    print(
        f"raw rows       {first_rows:>12,}            {second_rows:>10,}\n"
        f"raw rows/s     {first_rows / t1:>12,.0f}            {second_rows / t2:>10,.0f}"
    )
    exported = {k: v["exported"] for k, v in second[-1][3]["segments"].items()}
    print(f"exported on the next day: {exported}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser, customers=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the workspace afterwards")
    args = parser.parse_args()
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-pipeline-bench-"))
    shutil.rmtree(workspace / "lakehouse", ignore_errors=True)
    shutil.rmtree(workspace / "marts", ignore_errors=True)
    shutil.rmtree(workspace / "exports", ignore_errors=True)
    print(f"generating {args.customers:,} customers x {args.days + 1} days in {workspace}")
    seconds = generate_landing(workspace, args.customers, args.days + 1, args.seed)
    print(f"  generated in {seconds:.0f} s")
    last_day = START + timedelta(days=args.days - 1)
    first = daily_run(workspace, last_day.isoformat(), "first   ")
    second = daily_run(workspace, (last_day + timedelta(days=1)).isoformat(), "next day")
    print_table(first, second, args.customers, args.days)
    if not args.keep and args.workspace is None:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
