"""Loyalty rules (``dbt_project/config/loyalty.yml``): points earning, expiry and tiers.

The file is validated here and handed to dbt as ``var('loyalty')``; the SQL of the loyalty
models reads every rule from it (``macros/loyalty_rules.sql`` turns the tiers and the expiry
rule into SQL expressions), so changing a rule means editing the file, not the models.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cdp.mart_rules import read_model
from cdp.rules_base import Strict

FILE = "loyalty.yml"

#: member-centre profile fields a "complete profile" rule may require
PROFILE_FIELDS = ("name", "gender", "birthday", "city", "email", "phone")
#: (event source, event type) pairs that exist in silver.events
EVENT_SOURCES = ("web", "mall", "wechat")
_NAME = r"^[a-z][a-z0-9_]*$"


class Purchase(Strict):
    #: points per yuan paid, before the tier multiplier (1 RMB = 1 point)
    points_per_yuan: int = Field(ge=0)


class Register(Strict):
    points: int = Field(ge=0)


class CompleteProfile(Strict):
    points: int = Field(ge=0)
    #: profile fields that must all be filled in on the member-centre record
    fields: list[Literal[PROFILE_FIELDS]] = Field(min_length=1)  # type: ignore[valid-type]


class EventMatch(Strict):
    source: Literal[EVENT_SOURCES]  # type: ignore[valid-type]
    event_type: str = Field(pattern=_NAME)


class EventInteraction(Strict):
    """Points for behavioural events (sign-in, invitations...), capped per day."""

    name: str = Field(pattern=_NAME)
    points: int = Field(ge=0)
    #: at most this many rewarded events per member and China day; null = no cap
    max_per_day: int | None = Field(default=None, ge=1)
    #: the silver events that count; empty = no source in the data yet (rule kept, earns 0)
    events: list[EventMatch] = Field(default_factory=list)


class Earn(Strict):
    purchase: Purchase
    # named `register` in the file (a BaseModel attribute name, hence the alias)
    registration: Register = Field(alias="register")
    complete_profile: CompleteProfile
    events: list[EventInteraction] = Field(default_factory=list)

    @field_validator("events")
    @classmethod
    def _unique_names(cls, value: list[EventInteraction]) -> list[EventInteraction]:
        names = [rule.name for rule in value]
        reserved = {"purchase", "register", "complete_profile"} & set(names)
        if reserved:
            raise ValueError(f"names {sorted(reserved)} are reserved for the built-in rules")
        if len(set(names)) != len(names):
            raise ValueError(f"names must be unique, got {names}")
        return value


class FixedDate(Strict):
    """Points expire at the end of month/day of the year ``years_after_earning`` later."""

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    years_after_earning: int = Field(ge=0)

    @model_validator(mode="after")
    def _real_day(self) -> FixedDate:
        # Feb 29 is refused: it does not exist every year
        days_in_month = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[self.month - 1]
        if self.day > days_in_month:
            raise ValueError(f"day {self.day} does not exist in month {self.month} every year")
        return self


class Expiry(Strict):
    #: fixed_date: a yearly clearing day; relative: a term counted from the day of earning
    mode: Literal["fixed_date", "relative"]
    fixed_date: FixedDate
    #: relative term: earned points can be used for this many months (through the day before)
    relative_months: int = Field(ge=1)


class TierLevel(Strict):
    name: str = Field(pattern=_NAME)
    #: qualifying value (rolling spend in yuan, or growth value) that lifts a member here
    upgrade_at: float = Field(ge=0)
    #: qualifying value needed at the review to keep this tier
    retain_at: float = Field(ge=0)
    #: purchase points multiplier of this tier
    multiplier: float = Field(gt=0, le=100)

    @field_validator("multiplier")
    @classmethod
    def _thousandths(cls, value: float) -> float:
        if abs(value * 1000 - round(value * 1000)) > 1e-9:
            raise ValueError("at most 3 decimal places")
        return value

    @model_validator(mode="after")
    def _retain_not_above_upgrade(self) -> TierLevel:
        if self.retain_at > self.upgrade_at:
            raise ValueError("retain_at must not be above upgrade_at")
        return self


class Tiers(Strict):
    #: rolling_spend: net spend in yuan over the window; growth_value: that spend in whole yuan
    #: plus the interaction points earned in the window
    basis: Literal["rolling_spend", "growth_value"]
    window_days: int = Field(ge=1, le=3660)
    #: a tier reached or retained is reviewed this many months later
    validity_months: int = Field(ge=1, le=120)
    #: at a failed review: one_level down, or to the highest lower tier whose retain_at is met
    downgrade: Literal["one_level", "to_qualified"]
    #: lowest first; the first is the base tier every member starts in
    levels: list[TierLevel] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _ordered_levels(cls, value: list[TierLevel]) -> list[TierLevel]:
        names = [level.name for level in value]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        if value[0].upgrade_at != 0 or value[0].retain_at != 0:
            raise ValueError(
                f"the base tier {value[0].name!r} must have upgrade_at and retain_at 0"
            )
        for lower, higher in pairwise(value):
            if higher.upgrade_at <= lower.upgrade_at:
                raise ValueError(
                    f"upgrade_at must increase from tier to tier ({lower.name} -> {higher.name})"
                )
            if higher.retain_at < lower.retain_at:
                raise ValueError(
                    f"retain_at must not decrease from tier to tier ({lower.name} -> {higher.name})"
                )
        return value


class LoyaltyRules(Strict):
    earn: Earn
    expiry: Expiry
    tiers: Tiers


def load(path: Path) -> dict[str, Any]:
    """The validated rules of ``path`` as plain data for ``var('loyalty')``."""
    rules = read_model(path, LoyaltyRules)
    data = rules.model_dump(mode="json", by_alias=True)
    # Multipliers as integer thousandths: the SQL computes points in exact integer arithmetic.
    for level in data["tiers"]["levels"]:
        level["multiplier_milli"] = round(level["multiplier"] * 1000)
    return data
