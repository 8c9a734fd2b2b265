"""A whole run imports Great Expectations and dbt in a background thread while its first steps
run (in a fresh interpreter: this one may have imported them already)."""

import subprocess
import sys

CHECK = """
import sys
from cdp.import_ahead import DBT_MODULES, import_ahead
wanted = ("great_expectations", *DBT_MODULES)
before = [m for m in wanted if m in sys.modules]
thread = import_ahead()
thread.join()
print(before, thread.daemon, [m for m in wanted if m not in sys.modules])
"""


def test_the_gates_and_marts_libraries_are_imported_by_a_daemon_thread():
    done = subprocess.run(
        [sys.executable, "-c", CHECK], check=False, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] True []"
