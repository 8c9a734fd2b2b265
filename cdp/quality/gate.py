"""A layer's quality gate: validate each table with GX where it lies, fail on broken ``error``
rules.

Bronze is checked on the batches about to flow into silver (``batch_ids``); silver and the
identity tables on the rows written since the gate last passed (``validated``: the files a
MERGE, upsert or overwrite added since that Delta version), or whole with ``full``. An upsert
rewrites every file holding a key it writes, so a key's rows are all in the files checked.

Each table is validated as a DuckDB query over the Delta table (``queries.table_query``), the
batch filter its WHERE clause, rather than copied into pandas: at 1,000,000 customers x 30 days
the pandas gates took 308 s (bronze, 11 GiB peak), 277 s (silver, 17 GiB) and 92 s (identity,
21 GiB). At 100k customers x 7 days the queries take 21-25 s and 0.62 GiB (bronze), 16-17 s
and 0.68 GiB (silver), 11 s and 0.57 GiB (identity), against 21-23 s / 1.17 GiB, 19-20 s / 1.0
GiB and 14-15 s / 0.85 GiB for the pandas copies; only DuckDB's share grows with the data, and
``gx.GateRun.validate`` skips its scans for samples of unexpected values unless something
fails (see the README's benchmarks for the extrapolation to 1M x 30).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from cdp.lakehouse import Lakehouse, Table
from cdp.quality import gx
from cdp.quality.queries import table_query
from cdp.quality.suites import ExpectationSpec, Suites, build_expectation, load_suites
from cdp.quality.validated import changes_since, record_validated, validated_versions

#: in messages, unexpected values longer than this are cut (quarantined raw lines can be long)
SAMPLE_CHARS = 60


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation on one table."""

    table: str
    expectation: str
    column: str
    severity: str
    success: bool
    unexpected_count: int | None
    sample: list[Any]
    #: set when GX could not evaluate the expectation (it then counts as failed)
    exception: str | None = None

    @property
    def fails_gate(self) -> bool:
        return not self.success and self.severity == "error"

    def describe(self) -> str:
        count = "" if self.unexpected_count is None else f"{self.unexpected_count:,} unexpected"
        sample = ", ".join(_short(v) for v in self.sample)
        return "  ".join(
            part
            for part in (
                self.table,
                self.expectation,
                self.column or "-",
                count,
                f"e.g. {sample}" if sample else "",
                f"could not be evaluated: {_cut(self.exception)}" if self.exception else "",
            )
            if part
        )


@dataclass
class GateResult:
    """What a gate checked and found."""

    layer: str
    success: bool
    tables_checked: list[str] = field(default_factory=list)
    #: table -> rows validated (for bronze: rows of the batches checked)
    rows_checked: dict[str, int] = field(default_factory=dict)
    #: table -> why it was not checked
    tables_skipped: dict[str, str] = field(default_factory=dict)
    results: list[ExpectationResult] = field(default_factory=list)
    data_docs_path: Path | None = None

    @property
    def errors(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.fails_gate]

    @property
    def warnings(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success and r.severity == "warning"]

    def summary(self) -> str:
        """A compact text table: one line per table, then every failed expectation."""
        status = "passed" if self.success else "FAILED"
        header = (
            f"{self.layer} gate {status}: {len(self.tables_checked)} tables checked, "
            f"{len(self.tables_skipped)} skipped, {len(self.errors)} errors, "
            f"{len(self.warnings)} warnings"
        )
        columns = (
            f"  {'table':<32}{'rows':>11}{'expectations':>13}{'passed':>8}{'errors':>8}"
            f"{'warnings':>10}"
        )
        lines = [header, columns]
        for table in self.tables_checked:
            mine = [r for r in self.results if r.table == table]
            lines.append(
                f"  {table:<32}{self.rows_checked[table]:>11,}{len(mine):>13}"
                f"{sum(r.success for r in mine):>8}"
                f"{sum(r.fails_gate for r in mine):>8}"
                f"{sum(not r.success and r.severity == 'warning' for r in mine):>10}"
            )
        for reason in sorted(set(self.tables_skipped.values())):
            names = [t for t, why in self.tables_skipped.items() if why == reason]
            lines.append(f"  skipped ({reason}): {', '.join(names)}")
        lines += [f"  error    {r.describe()}" for r in self.errors]
        lines += [f"  warning  {r.describe()}" for r in self.warnings]
        if self.data_docs_path:
            lines.append(f"  data docs: {self.data_docs_path}")
        return "\n".join(lines)


class QualityGateFailed(RuntimeError):
    """An ``error`` expectation failed; the message lists what failed and where the docs are."""

    def __init__(self, result: GateResult):
        self.result = result
        failures = "\n".join(f"  {r.describe()}" for r in result.errors)
        super().__init__(
            f"{result.layer} quality gate failed: {len(result.errors)} "
            f"expectation(s) broken\n{failures}\n"
            f"  data docs: {result.data_docs_path}"
        )


def run_gate(
    lakehouse: Lakehouse,
    layer: str,
    suites_dir: Path,
    docs_dir: Path,
    batch_ids: list[str] | None = None,
    memory_limit: str | None = None,
    full: bool = False,
) -> GateResult:
    """Validate the tables of ``layer`` against ``<suites_dir>/<layer>.yml``.

    Tables named in the file that do not exist (yet) are skipped, as are bronze tables without
    rows in ``batch_ids`` and, unless ``full``, tables of other layers unchanged since the gate
    last passed (the others are validated on their rows written since). DuckDB runs the checks
    within ``memory_limit`` (e.g. ``"4GB"``; default: DuckDB's own, 80% of the memory),
    spilling to a temporary folder. Builds the data docs into ``docs_dir``; raises
    ``QualityGateFailed`` when an ``error`` expectation fails (warnings are only reported).
    """
    suites = load_suites(Path(suites_dir) / f"{layer}.yml")
    gate = GateResult(layer, success=True)
    passed = {} if full or layer == "bronze" else validated_versions(lakehouse, layer)
    versions: dict[str, int] = {}
    with (
        tempfile.TemporaryDirectory(prefix="cdp-gate-") as scratch,
        gx.GateRun(layer, Path(docs_dir).resolve(), Path(scratch), memory_limit) as run,
    ):
        for table in _tables(lakehouse, layer, suites, gate):
            if layer == "bronze":
                _check_table(run, lakehouse, table, suites, gate, batch_ids)
                continue
            changes = changes_since(lakehouse, table, passed.get(str(table)))
            versions[str(table)] = changes.version
            if changes.files == []:
                gate.tables_skipped[str(table)] = "unchanged since the gate last passed"
                continue
            _check_table(run, lakehouse, table, suites, gate, None, changes.files)
        gate.data_docs_path = run.build_docs()
    gate.success = not gate.errors
    if not gate.success:
        raise QualityGateFailed(gate)
    if versions:
        record_validated(lakehouse, layer, versions)
    return gate


def _check_table(
    run: gx.GateRun,
    lakehouse: Lakehouse,
    table: Table,
    suites: Suites,
    gate: GateResult,
    batch_ids: list[str] | None,
    files: list[str] | None = None,
) -> None:
    """Validate one table (the rows of ``batch_ids`` or of its data ``files`` when given) and
    record the outcome."""
    specs = suites.for_table(table.name)
    columns = _columns(lakehouse, table, specs, suites)
    run.define(table.name, table_query(lakehouse.uri(table), columns, batch_ids, files))
    rows = run.count_rows(table.name)
    if batch_ids is not None and rows == 0:
        gate.tables_skipped[str(table)] = "no rows in the batches checked"
        return
    outcomes = run.validate(table.name, [build_expectation(suites, s) for s in specs])
    gate.tables_checked.append(str(table))
    gate.rows_checked[str(table)] = rows
    gate.results += [
        ExpectationResult(
            str(table),
            s.type,
            s.column_label,
            s.severity,
            o.success,
            o.unexpected_count,
            o.sample,
            o.exception,
        )
        for s, o in zip(specs, outcomes)
    ]


def _tables(lakehouse: Lakehouse, layer: str, suites: Suites, gate: GateResult) -> list[Table]:
    """Tables named in the suite file, plus every existing one ``all_tables`` covers."""
    layer = suites.layer or layer
    named = [Table(layer, name) for name in suites.tables]
    for table in named:
        if not lakehouse.exists(table):
            gate.tables_skipped[str(table)] = "table does not exist yet"
    existing = (
        [t for t in lakehouse.tables(layer) if suites.covers_all(t.name)]
        if suites.all_tables
        else []
    )
    names = {t.name for t in named if lakehouse.exists(t)} | {t.name for t in existing}
    return [Table(layer, name) for name in sorted(names)]


def _columns(
    lakehouse: Lakehouse, table: Table, specs: list[ExpectationSpec], suites: Suites
) -> list[str]:
    """Columns the expectations read; a column the table lacks is an error in the suite file."""
    present = pa.schema(lakehouse.delta(table).schema()).names
    needed: list[str] = []
    for spec in specs:
        for column in spec.columns:
            if column not in present:
                raise suites.error(
                    spec.key, f"{table} has no column {column!r} (columns: {', '.join(present)})"
                )
            if column not in needed:
                needed.append(column)
    # Row-count expectations need no column, but a query needs at least one to have rows.
    return needed or present[:1]


def _short(value: Any) -> str:
    return _cut(repr(value))


def _cut(text: str) -> str:
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 3] + "..."
