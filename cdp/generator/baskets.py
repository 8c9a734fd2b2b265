"""Affinities in baskets: what a person buys follows their taste, and some products go together.

``basket.baskets`` draws lines at random; ``with_affinities`` rewrites them per buyer so that a
recommender has something real to find:

- each person has a favourite category and, in each category, a favourite product (stable per
  person across every channel and chunk: derived from the global person index);
- each person has a *style*: most SKU variants they buy come from that style's variants, so
  people of one style buy the same SKUs and item-to-item co-occurrence carries signal that
  popularity does not;
- products go in pairs (latte with afternoon tea, lipstick with hand cream): a second line is
  often the first line's companion, in the same style.

The rewrite draws from its own random stream (a child of the chunk's seed and a channel salt),
so every other value the generator writes for a seed stays what it was; only the lines' SKUs,
titles and prices change (never how many lines or orders there are).
"""

from __future__ import annotations

import zlib
from dataclasses import replace

import numpy as np

from cdp.generator.basket import Line
from cdp.generator.catalog import CATEGORIES, CATEGORY_CODES, PRODUCTS
from cdp.generator.context import Context

STYLES = 8  # SKU variants 1..39 fall into STYLES styles (variant % STYLES)
FAVOURITE_CATEGORY_SHARE = 0.6  # of online lines: the buyer's favourite category
FAVOURITE_PRODUCT_SHARE = 0.5  # of first lines: the buyer's favourite product in the category
STYLE_SHARE = 0.8  # of lines: a variant of the buyer's style
COMPANION_SHARE = 0.6  # of second and later lines: the first line's companion product
_VARIANTS = 39  # basket.baskets draws variants 1..39


def _mix(values: np.ndarray, salt: int) -> np.ndarray:
    """A stateless 64-bit hash (splitmix64) of ``values``: per-person traits without a stream."""
    with np.errstate(over="ignore"):
        z = np.asarray(values, dtype=np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def favourite_category(person: np.ndarray) -> np.ndarray:
    """Index into CATEGORIES of each (global) person's favourite category."""
    return (_mix(person, 1) % np.uint64(len(CATEGORIES))).astype(np.int64)


def style(person: np.ndarray) -> np.ndarray:
    """Each (global) person's style, 0..STYLES-1."""
    return (_mix(person, 2) % np.uint64(STYLES)).astype(np.int64)


def favourite_product(person: int, category: int) -> int:
    """The person's favourite product (index within the category)."""
    count = len(PRODUCTS[CATEGORIES[category]])
    return int(_mix(np.array([person * 16 + category]), 3)[0] % np.uint64(count))


def companion(category: int, product: int) -> int:
    """The product bought with ``product`` in its category (pairs 0-1, 2-3; a lone third
    product goes with the second)."""
    count = len(PRODUCTS[CATEGORIES[category]])
    partner = product + 1 if product % 2 == 0 else product - 1
    return partner if partner < count else product - 1


def _stream(ctx: Context, salt: str) -> np.random.Generator:
    """A random stream of its own, derived from the chunk's seed without advancing ``ctx.rng``."""
    parent = ctx.rng.bit_generator.seed_seq
    child = np.random.SeedSequence(parent.entropy, spawn_key=(zlib.crc32(salt.encode()),))
    return np.random.default_rng(child)


def _line(category: int, product: int, variant: int, old: Line, fraction: float) -> Line:
    """A line of ``product`` / ``variant`` with the old line's quantity and discount rule."""
    title, title_cn, low, high = PRODUCTS[CATEGORIES[category]][product]
    price = (low + int(fraction * (high - low))) // 100 * 100 - (10 if variant % 3 == 0 else 0)
    discount = (price * old.num // 10) // 100 * 100 if old.discount else 0
    sku = f"{CATEGORY_CODES[category]}{product:02d}{variant:03d}"
    return replace(
        old, category=category, title=title, title_cn=title_cn, sku=sku, price=price,
        discount=discount,
    )  # fmt: skip


def _style_variant(person_style: int, roll: float) -> int:
    """A variant 1..39 of the style, chosen by ``roll`` in [0, 1)."""
    options = range(person_style or STYLES, _VARIANTS + 1, STYLES)
    return options[int(roll * len(options))]


def with_affinities(
    ctx: Context, person: np.ndarray, items: list[list[Line]], salt: str, keep_category: bool
) -> list[list[Line]]:
    """``items`` (one basket per chunk-local ``person``) rewritten to follow the buyer's taste.

    ``keep_category`` keeps each line's category (a store sells its own format); otherwise a
    share of lines moves to the buyer's favourite category.
    """
    rng = _stream(ctx, salt)
    people = ctx.people.first + np.asarray(person, dtype=np.int64)
    favourite, styles = favourite_category(people), style(people)
    out = []
    for p, fav, sty, lines in zip(people.tolist(), favourite.tolist(), styles.tolist(), items):
        rolls = rng.random((len(lines), 5))
        rewritten: list[Line] = []
        for j, (old, r) in enumerate(zip(lines, rolls.tolist())):
            category = old.category
            if not keep_category and r[0] < FAVOURITE_CATEGORY_SHARE:
                category = fav
            product = int(old.sku[2:4]) % len(PRODUCTS[CATEGORIES[category]])
            if j == 0 and r[1] < FAVOURITE_PRODUCT_SHARE:
                product = favourite_product(p, category)
            variant = int(old.sku[4:])
            if r[2] < STYLE_SHARE:
                variant = _style_variant(sty, r[3])
            if j > 0 and r[4] < COMPANION_SHARE:
                first = rewritten[0]
                category = first.category
                product = companion(category, int(first.sku[2:4]))
            line = _line(category, product, variant, old, r[3])
            # Two lines of one SKU would read as a repeated SKU, which only JD's gift lines are.
            rewritten.append(old if any(x.sku == line.sku for x in rewritten) else line)
        out.append(rewritten)
    return out
