"""dbt runs inside the workspace even when Python was started from the repository root with
``''`` on sys.path (``python -c``, ``python -m``; the benchmarks' steps): its plugin discovery
imports the repository's ``dbt_project`` folder listed from there."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import sys
from dbt.plugins.manager import PluginManager
from cdp.config import load_settings
from cdp.marts import in_workspace
before = list(sys.path)
with in_workspace(load_settings(workspace=sys.argv[1])):
    found = sorted(PluginManager.get_prefixed_modules())
print("dbt_project" in found, sys.path == before)
"""


def test_dbt_plugin_discovery_works_from_the_repository_root(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(tmp_path)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True True"
