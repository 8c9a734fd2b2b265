"""The analyst notebooks (jupytext percent scripts) run top to bottom against the shared marts
build, as plain Python (no kernel needed), with figures saved to a temporary folder."""

from __future__ import annotations

import runpy
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.integration

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run_notebook(name: str, settings, figures: Path, monkeypatch) -> dict:
    """Run a notebook as a script on the shared marts, its figures into ``figures``; its
    globals."""
    monkeypatch.setenv("CDP_HOME", str(settings.workspace))
    monkeypatch.delenv("CDP_CONFIG", raising=False)
    monkeypatch.setenv("CDP_NOTEBOOK_FIGURES", str(figures))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    result = runpy.run_path(str(NOTEBOOKS / name), run_name="__main__")

    import matplotlib.pyplot as plt

    plt.close("all")
    return result


def test_notebooks_are_jupytext_percent_scripts():
    for notebook in NOTEBOOKS.glob("*.py"):
        text = notebook.read_text(encoding="utf-8")
        assert "format_name: percent" in text.split("# ---", 2)[1], notebook
        assert text.count("\n# %%") >= 3, notebook


def test_rfm_cohorts_runs_on_the_marts(marts, tmp_path, monkeypatch):
    settings, _ = marts
    figures = tmp_path / "figures"
    result = run_notebook("rfm_cohorts.py", settings, figures, monkeypatch)
    assert sorted(p.name for p in figures.iterdir()) == [
        "monthly_cohorts.png",
        "rfm_segments.png",
        "rfm_segments_over_time.png",
    ]
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        customers = con.execute("select count(*) from customer_rfm").fetchone()[0]
        buyers = con.execute(
            "select count(distinct one_id) from fct_orders where is_purchase and one_id is not null"
        ).fetchone()[0]
    assert result["segments"].customers.sum() == customers
    assert result["segments"].segment_order.is_monotonic_increasing
    assert result["cohort_sizes"].sum() == buyers
    assert (result["retention"][0] == 1).all()  # everyone buys in their first month


def test_insight_runs_on_the_marts(marts, tmp_path, monkeypatch):
    settings, _ = marts
    figures = tmp_path / "figures"
    result = run_notebook("insight.py", settings, figures, monkeypatch)
    assert sorted(p.stem for p in figures.iterdir()) == [
        "attribution",
        "distributions",
        "funnel",
        "kpi_trends",
        "ltv",
        "paths",
        "portraits",
        "recommend",
        "retention",
    ]
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        buyers = con.execute(
            "select count(distinct one_id) from fct_orders where is_purchase and one_id is not null"
        ).fetchone()[0]
    assert result["value"].groupby("cohort_month").cohort_people.first().sum() == buyers
    assert (result["funnels"].query("step_number == 1").conversion_from_first == 1).all()
    assert (result["portraits"].lift > 0).all()
