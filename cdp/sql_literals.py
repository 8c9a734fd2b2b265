"""SQL literals and quoted identifiers, one rule per dialect.

The project writes SQL text for two kinds of engine, and they read a quote inside a string
differently:

- ``STANDARD``: DuckDB (the marts, suppression, serving views) and DataFusion (the Delta
  predicates of ``cdp.lakehouse``) follow standard SQL: a quote is doubled (``'it''s'``) and a
  backslash is an ordinary character.
- ``SPARK``: Spark SQL (Sail, Spark Connect) reads backslash escapes (``'it\\'s'``, ``'\\n'``
  is a newline) and reads ``'it''s'`` as two adjacent literals, ``its``: doubling a quote
  silently drops it, so a Spark literal escapes backslashes and quotes with a backslash.

Neither can carry a NUL character in SQL text (DuckDB stops parsing at it), so a value
holding one is refused rather than cut short. Values that come from users (YAML, CSV,
identifiers) go through here; never format them into SQL by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from math import isfinite


@dataclass(frozen=True)
class Dialect:
    """How one SQL dialect spells string literals and quoted identifiers."""

    name: str
    #: (character, its spelling inside a single-quoted literal), applied in order
    string_escapes: tuple[tuple[str, str], ...]
    #: the character that opens and closes a quoted identifier (doubled inside it)
    identifier_quote: str

    def string(self, value: str) -> str:
        """``value`` as a single-quoted string literal."""
        text = _without_nul(str(value), "a string literal")
        for character, spelling in self.string_escapes:
            text = text.replace(character, spelling)
        return f"'{text}'"

    def strings(self, values: Iterable) -> str:
        """Comma-separated string literals, the inside of ``IN (...)``; ValueError when there
        are none (``IN ()`` is not SQL)."""
        listed = [self.string(v) for v in values]
        if not listed:
            raise ValueError("an IN list needs at least one value")
        return ", ".join(listed)

    def identifier(self, name: str) -> str:
        """``name`` as a quoted identifier (a column or table name with any characters)."""
        quote = self.identifier_quote
        text = _without_nul(str(name), "an identifier")
        if not text:
            raise ValueError("an identifier cannot be empty")
        return quote + text.replace(quote, quote * 2) + quote


STANDARD = Dialect("standard", (("'", "''"),), '"')
SPARK = Dialect("spark", (("\\", "\\\\"), ("'", "\\'")), "`")


def literal(value, dialect: Dialect = STANDARD) -> str:
    """A typed literal: TRUE / FALSE, a finite number, ``DATE 'YYYY-MM-DD'`` or a string."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        if not isfinite(value):
            raise ValueError(f"SQL has no literal for {value}; give a finite number")
        return repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return dialect.string(value)


def _without_nul(text: str, what: str) -> str:
    if "\x00" in text:
        raise ValueError(f"{text!r} holds a NUL character, which {what} in SQL text cannot carry")
    return text
