"""Importing the slow libraries of a run's later steps while its first steps run.

Great Expectations takes about 4 s to import and dbt about 3 s (mashumaro compiles the
serialisers of dbt's dataclasses as they are defined), both paid again by every fresh process.
In a whole run in one process (``cdp run``, ``cdp demo``), ingest and standardise spend most of
their time waiting on the Spark Connect server, with the GIL free: a background thread imports
the two then, and the gates and the marts build start without that wait. Python's per-module
import locks make the main thread's own import of a module the thread is importing wait for
it, never run it twice. Airflow's tasks (a process per step) import only what their step needs.
"""

from __future__ import annotations

import importlib
import threading

#: the marts build's slow imports (GX's goes through ``import_gx``, which sets it up first)
DBT_MODULES = ("dbt.cli.main", "dbt.adapters.duckdb")


def _import_all() -> None:
    from cdp.quality.gx import import_gx

    try:
        import_gx()
        for name in DBT_MODULES:
            importlib.import_module(name)
    except ImportError:
        # Not an error here: the step that needs the module imports it itself and reports it.
        return


def import_ahead() -> threading.Thread:
    """Start importing Great Expectations and ``DBT_MODULES`` in a daemon thread; returns the
    thread."""
    thread = threading.Thread(target=_import_all, name="cdp-import-ahead", daemon=True)
    thread.start()
    return thread
