"""Journey files: the examples validate, and a mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdp.config import ConfigError
from cdp.journeys.definitions import journey_paths, load_journey

JOURNEYS = Path(__file__).parents[2] / "journeys"
VALID = """
name: {name}
owner: crm
description: a journey for the tests
entry: {{kind: event, event: {{record_type: event, event_type: [add_to_cart]}}}}
steps:
{steps}
"""


def write(tmp_path: Path, steps: str, name: str = "j") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(VALID.format(name=name, steps=steps), encoding="utf-8")
    return path


def test_the_examples_are_valid():
    names = {load_journey(p).name for p in journey_paths(JOURNEYS).values()}
    assert names == {"cart_abandonment", "qr_coupon_campaign", "autumn_waves"}


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ("  - {id: w, kind: wait}", "steps[0]: Value error, give exactly one of"),
        ("  - {id: w, kind: wait, days: 1, next: nowhere}", "steps[0].next: no step 'nowhere'"),
        ("  - {id: s, kind: send, channels: [fax], content: x}", "steps[0].channels[0]"),
        ("  - {id: w, kind: wait, days_before_end: 3}", "steps[0].days_before_end: the journey"),
        ("  - {id: a, kind: exit}\n  - {id: a, kind: exit}", "steps[1].id: 'a' is used"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path, steps, message):
    path = write(tmp_path, steps)
    with pytest.raises(ConfigError) as error:
        load_journey(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_the_name_matches_the_file(tmp_path):
    path = write(tmp_path, "  - {id: a, kind: exit}", name="j")
    path.rename(tmp_path / "other.yml")
    with pytest.raises(ConfigError, match="must match the file name"):
        load_journey(tmp_path / "other.yml")
