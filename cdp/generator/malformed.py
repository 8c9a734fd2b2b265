"""Malformed rows: each fails its contract for exactly one stated reason.

Kinds (as bronze names them): ``unparseable`` (truncated JSON, wrong CSV column count),
``missing_required`` (a required field absent or empty), ``wrong_type`` (text that does not
parse as the field's kind) and ``impossible_value`` (parses, but a value not allowed or failing
the field's check). The row is otherwise valid, and validation checks fields in contract
order, so the first failure is the injected one.
"""

from __future__ import annotations

import json

import numpy as np

from cdp.generator.context import Raw
from spark_jobs.contracts import NON_NEGATIVE, PLAUSIBLE_TIME, POSITIVE, Contract, Field

KINDS = ("unparseable", "missing_required", "wrong_type", "impossible_value")
RATE = 0.002

_WRONG_TYPE = {
    "int": "abc",
    "long": "12a",
    "fen": "N/A",
    "money": "¥12.00",
    "epoch_seconds": "2026-09-01",
    "epoch_millis": "abc",
    "datetime_cn": "2026/09/01 10:00:00",
    "datetime_pos": "2026-09-01T10:00",
    "datetime_iso": "2026-09-01 10:00:00",
    "date": "01/09/1990",
}
_YEAR_1970 = {
    "epoch_seconds": "0",
    "epoch_millis": "0",
    "datetime_cn": "1970-01-01 08:00:00",
    "datetime_pos": "1970/01/01 08:00:00",
    "datetime_iso": "1970-01-01T08:00:00+08:00",
}


def _impossible(f: Field) -> str:
    if f.allowed:
        return "9" if f.kind in ("int", "long") else "UNKNOWN"
    if f.check == PLAUSIBLE_TIME:
        return _YEAR_1970[f.kind]
    if f.check in (NON_NEGATIVE, POSITIVE):
        return "-10.00" if f.kind == "money" else "-1"
    if f.check == "{c} <> 0":
        return "0"
    if f.kind == "date":
        return "1899-12-31"
    raise ValueError(f"no impossible value for {f.name} ({f.check})")


def _candidates(contract: Contract, kind: str, row: dict) -> list[Field]:
    present = [f for f in contract.fields if row.get(f.name) not in (None, "")]
    if kind == "missing_required":
        return [f for f in contract.fields if f.required]
    if kind == "wrong_type":
        return [f for f in present if f.kind not in ("string", "items")]
    return [f for f in present if (f.allowed or f.check) and f.kind != "items"]


def corrupt(contract: Contract, row: dict, line: str, kind: str, rng: np.random.Generator) -> str:
    """The malformed version of one rendered row."""
    if kind == "unparseable":
        if contract.format == "csv":
            return line.rsplit(",", 2)[0]
        return line[: int(rng.integers(len(line) // 3, len(line) - 2))]
    fields = _candidates(contract, kind, row)
    f = fields[int(rng.integers(len(fields)))]
    row = dict(row)
    if kind == "missing_required":
        if f.kind == "items":
            row[f.name] = Raw("[]")
        elif contract.format == "jsonl" and rng.random() < 0.5:
            del row[f.name]
        else:
            row[f.name] = ""
    elif kind == "wrong_type":
        row[f.name] = _WRONG_TYPE[f.kind]
    else:
        row[f.name] = _impossible(f)
    if contract.format == "csv":
        return ",".join("" if row[n] is None else str(row[n]) for n in contract.field_names)
    clean = {k: (json.loads(v) if isinstance(v, Raw) else v) for k, v in row.items()}
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":"))


def inject(
    contract: Contract,
    columns: dict[str, list],
    lines: list[str],
    valid: np.ndarray,
    rng: np.random.Generator,
) -> dict[int, str]:
    """Corrupt about RATE of the valid rows in place; returns {row index: kind}."""
    candidates = np.flatnonzero(valid)
    count = int(rng.binomial(candidates.size, RATE)) if candidates.size else 0
    chosen = np.sort(rng.choice(candidates, size=count, replace=False)) if count else []
    kinds = rng.integers(0, len(KINDS), count)
    injected = {}
    for i, k in zip(list(map(int, chosen)), kinds.tolist()):
        row = {name: columns[name][i] for name in contract.field_names}
        lines[i] = corrupt(contract, row, lines[i], KINDS[k], rng)
        injected[i] = KINDS[k]
    return injected
