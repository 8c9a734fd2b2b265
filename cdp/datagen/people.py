"""Synthetic people: who they are and which identifiers they carry on which channel."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
CITIES = (["上海"] * 30 + ["北京"] * 20 + ["成都"] * 12 + ["深圳"] * 12 + ["杭州"] * 10
          + ["南京"] * 8 + ["武汉"] * 8)
OFFICIAL_ACCOUNTS = ("wx_oa_shanghai", "wx_oa_beijing", "wx_oa_brand")
MINI_PROGRAM = "wx_mp_member"
MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152",
                   "155", "156", "158", "159", "166", "176", "177", "180", "181", "186", "187",
                   "188", "189", "198", "199")
ALNUM = string.ascii_letters + string.digits + "_-"


@dataclass
class Person:
    """One real person and every identifier they use (the ground truth)."""

    person_id: str
    household_id: str
    name: str
    gender: int  # 1 male, 2 female
    birthday: str
    city: str
    phones: list[str]
    email: str | None = None
    unionid: str | None = None
    openids: dict[str, str] = field(default_factory=dict)  # app id -> openid
    member_card: str | None = None
    tmall_ouid: str | None = None
    jd_pin: str | None = None
    douyin_open_id: str | None = None
    device_id: str | None = None
    cookie_id: str | None = None
    device_mac_hash: str | None = None

    def identifiers(self) -> list[tuple[str, str]]:
        ids = [("phone", p) for p in self.phones]
        ids += [("openid", f"{app}/{oid}") for app, oid in sorted(self.openids.items())]
        for kind, value in (("unionid", self.unionid), ("member_card", self.member_card),
                            ("tmall_ouid", self.tmall_ouid), ("jd_pin", self.jd_pin),
                            ("douyin_open_id", self.douyin_open_id), ("email", self.email),
                            ("device_id", self.device_id), ("cookie_id", self.cookie_id),
                            ("device_mac_hash", self.device_mac_hash)):
            if value:
                ids.append((kind, value))
        return ids


def token(rng: random.Random, prefix: str, length: int) -> str:
    return prefix + "".join(rng.choices(ALNUM, k=length))


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def make_people(rng: random.Random, first: int, count: int) -> list[Person]:
    """People ``first`` .. ``first + count - 1``, grouped into households of 1-4."""
    people: list[Person] = []
    household, members_left, shared_device = "", 0, None
    for n in range(first, first + count):
        if members_left == 0:
            household = f"H{n:08d}"
            members_left = rng.choices((1, 2, 3, 4), weights=(45, 30, 17, 8))[0]
            # A family tablet: every member browsing at home shows the same device id.
            shared_device = token(rng, "dev-", 16) if members_left > 1 else None
        members_left -= 1
        p = Person(
            person_id=f"P{n:08d}", household_id=household,
            name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
            gender=rng.choice((1, 2)),
            birthday=f"{rng.randint(1955, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            city=rng.choice(CITIES), phones=[mobile(rng)],
        )
        if rng.random() < 0.03:
            p.phones.append(mobile(rng))  # changed number, both still seen
        if rng.random() < 0.2:
            p.email = f"{token(rng, '', 8).lower().replace('-', '').replace('_', '')}@example.com"
        if rng.random() < 0.85:
            p.unionid = token(rng, "oU", 26)
            for app in rng.sample(OFFICIAL_ACCOUNTS, rng.choice((1, 1, 2))):
                p.openids[app] = token(rng, "o", 27)
            if rng.random() < 0.6:
                p.openids[MINI_PROGRAM] = token(rng, "o", 27)
        if MINI_PROGRAM in p.openids and rng.random() < 0.7:
            p.member_card = f"M{rng.randrange(10**9):09d}"
        if rng.random() < 0.3:
            p.tmall_ouid = token(rng, "AAH", 21)
        if rng.random() < 0.18:
            p.jd_pin = token(rng, "jd_", 12)
        if rng.random() < 0.12:
            p.douyin_open_id = token(rng, "dy", 30)
        if rng.random() < 0.45:
            p.cookie_id = token(rng, "ck", 20)
            p.device_id = shared_device or token(rng, "dev-", 16)
        if rng.random() < 0.25:
            p.device_mac_hash = f"{rng.getrandbits(128):032x}"
        people.append(p)
    return people
