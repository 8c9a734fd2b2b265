"""Generating a benchmark's landing zone in a child process: shared by the benchmarks."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def add_dataset_arguments(parser: argparse.ArgumentParser, customers: int) -> None:
    """The options that size the generated dataset (``generate_landing``'s inputs) and say
    where it goes."""
    parser.add_argument("--customers", type=int, default=customers)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workspace", type=Path, help="default: a temporary folder")


def generate_landing(workspace: Path, customers: int, days: int, seed: int) -> float:
    """Write the generator's channel files (and ground truth) into ``workspace``, replacing
    an earlier run's; returns the seconds it took. A child process, so its memory does not
    count towards the benchmark's."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cdp.cli",
            "--workspace",
            str(workspace),
            "generate",
            "--customers",
            str(customers),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--workers",
            "2",
            "--overwrite",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started
