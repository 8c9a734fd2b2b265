"""Breaking a few records on purpose, each for exactly one contract reason."""

from __future__ import annotations

import random

from spark_jobs.contracts import Contract, Field

KINDS = ("unparseable", "missing_required", "wrong_type", "impossible_value")
TOO_OLD = {"epoch_seconds": "0", "epoch_millis": "0", "datetime_cn": "1970-01-01 08:00:00",
           "datetime_pos": "1970/01/01 08:00", "datetime_iso": "1970-01-01T08:00:00+08:00",
           "date": "1800-01-01"}


def _impossible(f: Field) -> str | None:
    if f.allowed:
        return "9" if f.kind == "int" else "BOGUS"
    if f.check and f.kind in TOO_OLD:
        return TOO_OLD[f.kind]
    if f.check == "{c} <> 0":
        return "0"
    if f.check and f.kind in ("money", "fen", "int", "long"):
        return "-100" if f.kind in ("fen", "int", "long") else "-1.00"
    return None


def candidates(contract: Contract, kind: str) -> list[tuple[int, Field]]:
    fields = [(i, f) for i, f in enumerate(contract.fields) if f.kind != "items"]
    if kind == "missing_required":
        return [(i, f) for i, f in fields if f.required]
    if kind == "wrong_type":
        return [(i, f) for i, f in fields if f.kind != "string"]
    if kind == "impossible_value":
        return [(i, f) for i, f in fields if _impossible(f) is not None]
    return []


def break_record(rng: random.Random, contract: Contract, record, kind: str):
    """A copy of ``record`` (dict for JSON, list for CSV) failing the contract by ``kind``.

    Returns the new record, or a raw text line for ``unparseable``.
    """
    if kind == "unparseable":
        return None  # the writer truncates the serialised line
    index, f = rng.choice(candidates(contract, kind))
    value = {"missing_required": "", "wrong_type": "abc",
             "impossible_value": _impossible(f)}[kind]
    if isinstance(record, list):
        broken = list(record)
        broken[index] = value
        return broken
    broken = dict(record)
    if kind == "missing_required":
        broken.pop(f.name, None)
    else:
        broken[f.name] = value
    return broken
