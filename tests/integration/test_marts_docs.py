"""dbt docs generate works on the marts, and every model and column is described."""

from __future__ import annotations

import json

import pytest

from cdp.marts import run_dbt

pytestmark = pytest.mark.integration


def test_docs_generate_and_every_model_and_column_is_described(marts):
    settings, _ = marts
    run_dbt(settings, ["docs", "generate"])
    target = settings.workspace / "dbt" / "target"
    assert (target / "index.html").is_file()
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    models = {
        k: v
        for k, v in manifest["nodes"].items()
        if v["resource_type"] == "model" and v["package_name"] == "cdp"
    }
    assert len(models) > 50
    undocumented = [k for k, v in models.items() if not v["description"].strip()]
    assert undocumented == []
    for key, node in models.items():
        built = catalog["nodes"].get(key)
        assert built is not None, f"{key} is not in the database"
        described = {
            c.lower() for c, spec in node["columns"].items() if spec["description"].strip()
        }
        missing = sorted({c.lower() for c in built["columns"]} - described)
        assert missing == [], f"{node['name']}: undescribed columns {missing}"
