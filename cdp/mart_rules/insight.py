"""Parameters of the insight models (``dbt_project/config/insight.yml``) -> ``var('insight')``.

Each analysis model reads its section: ``kpi`` (grains and breakdown dimensions), ``funnels``
(ordered steps and a conversion window), ``retention`` (return windows in days), ``paths`` (the
anchor event, direction and length), ``distributions`` (band lower bounds), ``attribution``
(lookback, position weights, time-decay half-life), ``ltv`` (cohort months) and
``recommendations`` (how many per customer, the least co-buyers a pair needs, how many
similar items each item keeps, how many of a person's last distinct items seed their
candidates). Every value must be given; bands and windows must grow.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from cdp.mart_rules import read_model
from cdp.rules_base import Strict

FILE = "insight.yml"

Positive = Annotated[int, Field(strict=True, gt=0)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
EVENT_SOURCES = ("wechat", "web", "mall")
KPI_DIMENSIONS = ("channel", "region", "mall", "store", "business_format")


def _increasing(values: list) -> list:
    if not values or any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError("must be a non-empty list of increasing numbers")
    return values


class Kpi(Strict):
    grains: list[Literal["day", "week", "month"]] = Field(min_length=1)
    dimensions: list[Literal[KPI_DIMENSIONS]] = Field(min_length=1)  # type: ignore[valid-type]


class Step(Strict):
    """A funnel step: an event (``source`` and ``event_type``) or a purchase."""

    kind: Literal["event", "purchase"]
    source: Literal[EVENT_SOURCES] | None = None  # type: ignore[valid-type]
    event_type: str | None = None

    @model_validator(mode="after")
    def _event_fields(self) -> Step:
        if (self.kind == "event") != (self.source is not None and self.event_type is not None):
            raise ValueError("an event step needs source and event_type; a purchase step neither")
        return self


class Funnel(Strict):
    name: Name
    window_days: Positive
    steps: list[Step] = Field(min_length=2)


class Retention(Strict):
    start: Step
    return_event: Step
    return_days: list[Positive]
    _grow = field_validator("return_days")(_increasing)


class Paths(Strict):
    anchor: Step
    direction: Literal["after", "before"]
    length: Annotated[int, Field(strict=True, ge=1, le=6)]


class Distributions(Strict):
    frequency_bands: list[Annotated[int, Field(ge=0)]]
    spend_bands_yuan: list[Annotated[int, Field(ge=0)]]
    session_gap_minutes: Positive
    session_event_bands: list[Annotated[int, Field(ge=1)]]
    _grow = field_validator("frequency_bands", "spend_bands_yuan", "session_event_bands")(
        _increasing
    )


class Attribution(Strict):
    lookback_days: Positive
    first_weight: Annotated[float, Field(gt=0, lt=1)]
    last_weight: Annotated[float, Field(gt=0, lt=1)]
    half_life_days: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _middle_left(self) -> Attribution:
        if self.first_weight + self.last_weight > 1:
            raise ValueError("first_weight + last_weight must be at most 1")
        return self


class Ltv(Strict):
    cohort_months: Positive


class Recommendations(Strict):
    top_n: Positive
    min_co_buyers: Positive
    neighbours: Positive
    recent_items: Positive


class InsightRules(Strict):
    kpi: Kpi
    funnels: list[Funnel] = Field(min_length=1)
    retention: Retention
    paths: Paths
    distributions: Distributions
    attribution: Attribution
    ltv: Ltv
    recommendations: Recommendations

    @field_validator("funnels")
    @classmethod
    def _unique_names(cls, funnels: list[Funnel]) -> list[Funnel]:
        names = [f.name for f in funnels]
        if len(set(names)) != len(names):
            raise ValueError(f"funnel names must be unique, got {names}")
        return funnels


def load(path: Path) -> dict[str, Any]:
    """The validated parameters of ``path``; ConfigError naming the file and key otherwise."""
    return read_model(path, InsightRules).model_dump()
