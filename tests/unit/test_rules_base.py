"""The shared base of the rule files: strict models and one spelling of bounds, the same in
segment definitions (activation) and in the mart rules (tags, loyalty)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from cdp.activation.definitions import Count, Predicate
from cdp.mart_rules.loyalty import TierLevel
from cdp.mart_rules.tags import AttributeCondition, Range
from cdp.rules_base import Bounds


def error_of(model, data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return str(caught.value)


@pytest.mark.parametrize("model", [Predicate, Count, Range], ids=lambda m: m.__name__)
def test_every_bounds_model_says_the_same_about_two_lower_bounds(model):
    assert "give gt or gte, not both" in error_of(model, {"gt": 1, "gte": 2})
    assert "give lt or lte, not both" in error_of(model, {"lt": 1, "lte": 2})


@pytest.mark.parametrize("model", [Predicate, Count, Range], ids=lambda m: m.__name__)
def test_every_bounds_model_refuses_an_empty_range(model):
    assert "empty range: lower bound 5 is above upper bound 3" in error_of(
        model, {"gt": 5, "lt": 3}
    )


@pytest.mark.parametrize("spelling", [float("inf"), float("-inf"), float("nan")])
def test_tag_ranges_take_finite_numbers_only(spelling):
    assert "must be a finite number" in error_of(Range, {"gte": spelling})


def test_counts_and_tag_ranges_need_a_bound_a_predicate_does_not():
    for model in (Count, Range):
        assert "give at least one of gt, gte, lt, lte" in error_of(model, {})
    assert Predicate.model_validate({"present": True}).has_range is False


def test_tag_ranges_compare_numbers_not_dates():
    assert "Input should be a valid number" in error_of(Range, {"gte": "2026-10-01"})
    assert Predicate.model_validate({"gte": "2026-10-01"}).gte == date(2026, 10, 1)


def test_comparisons_are_the_sql_operators_of_the_bounds_given():
    assert Bounds(gte=1, lt=5).comparisons() == [(">=", 1), ("<", 5)]
    assert Count(gt=0).comparisons() == [(">", 0)]


def test_a_keyword_key_is_read_only_under_its_yaml_spelling():
    assert "Extra inputs are not permitted" in error_of(
        AttributeCondition, {"kind": "attribute", "column": "city", "in_": ["Shanghai"]}
    )
    assert AttributeCondition.model_validate(
        {"kind": "attribute", "column": "city", "in": ["Shanghai"]}
    ).in_ == ["Shanghai"]


def test_loyalty_rules_are_strict_and_stripped_like_the_others():
    level = {"name": " gold ", "upgrade_at": 1000, "retain_at": 800, "multiplier": 1.5}
    assert TierLevel.model_validate(level).name == "gold"
    assert "Extra inputs are not permitted" in error_of(TierLevel, {**level, "colour": "gold"})
    with pytest.raises(ValidationError, match="frozen"):
        TierLevel.model_validate(level).name = "silver"
