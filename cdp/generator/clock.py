"""Time of the simulation: seconds since the window start (China time) and their spellings.

Rows carry ``ts`` = seconds since ``start`` 00:00 China time; every text form is built from
lookup tables (one per day, one per second of a day), which is far faster than datetime.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np

DAY = 86400
CHINA_OFFSET = 8 * 3600

# Share of a day's activity per hour (retail: late morning to evening).
HOUR_WEIGHTS = np.array(
    [
        1,
        0.5,
        0.3,
        0.2,
        0.2,
        0.3,
        0.8,
        1.5,
        2.5,
        3.5,
        5,
        6,
        7,
        6,
        6,
        6,
        6.5,
        7,
        8,
        8.5,
        8,
        6.5,
        4,
        2,
    ],
    dtype=float,
)
HOUR_WEIGHTS /= HOUR_WEIGHTS.sum()

_TIME_OF_DAY = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]


class Clock:
    """Formats simulation seconds in every timestamp spelling the contracts use."""

    def __init__(self, start: date, days: int):
        self.start = start
        self.days = days
        self.end = days * DAY
        span = days + 400  # room for re-delivered versions dated after the window, never written
        dates = [start + timedelta(days=d) for d in range(span)]
        self.iso_dates = [d.isoformat() for d in dates]
        self.pos_dates = [d.strftime("%Y/%m/%d") for d in dates]
        self.compact = [d.strftime("%Y%m%d") for d in dates]
        self.epoch0 = (start - date(1970, 1, 1)).days * DAY - CHINA_OFFSET
        self.tod = _TIME_OF_DAY

    def day_name(self, day: int) -> str:
        return self.iso_dates[day]

    def cn(self, ts: list[int]) -> list[str]:
        """``yyyy-MM-dd HH:mm:ss`` China time."""
        d, t = self.iso_dates, self.tod
        return [f"{d[s // DAY]} {t[s % DAY]}" for s in ts]

    def pos(self, ts: list[int]) -> list[str]:
        d, t = self.pos_dates, self.tod
        return [f"{d[s // DAY]} {t[s % DAY]}" for s in ts]

    def history_text(self, ts: int, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
        """Any time, also before the window (history backfills), in a strftime pattern.

        Slow (a datetime per call): only for the few records dated before the window."""
        return (datetime.combine(self.start, time()) + timedelta(seconds=int(ts))).strftime(pattern)

    def compact_name(self, day: int) -> str:
        """``yyyymmdd`` of a day, also of a day before the window."""
        return self.compact[day] if day >= 0 else self.history_text(day * DAY, "%Y%m%d")

    def iso(self, ts: list[int]) -> list[str]:
        d, t = self.iso_dates, self.tod
        return [f"{d[s // DAY]}T{t[s % DAY]}+08:00" for s in ts]

    def epoch_seconds(self, ts: np.ndarray) -> list[int]:
        return (np.asarray(ts, dtype=np.int64) + self.epoch0).tolist()

    def epoch_millis(self, ts: np.ndarray, rng: np.random.Generator) -> list[int]:
        ts = np.asarray(ts, dtype=np.int64)
        return ((ts + self.epoch0) * 1000 + rng.integers(0, 1000, ts.size)).tolist()


def random_times(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A time on each given day, following the retail hour profile."""
    days = np.asarray(days, dtype=np.int64)
    hours = rng.choice(24, size=days.size, p=HOUR_WEIGHTS)
    return days * DAY + hours * 3600 + rng.integers(0, 3600, days.size)
