"""The insight parameters file: the shipped one loads and reaches dbt; bad values name the file
and the key."""

import pytest
import yaml

from cdp.config import ConfigError, packaged
from cdp.mart_rules import insight, load_vars

RULES_DIR = packaged("dbt_project") / "config"


def shipped() -> dict:
    return yaml.safe_load((RULES_DIR / insight.FILE).read_text(encoding="utf-8"))


def write(tmp_path, data: dict):
    path = tmp_path / insight.FILE
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_file_loads_and_reaches_dbt():
    rules = insight.load(RULES_DIR / insight.FILE)
    assert load_vars(RULES_DIR)["insight"] == rules
    assert rules["recommendations"]["top_n"] == 10
    assert rules["funnels"][0]["steps"][-1] == {
        "kind": "purchase",
        "source": None,
        "event_type": None,
    }


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        (
            "retention",
            "return_days",
            [30, 7],
            "retention.return_days: Value error, must be a non-empty list of increasing",
        ),
        ("distributions", "spend_bands_yuan", [], "distributions.spend_bands_yuan"),
        ("attribution", "first_weight", 0.7, "first_weight + last_weight must be at most 1"),
        ("kpi", "dimensions", ["mall_floor"], "kpi.dimensions.0"),
        ("recommendations", "top_n", 0, "recommendations.top_n"),
        ("recommendations", "recent_items", 0, "recommendations.recent_items"),
        ("paths", "length", 9, "paths.length"),
        ("retention", "start", {"kind": "event"}, "an event step needs source and event_type"),
    ],
)
def test_a_bad_value_names_the_file_and_key(tmp_path, section, key, value, message):
    data = shipped()
    data[section][key] = value
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as error:
        insight.load(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_an_event_step_needs_its_source_and_type(tmp_path):
    data = shipped()
    data["funnels"][0]["steps"][0] = {"kind": "event", "source": "web"}
    with pytest.raises(ConfigError, match="funnels.0.steps.0: Value error, an event step needs"):
        insight.load(write(tmp_path, data))


def test_funnel_names_are_unique(tmp_path):
    data = shipped()
    data["funnels"][1]["name"] = data["funnels"][0]["name"]
    with pytest.raises(ConfigError, match="funnel names must be unique"):
        insight.load(write(tmp_path, data))


def test_an_unknown_key_is_an_error(tmp_path):
    data = shipped()
    data["attribution"]["half_life"] = 3
    with pytest.raises(ConfigError, match="attribution.half_life: Extra inputs are not permitted"):
        insight.load(write(tmp_path, data))
