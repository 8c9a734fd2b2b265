"""Shopping baskets: line items drawn from the product catalogue, shared by every sales channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cdp.generator.catalog import CATEGORIES, CATEGORY_CODES, PRODUCTS

_FLAT = [(c, k, p) for c, cat in enumerate(CATEGORIES) for k, p in enumerate(PRODUCTS[cat])]
_BY_CATEGORY = [
    np.array([i for i, (c, _, _) in enumerate(_FLAT) if c == cat]) for cat in range(len(CATEGORIES))
]


@dataclass(frozen=True)
class Line:
    category: int  # index into CATEGORIES
    title: str
    title_cn: str
    sku: str
    price: int  # fen
    num: int
    discount: int  # fen, on the whole line

    @property
    def gross(self) -> int:
        return self.price * self.num

    @property
    def amount(self) -> int:
        return self.price * self.num - self.discount


def baskets(
    rng: np.random.Generator, n: int, favourite: np.ndarray | None = None, max_lines: int = 4
) -> list[list[Line]]:
    """``n`` baskets of 1..max_lines lines, mostly from the favourite category when given."""
    sizes = rng.choice(np.arange(1, 5), size=n, p=[0.5, 0.3, 0.14, 0.06])
    sizes = np.minimum(sizes, max_lines)
    total = int(sizes.sum())
    category = rng.integers(0, len(CATEGORIES), total)
    if favourite is not None:
        fav = np.repeat(np.asarray(favourite), sizes)
        category = np.where(rng.random(total) < 0.6, fav, category)
    pick = rng.random(total)
    variant = rng.integers(1, 40, total)
    frac = rng.random(total)
    num = rng.choice([1, 1, 1, 2, 2, 3], size=total)
    discounted = rng.random(total) < 0.25
    lines = []
    for c, pk, v, f, q, d in zip(
        category.tolist(),
        pick.tolist(),
        variant.tolist(),
        frac.tolist(),
        num.tolist(),
        discounted.tolist(),
    ):
        options = _BY_CATEGORY[c]
        flat = int(options[int(pk * options.size)])
        _, k, (title, title_cn, low, high) = _FLAT[flat]
        price = (low + int(f * (high - low))) // 100 * 100 - (10 if v % 3 == 0 else 0)
        discount = (price * q // 10) // 100 * 100 if d else 0
        lines.append(
            Line(c, title, title_cn, f"{CATEGORY_CODES[c]}{k:02d}{v:03d}", price, q, discount)
        )
    out, at = [], 0
    for s in sizes.tolist():
        out.append(lines[at : at + s])
        at += s
    return out
