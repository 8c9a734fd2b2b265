"""Realities that involve two people: phones reassigned to a new owner, foreign look-alikes.

Chosen per chunk from the chunk's own people and random stream (so the files stay the same
for any number of workers), before any channel is built; the builders then write the records
that make each reality visible, and the chunk reports them for traps.csv.

- **Foreign shoppers**: about 1% of people have a foreign mobile (E.164, ``+85261234567``).
- **Look-alike**: one foreign number per chunk is ``+1`` followed by the digits of another
  (unrelated) member's mainland mobile without its leading 1 (``+1 310 718 8897`` and
  ``13107188897``): a parser that drops the country code merges the two.
- **Reassigned phones**: carriers recycle numbers. Member A used phone X until 2024; after a
  gap of more than a year X belongs to member B (from 2025). Both periods are in the data:
  A's and B's old records arrive as a history backfill in the first delivery folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import phonenumbers

from cdp.generator import ids
from cdp.generator.clock import DAY
from cdp.generator.people import People

FOREIGN_SHARE = 0.01
REASSIGNED_SHARE = 0.005  # of members
MIN_REASSIGNED = 2  # per chunk, so that even a demo shows the reality
# Days before the window start: A registered, A's last record with X, B's first record with X.
PREVIOUS_FIRST_DAYS = (1000, 1100)
PREVIOUS_LAST_DAYS = (800, 900)
CURRENT_FIRST_DAYS = (380, 420)


@dataclass(frozen=True)
class Reassignment:
    """Phone ``phone`` was ``previous``'s until ``previous_last``, then ``current``'s from
    ``current_first`` (times in seconds from the window start: negative, before it)."""

    previous: int
    current: int
    phone: str
    previous_first: int
    previous_last: int
    current_first: int


@dataclass(frozen=True)
class Lookalike:
    """``foreign``'s number is ``+1`` + ``mainland``'s phone without its leading 1."""

    foreign: int
    mainland: int


@dataclass
class Plan:
    foreign: np.ndarray  # bool per person: the phone is a foreign E.164 number
    reassigned: list[Reassignment] = field(default_factory=list)
    lookalike: Lookalike | None = None

    @property
    def involved(self) -> set[int]:
        """People whose records the builders write on purpose for a reality."""
        out = {p for r in self.reassigned for p in (r.previous, r.current)}
        if self.lookalike:
            out |= {self.lookalike.foreign, self.lookalike.mainland}
        return out


def _looks_american(phone: str) -> bool:
    """Whether ``+1`` and the mainland mobile without its leading 1 is a valid US number."""
    return phonenumbers.is_valid_number(phonenumbers.parse("+1" + phone[1:]))


def _lookalike(people: People, eligible: np.ndarray) -> Lookalike | None:
    candidates = np.flatnonzero(eligible).tolist()
    mainland = next(
        (
            p
            for p in candidates
            if people.phone[p].startswith("13") and _looks_american(people.phone[p])
        ),
        None,
    )
    if mainland is None:
        return None
    household = people.household[mainland]
    foreign = next((p for p in candidates if people.household[p] != household), None)
    return None if foreign is None else Lookalike(foreign, mainland)


def _time_before(rng: np.random.Generator, days: tuple[int, int]) -> int:
    """A shop-hours time some days (in ``[lo, hi)``) before the window start."""
    day = -int(rng.integers(days[0], days[1]))
    return day * DAY + 10 * 3600 + int(rng.integers(0, 12 * 3600))


def _reassignments(
    rng: np.random.Generator, people: People, eligible: np.ndarray
) -> list[Reassignment]:
    """Pairs of strangers sharing a phone in turn. Previous owners are chosen first among
    members whose WeChat is not bound (no unionid): then no second unionid in a merged person
    trips a per-person limit, and only the phone's history tells the two apart."""
    order = rng.permutation(np.flatnonzero(eligible)).tolist()
    previous = sorted(order, key=lambda p: people.unionid[p] is not None)  # stable: random
    wanted = max(MIN_REASSIGNED, round(int(people.is_member.sum()) * REASSIGNED_SHARE))
    used: set[int] = set()
    out: list[Reassignment] = []
    for a in previous:
        if len(out) == wanted:
            break
        if a in used:
            continue
        # The current owner is a stranger: another household.
        b = next(
            (
                p
                for p in reversed(order)
                if p not in used and p != a and people.household[p] != people.household[a]
            ),
            None,
        )
        if b is None:
            break
        used |= {a, b}
        out.append(
            Reassignment(
                a,
                b,
                people.phone[b],
                _time_before(rng, PREVIOUS_FIRST_DAYS),
                _time_before(rng, PREVIOUS_LAST_DAYS),
                _time_before(rng, CURRENT_FIRST_DAYS),
            )
        )
    return out


def plan_realities(rng: np.random.Generator, people: People) -> Plan:
    """Give some people foreign phones (in ``people``) and choose the two-person realities."""
    n = people.n
    stable = np.array([p is None for p in people.phone2], dtype=bool)  # never change number
    foreign = stable & (rng.random(n) < FOREIGN_SHARE)
    country = rng.choice(len(ids.FOREIGN_PLANS), size=n, p=np.array(ids.FOREIGN_WEIGHTS))
    chosen = np.flatnonzero(foreign)
    for p, number in zip(
        chosen.tolist(), ids.foreign_phones(people.index[chosen], country[chosen])
    ):
        people.phone[p] = number
    plan = Plan(foreign)
    members = people.is_member & stable
    plan.lookalike = _lookalike(people, members & ~foreign)
    if plan.lookalike:
        f, m = plan.lookalike.foreign, plan.lookalike.mainland
        people.phone[f] = "+1" + people.phone[m][1:]
        foreign[f] = True
    free = members & ~foreign
    free[list(plan.involved)] = False
    plan.reassigned = _reassignments(rng, people, free)
    return plan
