"""Peak resident memory of this process, sampled in a thread: shared by the benchmarks."""

from __future__ import annotations

import threading
from pathlib import Path


class PeakRss:
    """Peak resident memory of this process between start() and stop(), in MiB."""

    def __init__(self):
        self.peak = 0.0
        self._stop = threading.Event()

    @staticmethod
    def current() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.current())

    def __enter__(self):
        self.peak = self.current()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
