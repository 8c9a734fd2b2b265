"""What every channel builder receives (one chunk of people) and what it returns (batches)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cdp.generator import ids, spelling
from cdp.generator.catalog import Catalog
from cdp.generator.clock import DAY, Clock, random_times
from cdp.generator.people import People, Usage
from cdp.generator.realities import Plan


class Raw(str):
    """A value that is already JSON text (line-item arrays): written without quoting."""


@dataclass
class Batch:
    """Rows of one channel: values per contract field, a time and a file key per row.

    The delivery day of a row is ``ts // DAY``; the file key names the account or store the
    file belongs to. Rows dated before the window (negative ``ts``) are a history backfill,
    delivered in the first day's folder.
    """

    channel: str
    ts: np.ndarray
    columns: dict[str, list]
    keys: list[str] | str
    #: a file of corrections: its name ends with ``suffix``, it arrives ``lag`` days after its
    #: records' day (the builder keeps that inside the window)
    suffix: str = ""
    lag: int = 0


@dataclass
class Context:
    rng: np.random.Generator
    people: People
    catalog: Catalog
    clock: Clock
    usage: Usage
    scale: float  # days / 30: rates below are "per 30 days"
    plan: Plan
    shared: dict = field(default_factory=dict)  # facts one channel hands to another

    @property
    def days(self) -> int:
        return self.clock.days

    def poisson(self, rate_per_30_days: float, n: int) -> np.ndarray:
        return self.rng.poisson(rate_per_30_days * self.scale, n)

    def days_between(self, lo: np.ndarray, hi: np.ndarray | int) -> np.ndarray:
        """A uniform day in [lo, hi) per element (requires lo < hi)."""
        lo = np.asarray(lo, dtype=np.int64)
        span = np.asarray(hi, dtype=np.int64) - lo
        return lo + (self.rng.random(lo.size) * span).astype(np.int64)

    def times_on(self, days: np.ndarray) -> np.ndarray:
        return random_times(self.rng, days)

    def spelled_phones(self, person: np.ndarray, ts: np.ndarray) -> list[str]:
        """The person's phone at that time, spelled as a real source would; marks it used."""
        person = np.asarray(person, dtype=np.int64)
        phones, second = self.people.phone_on(person, np.asarray(ts) // DAY)
        forms = spelling.phone_forms(self.rng, person.size)
        # Foreign numbers are never mangled: they keep their "+", so spreadsheets keep text.
        readable = (forms != spelling.MANGLED) | self.plan.foreign[person]
        self.usage.mark("phone_0", person[readable & (second == 0)])
        self.usage.mark("phone_1", person[readable & (second == 1)])
        return spelling.spell_phones(phones, forms)

    def mini_program_phones(self, person: np.ndarray, ts: np.ndarray) -> tuple[list, list]:
        """(phone_number, country_code) of phones authorised in the mini-program at that time;
        marks them used, and which were written with their country code."""
        person = np.asarray(person, dtype=np.int64)
        phones, second = self.people.phone_on(person, np.asarray(ts) // DAY)
        numbers, codes, coded = [], [], []
        for phone, roll in zip(phones, self.rng.random(person.size).tolist()):
            number, code, with_code = spelling.mini_program_phone(phone, roll)
            numbers.append(number)
            codes.append(code)
            coded.append(with_code)
        coded = np.array(coded, dtype=bool)
        for k in (0, 1):
            self.usage.mark(f"phone_{k}", person[second == k])
            self.usage.mark(f"coded_phone_{k}", person[(second == k) & coded])
        return numbers, codes

    def spelled_cards(self, person: np.ndarray, delivered: np.ndarray) -> list[str | None]:
        """Each person's member card as typed or pasted (None for non-members); marks who had
        a card written in another spelling in a delivered record."""
        person = np.asarray(person, dtype=np.int64)
        forms = spelling.card_forms(self.rng, person.size)
        cards = [
            spelling.spell_card(self.people.member_card[p], k)
            for p, k in zip(person.tolist(), forms.tolist())
        ]
        odd = np.array(
            [
                c is not None and c != self.people.member_card[p]
                for p, c in zip(person.tolist(), cards)
            ],
            dtype=bool,
        )
        self.usage.mark("card_spelling", person[odd & np.asarray(delivered, dtype=bool)])
        return cards

    def event_ids(self, n: int) -> list[str]:
        return ids.hex_ids(self.rng, n)

    def pick(self, values: tuple | list, n: int, p=None) -> list:
        idx = self.rng.choice(len(values), size=n, p=p)
        return [values[i] for i in idx.tolist()]


def expand(counts: np.ndarray) -> np.ndarray:
    """Owner index of each of ``sum(counts)`` children (person of each event, ...)."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.repeat(np.arange(counts.size), counts)


_YUAN: dict[int, str] = {}


def yuan(fen: int) -> str:
    """Money text in yuan with two decimals, from integer fen (memoised: amounts repeat)."""
    text = _YUAN.get(fen)
    if text is None:
        sign = "-" if fen < 0 else ""
        text = f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
        if len(_YUAN) < 1_000_000:
            _YUAN[fen] = text
    return text


def where(mask: np.ndarray, values: list) -> list:
    return [v if m else None for v, m in zip(values, np.asarray(mask).tolist())]
