"""The dbt unit tests (fixed input rows, expected output rows) run here rather than in every
production build (cdp.marts): once per test run, on a copy of the shared run's marts."""

import json

import yaml

from cdp.config import packaged
from cdp.marts import run_dbt, target_dir


def declared_unit_tests() -> set[str]:
    names = set()
    for path in (packaged("dbt_project") / "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
            names.add(test["name"])
    return names


def test_every_dbt_unit_test_passes(shared_copy):
    expected = declared_unit_tests()
    assert len(expected) >= 20
    result = run_dbt(shared_copy, ["test", "--select", "test_type:unit"])
    assert result.failed == []
    ran = json.loads((target_dir(shared_copy) / "run_results.json").read_text())["results"]
    passed = {n["unique_id"].split(".")[-1] for n in ran if n["unique_id"].startswith("unit_test.")}
    assert passed == expected
    assert all(n["status"] == "pass" for n in ran if n["unique_id"].startswith("unit_test."))


def test_a_production_build_leaves_the_unit_tests_out(marts):
    settings, result = marts
    # the shared run's build was the workspace's last dbt command
    ran = json.loads((target_dir(settings) / "run_results.json").read_text())["results"]
    kinds = {node["unique_id"].split(".")[0] for node in ran}
    assert {"model", "test"} <= kinds
    assert "unit_test" not in kinds
    assert len(ran) == result.passed
