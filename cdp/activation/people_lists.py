"""People named explicitly in a segment: its ``include`` and ``exclude`` lists.

A list holds OneIDs, identifiers (resolved through OneID, normalised as in silver) and/or a
CSV file relative to the segment file, with a header ``one_id`` or ``identifier_type,
identifier_value``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from cdp.activation.catalog import SegmentError
from cdp.activation.definitions import PeopleList

#: resolves (identifier_type, identifier_value) pairs to OneIDs
IdentifierLookup = Callable[[list[tuple[str, str]]], dict[tuple[str, str], str]]


def _read_list_file(path: Path, where: str) -> tuple[list[str], list[tuple[str, str]], bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SegmentError(f"{where}: file {path} not found") from None
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    header = set(rows[0]) if rows else set()
    if "one_id" in header:
        return [row["one_id"].strip() for row in rows if row["one_id"].strip()], [], data
    if {"identifier_type", "identifier_value"} <= header:
        return (
            [],
            [(row["identifier_type"].strip(), row["identifier_value"].strip()) for row in rows],
            data,
        )
    raise SegmentError(
        f"{where}: {path.name} needs a header one_id, or identifier_type and identifier_value"
    )


def _canonical(kind: str, value: str) -> str:
    from cdp.normalise import normalise_email, normalise_phone

    if kind == "phone":
        return normalise_phone(value) or value
    if kind == "email":
        return normalise_email(value) or value
    return value


def resolve_list(
    people: PeopleList, base: Path, where: str, lookup: IdentifierLookup | None
) -> tuple[list[str], int, dict[str, bytes]]:
    """The OneIDs of a people list, the entries that matched nobody, the list files' bytes."""
    one_ids = list(people.one_ids)
    pairs = [(e.type, e.value) for e in people.identifiers]
    files: dict[str, bytes] = {}
    if people.file:
        file_ids, file_pairs, data = _read_list_file(base / people.file, f"{where}.file")
        one_ids += file_ids
        pairs += file_pairs
        files[people.file] = data
    pairs = [(kind, _canonical(kind, value)) for kind, value in pairs]
    unresolved = 0
    if pairs:
        if lookup is None:
            raise SegmentError(f"{where}.identifiers: needs OneID (silver.identity_map)")
        found = lookup(pairs)
        unresolved = sum(1 for pair in pairs if pair not in found)
        one_ids += [found[pair] for pair in pairs if pair in found]
    return sorted(set(one_ids)), unresolved, files
