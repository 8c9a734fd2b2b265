"""Identity rules: the shipped file loads; bad files fail naming the file and the key."""

from __future__ import annotations

import pytest

from identity.rules import DEFAULT_RULES, RulesError, load_rules


def write(tmp_path, text):
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
types:
  phone: {priority: 1, joins: true, max_per_person: 2, hub_limit: 3}
  cookie_id: {priority: 9, joins: false, max_per_person: 5, hub_limit: 5}
max_component_size: 10
"""


def test_shipped_rules_load():
    rules = load_rules()
    assert "unionid" in rules.joining_types and "cookie_id" in rules.weak_types
    assert rules.by_priority()[0] == "unionid"
    assert DEFAULT_RULES.is_file()


def test_minimal_file_gets_defaults(tmp_path):
    rules = load_rules(write(tmp_path, GOOD))
    assert rules.blocklist.values == {} and rules.untrusted_sources == []
    assert rules.weak_relays is False


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD.replace("priority: 1", "priority: 0"), "types.phone.priority"),
        (GOOD.replace("joins: true", "joins: perhaps"), "types.phone.joins"),
        (GOOD.replace("max_component_size: 10", ""), "max_component_size"),
        (GOOD + "surprise: 1\n", "surprise"),
        (GOOD + "blocklist:\n  values:\n    fax: ['1']\n", "blocklist.values.fax: unknown"),
        (
            GOOD + "blocklist:\n  patterns:\n    phone: ['[0-9']\n",
            "blocklist.patterns.phone: '[0-9' is not a valid regular expression",
        ),
        (GOOD + "blocklist:\n  patterns:\n    phone: ['^(\\\\d)\\\\1+$']\n", "back-reference"),
        ("- just\n- a list\n", "expected a mapping"),
        ("types: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_rules_name_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as error:
        load_rules(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(RulesError, match="not found"):
        load_rules(tmp_path / "nope.yml")


REASSIGN = "reassignment:\n  phone: {gap_days: 180}\n"


def test_reassignment_and_real_sources_load(tmp_path):
    rules = load_rules(
        write(tmp_path, GOOD + REASSIGN + "untrusted_sources: [coupon_events, events:web]\n")
    )
    assert rules.reassignment["phone"].gap_days == 180
    assert load_rules().reassignment["phone"].gap_days == 180
    assert load_rules(write(tmp_path, GOOD)).reassignment == {}


UNKNOWN_SOURCE = (
    "untrusted_sources: 'coupon_event' is not a record source (known: "
    "coupon_events, followers, points, events:<source>, members:<source>, "
    "orders:<channel>)"
)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            GOOD + REASSIGN.replace("phone", "fax"),
            "reassignment.fax: unknown identifier type (known: cookie_id, phone)",
        ),
        (
            GOOD + REASSIGN.replace("phone", "cookie_id"),
            "reassignment.cookie_id: cookie_id does not",
        ),
        (GOOD + REASSIGN.replace("180", "0"), "reassignment.phone.gap_days"),
        (GOOD + REASSIGN.replace("gap_days", "gap"), "reassignment.phone.gap"),
        (GOOD + "untrusted_sources: [coupon_event]\n", UNKNOWN_SOURCE),
        (GOOD + "untrusted_sources: ['events:']\n", "'events:' is not a record source"),
    ],
)
def test_bad_reassignment_and_sources_name_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as error:
        load_rules(path)
    assert str(path) in str(error.value) and expected in str(error.value)
