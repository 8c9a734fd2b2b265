"""Expectation suites: the YAML files under ``expectations/`` that data engineers edit.

One file per gate (``bronze.yml``, ``silver.yml``, ``identity.yml``)::

    layer: silver               # lakehouse layer of the tables; default: the file's name
    all_tables:                 # applied to every existing table of the layer
      - type: expect_column_values_to_not_be_null
        columns: [_source_file, _batch_id]
    all_tables_except: [identity_*]   # fnmatch patterns of tables all_tables skips
    tables:
      orders:
        - type: expect_compound_columns_to_be_unique
          column_list: [channel, order_id]
        - type: expect_column_values_to_be_in_set
          column: status
          value_set: [created, paid]
          severity: warning     # reported only; the default, ``error``, fails the gate

Every other key of an item is a keyword argument of the Great Expectations expectation named by
``type``; ``columns`` is a shorthand for one expectation per column. Types and arguments are
checked against Great Expectations itself, so errors name the file and the key path, e.g.
``expectations/silver.yml: tables.orders[3].severity: expected 'error' or 'warning'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from cdp.config import ConfigError

SEVERITIES = ("error", "warning")
#: keyword arguments that name the columns an expectation reads
COLUMN_ARGUMENTS = ("column", "column_A", "column_B", "column_list")
_ITEM_KEYS = {"type", "severity", "columns"}
_TOP_KEYS = {"layer", "all_tables", "all_tables_except", "tables"}


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation of a suite file, as written (arguments already checked by GX)."""

    type: str
    kwargs: dict[str, Any]
    severity: str
    #: key path in the suite file, e.g. ``tables.orders[3]``, for messages
    key: str

    @property
    def columns(self) -> list[str]:
        """Columns the expectation reads, in argument order."""
        found: list[str] = []
        for argument in COLUMN_ARGUMENTS:
            value = self.kwargs.get(argument)
            found += value if isinstance(value, list) else [value] if value else []
        return found

    @property
    def column_label(self) -> str:
        return ",".join(self.columns)


@dataclass(frozen=True)
class Suites:
    """The expectations of one layer's suite file."""

    path: Path
    all_tables: tuple[ExpectationSpec, ...]
    tables: dict[str, tuple[ExpectationSpec, ...]]
    #: lakehouse layer of the tables (None: the gate's name)
    layer: str | None = None
    #: fnmatch patterns of tables ``all_tables`` does not apply to
    all_tables_except: tuple[str, ...] = ()

    def covers_all(self, name: str) -> bool:
        return not any(fnmatch(name, p) for p in self.all_tables_except)

    def for_table(self, name: str) -> list[ExpectationSpec]:
        common = self.all_tables if self.covers_all(name) else ()
        return [*common, *self.tables.get(name, ())]

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{display_path(self.path)}: {key}: {problem}")


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_suites(path: Path) -> Suites:
    """Read and validate one suite file; raises ``ConfigError`` naming the file and key path.

    Column names are checked later, against the table itself, when the gate runs.
    """
    path = Path(path)
    shell = Suites(path, (), {})
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{display_path(path)}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise shell.error("(top level)", "expected a mapping with 'tables' and 'all_tables'")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise shell.error(unknown[0], f"unknown key; expected one of {sorted(_TOP_KEYS)}")

    tables = data.get("tables") or {}
    if not isinstance(tables, dict):
        raise shell.error("tables", "expected a mapping of table name to a list of expectations")
    layer = data.get("layer")
    if layer is not None and not isinstance(layer, str):
        raise shell.error("layer", "expected the name of a lakehouse layer")
    excluded = data.get("all_tables_except") or []
    if not isinstance(excluded, list) or not all(isinstance(p, str) for p in excluded):
        raise shell.error("all_tables_except", "expected a list of table name patterns")
    return Suites(
        path,
        tuple(_specs(shell, "all_tables", data.get("all_tables") or [])),
        {
            str(name): tuple(_specs(shell, f"tables.{name}", items or []))
            for name, items in tables.items()
        },
        layer,
        tuple(excluded),
    )


def _specs(shell: Suites, key: str, items: Any) -> list[ExpectationSpec]:
    if not isinstance(items, list):
        raise shell.error(key, "expected a list of expectations")
    specs = []
    for index, item in enumerate(items):
        specs += _expand(shell, f"{key}[{index}]", item)
    return specs


def _expand(shell: Suites, key: str, item: Any) -> list[ExpectationSpec]:
    """One item of a list -> its expectations (several with the ``columns`` shorthand)."""
    if not isinstance(item, dict) or "type" not in item:
        raise shell.error(key, "expected a mapping with at least 'type'")
    severity = item.get("severity", "error")
    if severity not in SEVERITIES:
        raise shell.error(f"{key}.severity", "expected 'error' or 'warning'")
    kwargs = {k: v for k, v in item.items() if k not in _ITEM_KEYS}
    if "columns" not in item:
        return [_checked(shell, ExpectationSpec(item["type"], kwargs, severity, key))]
    columns = item["columns"]
    if not isinstance(columns, list) or not columns or "column" in kwargs:
        raise shell.error(
            f"{key}.columns",
            "expected a non-empty list of column names (and no 'column' beside it)",
        )
    return [
        _checked(
            shell,
            ExpectationSpec(
                item["type"], {"column": column, **kwargs}, severity, f"{key}.columns[{i}]"
            ),
        )
        for i, column in enumerate(columns)
    ]


def _checked(shell: Suites, spec: ExpectationSpec) -> ExpectationSpec:
    build_expectation(shell, spec)
    return spec


def build_expectation(shell: Suites, spec: ExpectationSpec):
    """The GX expectation object of a spec; unknown types and bad arguments -> ``ConfigError``."""
    from cdp.quality.gx import import_gx

    import_gx()
    from great_expectations.compatibility import pydantic
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        expectation_class = get_expectation_impl(str(spec.type))
    except ExpectationNotFoundError:
        raise shell.error(f"{spec.key}.type", f"unknown expectation type {spec.type!r}") from None
    severity = FailureSeverity.CRITICAL if spec.severity == "error" else FailureSeverity.WARNING
    try:
        return expectation_class(**spec.kwargs, severity=severity)
    except pydantic.ValidationError as exc:
        problems = [
            f"{spec.key}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError(f"{display_path(shell.path)}: {'; '.join(problems)}") from None
