"""Building blocks of the YAML rule files (segments, activation rules, tags, loyalty).

``Strict`` is the base of every rule model: unknown keys are errors (a typo is never ignored,
and a field whose YAML key is a Python keyword, ``in`` or ``not``, is read only under that
key), models are frozen and surrounding whitespace of text is dropped. ``Bounds``
(``gt`` / ``gte`` below, ``lt`` / ``lte`` above) is the one spelling of a range; subclasses
narrow the types of the bounds. Errors are plain sentences; ``cdp.mart_rules.read_model``
puts the file and key in front of them.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

BOUND_NAMES = ("gt", "gte", "lt", "lte")
#: SQL comparison of each bound: value <op> bound
OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class Strict(BaseModel):
    """A rule model: unknown keys are errors, instances are frozen, text is stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def non_empty(values: list | None) -> list | None:
    """A list given must hold something, and no blank text."""
    if values is not None and (
        not values or any(isinstance(v, str) and not v.strip() for v in values)
    ):
        raise ValueError("must be a non-empty list of non-empty values")
    return values


def finite(value: Any) -> Any:
    """YAML spells infinity and not-a-number ``.inf`` / ``.nan``: no mart value compares with
    them meaningfully, and SQL has no literal for them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    return value


def all_finite(values: list | None) -> list | None:
    """Every value of the list is finite (see ``finite``)."""
    for value in values or []:
        finite(value)
    return values


class Bounds(Strict):
    """Optional bounds: at most one lower (``gt`` / ``gte``) and one upper (``lt`` / ``lte``),
    finite, of one kind (numbers or dates), the lower not above the upper."""

    gt: int | float | date | None = None
    gte: int | float | date | None = None
    lt: int | float | date | None = None
    lte: int | float | date | None = None

    _finite_bounds = field_validator(*BOUND_NAMES)(finite)

    @model_validator(mode="after")
    def _consistent_bounds(self) -> Bounds:
        if self.gt is not None and self.gte is not None:
            raise ValueError("give gt or gte, not both")
        if self.lt is not None and self.lte is not None:
            raise ValueError("give lt or lte, not both")
        low, high = self.low, self.high
        if low is not None and high is not None:
            if type(low) is not type(high) and date in (type(low), type(high)):
                raise ValueError("a range compares dates with dates or numbers with numbers")
            if low > high:
                raise ValueError(f"empty range: lower bound {low} is above upper bound {high}")
        return self

    @property
    def low(self) -> Any:
        """The lower bound given (``gt`` or ``gte``), or None."""
        return self.gt if self.gt is not None else self.gte

    @property
    def high(self) -> Any:
        """The upper bound given (``lt`` or ``lte``), or None."""
        return self.lt if self.lt is not None else self.lte

    @property
    def has_range(self) -> bool:
        return any(getattr(self, name) is not None for name in BOUND_NAMES)

    def comparisons(self) -> list[tuple[str, Any]]:
        """``(SQL operator, bound)`` of every bound given, in the order gt, gte, lt, lte."""
        return [
            (OPERATORS[name], getattr(self, name))
            for name in BOUND_NAMES
            if getattr(self, name) is not None
        ]


class Range(Bounds):
    """Bounds of which at least one is given."""

    @model_validator(mode="after")
    def _some_bound(self) -> Range:
        if not self.has_range:
            raise ValueError("give at least one of gt, gte, lt, lte")
        return self
