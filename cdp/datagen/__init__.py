"""Synthetic but realistic channel data, and the ground truth of who is who.

``generate`` simulates people across WeChat, the member mini-program, Tmall, JD, Douyin,
store POS, H5 and in-mall touchpoints, coupons, loyalty and consent, and writes what each
channel would deliver into ``landing/<channel>/<delivery date>/``. The traps of real data are
part of it (see docs/sources.md). The same arguments always produce the same bytes.
"""

from __future__ import annotations

import csv
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from cdp.datagen.channels import STAFF_OPENIDS, STORES, TEST_PHONES, ZERO_DEVICE, Simulator
from cdp.datagen.people import make_people
from cdp.datagen.writer import LandingWriter, deliver_late_and_twice

CHUNK = 100_000  # people simulated and written at a time (bounds memory)
Progress = Callable[[str, int, int], None]


@dataclass
class GenerationReport:
    """What was written."""

    rows: Counter = field(default_factory=Counter)
    malformed: dict = field(default_factory=dict)  # channel -> {kind: rows}
    files: int = 0
    late_files: int = 0
    redelivered_files: int = 0
    redelivered_rows: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows in all files, re-delivered copies included."""
        return sum(self.rows.values()) + sum(self.redelivered_rows.values())

    def summary(self) -> str:
        broken = sum(sum(k.values()) for k in self.malformed.values())
        lines = [f"wrote {self.total_rows:,} rows in {self.files:,} files in {self.seconds:.1f}s "
                 f"({self.late_files} late, {self.redelivered_files} re-delivered, "
                 f"{broken} malformed rows)"]
        lines += [f"  {channel:<20} {n:>12,}" for channel, n in sorted(self.rows.items())]
        return "\n".join(lines)


def write_truth(truth: Path, people) -> None:
    truth.mkdir(parents=True, exist_ok=True)
    with (truth / "identifiers.csv").open("a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for p in people:
            w.writerows((p.person_id, kind, value) for kind, value in p.identifiers())
    with (truth / "people.csv").open("a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows((p.person_id, p.name, p.gender, p.birthday, p.city,
                                 p.household_id) for p in people)


def write_traps(truth: Path) -> None:
    rows = [("test_phone", "phone", phone, "typed by cashiers for walk-ins")
            for phone in TEST_PHONES]
    rows += [("store_phone", "phone", s[3], f"store {s[0]}'s own phone, typed for walk-ins")
             for s in STORES]
    rows.append(("hub_device", "device_id", ZERO_DEVICE, "all-zero id sent by an old SDK"))
    rows += [("staff_openid", "openid", f"wx_mp_member/{o}", "staff claiming coupons for customers")
             for o in STAFF_OPENIDS]
    rows.append(("family_device", "device_id", "*",
                 "households share one tablet: see people.csv household_id"))
    with (truth / "traps.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("trap", "identifier_type", "identifier_value", "note"))
        w.writerows(rows)


def generate(out: Path, customers: int, days: int, seed: int = 42,
             start: date = date(2026, 9, 1), truth: Path | None = None,
             progress: Progress | None = None) -> GenerationReport:
    """Write ``days`` days of channel files for ``customers`` people into ``out``."""
    if customers < 1 or days < 1:
        raise ValueError("customers and days must be at least 1")
    started = time.perf_counter()
    out, truth = Path(out), Path(truth) if truth else Path(out).parent / "ground_truth"
    truth.mkdir(parents=True, exist_ok=True)
    with (truth / "identifiers.csv").open("w", encoding="utf-8") as f:
        f.write("person_id,identifier_type,identifier_value\n")
    with (truth / "people.csv").open("w", encoding="utf-8") as f:
        f.write("person_id,name,gender,birthday,city,household_id\n")
    report = GenerationReport()
    malformed: dict[str, Counter] = {}
    for chunk, first in enumerate(range(0, customers, CHUNK)):
        rng = random.Random(f"{seed}:{chunk}")
        writer = LandingWriter(out, rng, start + timedelta(days=days))
        simulator = Simulator(rng, start, days, writer.emit)
        people = make_people(rng, first, min(CHUNK, customers - first))
        for n, person in enumerate(people, start=1):
            simulator.person(person)
            if progress and (n % 5000 == 0 or n == len(people)):
                progress("simulating people", first + n, customers)
        writer.flush(chunk)
        write_truth(truth, people)
        report.rows.update(writer.rows)
        for channel, kinds in writer.malformed.items():
            malformed.setdefault(channel, Counter()).update(kinds)
    write_traps(truth)
    report.late_files, report.redelivered_files, report.redelivered_rows = (
        deliver_late_and_twice(out, random.Random(f"{seed}:delivery")))
    report.malformed = {c: dict(k) for c, k in malformed.items()}
    report.files = sum(1 for p in out.rglob("*") if p.is_file())
    report.seconds = time.perf_counter() - started
    return report
