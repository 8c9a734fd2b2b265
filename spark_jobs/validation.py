"""SQL expression builders that type a contract's fields and name why a record fails it.

Everything here is a pure function from a contract to SQL text, so the same rules run on Sail
and on Spark, and can be unit-tested without an engine. Raw records arrive as a struct column
``rec`` of strings (JSON parsed with every leaf as string, or CSV columns). Local times
(``datetime_cn``, ``datetime_pos``) are read in ``tz``, the source time zone of the settings
(``source_timezone``), and typed as UTC.
"""

from __future__ import annotations

from cdp.sql_literals import SPARK
from spark_jobs.contracts import Contract, Field

INTEGER_RE = r"^\\s*[-+]?[0-9]{1,18}\\s*$"
MONEY_RE = r"^\\s*[-+]?[0-9]{1,16}(\\.[0-9]{1,2})?\\s*$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

SPARK_TYPES = {
    "string": "string",
    "int": "int",
    "long": "bigint",
    "money": "decimal(18,2)",
    "fen": "bigint",
    "epoch_seconds": "timestamp",
    "epoch_millis": "timestamp",
    "datetime_cn": "timestamp",
    "datetime_pos": "timestamp",
    "datetime_iso": "timestamp",
    "date": "date",
}


def _when(condition: str, value: str) -> str:
    return f"CASE WHEN {condition} THEN {value} END"


def typed_expr(kind: str, col: str, tz: str) -> str:
    """SQL that turns raw text ``col`` into the field's type; NULL when it does not fit.
    Local times are times in the IANA time zone ``tz``."""
    t = f"trim({col})"
    zone = SPARK.string(tz)
    if kind == "string":
        return f"nullif({t}, '')"
    if kind in ("int", "long", "fen"):
        return _when(f"{col} RLIKE '{INTEGER_RE}'", f"try_cast({t} AS {SPARK_TYPES[kind]})")
    if kind == "money":
        return _when(f"{col} RLIKE '{MONEY_RE}'", f"try_cast({t} AS decimal(18,2))")
    if kind == "epoch_seconds":
        return _when(f"{col} RLIKE '{INTEGER_RE}'", f"timestamp_seconds(try_cast({t} AS bigint))")
    if kind == "epoch_millis":
        return _when(f"{col} RLIKE '{INTEGER_RE}'", f"timestamp_millis(try_cast({t} AS bigint))")
    if kind == "datetime_cn":
        return f"to_utc_timestamp(try_to_timestamp({t}, 'yyyy-MM-dd HH:mm:ss'), {zone})"
    if kind == "datetime_pos":
        local = (
            f"coalesce(try_to_timestamp({t}, 'yyyy/MM/dd HH:mm:ss'), "
            f"try_to_timestamp({t}, 'yyyy/MM/dd HH:mm'))"
        )
        return f"to_utc_timestamp({local}, {zone})"
    if kind == "datetime_iso":
        # Only text that carries its own offset: a local time without one is ambiguous.
        return _when(
            f"{col} RLIKE '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})\\\\s*$'", f"try_to_timestamp({t})"
        )
    if kind == "date":
        return _when(
            f"{col} RLIKE '{DATE_RE}'", f"CAST(try_to_timestamp({t}, 'yyyy-MM-dd') AS date)"
        )
    raise ValueError(f"no typed expression for kind {kind!r}")


def _present(col: str) -> str:
    return f"({col} IS NOT NULL AND trim({col}) <> '')"


def typed_name(name: str) -> str:
    """Column holding the typed value of field ``name`` during validation."""
    return f"t__{name}"


def _json_structure(col: str) -> str:
    """SQL: ``col`` is the text of a JSON object or array (the JSON parser hands a nested
    value to a string field as its JSON text)."""
    return (
        f"(left(ltrim({col}), 1) IN ('{{', '[') AND (json_object_keys({col}) IS NOT NULL "
        f"OR json_array_length({col}) IS NOT NULL))"
    )


def field_failures(
    f: Field, col: str, label: str, typed: str, scalar_only: bool = False
) -> list[tuple[str, str]]:
    """(condition, reason) pairs, in order, under which a value of field ``f`` fails.

    ``typed`` is SQL for the field's typed value (of raw text ``col``).
    With ``scalar_only`` a JSON object or array is a wrong type even for a string field.
    """
    typed = f"({typed})"
    failures = []
    if f.required:
        failures.append((f"NOT {_present(col)}", f"missing_required:{label}"))
    if scalar_only and f.kind == "string":
        # Other kinds reject such text through their typed value already.
        failures.append((f"{_present(col)} AND {_json_structure(col)}", f"wrong_type:{label}"))
    if f.kind not in ("string", "items"):
        failures.append((f"{_present(col)} AND {typed} IS NULL", f"wrong_type:{label}"))
    if f.allowed:
        failures.append(
            (
                f"{_present(col)} AND trim({col}) NOT IN ({SPARK.strings(f.allowed)})",
                f"impossible_value:{label}",
            )
        )
    if f.check:
        failures.append(
            (
                f"{typed} IS NOT NULL AND NOT ({f.check.format(c=typed)})",
                f"impossible_value:{label}",
            )
        )
    return failures


def items_reason_name(name: str) -> str:
    """Column holding the first reason an element of items field ``name`` fails, if any."""
    return f"r__{name}"


def items_reason_expr(f: Field, col: str, tz: str) -> str:
    """SQL: the first failure of the first failing element of an ``items`` field, or NULL.

    One pass over the array for all sub-field checks (an ``exists`` per check was the most
    expensive part of validating orders).
    """
    cases = " ".join(
        f"WHEN {condition} THEN '{reason}'"
        for sub in f.items
        for condition, reason in field_failures(
            sub,
            f"x.`{sub.name}`",
            f"{f.name}.{sub.name}",
            typed_expr(sub.kind, f"x.`{sub.name}`", tz),
        )
    )
    return f"filter(transform({col}, x -> CASE {cases} END), r -> r IS NOT NULL)[0]"


def reject_reason_expr(
    contract: Contract,
    rec: str = "rec",
    unparseable: str | None = None,
    raw: str | None = None,
    drift: str | None = None,
) -> str:
    """SQL giving the first reason a raw record fails the contract, or NULL when it passes.

    Expects the typed values as columns named by ``typed_name`` and the item failures by
    ``items_reason_name`` (both made by ``typed_column_exprs``).
    ``unparseable`` is an optional boolean SQL flag computed by the reader (CSV rows with the
    wrong number of columns); JSON lines that do not parse give a NULL or all-NULL ``rec``.
    With ``raw`` (SQL for the record's raw text) a failure is ``named_struct('reason', ...,
    'raw', ...)``: the text travels only with rejected rows, in the same single evaluation.
    ``drift`` is an optional string column naming the file's schema drift: every row of such
    a file fails with it first. Key fields of JSON-lines records must be scalars.
    """
    all_null = " AND ".join(f"{rec}.`{f.name}` IS NULL" for f in contract.fields)
    failures = [(f"{rec} IS NULL OR ({all_null})", "unparseable")]
    if unparseable:
        failures.insert(0, (unparseable, "unparseable"))
    # (condition, SQL value naming the reason): a constant, or a column that holds the
    # reason (a file's schema drift, the first failing line item).
    checks = [(f"{drift} IS NOT NULL", drift)] if drift else []
    checks += _constant_reasons(failures)
    for f in contract.fields:
        col = f"{rec}.`{f.name}`"
        if f.kind != "items":
            scalar_only = contract.format == "jsonl" and f.name in contract.key
            checks += _constant_reasons(
                field_failures(f, col, f.name, f"`{typed_name(f.name)}`", scalar_only)
            )
            continue
        if f.required:
            checks += _constant_reasons(
                [(f"{col} IS NULL OR size({col}) = 0", f"missing_required:{f.name}")]
            )
        reason_col = f"`{items_reason_name(f.name)}`"
        checks.append((f"{reason_col} IS NOT NULL", reason_col))
    if raw:
        checks = [
            (condition, f"named_struct('reason', {reason}, 'raw', {raw})")
            for condition, reason in checks
        ]
    cases = " ".join(f"WHEN {condition} THEN {reason}" for condition, reason in checks)
    return f"CASE {cases} END"


def _constant_reasons(failures: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(condition, f"'{reason}'") for condition, reason in failures]


def typed_column_exprs(contract: Contract, tz: str, rec: str = "rec") -> list[str]:
    """``SELECT`` items typing every field of a record (named by ``typed_name``), and naming
    the first failing element of each items field (``items_reason_name``); local times are
    read in time zone ``tz``."""
    exprs = []
    for f in contract.fields:
        col = f"{rec}.`{f.name}`"
        if f.kind == "items":
            parts = ", ".join(
                f"'{s.name}', {typed_expr(s.kind, f'x.`{s.name}`', tz)}" for s in f.items
            )
            exprs.append(f"transform({col}, x -> named_struct({parts})) AS `{typed_name(f.name)}`")
            exprs.append(f"{items_reason_expr(f, col, tz)} AS `{items_reason_name(f.name)}`")
        else:
            exprs.append(f"{typed_expr(f.kind, col, tz)} AS `{typed_name(f.name)}`")
    return exprs


def raw_schema_ddl(contract: Contract) -> str:
    """DDL schema that parses a JSON line with every leaf kept as text."""
    cols = []
    for f in contract.fields:
        if f.kind == "items":
            subs = ", ".join(f"`{s.name}`: string" for s in f.items)
            cols.append(f"`{f.name}` array<struct<{subs}>>")
        else:
            cols.append(f"`{f.name}` string")
    return ", ".join(cols)
