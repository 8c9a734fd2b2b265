"""Member-card programmes in the identity rules, and the phone-status vocabulary of the gates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cdp.generator import ids
from cdp.generator.spelling import card_forms, spell_card
from cdp.normalise import PHONE_STATUSES, canonical_card
from identity.rules import RulesError, load_rules

EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations" / "silver.yml"

BASE = """
types:
  member_card: {priority: 1, joins: true, max_per_person: 2, hub_limit: 3}
max_component_size: 10
"""


def write(tmp_path, text):
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_programme_recovers_every_generated_card_spelling():
    rules = load_rules()
    cards = ids.member_cards(np.arange(2000))
    assert any(card.startswith("0") for card in cards)  # leading zeros to lose
    rng = np.random.default_rng(3)
    for card, form in zip(cards, card_forms(rng, len(cards)).tolist()):
        assert canonical_card(spell_card(card, form), rules.member_cards) == card


def test_a_file_without_programmes_cleans_cards_only(tmp_path):
    assert load_rules(write(tmp_path, BASE)).member_cards == []


def test_programmes_load_in_order(tmp_path):
    rules = load_rules(
        write(
            tmp_path,
            BASE
            + """
member_cards:
  - {name: mall, match: '^[0-9]{1,10}$', digits_only: true, width: 10}
  - {name: vip, match: '^VIP'}
""",
        )
    )
    assert [p.name for p in rules.member_cards] == ["mall", "vip"]
    assert rules.member_cards[0].width == 10 and rules.member_cards[1].digits_only is False


@pytest.mark.parametrize(
    "programmes, expected",
    [
        ("- {name: a, match: '^[0-9'}", "member_cards.0.match"),
        ("- {name: a, match: '^(a)\\\\1$'}", "back-reference"),
        ("- {name: a, match: '^a', width: 5}", "width restores leading zeros"),
        ("- {name: a, match: '^a', width: 0, digits_only: true}", "member_cards.0.width"),
        ("- {name: a, match: '^a', pad: 5}", "member_cards.0.pad"),
        ("- {match: '^a'}", "member_cards.0.name"),
        ("- {name: a, match: '^a'}\n  - {name: a, match: '^b'}", "'a' is used twice"),
    ],
)
def test_bad_programmes_name_the_file_and_key(tmp_path, programmes, expected):
    path = write(tmp_path, BASE + "member_cards:\n  " + programmes + "\n")
    with pytest.raises(RulesError, match="rules.yml") as error:
        load_rules(path)
    assert expected in str(error.value)


def test_silver_gate_accepts_exactly_the_phone_statuses():
    suites = yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8"))
    found = {}
    for table, checks in suites["tables"].items():
        for check in checks:
            if check.get("column") in ("phone_status", "member_phone_status"):
                found[table] = set(check["value_set"])
    assert found == {"orders": set(PHONE_STATUSES), "members": set(PHONE_STATUSES)}
