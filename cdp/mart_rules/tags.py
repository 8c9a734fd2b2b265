"""Tag definitions (``dbt_project/config/tags.yml``), validated and handed to dbt as ``var('tags')``.

A tag is a name, a category, a description, an owner, a version and a rule. A rule is
``all:`` (every condition holds) or ``any:`` (at least one holds) over conditions of six kinds:

``attribute``      a golden-record column: ``in: [...]``, ``present: true|false``, or for ``age``
                   a range (``value: {gte: 25, lte: 34}``)
``events``         behavioural events (``source``, ``event_type``, ``page_url_prefix``, ``scene``,
                   ``campaign``) counted in a window: ``count: {gt: 3}``
``coupons``        coupon events (``event_type``, ``campaign_id``) counted in a window
``purchases``      ``orders``, ``net_spend`` (yuan) or ``units`` in a window, optionally only for
                   some ``channel``, store ``business_format`` or line ``category``
``coupon_cities``  the scalper flag: the same coupon campaign used in at least ``min_cities``
                   cities within ``within_hours``
``recommended``    the recommender (``customer_recommendations``) ranks, among the person's
                   ``top`` items, one of ``sku`` and/or one of ``category`` (both: one item that
                   is both); holds from the as-of day, as the recommendations are of that day

A window is ``{days: N}`` (the N days ending on the as-of day), ``{start: D, end: D}`` (fixed
China dates) or absent (all history up to the as-of day). Ranges take ``gt``/``gte`` and/or
``lt``/``lte``. The dbt macros ``macros/tags_*.sql`` compile the result into SQL.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, computed_field, field_validator, model_validator

from cdp import rules_base
from cdp.mart_rules import read_model
from cdp.rules_base import Strict, non_empty

FILE = "tags.yml"

NAME = r"^[a-z][a-z0-9_]*$"
Number = int | float
#: golden-record columns an attribute condition may test
ATTRIBUTE_COLUMNS = (
    "gender",
    "city",
    "tier",
    "first_seen_channel",
    "channels",
    "member_card_no",
    "best_phone",
    "birthday",
    "age",
)
EVENT_SOURCES = ("wechat", "web", "mall")
COUPON_EVENT_TYPES = ("issue", "claim", "redeem", "expire")


class Range(rules_base.Range):
    """Bounds on a count or amount: ``gt``/``gte`` below, ``lt``/``lte`` above (numbers)."""

    gt: Number | None = None
    gte: Number | None = None
    lt: Number | None = None
    lte: Number | None = None


class Window(Strict):
    """``days``: the N days ending on the as-of day; or fixed ``start``..``end`` China dates."""

    days: int | None = Field(default=None, ge=1)
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        fixed = self.start is not None or self.end is not None
        if (self.days is None) == (not fixed):
            raise ValueError("give either days or start and end")
        if fixed and (self.start is None or self.end is None):
            raise ValueError("a fixed window needs both start and end")
        if fixed and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class AttributeCondition(Strict):
    kind: Literal["attribute"]
    column: Literal[ATTRIBUTE_COLUMNS]
    in_: list[str] | None = Field(default=None, alias="in")
    present: bool | None = None
    value: Range | None = None

    _lists = field_validator("in_")(non_empty)

    @model_validator(mode="after")
    def _one_test(self) -> AttributeCondition:
        given = [
            k
            for k, v in (("in", self.in_), ("present", self.present), ("value", self.value))
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of in, present, value")
        if self.column == "age" and self.value is None:
            raise ValueError("column age takes value (a range such as {gte: 25, lte: 34})")
        if self.column != "age" and self.value is not None:
            raise ValueError(
                f"value (a range) is for column age only; test {self.column} with in or present"
            )
        if self.in_ is not None and self.column in ("birthday", "best_phone", "member_card_no"):
            raise ValueError(f"column {self.column} is personal or an id: test it with present")
        return self


class EventsCondition(Strict):
    kind: Literal["events"]
    source: list[Literal[EVENT_SOURCES]] | None = None
    event_type: list[str]
    page_url_prefix: str | None = Field(default=None, min_length=1)
    scene: list[str] | None = None
    campaign: list[str] | None = None
    window: Window | None = None
    count: Range

    _lists = field_validator("event_type", "scene", "campaign")(non_empty)


class CouponsCondition(Strict):
    kind: Literal["coupons"]
    event_type: list[Literal[COUPON_EVENT_TYPES]] = Field(min_length=1)
    campaign_id: list[str] | None = None
    window: Window | None = None
    count: Range

    _lists = field_validator("campaign_id")(non_empty)


class PurchasesCondition(Strict):
    kind: Literal["purchases"]
    #: orders: purchases (not cancelled, not fully refunded); net_spend: yuan paid net of
    #: refunds and returns; units: items bought
    measure: Literal["orders", "net_spend", "units"]
    channel: list[str] | None = None
    business_format: list[str] | None = None
    category: list[str] | None = None
    window: Window | None = None
    value: Range

    _lists = field_validator("channel", "business_format", "category")(non_empty)


class CouponCitiesCondition(Strict):
    """One person using the same coupon campaign in ``min_cities`` cities within a short time."""

    kind: Literal["coupon_cities"]
    event_type: list[Literal[COUPON_EVENT_TYPES]] = Field(default=["claim", "redeem"], min_length=1)
    within_hours: int = Field(ge=1, le=24 * 90)
    min_cities: int = Field(ge=2)
    window: Window | None = None


class RecommendedCondition(Strict):
    """People the recommender offers given items or categories (see the module docstring)."""

    kind: Literal["recommended"]
    sku: list[str] | None = None
    category: list[str] | None = None
    #: ranks past insight.recommendations.top_n do not exist: a larger ``top`` is all of them
    top: int = Field(default=10, ge=1)

    _lists = field_validator("sku", "category")(non_empty)

    @model_validator(mode="after")
    def _some_items(self) -> RecommendedCondition:
        if self.sku is None and self.category is None:
            raise ValueError("give sku and/or category: the items the tag is about")
        return self


Condition = Annotated[
    AttributeCondition
    | EventsCondition
    | CouponsCondition
    | PurchasesCondition
    | CouponCitiesCondition
    | RecommendedCondition,
    Field(discriminator="kind"),
]


class Rule(Strict):
    all: list[Condition] | None = Field(default=None, min_length=1)
    any: list[Condition] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_combinator(self) -> Rule:
        if (self.all is None) == (self.any is None):
            raise ValueError("give either all or any (a list of conditions)")
        return self

    @property
    def conditions(self) -> list[Any]:
        return self.all if self.all is not None else self.any


class TagDefinition(Strict):
    name: str = Field(pattern=NAME, max_length=63)
    category: str
    description: str = Field(min_length=10)
    owner: str = Field(min_length=1)
    version: int = Field(ge=1)
    rule: Rule

    @computed_field
    @property
    def kind(self) -> str:
        """attribute, metric, composite or flag: how the catalog groups the definition."""
        kinds = {c.kind for c in self.rule.conditions}
        if "coupon_cities" in kinds:
            return "flag"
        if kinds == {"attribute"}:
            return "attribute"
        if len(self.rule.conditions) == 1:
            return "metric"
        return "composite"


class TagsFile(Strict):
    #: category name -> what the tags in it describe
    categories: dict[str, str] = Field(min_length=1)
    tags: list[TagDefinition] = Field(min_length=1)

    @field_validator("categories")
    @classmethod
    def _category_names(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for name, text in value.items():
            if not re.match(NAME, name):
                raise ValueError(f"{name!r}: category names are lower_snake_case")
            if not text or not text.strip():
                raise ValueError(f"{name}: describe the category")
        return value

    @model_validator(mode="after")
    def _names_and_categories(self) -> TagsFile:
        seen: set[str] = set()
        for i, tag in enumerate(self.tags):
            if tag.name in seen:
                raise ValueError(f"tags.{i}.name: duplicate tag name {tag.name!r}")
            seen.add(tag.name)
            if tag.category not in self.categories:
                raise ValueError(
                    f"tags.{i}.category: {tag.category!r} (tag {tag.name}) is not "
                    f"one of the categories {sorted(self.categories)}"
                )
        return self


def load(path: Path) -> dict[str, Any]:
    """The validated definitions as ``var('tags')``: ``{categories: {...}, tags: [...]}``."""
    parsed = read_model(path, TagsFile)
    return parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
