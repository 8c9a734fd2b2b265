"""OneID accuracy benchmark: generated data with traps -> pipeline -> OneID -> ground truth.

Prints pairwise precision and recall (all identifiers, and joining identifiers only; recall
also over the pairs the data can link at all), per trap whether it merged strangers and per
reality (country-code and foreign phones, card spellings) how many of the people it affects
were resolved correctly, the identity step's time per phase and its peak memory (this process
hosts the embedded Sail engine). Not a test: it reports figures.

    python benchmarks/identity_accuracy.py --customers 200000 --days 30
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from generated import add_dataset_arguments, generate_landing
from peak_rss import PeakRss

TARGET_PRECISION, TARGET_RECALL = 0.995, 0.98


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser, customers=200_000)
    parser.add_argument("--engine", choices=["auto", "embedded", "spark"], default="auto")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the workspace's landing zone and silver tables if present",
    )
    args = parser.parse_args()

    from cdp import pipeline
    from cdp.config import load_settings
    from cdp.lakehouse import Lakehouse
    from cdp.runtime import spark_session
    from identity.accuracy import pairwise_accuracy, trap_accuracy
    from identity.resolve import LINKS, MAP
    from identity.rules import load_rules

    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-identity-bench-"))
    settings = load_settings(workspace=workspace).model_copy(
        update={"identity_engine": args.engine}
    )
    lakehouse = Lakehouse(settings.lakehouse_dir)
    if not (args.reuse and settings.landing_dir.is_dir()):
        seconds = generate_landing(workspace, args.customers, args.days, args.seed)
        print(f"generate          {seconds:8.1f} s")

    phases: list[tuple[str, float]] = []
    last = [time.perf_counter()]

    def progress(message: str) -> None:
        now = time.perf_counter()
        phases.append((message, now - last[0]))
        last[0] = now

    with spark_session(settings) as spark:
        if not (args.reuse and lakehouse.exists(MAP)):
            started = time.perf_counter()
            pipeline.ingest(settings, spark)
            pipeline.standardise(settings, spark)
            print(f"bronze + silver   {time.perf_counter() - started:8.1f} s")
        with PeakRss() as memory:
            started = last[0] = time.perf_counter()
            outcome = pipeline.resolve_identity(settings, spark, progress=progress, force=True)
            seconds = time.perf_counter() - started
    print(
        f"identity          {seconds:8.1f} s   peak RSS {memory.peak:8.0f} MiB   "
        f"engine {outcome.engine}"
    )
    for (message, _), (_, took) in zip(phases, phases[1:] + [("", 0.0)]):
        print(f"  {took:7.1f} s  after: {message}")
    print(f"  {outcome.summary()}")

    truth = settings.ground_truth_dir / "identifiers.csv"
    identity_map, links = lakehouse.to_arrow(MAP), lakehouse.to_arrow(LINKS)
    joining = load_rules().joining_types
    for label, types in (("all identifiers", None), ("joining identifiers", joining)):
        result = pairwise_accuracy(identity_map, links, truth, types)
        print(f"{label:20s} {result.summary()}")
    print("per trap and reality:")
    for line in trap_accuracy(identity_map, links, truth.parent, joining).lines():
        print(f"  {line}")
    print(f"targets: precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}")


if __name__ == "__main__":
    main()
