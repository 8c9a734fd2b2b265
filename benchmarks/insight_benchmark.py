"""Insight benchmark: what the insight models (dbt_project/models/insight/) add to the marts
build, per model, and what `cdp insight ltv --predict` takes.

Generates the data and runs the pipeline first unless the workspace already has OneID
(`--reuse`), then runs a full marts build and reads dbt's own per-node timings
(target/run_results.json) of the insight models and their data tests; `--ltv` also fits the
predicted-value model (the ltv extra). Not a test: it reports figures.

    python benchmarks/insight_benchmark.py --customers 100000 --days 60 --workspace /tmp/insight
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from generated import add_dataset_arguments, generate_landing
from peak_rss import PeakRss

INSIGHT_PATH = "models/insight/"


def node_seconds(run_results: Path, manifest: Path) -> dict[str, float]:
    """Seconds per insight model (its data tests added to it) from dbt's run results."""
    nodes = json.loads(manifest.read_text())["nodes"]
    seconds: dict[str, float] = {}
    for result in json.loads(run_results.read_text())["results"]:
        node = nodes.get(result["unique_id"], {})
        if node.get("resource_type") == "model":
            owner = node["name"] if node["original_file_path"].startswith(INSIGHT_PATH) else None
        else:
            parents = node.get("depends_on", {}).get("nodes", [])
            models = [nodes[p] for p in parents if p in nodes]
            owner = next(
                (m["name"] for m in models if m["original_file_path"].startswith(INSIGHT_PATH)),
                None,
            )
        if owner:
            seconds[owner] = seconds.get(owner, 0.0) + result["execution_time"]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser, customers=100_000)
    parser.add_argument("--reuse", action="store_true", help="reuse the workspace's OneID")
    parser.add_argument("--ltv", action="store_true", help="also time cdp insight ltv --predict")
    args = parser.parse_args()

    import duckdb

    from cdp import pipeline
    from cdp.config import load_settings
    from cdp.lakehouse import Lakehouse
    from cdp.marts import target_dir
    from cdp.runtime import spark_session
    from identity.resolve import MAP

    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-insight-bench-"))
    settings = load_settings(workspace=workspace)
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
        result = pipeline.build_marts(settings, full_refresh=True)
        seconds = time.perf_counter() - started
    print(f"marts build (full)    {seconds:8.1f} s   peak RSS {memory.peak:8.0f} MiB")
    print(f"  {result.summary()}")
    target = target_dir(settings)
    per_model = node_seconds(target / "run_results.json", target / "manifest.json")
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        for name, took in sorted(per_model.items(), key=lambda item: -item[1]):
            rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            print(f"  {name:28s} {took:7.1f} s {rows:>12,} rows")
    print(
        f"insight models and their tests: {sum(per_model.values()):.1f} s of the build "
        "(dbt node times summed; dbt runs 2 threads; aim < 60 s at 1,000,000 customers)"
    )
    if args.ltv:
        from cdp.insight import ltv

        started = time.perf_counter()
        check = ltv.run(settings.marts_db, 14, 90, progress=print)
        print(f"ltv --predict         {time.perf_counter() - started:8.1f} s   {check.summary()}")
        print(check.calibration.to_string(index=False))


if __name__ == "__main__":
    main()
