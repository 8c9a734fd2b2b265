"""The Great Expectations side of a gate: context, validation of one query, data docs.

GX validates through its SQL data source on an in-process DuckDB (``duckdb_dialect``) that
reads the Delta tables in place with the delta extension (``queries``): each expectation is a
query, so only aggregates and a few sample values reach Python. DuckDB spills to a scratch
folder past its memory limit rather than grow.

GX is imported lazily (it takes seconds) and kept quiet: no analytics, no progress bars, no
INFO logging. The context is ephemeral (suites come from our YAML, not from GX's stores) except
for the validation results, which are kept on disk beside the data docs so that the docs index
lists the results of earlier gates, not only of the latest one.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from cdp.quality.offline_docs import make_offline
from cdp.quality.queries import count_query, view_ddl
from cdp.sql_literals import STANDARD

SITE_NAME = "cdp"
#: enough unexpected values to recognise a problem without copying a table into the message
SAMPLE_SIZE = 5
#: the docs index lists this many recent results (it reads each one on every build)
INDEX_LIMIT = 200


def import_gx():
    # Must be set before the first import: GX reads it when it loads its usage statistics.
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    # Before the import too: GX logs a line per data-source method it registers while importing.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


@dataclass(frozen=True)
class Outcome:
    """What GX said about one expectation."""

    success: bool
    unexpected_count: int | None
    sample: list[Any]
    #: why GX could not evaluate the expectation (e.g. a type mismatch), if it could not
    exception: str | None = None


def _results_dir(docs_dir: Path) -> Path:
    return docs_dir.parent / f"{docs_dir.name}_validation_results"


class GateRun:
    """One gate's GX session: a context, the layer's DuckDB data source and one run id.

    The tables to validate are views in a scratch DuckDB database in ``scratch_dir``, which
    also takes what DuckDB spills past ``memory_limit``. Use it as a context manager: leaving
    it closes the DuckDB connections (and their memory).
    """

    def __init__(
        self, layer: str, docs_dir: Path, scratch_dir: Path, memory_limit: str | None = None
    ):
        import_gx()
        from great_expectations.core.run_identifier import RunIdentifier

        # Imported here: SQLAlchemy and duckdb-engine are only needed once a gate runs.
        from cdp.quality import duckdb_dialect

        self.docs_dir = docs_dir
        self.context = _make_context(docs_dir)
        # Views in a database file rather than queries: GX learns a query's columns by running
        # it whole, a view's from the catalogue; and every pooled connection sees the file.
        self.source = self.context.data_sources.add_sql(
            layer,
            connection_string=f"{duckdb_dialect.URL_SCHEME}:///{scratch_dir}/gate.duckdb",
            kwargs={"connect_args": _duckdb_arguments(scratch_dir / "spill", memory_limit)},
        )
        self.engine = self.source.get_execution_engine()
        duckdb_dialect.spell_as_postgres(self.engine)
        self.run_id = RunIdentifier(run_name=f"{layer}-gate", run_time=datetime.now(UTC))
        self.result_ids: list = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.engine.engine.dispose()
        self.source.get_engine().dispose()

    def define(self, table: str, query: str) -> None:
        """Make ``table`` the view of ``query`` (a table's rows to validate)."""
        import sqlalchemy as sa

        self.engine.execute_query_in_transaction(sa.text(view_ddl(table, query)))

    def count_rows(self, table: str) -> int:
        """How many rows the view ``table`` holds, counted by DuckDB."""
        import sqlalchemy as sa

        return int(self.engine.execute_query(sa.text(count_query(table))).scalar_one())

    def validate(self, table: str, expectations: list) -> list[Outcome]:
        """Validate the view ``table`` through a checkpoint; one ``Outcome`` per expectation,
        in order.

        Counting and sampling unexpected values costs GX a graph of metrics (and DuckDB a scan)
        per expectation, even when there are none. So a table is first validated for success
        only (``BOOLEAN_ONLY``: about a quarter less time per gate), and only when an
        expectation fails again with counts and samples, under the same run id: the second
        result replaces the first in the store and the docs, and the report is the one a single
        run with samples gives.
        """
        gx = import_gx()
        name = f"{self.source.name}.{table}"
        batch = self.source.add_table_asset(
            table, table_name=table
        ).add_batch_definition_whole_table("whole")
        suite = self.context.suites.add(gx.ExpectationSuite(name=name))
        for expectation in expectations:
            suite.add_expectation(expectation)
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        checkpoint = self.context.checkpoints.add(
            gx.Checkpoint(
                name=name,
                validation_definitions=[definition],
                actions=[],
                result_format=_result_format(samples=0),
            )
        )
        result_id, outcomes = self._run(checkpoint, expectations)
        if not all(o.success for o in outcomes):
            checkpoint.result_format = _result_format(samples=SAMPLE_SIZE)
            checkpoint.save()
            result_id, outcomes = self._run(checkpoint, expectations)
        self.result_ids.append(result_id)
        return outcomes

    def _run(self, checkpoint, expectations: list) -> tuple[Any, list[Outcome]]:
        result = checkpoint.run(run_id=self.run_id)
        ((result_id, suite_result),) = result.run_results.items()
        by_id = {r.expectation_config.id: r for r in suite_result.results}
        return result_id, [_outcome(by_id[e.id]) for e in expectations]

    def build_docs(self) -> Path:
        """Render this run's results and suites, rebuild the index; return the index path.

        A run that validated nothing leaves the docs alone: GX would take an empty list of
        results to mean "render every stored result".
        """
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        if not self.result_ids:
            return self.docs_dir / "index.html"
        suites = [ExpectationSuiteIdentifier(name=s.name) for s in self.context.suites.all()]
        started = time.time()
        site = self.context.build_data_docs(
            site_names=[SITE_NAME], resource_identifiers=[*self.result_ids, *suites]
        )
        # GX's pages load their scripts and styles from CDNs: offline they would be empty.
        make_offline(self.docs_dir, changed_since=started - 1)
        return Path(site[SITE_NAME].removeprefix("file://"))


def _result_format(samples: int) -> dict[str, Any]:
    if samples == 0:
        return {"result_format": "BOOLEAN_ONLY"}
    return {"result_format": "SUMMARY", "partial_unexpected_count": samples}


def _duckdb_arguments(spill_dir: Path, memory_limit: str | None) -> dict[str, Any]:
    """duckdb-engine's connect arguments: the delta extension loaded into every connection,
    spilling to ``spill_dir`` and the memory limit when one is set."""
    from cdp.marts import delta_extension

    config = {"temp_directory": str(spill_dir)}
    if memory_limit:
        config["memory_limit"] = memory_limit
    # duckdb-engine writes each entry after LOAD as it is: a quoted path is a literal.
    return {"preload_extensions": [STANDARD.string(str(delta_extension()))], "config": config}


def _make_context(docs_dir: Path):
    """An ephemeral context whose data docs site (and results store) live by ``docs_dir``."""
    gx = import_gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = InMemoryStoreBackendDefaults()
    defaults.stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(_results_dir(docs_dir)),
        },
    }
    config = DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            SITE_NAME: {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": INDEX_LIMIT,
                },
            }
        },
    )
    # get_context (not the class) also makes it the active context GX's objects look up.
    return gx.get_context(mode="ephemeral", project_config=config)


def _outcome(result) -> Outcome:
    details = result.result or {}
    exception = _exception_message(result.exception_info)
    if exception:
        return Outcome(False, None, [], exception)
    # Duplicate keys come back once per row; one of each reads better.
    sample = list({repr(v): v for v in details.get("partial_unexpected_list") or []}.values())
    return Outcome(bool(result.success), details.get("unexpected_count"), sample[:SAMPLE_SIZE])


def _exception_message(info) -> str | None:
    """The first message in GX's exception info: a flat dict, an object, or one per metric."""
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return info.get("exception_message") if info["raised_exception"] else None
    for entry in info.values() if isinstance(info, dict) else [info]:
        message = (
            entry.get("exception_message")
            if isinstance(entry, dict)
            else getattr(entry, "exception_message", None)
        )
        if message:
            return message
    return None
