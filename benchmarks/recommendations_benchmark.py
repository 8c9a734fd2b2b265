"""Recommendations benchmark: precision@10, recall@10 and coverage of the item-to-item
recommendations (customer_recommendations) on a time holdout, against the popularity baseline.

Generates the data and runs the pipeline and a marts build first unless the workspace already
has marts (`--reuse`), then rebuilds the recommendations as of `--holdout-days` before the last
day, scores them on what people bought after that (items they had not bought before), and
rebuilds them as of the last day. Not a test: it reports figures.

    python benchmarks/recommendations_benchmark.py --customers 100000 --days 60 --workspace /tmp/rec
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from generated import add_dataset_arguments, generate_landing


def prepare(settings, args) -> None:
    """Generate the landing zone and run every step through the marts."""
    from cdp import pipeline
    from cdp.runtime import spark_session

    seconds = generate_landing(settings.workspace, args.customers, args.days, args.seed)
    print(f"generate              {seconds:8.1f} s", flush=True)
    started = time.perf_counter()
    with spark_session(settings) as spark:
        pipeline.ingest(settings, spark)
        pipeline.standardise(settings, spark)
        pipeline.resolve_identity(settings, spark)
    print(f"bronze, silver, OneID {time.perf_counter() - started:8.1f} s", flush=True)
    started = time.perf_counter()
    pipeline.build_marts(settings)
    print(f"marts (dbt build)     {time.perf_counter() - started:8.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser, customers=100_000)
    parser.add_argument("--reuse", action="store_true", help="reuse the workspace's marts")
    parser.add_argument("--holdout-days", type=int, default=14)
    parser.add_argument("-k", type=int, default=10, help="recommendations scored per person")
    args = parser.parse_args()

    from cdp.config import load_settings
    from cdp.insight.evaluation import holdout_evaluation

    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-rec-bench-"))
    settings = load_settings(workspace=workspace)
    if not (args.reuse and settings.marts_db.exists()):
        prepare(settings, args)
    cutoff, mart, baseline, seconds = holdout_evaluation(
        settings, args.holdout_days, args.k, progress=lambda m: print(m, flush=True)
    )
    print(f"recommendations as of {cutoff} (with their parents): {seconds:.1f} s")
    print(mart.line(args.k))
    print(baseline.line(args.k))
    if baseline.recall:
        print(f"recall@{args.k} lift over popularity: {mart.recall / baseline.recall:.2f}x")


if __name__ == "__main__":
    main()
