"""``cdp demo`` empties its own workspace before a run, and only its own."""

import pytest

from cdp.config import load_settings
from cdp.demo import MARKER, DemoWorkspaceError, reset_workspace


def test_a_fresh_demo_removes_the_data_and_what_was_built_from_it(tmp_path):
    settings = load_settings(workspace=tmp_path)
    kept = ["segments/autumn_art_lovers.yml", "journeys/cart_abandonment.yml", "dbt/target/x"]
    removed = [
        "landing/pos_tickets/2026-09-01/a.csv",
        "lakehouse/silver/orders/part-0.parquet",
        "ground_truth/people.csv",
        "reports/run.json",
        "marts/restricted.duckdb",
        "marts/cdp.duckdb",
        "exports/autumn_art_lovers/20260930-x/manifest.json",
    ]
    for name in kept + removed:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / MARKER).write_text("created by cdp demo")

    reset_workspace(settings)

    assert [n for n in kept if (tmp_path / n).exists()] == kept
    assert [n for n in removed if (tmp_path / n).exists()] == []


def test_a_folder_the_demo_did_not_create_is_left_alone(tmp_path):
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "cdp.duckdb").write_text("somebody's marts")
    with pytest.raises(DemoWorkspaceError, match="was not created by `cdp demo`"):
        reset_workspace(load_settings(workspace=tmp_path))
    assert (tmp_path / "marts" / "cdp.duckdb").read_text() == "somebody's marts"
