"""The loyalty rules file: the shipped file loads; bad values name the file and the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from cdp.config import ConfigError, packaged
from cdp.mart_rules import load_vars, loyalty

RULES_DIR = packaged("dbt_project") / "config"
SHIPPED = RULES_DIR / loyalty.FILE


@pytest.fixture
def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path, data: dict):
    path = tmp_path / loyalty.FILE
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_rules_load():
    rules = loyalty.load(SHIPPED)
    assert rules["earn"]["purchase"]["points_per_yuan"] == 1
    assert rules["earn"]["register"]["points"] == 200
    assert [level["name"] for level in rules["tiers"]["levels"]] == ["silver", "gold", "platinum"]
    assert [level["multiplier_milli"] for level in rules["tiers"]["levels"]] == [1000, 1500, 2000]
    assert rules["expiry"]["mode"] in ("fixed_date", "relative")


def test_rules_reach_dbt_as_var_loyalty():
    assert load_vars(RULES_DIR)["loyalty"] == loyalty.load(SHIPPED)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"loyalty\.yml: file not found"):
        loyalty.load(tmp_path / loyalty.FILE)


def test_unknown_key_names_file_and_key(tmp_path, shipped):
    shipped["earn"]["register"]["pointz"] = 5
    with pytest.raises(ConfigError, match=r"loyalty\.yml: .*earn\.register\.pointz"):
        loyalty.load(write(tmp_path, shipped))


def test_missing_section_names_key(tmp_path, shipped):
    del shipped["expiry"]
    with pytest.raises(ConfigError, match=r"loyalty\.yml: .*expiry: Field required"):
        loyalty.load(write(tmp_path, shipped))


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda r: r["tiers"].update(downgrade="sideways"), r"tiers\.downgrade"),
        (lambda r: r["tiers"].update(basis="points"), r"tiers\.basis"),
        (lambda r: r["tiers"].update(window_days=0), r"tiers\.window_days"),
        (lambda r: r["expiry"].update(mode="never"), r"expiry\.mode"),
        (lambda r: r["expiry"]["fixed_date"].update(month=2, day=30), r"expiry\.fixed_date"),
        (
            lambda r: r["earn"]["purchase"].update(points_per_yuan=-1),
            r"earn\.purchase\.points_per_yuan",
        ),
        (
            lambda r: r["earn"]["complete_profile"].update(fields=["name", "shoe_size"]),
            r"earn\.complete_profile\.fields\.1",
        ),
        (
            lambda r: r["earn"]["events"][0]["events"][0].update(source="tmall"),
            r"earn\.events\.0\.events\.0\.source",
        ),
        (lambda r: r["earn"]["events"][0].update(max_per_day=0), r"earn\.events\.0\.max_per_day"),
        (
            lambda r: r["tiers"]["levels"][1].update(multiplier=1.2345),
            r"tiers\.levels\.1\.multiplier: .*3 decimal places",
        ),
        (
            lambda r: r["tiers"]["levels"][1].update(retain_at=2000),
            r"tiers\.levels\.1: .*retain_at must not be above upgrade_at",
        ),
    ],
)
def test_bad_value_names_file_and_key(tmp_path, shipped, change, key):
    rules = copy.deepcopy(shipped)
    change(rules)
    with pytest.raises(ConfigError, match=rf"loyalty\.yml: .*{key}"):
        loyalty.load(write(tmp_path, rules))


def test_tiers_must_rise(tmp_path, shipped):
    shipped["tiers"]["levels"][2].update(upgrade_at=1200, retain_at=1000)
    with pytest.raises(ConfigError, match=r"tiers\.levels: .*upgrade_at must increase"):
        loyalty.load(write(tmp_path, shipped))


def test_base_tier_has_no_threshold(tmp_path, shipped):
    shipped["tiers"]["levels"][0]["upgrade_at"] = 10
    with pytest.raises(ConfigError, match=r"tiers\.levels: .*base tier 'silver'"):
        loyalty.load(write(tmp_path, shipped))


def test_event_rule_names_are_unique_and_not_reserved(tmp_path, shipped):
    shipped["earn"]["events"][1]["name"] = "sign_in"
    with pytest.raises(ConfigError, match=r"earn\.events: .*must be unique"):
        loyalty.load(write(tmp_path, shipped))
    shipped["earn"]["events"][1]["name"] = "register"
    with pytest.raises(ConfigError, match=r"earn\.events: .*reserved"):
        loyalty.load(write(tmp_path, shipped))


def test_relative_expiry_and_growth_value_are_accepted(tmp_path, shipped):
    shipped["expiry"]["mode"] = "relative"
    shipped["tiers"]["basis"] = "growth_value"
    shipped["tiers"]["downgrade"] = "to_qualified"
    rules = loyalty.load(write(tmp_path, shipped))
    assert (rules["expiry"]["mode"], rules["tiers"]["basis"]) == ("relative", "growth_value")
