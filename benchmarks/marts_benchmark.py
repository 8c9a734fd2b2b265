"""Marts benchmark: `dbt build` of every mart on a generated dataset of a given size.

Generates the data and runs bronze, silver and OneID first unless the workspace already has
them (`--reuse`), then times the dbt build with DuckDB's memory limit set (settings
`duckdb_memory_limit`), and prints the rows of the main marts. Peak memory is this process's
(dbt and DuckDB run in it). Not a test: it reports figures.

    python benchmarks/marts_benchmark.py --customers 1000000 --days 30 --workspace /tmp/bench1m
"""

from __future__ import annotations

import argparse
import tempfile
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser, customers=1_000_000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the workspace's silver and OneID tables if present",
    )
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit")
    args = parser.parse_args()

    import duckdb

    from cdp import pipeline
    from cdp.config import load_settings
    from cdp.lakehouse import Lakehouse
    from cdp.runtime import spark_session
    from identity.resolve import MAP

    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-marts-bench-"))
    settings = load_settings(workspace=workspace).model_copy(
        update={"duckdb_memory_limit": args.memory_limit}
    )
    if not (args.reuse and Lakehouse(settings.lakehouse_dir).exists(MAP)):
        seconds = generate_landing(workspace, args.customers, args.days, args.seed)
        print(f"generate              {seconds:8.1f} s", flush=True)
        started = time.perf_counter()
        with spark_session(settings) as spark:
            pipeline.ingest(settings, spark)
            pipeline.standardise(settings, spark)
            pipeline.resolve_identity(settings, spark)
        print(f"bronze, silver, OneID {time.perf_counter() - started:8.1f} s", flush=True)

    with PeakRss() as memory:
        started = time.perf_counter()
        result = pipeline.build_marts(settings)
        seconds = time.perf_counter() - started
    print(
        f"dbt build             {seconds:8.1f} s   peak RSS {memory.peak:8.0f} MiB   "
        f"DuckDB memory_limit {args.memory_limit}   target < 300 s"
    )
    print(f"  {result.summary()}")
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        for mart in MARTS:
            rows = con.execute(f"SELECT count(*) FROM {mart}").fetchone()[0]
            print(f"  {mart:22s} {rows:>12,} rows")


if __name__ == "__main__":
    main()
