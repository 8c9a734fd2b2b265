"""Ground truth: who is who, written beside (never inside) the landing zone.

``identifiers.csv`` lists, per person, every identifier that appeared in at least one delivered
record in a recoverable spelling, written canonically (openid as ``<app_id>/<openid>``, phone as
11 digits or a foreign one in E.164, member card as issued, e-mail trimmed and lower case). Trap
identifiers (dummy phones, store phones, the all-zero device, staff openids) are never listed; a
family's shared tablet is listed for every member who used it; a reassigned phone is listed for
its current owner only. ``realities.csv`` lists who is affected by each spelling reality, and
``corrections.csv`` the records delivered again with corrected content.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cdp.generator.catalog import CITIES, Catalog
from cdp.generator.people import People, Usage
from cdp.generator.realities import Plan

PEOPLE_HEADER = "person_id,name,gender,birthday,city,household_id"
IDENTIFIERS_HEADER = "person_id,identifier_type,identifier_value"
TRAPS_HEADER = "trap,identifier_type,identifier_value,note"
REALITIES_HEADER = "reality,person_id,identifier_type,identifier_value"
CORRECTIONS_HEADER = "channel,business_key,field,first_value,corrected_value"


def _slots(people: People, catalog: Catalog):
    """(slot, identifier type, value of person p) in the order they are listed."""
    slots = [("unionid", "unionid", lambda p: people.unionid[p])]
    for a, app in enumerate(catalog.apps):
        slots.append(
            (f"openid_{a}", "openid", lambda p, a=a, app=app: f"{app.app_id}/{people.openid[p][a]}")
        )
    slots += [
        ("phone_0", "phone", lambda p: people.phone[p]),
        ("phone_1", "phone", lambda p: people.phone2[p]),
        ("member_card", "member_card", lambda p: people.member_card[p]),
        ("tmall_ouid", "tmall_ouid", lambda p: people.tmall_ouid[p]),
        ("jd_pin", "jd_pin", lambda p: people.jd_pin[p]),
        ("douyin_open_id", "douyin_open_id", lambda p: people.douyin_open_id[p]),
        ("email", "email", lambda p: people.email[p].strip().lower()),
        ("device_id", "device_id", lambda p: people.device_id[p]),
        ("family_device", "device_id", lambda p: people.family_device[p]),
    ]
    slots += [(f"cookie_{k}", "cookie_id", lambda p, k=k: people.cookies[p][k]) for k in range(3)]
    slots.append(("device_mac_hash", "device_mac_hash", lambda p: people.mac_hash[p]))
    return slots


def identifier_lines(people: People, usage: Usage, catalog: Catalog) -> list[str]:
    order, lines = [], []
    for s, (slot, kind, value) in enumerate(_slots(people, catalog)):
        for p in np.flatnonzero(usage.used(slot)).tolist():
            order.append(p * 64 + s)
            lines.append(f"{people.person_id[p]},{kind},{value(p)}")
    return [lines[i] for i in np.argsort(np.array(order, dtype=np.int64), kind="stable")]


def people_lines(people: People) -> list[str]:
    gender = {1: "M", 2: "F"}
    return [
        f"{pid},{name},{gender[g]},{b},{CITIES[c]},{h}"
        for pid, name, g, b, c, h in zip(
            people.person_id,
            people.name,
            people.gender.tolist(),
            people.birthday,
            people.city.tolist(),
            people.household_id,
        )
    ]


def family_devices(people: People, usage: Usage) -> list[tuple[str, str, list[str]]]:
    """(device id, household id, member person ids) of every shared tablet that was used."""
    used = usage.used("family_device")
    by_device: dict[str, tuple[str, list[str]]] = {}
    for p in np.flatnonzero(used).tolist():
        device = people.family_device[p]
        by_device.setdefault(device, (people.household_id[p], []))[1].append(people.person_id[p])
    return [(d, h, members) for d, (h, members) in by_device.items()]


def reality_lines(people: People, usage: Usage, plan: Plan) -> list[str]:
    """Who is affected by each spelling reality, with the identifier concerned (canonical):
    ``country_code_phone`` (a mini-program phone_number written with its country code),
    ``foreign_phone`` (a foreign mobile, E.164), ``card_spelling`` (a member card written
    with invisible or full-width characters, spaces, or without its leading zeros)."""
    foreign = plan.foreign & usage.used("phone_0")
    slots = (
        (
            "country_code_phone",
            usage.used("coded_phone_0") & ~plan.foreign,
            lambda p: people.phone[p],
        ),
        ("country_code_phone", usage.used("coded_phone_1"), lambda p: people.phone2[p]),
        ("foreign_phone", foreign, lambda p: people.phone[p]),
        ("card_spelling", usage.used("card_spelling"), lambda p: people.member_card[p]),
    )
    kinds = {
        "country_code_phone": "phone",
        "foreign_phone": "phone",
        "card_spelling": "member_card",
    }
    return [
        f"{reality},{people.person_id[p]},{kinds[reality]},{value(p)}"
        for reality, used, value in slots
        for p in np.flatnonzero(used).tolist()
    ]


def write_corrections(path: Path, corrections: list[tuple[str, ...]]) -> None:
    """corrections.csv: each corrected record, the field corrected and both values (the
    corrected one is the truth)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(CORRECTIONS_HEADER + "\n")
        f.writelines(",".join(row) + "\n" for row in corrections)
