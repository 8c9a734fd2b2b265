"""Identifiers that look like a person's but are shared: the list written to traps.csv."""

from __future__ import annotations

from cdp.generator.catalog import HUB_DEVICE_ID, TEST_PHONES, Catalog


def trap_rows(catalog: Catalog, family_devices: list[tuple[str, str, list[str]]]) -> list[tuple]:
    """(trap, identifier_type, identifier_value, note) rows."""
    rows = [("test_phone", "phone", TEST_PHONES[0], "dummy typed by cashiers for walk-ins"),
            ("test_phone", "phone", TEST_PHONES[1], "dummy typed by cashiers for walk-ins")]
    rows += [("store_phone", "phone", s.phone, f"store {s.code}'s own phone typed for walk-ins")
             for s in catalog.stores]
    rows.append(("hub_device", "device_id", HUB_DEVICE_ID,
                 "all-zero device id sent by a buggy SDK for many people"))
    rows += [("staff_openid", "openid", f"{app_id}/{openid}",
              "store staff claiming coupons for many customers")
             for app_id, openid in catalog.staff_openids]
    rows += [("shared_family_device", "device_id", device,
              f"tablet of household {household} used by {' '.join(members)}")
             for device, household, members in family_devices]
    return rows
