"""Generating a benchmark's landing zone in a child process: shared by the benchmarks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def generate_landing(workspace: Path, customers: int, days: int, seed: int) -> float:
    """Write the generator's channel files (and ground truth) into ``workspace``, replacing
    an earlier run's; returns the seconds it took. A child process, so its memory does not
    count towards the benchmark's."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cdp.cli", "--workspace", str(workspace), "generate",
                    "--customers", str(customers), "--days", str(days), "--seed", str(seed),
                    "--workers", "2", "--overwrite"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started
