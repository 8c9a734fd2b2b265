"""The people of one chunk: households, demographics, identifiers and which channels they use.

All attributes are numpy arrays (or lists) indexed by the person's position in the chunk.
``Usage`` records which of a person's identifiers actually appeared in some delivered record,
so the ground truth lists exactly the identifiers that resolution can see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cdp.generator import ids
from cdp.generator.catalog import (
    CITIES,
    CITY_WEIGHTS,
    GIVEN_CHARS,
    SURNAME_WEIGHTS,
    SURNAMES,
    Catalog,
)

HOUSEHOLD_SIZES = np.array([1, 2, 3, 4])
HOUSEHOLD_WEIGHTS = np.array([0.35, 0.30, 0.20, 0.15])
_SURNAME_P = np.array(SURNAME_WEIGHTS) / sum(SURNAME_WEIGHTS)


@dataclass
class People:
    """Attributes of ``n`` consecutive people starting at global index ``first``."""

    first: int
    n: int
    days: int
    index: np.ndarray
    person_id: list[str]
    household: np.ndarray  # chunk-local household number
    household_id: list[str]
    name: list[str]
    gender: np.ndarray  # 1 male, 2 female
    birthday: list[str]
    city: np.ndarray  # index into CITIES
    phone: list[str]
    phone2: list[str | None]
    phone_switch_day: np.ndarray  # day from which the new phone is used (days = never)
    email: list[str | None]
    unionid: list[str | None]
    openid: list[list[str]]  # per app (official accounts..., mini-program)
    member_card: list[str | None]
    tmall_ouid: list[str | None]
    buyer_nick: list[str]
    jd_pin: list[str | None]
    douyin_open_id: list[str | None]
    device_id: list[str | None]
    buggy_sdk: np.ndarray  # the SDK sends the all-zero device id
    family_device: list[str | None]
    cookies: list[list[str]]
    mac_hash: list[str | None]
    plate_no: list[str | None]
    follows: np.ndarray  # bool (n, official accounts)
    is_member: np.ndarray
    active: dict[str, np.ndarray] = field(default_factory=dict)

    def phone_on(self, person: np.ndarray, day: np.ndarray) -> tuple[list[str], np.ndarray]:
        """The phone a person used on a day (old or new number) and which one it was (0/1)."""
        person = np.asarray(person, dtype=np.int64)
        second = np.asarray(day) >= self.phone_switch_day[person]
        chosen = [
            self.phone2[p] if s else self.phone[p] for p, s in zip(person.tolist(), second.tolist())
        ]
        return chosen, second.astype(np.int8)


class Usage:
    """Which identifiers of which people appeared in delivered records."""

    def __init__(self, n: int):
        self.n = n
        self.slots: dict[str, np.ndarray] = {}

    def mark(self, slot: str, person: np.ndarray | list[int]) -> None:
        used = self.slots.get(slot)
        if used is None:
            used = self.slots[slot] = np.zeros(self.n, dtype=bool)
        used[np.asarray(person, dtype=np.int64)] = True

    def used(self, slot: str) -> np.ndarray:
        return self.slots.get(slot, np.zeros(self.n, dtype=bool))


def _names(rng: np.random.Generator, n: int, household: np.ndarray) -> list[str]:
    surname = rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)
    # Most members of a household share the first member's surname.
    first_of_household = np.r_[0, np.flatnonzero(np.diff(household)) + 1]
    owner = np.repeat(first_of_household, np.diff(np.r_[first_of_household, n]))
    share = rng.random(n) < 0.7
    surname = np.where(share, surname[owner], surname)
    g1 = rng.integers(0, len(GIVEN_CHARS), n)
    g2 = rng.integers(0, len(GIVEN_CHARS), n)
    two = rng.random(n) < 0.7
    return [
        SURNAMES[s] + GIVEN_CHARS[a] + (GIVEN_CHARS[b] if t else "")
        for s, a, b, t in zip(surname.tolist(), g1.tolist(), g2.tolist(), two.tolist())
    ]


def _maybe(values: list[str], mask: np.ndarray) -> list[str | None]:
    return [v if m else None for v, m in zip(values, mask.tolist())]


def make_people(
    rng: np.random.Generator, catalog: Catalog, first: int, n: int, days: int
) -> People:
    """Draw ``n`` people (global indexes ``first`` ...) living in households of 1-4."""
    index = np.arange(first, first + n, dtype=np.int64)
    sizes = rng.choice(HOUSEHOLD_SIZES, size=n, p=HOUSEHOLD_WEIGHTS)
    household = np.repeat(np.arange(n), sizes)[:n]
    starts = np.r_[0, np.flatnonzero(np.diff(household)) + 1]
    household_id = [""] * n
    household_size = np.zeros(n, dtype=np.int64)
    for s, e in zip(starts.tolist(), np.r_[starts[1:], n].tolist()):
        hid = f"H{first + s:08d}"
        for i in range(s, e):
            household_id[i] = hid
        household_size[s:e] = e - s
    city_of_household = rng.choice(len(CITIES), size=n, p=np.array(CITY_WEIGHTS))
    city = city_of_household[household]
    gender = np.where(rng.random(n) < 0.56, 2, 1)
    birth_days = rng.integers(0, (2007 - 1960) * 365, n)
    birthday = (np.datetime64("1960-01-01") + birth_days.astype("timedelta64[D]")).astype(str)
    has_phone2 = rng.random(n) < 0.03
    switch = np.where(has_phone2, rng.integers(1, max(days, 2), n), days)
    if days < 2:
        has_phone2[:] = False
    apps = len(catalog.apps)
    openid = [list(x) for x in zip(*(ids.openids(rng, n) for _ in range(apps)))]
    n_accounts = len(catalog.official_accounts)
    follows = np.zeros((n, n_accounts), dtype=bool)
    for a, app in enumerate(catalog.official_accounts):
        if app.city is None:
            follows[:, a] = rng.random(n) < 0.40
        else:
            local = city == CITIES.index(app.city)
            follows[:, a] = local & (rng.random(n) < 0.55)
    is_member = rng.random(n) < 0.35
    web = rng.random(n) < 0.6
    has_device = web & (rng.random(n) < 0.65)
    buggy = has_device & (rng.random(n) < 0.04)
    # A shared tablet in households where at least two people browse the brand's H5 pages.
    web_per_household = np.bincount(household, weights=web, minlength=n)
    tablet_household = (web_per_household >= 2) & (rng.random(n) < 0.5)
    tablet_ids = ids.device_ids(rng, n)
    family_device = [
        tablet_ids[h] if tablet_household[h] and w else None
        for h, w in zip(household.tolist(), web.tolist())
    ]
    n_cookies = rng.integers(1, 4, n)
    cookie_pool = ids.hex_ids(rng, 3 * n)
    cookies = [cookie_pool[3 * i : 3 * i + k] for i, k in enumerate(n_cookies.tolist())]
    tmall = rng.random(n) < 0.25
    jd = rng.random(n) < 0.15
    douyin = rng.random(n) < 0.15
    nick_tail = rng.integers(0, 10, n)
    nick_head = rng.choice(list("tjx0sh"), n)
    plate_letters = np.array(list("ABCDEFGHJKLMN"))
    province = {
        "Shanghai": "沪",
        "Beijing": "京",
        "Chengdu": "川",
        "Shenzhen": "粤",
        "Hangzhou": "浙",
        "Guangzhou": "粤",
    }
    mall = rng.random(n) < 0.4
    has_car = mall & (rng.random(n) < 0.45)
    plate_digits = rng.integers(0, 10**5, n)
    plate_letter = plate_letters[rng.integers(0, plate_letters.size, n)]
    email_host = rng.choice(["qq.com", "163.com", "126.com", "sina.com"], n, p=[0.6, 0.2, 0.1, 0.1])
    qq = ids.qq_numbers(index)
    people = People(
        first=first,
        n=n,
        days=days,
        index=index,
        person_id=[f"P{i:08d}" for i in index.tolist()],
        household=household,
        household_id=household_id,
        name=_names(rng, n, household),
        gender=gender,
        birthday=birthday.tolist(),
        city=city,
        phone=ids.phones(index),
        phone2=_maybe(ids.phones(index, second=True), has_phone2),
        phone_switch_day=switch,
        email=_maybe([f"{q}@{h}" for q, h in zip(qq, email_host.tolist())], rng.random(n) < 0.25),
        unionid=_maybe(ids.openids(rng, n), rng.random(n) < 0.8),
        openid=openid,
        member_card=_maybe(ids.member_cards(index), is_member),
        tmall_ouid=_maybe(ids.alnum_ids(rng, n, 29, "AAH"), tmall),
        buyer_nick=[f"{h}**{t}" for h, t in zip(nick_head.tolist(), nick_tail.tolist())],
        jd_pin=_maybe(ids.alnum_ids(rng, n, 12, "jd_"), jd),
        douyin_open_id=_maybe(ids.alnum_ids(rng, n, 32, "_000"), douyin),
        device_id=_maybe(ids.device_ids(rng, n), has_device),
        buggy_sdk=buggy,
        family_device=family_device,
        cookies=cookies,
        mac_hash=_maybe(ids.hex_ids(rng, n), mall & (rng.random(n) < 0.6)),
        plate_no=[
            f"{province[CITIES[c]]}{l}{d:05d}" if car else None
            for c, l, d, car in zip(
                city.tolist(), plate_letter.tolist(), plate_digits.tolist(), has_car.tolist()
            )
        ],
        follows=follows,
        is_member=is_member,
    )
    people.active = {
        "web": web,
        "tmall": tmall,
        "jd": jd,
        "douyin": douyin,
        "mall": mall,
        "pos": rng.random(n) < 0.4,
        "tablet": tablet_household[household] & web,
        "household_size": household_size,
    }
    return people
