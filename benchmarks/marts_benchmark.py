"""Marts benchmark: `dbt build` of every mart on a generated dataset of a given size.

Generates the data and runs bronze, silver and OneID first unless the workspace already has
them (`--reuse`), then times the dbt build with DuckDB's memory limit set (settings
`duckdb_memory_limit`), and prints the rows of the main marts. Peak memory is this process's
(dbt and DuckDB run in it). Not a test: it reports figures.

    python benchmarks/marts_benchmark.py --customers 1000000 --days 30 --workspace /tmp/bench1m

`--next-day` times a daily run's build as well: it generates one day more, builds as of day D
(a first build: a full refresh), delivers day D + 1 (ingest, silver, OneID) and builds again
(incremental), and prints each build's costliest dbt nodes (dbt's run_results.json).

    python benchmarks/marts_benchmark.py --customers 100000 --days 30 --next-day
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from generated import add_dataset_arguments, generate_landing
from peak_rss import PeakRss

MARTS = (
    "fct_orders",
    "fct_order_lines",
    "customer_metrics",
    "customer_rfm",
    "customer_lifecycle",
    "points_ledger",
    "customer_tags",
    "customer_360",
    "customer_timeline",
)
#: the generator's first day (cdp.generator.core.generate)
START = date(2026, 9, 1)
#: how many of a build's costliest dbt nodes are printed
TOP_NODES = 12


def land(settings, through: date | None = None) -> float:
    """Bronze, silver and OneID over the files delivered up to ``through`` (default: all);
    returns the seconds it took."""
    from cdp import pipeline
    from cdp.runtime import spark_session

    started = time.perf_counter()
    with spark_session(settings) as spark:
        pipeline.ingest(settings, spark, through_date=through.isoformat() if through else None)
        pipeline.standardise(settings, spark)
        pipeline.resolve_identity(settings, spark)
    return time.perf_counter() - started


def timed_build(settings, label: str, as_of: date | None, memory_limit: str) -> None:
    """One marts build, timed, with its summary and its costliest dbt nodes."""
    from cdp import pipeline

    with PeakRss() as memory:
        started = time.perf_counter()
        result = pipeline.build_marts(settings, as_of=as_of.isoformat() if as_of else None)
        seconds = time.perf_counter() - started
    print(
        f"{label:<22}{seconds:8.1f} s   peak RSS {memory.peak:8.0f} MiB   "
        f"DuckDB memory_limit {memory_limit}"
    )
    print(f"  {result.summary()}")
    print_top_nodes(settings)


def print_top_nodes(settings) -> None:
    """The build's dbt nodes by execution time (summed over dbt's threads), costliest first,
    and the time of models and of tests."""
    from cdp.marts import target_dir

    results = json.loads((target_dir(settings) / "run_results.json").read_text())["results"]
    kinds: dict[str, float] = {}
    for node in results:
        kind = node["unique_id"].split(".")[0]
        kinds[kind] = kinds.get(kind, 0.0) + node["execution_time"]
    print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(kinds.items())))
    for node in sorted(results, key=lambda n: -n["execution_time"])[:TOP_NODES]:
        print(f"    {node['execution_time']:7.2f} s  {node['unique_id'].split('.', 2)[-1]}")


def print_marts(settings) -> None:
    import duckdb

    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        for mart in MARTS:
            rows = con.execute(f"SELECT count(*) FROM {mart}").fetchone()[0]
            print(f"  {mart:22s} {rows:>12,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser, customers=1_000_000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the workspace's silver and OneID tables if present",
    )
    parser.add_argument(
        "--next-day",
        action="store_true",
        help="build as of the last day, deliver one more day and build again (incremental)",
    )
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit")
    args = parser.parse_args()

    from cdp.config import load_settings
    from cdp.lakehouse import Lakehouse
    from identity.resolve import MAP

    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-marts-bench-"))
    settings = load_settings(workspace=workspace).model_copy(
        update={"duckdb_memory_limit": args.memory_limit}
    )
    if args.next_day:
        seconds = generate_landing(workspace, args.customers, args.days + 1, args.seed)
        print(f"generate              {seconds:8.1f} s", flush=True)
        last_day = START + timedelta(days=args.days - 1)
        print(f"bronze, silver, OneID {land(settings, last_day):8.1f} s", flush=True)
        timed_build(settings, f"first build {last_day}", last_day, args.memory_limit)
        next_day = last_day + timedelta(days=1)
        print(f"next day delivered    {land(settings, next_day):8.1f} s", flush=True)
        timed_build(settings, f"next day {next_day}", next_day, args.memory_limit)
    else:
        if not (args.reuse and Lakehouse(settings.lakehouse_dir).exists(MAP)):
            seconds = generate_landing(workspace, args.customers, args.days, args.seed)
            print(f"generate              {seconds:8.1f} s", flush=True)
            print(f"bronze, silver, OneID {land(settings):8.1f} s", flush=True)
        timed_build(settings, "dbt build", None, args.memory_limit)
    print_marts(settings)


if __name__ == "__main__":
    main()
