"""Erasure requests: one identifier (type and value) or one OneID, from the command line or a
CSV file of many (header ``identifier_type,value`` or ``one_id``, or all three columns)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from cdp.privacy.keys import canonical_value, identifier_key, key_hash


class RequestError(ValueError):
    """An erasure request that cannot be read or names no identifier."""


@dataclass(frozen=True)
class ErasureRequest:
    """Erase the person with this identifier (canonical spelling) or this OneID."""

    identifier_type: str | None = None
    value: str | None = None
    one_id: str | None = None

    @property
    def key(self) -> str | None:
        """The identifier's key, ``<type>:<value>``; None for a OneID request."""
        if self.identifier_type is None or self.value is None:
            return None
        return identifier_key(self.identifier_type, self.value)

    @property
    def request_id(self) -> str:
        """A name for the request that holds no personal value: the same request, the same
        id (so a repeated request is recognised)."""
        return key_hash(self.key or f"one_id:{self.one_id}")[:16]

    def describe(self) -> str:
        """The request without its value or OneID: ``phone (request 3f2a...)``."""
        return f"{'one_id' if self.one_id else self.identifier_type} (request {self.request_id})"


def request_of(
    identifier_type: str | None,
    value: str | None,
    one_id: str | None,
    known_types,
    card_programmes=(),
    where: str = "the command line",
) -> ErasureRequest:
    """A validated request; ``known_types``: the identity rules' identifier types."""
    if one_id and (identifier_type or value):
        raise RequestError(f"{where}: give an identifier (type and value) or a OneID, not both")
    if one_id:
        return ErasureRequest(one_id=one_id.strip())
    if not identifier_type or not value:
        raise RequestError(f"{where}: an erasure needs an identifier type and value, or a OneID")
    if identifier_type not in known_types:
        raise RequestError(
            f"{where}: unknown identifier type {identifier_type!r}; "
            f"known: {', '.join(sorted(known_types))}"
        )
    canonical = canonical_value(identifier_type, value, card_programmes)
    if canonical is None:
        raise RequestError(f"{where}: the value is not a valid {identifier_type}")
    return ErasureRequest(identifier_type, canonical)


def read_requests(path: Path, known_types, card_programmes=()) -> list[ErasureRequest]:
    """Every request of a CSV file, in order, each once."""
    if not path.is_file():
        raise RequestError(f"{path}: no such file of erasure requests")
    with path.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.DictReader(source)
        columns = set(reader.fieldnames or [])
        if not columns & {"one_id", "identifier_type"}:
            raise RequestError(
                f"{path}: expected a header with identifier_type,value or one_id; "
                f"found {', '.join(sorted(columns)) or 'none'}"
            )
        requests = [
            request_of(
                (row.get("identifier_type") or "").strip() or None,
                row.get("value") or None,
                row.get("one_id") or None,
                known_types,
                card_programmes,
                where=f"{path}: line {number}",
            )
            for number, row in enumerate(reader, 2)
        ]
    return list(dict.fromkeys(requests))
