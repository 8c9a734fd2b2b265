"""Turning a batch's columns into file lines: JSON objects or CSV rows, in contract field order.

Values are generated text without quotes, backslashes, commas or newlines, so lines are built
with one %-template per batch instead of a JSON encoder per row (several times faster).
"""

from __future__ import annotations

from cdp.generator.context import Raw
from spark_jobs.contracts import Contract


def _json_column(name: str, values: list) -> tuple[str, list]:
    kinds = set(map(type, values))
    if kinds <= {str}:
        return f'"{name}":"%s"', values
    if kinds <= {int, Raw}:
        return f'"{name}":%s', values
    rendered = ["null" if v is None else f'"{v}"' if type(v) is str else str(v) for v in values]
    return f'"{name}":%s', rendered


def render_jsonl(contract: Contract, columns: dict[str, list]) -> list[str]:
    parts, cols = [], []
    for f in contract.fields:
        part, col = _json_column(f.name, columns[f.name])
        parts.append(part)
        cols.append(col)
    template = "{" + ",".join(parts) + "}"
    return [template % row for row in zip(*cols)]


def render_csv(contract: Contract, columns: dict[str, list]) -> list[str]:
    cols = []
    for f in contract.fields:
        values = columns[f.name]
        if None in values:
            values = ["" if v is None else v for v in values]
        cols.append(values)
    template = ",".join(["%s"] * len(cols))
    return [template % row for row in zip(*cols)]


def render(contract: Contract, columns: dict[str, list]) -> list[str]:
    return (render_csv if contract.format == "csv" else render_jsonl)(contract, columns)


def csv_header(contract: Contract) -> str:
    return ",".join(contract.field_names)
