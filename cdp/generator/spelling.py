"""How people and systems actually write phone numbers and e-mail addresses."""

from __future__ import annotations

import numpy as np

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# (weight, spelling); the last one, Excel's scientific notation, loses digits for good.
_PHONE_FORMS = (
    (0.55, lambda p: p),
    (0.07, lambda p: f"+86 {p[:3]}-{p[3:7]}-{p[7:]}"),
    (0.07, lambda p: f"86{p}"),
    (0.07, lambda p: f"{p[:3]} {p[3:7]} {p[7:]}"),
    (0.05, lambda p: f"+86-{p}"),
    (0.04, lambda p: f"(+86){p}"),
    (0.04, lambda p: f"0086 {p}"),
    (0.04, lambda p: p.translate(FULL_WIDTH)),
    (0.05, lambda p: f" {p} "),
    (0.02, lambda p: f"{p[0]}.{p[1:6]}E+10"),
)
_WEIGHTS = np.array([w for w, _ in _PHONE_FORMS]) / sum(w for w, _ in _PHONE_FORMS)
MANGLED = len(_PHONE_FORMS) - 1


def phone_forms(rng: np.random.Generator, n: int) -> np.ndarray:
    """Which spelling each of ``n`` phone occurrences gets (index into the table)."""
    return rng.choice(len(_PHONE_FORMS), size=n, p=_WEIGHTS)


def spell_phones(phones: list[str], forms: np.ndarray) -> list[str]:
    table = [f for _, f in _PHONE_FORMS]
    return [p if k == 0 else table[k](p) for p, k in zip(phones, forms.tolist())]


def spell_email(email: str, roll: float) -> str:
    """Canonical e-mails are lower case; some sources keep the user's capitals or spaces."""
    if roll < 0.1:
        return email.upper()
    if roll < 0.2:
        return f" {email.capitalize()}"
    return email
