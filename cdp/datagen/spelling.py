"""How people and systems actually write phone numbers."""

from __future__ import annotations

import random

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def spell_phone(rng: random.Random, phone: str) -> str:
    """The same 11-digit mobile in one of the spellings seen in real exports."""
    roll = rng.random()
    if roll < 0.55:
        return phone
    if roll < 0.62:
        return f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if roll < 0.69:
        return f"86{phone}"
    if roll < 0.76:
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    if roll < 0.81:
        return f"+86-{phone}"
    if roll < 0.85:
        return f"(+86){phone}"
    if roll < 0.89:
        return f"0086 {phone}"
    if roll < 0.93:
        return phone.translate(FULL_WIDTH)
    if roll < 0.98:
        return f" {phone} "
    # Opened and saved in Excel: the digits after the fifth are lost for good.
    return f"{phone[0]}.{phone[1:6]}E+10"
