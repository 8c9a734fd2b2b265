"""Tag definitions (dbt_project/config/tags.yml): the shipped file loads; bad definitions are
errors that name the file and the key."""

from __future__ import annotations

import json
import textwrap

import pytest

from cdp.config import ConfigError, packaged
from cdp.mart_rules import load_vars, tags

RULES_DIR = packaged("dbt_project") / "config"
ONE_TAG = """
categories:
  value: What the person spends.
tags:
  - name: big_spender
    category: {category}
    description: Spent a lot lately.
    owner: crm-team
    version: 1
    rule:
      all:
        - {condition}
"""
SPEND = "{kind: purchases, measure: net_spend, window: {days: 30}, value: {gte: 2000}}"


def write(tmp_path, text: str):
    path = tmp_path / tags.FILE
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def one_tag(tmp_path, condition: str = SPEND, category: str = "value"):
    return write(
        tmp_path, ONE_TAG.replace("{category}", category).replace("{condition}", condition)
    )


def test_shipped_definitions_load_and_reach_dbt():
    loaded = tags.load(RULES_DIR / tags.FILE)
    names = [tag["name"] for tag in loaded["tags"]]
    assert len(names) == len(set(names)) >= 10
    kinds = {tag["kind"] for tag in loaded["tags"]}
    assert kinds == {"attribute", "metric", "composite", "flag"}
    assert all(tag["category"] in loaded["categories"] for tag in loaded["tags"])
    json.dumps(loaded)  # handed to dbt as JSON
    assert load_vars(RULES_DIR)["tags"] == loaded


def test_shipped_composite_example_is_the_documented_one():
    loaded = {t["name"]: t for t in tags.load(RULES_DIR / tags.FILE)["tags"]}
    views, spend, art = loaded["engaged_art_shopper_7d"]["rule"]["all"]
    assert (views["kind"], views["count"], views["window"]) == ("events", {"gt": 3}, {"days": 7})
    assert spend["value"] == {"gte": 300, "lte": 5000}
    assert art["category"] == ["Art & Lifestyle"] and art["value"] == {"gte": 1}
    scalper = loaded["coupon_scalper"]["rule"]["all"][0]
    assert scalper["kind"] == "coupon_cities" and scalper["min_cities"] >= 2


def test_load_normalises_and_drops_absent_keys(tmp_path):
    loaded = tags.load(one_tag(tmp_path, "{kind: attribute, column: gender, in: [female]}"))
    condition = loaded["tags"][0]["rule"]["all"][0]
    assert condition == {"kind": "attribute", "column": "gender", "in": ["female"]}
    assert loaded["tags"][0]["kind"] == "attribute"
    assert "any" not in loaded["tags"][0]["rule"]


def test_recommended_items_default_to_the_top_ten(tmp_path):
    loaded = tags.load(one_tag(tmp_path, "{kind: recommended, category: [Beauty]}"))
    condition = loaded["tags"][0]["rule"]["all"][0]
    assert condition == {"kind": "recommended", "category": ["Beauty"], "top": 10}
    assert loaded["tags"][0]["kind"] == "metric"


def test_fixed_window_dates_are_iso_strings(tmp_path):
    path = one_tag(
        tmp_path,
        "{kind: purchases, measure: orders, value: {gte: 1}, "
        "window: {start: 2026-10-01, end: 2026-10-07}}",
    )
    window = tags.load(path)["tags"][0]["rule"]["all"][0]["window"]
    assert window == {"start": "2026-10-01", "end": "2026-10-07"}


@pytest.mark.parametrize(
    ("condition", "key", "message"),
    [
        (
            "{kind: purchase, measure: orders, value: {gte: 1}}",
            "tags.0.rule.all.0",
            "does not match any of the expected tags",
        ),
        (
            "{kind: purchases, measure: spend, value: {gte: 1}}",
            "tags.0.rule.all.0.purchases.measure",
            "'orders', 'net_spend' or 'units'",
        ),
        (
            "{kind: purchases, measure: orders, value: {}}",
            "tags.0.rule.all.0.purchases.value",
            "at least one of gt, gte, lt, lte",
        ),
        (
            "{kind: purchases, measure: orders, value: {gte: 5, lte: 1}}",
            "tags.0.rule.all.0.purchases.value",
            "empty range",
        ),
        (
            "{kind: purchases, measure: orders, value: {gt: 1, gte: 1}}",
            "tags.0.rule.all.0.purchases.value",
            "gt or gte",
        ),
        (
            "{kind: purchases, measure: orders, value: {gte: 1}, window: {days: 7, start: 2026-10-01}}",
            "tags.0.rule.all.0.purchases.window",
            "either days or start and end",
        ),
        (
            "{kind: purchases, measure: orders, value: {gte: 1}, window: {start: 2026-10-01}}",
            "tags.0.rule.all.0.purchases.window",
            "both start and end",
        ),
        (
            "{kind: purchases, measure: orders, value: {gte: 1}, window: {days: 0}}",
            "tags.0.rule.all.0.purchases.window.days",
            "greater than or equal to 1",
        ),
        (
            "{kind: events, event_type: [page_view], count: {gt: 3}, windw: {days: 7}}",
            "tags.0.rule.all.0.events.windw",
            "Extra inputs",
        ),
        (
            "{kind: events, event_type: [], count: {gt: 3}}",
            "tags.0.rule.all.0.events.event_type",
            "non-empty list",
        ),
        (
            "{kind: events, source: [tmall], event_type: [page_view], count: {gt: 3}}",
            "tags.0.rule.all.0.events.source.0",
            "'wechat', 'web' or 'mall'",
        ),
        (
            "{kind: coupons, event_type: [use], count: {gte: 1}}",
            "tags.0.rule.all.0.coupons.event_type.0",
            "'issue', 'claim', 'redeem' or 'expire'",
        ),
        (
            "{kind: attribute, column: shoe_size, in: ['42']}",
            "tags.0.rule.all.0.attribute.column",
            "Input should be",
        ),
        (
            "{kind: attribute, column: gender, in: [female], present: true}",
            "tags.0.rule.all.0.attribute",
            "exactly one of in, present, value",
        ),
        (
            "{kind: attribute, column: age, in: ['30']}",
            "tags.0.rule.all.0.attribute",
            "column age takes value",
        ),
        (
            "{kind: attribute, column: best_phone, in: ['13800138000']}",
            "tags.0.rule.all.0.attribute",
            "test it with present",
        ),
        (
            "{kind: coupon_cities, within_hours: 72, min_cities: 1}",
            "tags.0.rule.all.0.coupon_cities.min_cities",
            "greater than or equal to 2",
        ),
        (
            "{kind: coupon_cities, min_cities: 2}",
            "tags.0.rule.all.0.coupon_cities.within_hours",
            "Field required",
        ),
        (
            "{kind: recommended, top: 3}",
            "tags.0.rule.all.0.recommended",
            "give sku and/or category",
        ),
        (
            "{kind: recommended, category: [], top: 3}",
            "tags.0.rule.all.0.recommended.category",
            "non-empty list",
        ),
        (
            "{kind: recommended, sku: [LIP01], top: 0}",
            "tags.0.rule.all.0.recommended.top",
            "greater than or equal to 1",
        ),
    ],
)
def test_bad_condition_names_file_and_key(tmp_path, condition, key, message):
    path = one_tag(tmp_path, condition)
    with pytest.raises(ConfigError) as error:
        tags.load(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and key in text and message in text, text


def test_unknown_category_names_the_tag(tmp_path):
    path = one_tag(tmp_path, category="spend")
    with pytest.raises(
        ConfigError,
        match=r"tags\.yml: .*tags\.0\.category: 'spend' "
        r"\(tag big_spender\) is not one of",
    ):
        tags.load(path)


def test_duplicate_names_and_missing_fields(tmp_path):
    text = ONE_TAG.replace("{category}", "value").replace("{condition}", SPEND)
    twice = text + text[text.index("  - name") :]
    with pytest.raises(ConfigError, match=r"tags\.1\.name: duplicate tag name 'big_spender'"):
        tags.load(write(tmp_path, twice))
    with pytest.raises(ConfigError, match=r"tags\.0\.owner: Field required"):
        tags.load(write(tmp_path, text.replace("    owner: crm-team\n", "")))
    with pytest.raises(ConfigError, match=r"tags\.0\.name: String should match pattern"):
        tags.load(write(tmp_path, text.replace("name: big_spender", "name: Big Spender")))
    with pytest.raises(ConfigError, match=r"tags\.0\.version: Input should be greater"):
        tags.load(write(tmp_path, text.replace("version: 1", "version: 0")))


def test_rule_needs_exactly_one_combinator(tmp_path):
    text = ONE_TAG.replace("{category}", "value").replace("{condition}", SPEND)
    both = text.replace("      all:\n", f"      any:\n        - {SPEND}\n      all:\n")
    with pytest.raises(ConfigError, match=r"tags\.0\.rule: .*either all or any"):
        tags.load(write(tmp_path, both))
    with pytest.raises(ConfigError, match=r"tags\.0\.rule\.all: List should have at least 1"):
        tags.load(
            write(tmp_path, text.replace(f"      all:\n        - {SPEND}\n", "      all: []\n"))
        )
    with pytest.raises(ConfigError, match=r"tags\.0\.rule\.every: Extra inputs"):
        tags.load(write(tmp_path, text.replace("      all:\n", "      every:\n")))


def test_file_level_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"tags\.yml: file not found"):
        tags.load(tmp_path / tags.FILE)
    with pytest.raises(ConfigError, match=r"tags\.yml: not valid YAML"):
        tags.load(write(tmp_path, "tags: [\n"))
    with pytest.raises(ConfigError, match=r"tags\.yml: .*categories: Field required"):
        tags.load(write(tmp_path, "tags: []\n"))
