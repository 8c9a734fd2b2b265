"""dbt is run on the settings' project, with the settings' source time zone (no dbt run); what
changes from run to run goes in environment variables, so that dbt keeps its parse."""

import json
import shutil

from cdp import marts
from cdp.config import load_settings, packaged


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_dbt_runs_the_configured_project_with_its_rules_and_time_zone(tmp_path):
    project = tmp_path / "our_dbt"
    shutil.copytree(packaged("dbt_project"), project)
    lifecycle = project / "config" / "lifecycle.yml"
    lifecycle.write_text(lifecycle.read_text().replace("new_member_days: 30", "new_member_days: 7"))
    settings = load_settings(
        workspace=tmp_path / "ws", dbt_project_dir=project, source_timezone="Asia/Tokyo"
    )
    args = marts.dbt_args(settings, ["build"])
    assert option(args, "--project-dir") == option(args, "--profiles-dir") == str(project)
    variables = json.loads(option(args, "--vars"))
    assert variables["source_timezone"] == "Asia/Tokyo"
    assert variables["lifecycle"]["new_member_days"] == 7  # the rules of that project


def test_the_default_project_is_the_installed_one(tmp_path):
    args = marts.dbt_args(load_settings(workspace=tmp_path), ["build"])
    assert option(args, "--project-dir") == str(packaged("dbt_project"))
    assert json.loads(option(args, "--vars"))["source_timezone"] == "Asia/Shanghai"


def test_the_as_of_day_and_paths_travel_in_the_environment_relative_to_the_workspace(tmp_path):
    settings = load_settings(workspace=tmp_path / "ws")
    env = marts.environment(settings, settings.marts_db.with_name("x.duckdb"), "2026-09-30")
    assert env["CDP_AS_OF"] == "2026-09-30"
    assert env["CDP_MARTS_DB"] == "marts/x.duckdb"
    assert env["CDP_LAKEHOUSE"] == "lakehouse"
    assert env["CDP_HAS_SEGMENT_EXPORTS"] == "false"
    assert marts.environment(settings)["CDP_AS_OF"] == ""
    # the same command line for any day and any workspace: dbt's saved parse stays valid
    other = load_settings(workspace=tmp_path / "elsewhere")
    assert marts.dbt_args(settings, ["build"]) == [
        a.replace("elsewhere", "ws") for a in marts.dbt_args(other, ["build"])
    ]
