"""The lifecycle thresholds file: the shipped one loads; bad values name the file and key."""

import pytest

from cdp.config import ConfigError, packaged
from cdp.mart_rules import lifecycle, load_vars

RULES_DIR = packaged("dbt_project") / "config"
GOOD = """\
new_member_days: 30
first_purchase_days: 30
dormant_after_days: 180
at_risk_after_days: 270
churned_after_days: 365
"""


def write(tmp_path, text: str):
    path = tmp_path / lifecycle.FILE
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_loads_and_reaches_dbt():
    rules = lifecycle.load(RULES_DIR / lifecycle.FILE)
    assert (
        rules["first_purchase_days"]
        < rules["dormant_after_days"]
        < rules["at_risk_after_days"]
        < rules["churned_after_days"]
    )
    assert load_vars(RULES_DIR)["lifecycle"] == rules


def test_a_good_file_gives_plain_values(tmp_path):
    assert lifecycle.load(write(tmp_path, GOOD)) == {
        "new_member_days": 30,
        "first_purchase_days": 30,
        "dormant_after_days": 180,
        "at_risk_after_days": 270,
        "churned_after_days": 365,
    }


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("dormant_after_days: 180", "dormant_after_days: 0"), "dormant_after_days"),
        (("dormant_after_days: 180", "dormant_after_days: -5"), "dormant_after_days"),
        (("new_member_days: 30", "new_member_days: thirty"), "new_member_days"),
        (("new_member_days: 30", "new_member_days: 30.5"), "new_member_days"),
        (("churned_after_days: 365", "churned_after_days: '365'"), "churned_after_days"),
        (("first_purchase_days: 30", "first_purchase_days: true"), "first_purchase_days"),
    ],
)
def test_bad_value_names_file_and_key(tmp_path, change, key):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError, match=rf"lifecycle\.yml: .*{key}"):
        lifecycle.load(path)


def test_thresholds_out_of_order_name_the_key(tmp_path):
    path = write(tmp_path, GOOD.replace("at_risk_after_days: 270", "at_risk_after_days: 150"))
    with pytest.raises(
        ConfigError,
        match=r"lifecycle\.yml: at_risk_after_days: .*greater than "
        r"dormant_after_days \(180\)",
    ):
        lifecycle.load(path)
    path = write(tmp_path, GOOD.replace("dormant_after_days: 180", "dormant_after_days: 30"))
    with pytest.raises(ConfigError, match=r"dormant_after_days: .*first_purchase_days"):
        lifecycle.load(path)


def test_missing_and_unknown_keys(tmp_path):
    path = write(tmp_path, GOOD.replace("churned_after_days: 365\n", ""))
    with pytest.raises(ConfigError, match=r"lifecycle\.yml: churned_after_days: Field required"):
        lifecycle.load(path)
    path = write(tmp_path, GOOD + "dormant_days: 90\n")
    with pytest.raises(ConfigError, match=r"lifecycle\.yml: dormant_days: Extra inputs"):
        lifecycle.load(path)


def test_not_yaml_or_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"lifecycle\.yml: not valid YAML"):
        lifecycle.load(write(tmp_path, "new_member_days: [30\n"))
    with pytest.raises(ConfigError, match="file not found"):
        lifecycle.load(tmp_path / "missing" / lifecycle.FILE)
