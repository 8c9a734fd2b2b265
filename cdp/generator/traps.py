"""Identifiers that look like a person's but are shared: the list written to traps.csv."""

from __future__ import annotations

from cdp.generator.catalog import HUB_DEVICE_ID, TEST_PHONES, Catalog
from cdp.generator.clock import Clock
from cdp.generator.people import People
from cdp.generator.realities import Plan


def trap_rows(catalog: Catalog, family_devices: list[tuple[str, str, list[str]]]) -> list[tuple]:
    """(trap, identifier_type, identifier_value, note) rows."""
    rows = [
        ("test_phone", "phone", TEST_PHONES[0], "dummy typed by cashiers for walk-ins"),
        ("test_phone", "phone", TEST_PHONES[1], "dummy typed by cashiers for walk-ins"),
    ]
    rows += [
        ("store_phone", "phone", s.phone, f"store {s.code}'s own phone typed for walk-ins")
        for s in catalog.stores
    ]
    rows.append(
        (
            "hub_device",
            "device_id",
            HUB_DEVICE_ID,
            "all-zero device id sent by a buggy SDK for many people",
        )
    )
    rows += [
        (
            "staff_openid",
            "openid",
            f"{app_id}/{openid}",
            "store staff claiming coupons for many customers",
        )
        for app_id, openid in catalog.staff_openids
    ]
    rows += [
        (
            "shared_family_device",
            "device_id",
            device,
            f"tablet of household {household} used by {' '.join(members)}",
        )
        for device, household, members in family_devices
    ]
    return rows


def person_trap_rows(people: People, plan: Plan, clock: Clock) -> list[tuple[str, ...]]:
    """Traps made of two strangers' records: a phone reassigned from one member to another,
    and a foreign number whose digits are another member's mainland phone. The note names
    both persons, the earlier (or foreign) one first."""
    pid = people.person_id

    def day(ts: int) -> str:
        return clock.history_text(ts, "%Y-%m-%d")

    rows = [
        (
            "reassigned_phone",
            "phone",
            r.phone,
            f"{pid[r.previous]}'s until {day(r.previous_last)} then {pid[r.current]}'s from "
            + day(r.current_first),
        )
        for r in plan.reassigned
    ]
    if plan.lookalike:
        f, m = plan.lookalike.foreign, plan.lookalike.mainland
        note = (
            f"{pid[f]}'s foreign number; without +1 it reads as {pid[m]}'s mainland phone "
            + people.phone[m]
        )
        rows.append(("foreign_lookalike", "phone", people.phone[f], note))
    return rows
