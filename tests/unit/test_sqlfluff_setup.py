"""sqlfluff lints the SQL dbt runs: the jinja templater renders the models with the variables
`cdp marts build` passes (.ci/sqlfluff_libs) and the project's macros, offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cdp.mart_rules import load_vars

ROOT = Path(__file__).resolve().parents[2]
LOYALTY_TIERS = ROOT / "dbt_project" / "models" / "marts" / "loyalty" / "loyalty_tiers.sql"


@pytest.fixture
def linter(monkeypatch):
    """sqlfluff's linter with the repository's .sqlfluff, as `sqlfluff lint` at the root."""
    from sqlfluff.core import FluffConfig, Linter

    monkeypatch.chdir(ROOT)
    return Linter(config=FluffConfig.from_path(str(ROOT)))


def test_the_models_render_with_the_rules_cdp_marts_build_passes(linter):
    levels = load_vars(ROOT / "dbt_project" / "config")["loyalty"]["tiers"]["levels"]
    rendered = linter.render_file(os.path.relpath(LOYALTY_TIERS, ROOT), linter.config)
    assert not rendered.templater_violations
    sql = rendered.templated_variants[0].templated_str
    for rank, level in enumerate(levels):
        assert f"({rank}, '{level['name']}', {level['upgrade_at']}," in sql


def test_a_model_breaking_the_house_style_fails_the_lint(linter):
    bad = "SELECT one_id , Count(*) AS n FROM {{ ref('fct_orders') }} GROUP BY one_id\n"
    codes = {v.rule_code() for v in linter.lint_string(bad).violations}
    assert {"CP01", "CP03", "LT01"} <= codes
