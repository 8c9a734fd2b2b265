"""Baskets with affinities: buyers keep their taste across channels, products go in pairs,
and nothing else the generator draws for a seed changes."""

from collections import Counter
from types import SimpleNamespace

import numpy as np

from cdp.generator import baskets as affinity
from cdp.generator.basket import baskets
from cdp.generator.catalog import CATEGORIES, PRODUCTS


def context(seed: int = 3, first: int = 0) -> SimpleNamespace:
    """What with_affinities reads of a generator Context: its random stream and people."""
    return SimpleNamespace(
        rng=np.random.default_rng([seed, 0]), people=SimpleNamespace(first=first)
    )


def rewrite(ctx, person: np.ndarray, keep_category: bool = False, salt: str = "tmall"):
    drawn = baskets(ctx.rng, person.size)
    return drawn, affinity.with_affinities(ctx, person, drawn, salt, keep_category)


def test_the_rewrite_keeps_basket_sizes_and_does_not_advance_the_chunk_stream():
    ctx = context()
    drawn = baskets(ctx.rng, 500)
    state = ctx.rng.bit_generator.state
    again = affinity.with_affinities(ctx, np.arange(500), drawn, "jd", False)
    assert ctx.rng.bit_generator.state == state
    assert [len(b) for b in again] == [len(b) for b in drawn]
    assert again == affinity.with_affinities(ctx, np.arange(500), drawn, "jd", False)


def test_a_buyer_mostly_buys_their_style_and_favourite_category():
    person = np.full(3000, 41)
    _, items = rewrite(context(), person)
    lines = [line for basket in items for line in basket]
    style = affinity.style(np.array([41]))[0]
    favourite = affinity.favourite_category(np.array([41]))[0]
    in_style = sum(int(line.sku[4:]) % affinity.STYLES == style for line in lines)
    in_favourite = sum(line.category == favourite for line in lines)
    assert in_style / len(lines) > 0.75  # 1/8 by chance
    assert in_favourite / len(lines) > 0.55  # 1/6 by chance


def test_a_store_basket_keeps_its_categories_or_takes_the_first_lines_companion():
    ctx = context()
    drawn = baskets(ctx.rng, 400, np.zeros(400, dtype=int))
    items = affinity.with_affinities(ctx, np.arange(400), drawn, "pos", keep_category=True)
    assert items[0][0].category == drawn[0][0].category
    for old, new in zip(drawn, items):
        assert new[0].category == old[0].category
        for was, line in zip(old[1:], new[1:]):
            assert line.category in (was.category, new[0].category)


def test_second_lines_are_often_the_first_lines_companion():
    _, items = rewrite(context(), np.arange(4000))
    pairs = [b for b in items if len(b) > 1]
    companions = sum(
        b[1].category == b[0].category
        and int(b[1].sku[2:4]) == affinity.companion(b[0].category, int(b[0].sku[2:4]))
        for b in pairs
    )
    assert companions / len(pairs) > 0.5


def test_prices_stay_in_the_products_range_and_skus_in_a_basket_differ():
    _, items = rewrite(context(), np.arange(2000))
    for basket in items:
        assert len({line.sku for line in basket}) == len(basket) or len(basket) > 1
        for line in basket:
            title, _, low, high = PRODUCTS[CATEGORIES[line.category]][int(line.sku[2:4])]
            assert line.title == title
            assert low - 10 <= line.price <= high
            assert line.amount == line.price * line.num - line.discount >= 0


def test_traits_follow_the_global_person_across_chunks_and_channels():
    people = np.arange(1000, 1200)
    assert (affinity.style(people) == affinity.style(people.copy())).all()
    spread = Counter(affinity.favourite_category(np.arange(60_000)).tolist())
    assert len(spread) == len(CATEGORIES)
    assert min(spread.values()) > 60_000 / len(CATEGORIES) * 0.9
