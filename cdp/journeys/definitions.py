"""Journey definitions: the YAML format of ``journeys/<name>.yml``.

A journey has an entry (an event with conditions, a segment, a schedule or a date attribute),
numbered steps (wait, branch, send, group, exit), a re-entry policy, exit conditions
(``converted``), a control group and an end date. It is validated with pydantic like the
segments; errors name the file and the key (``ConfigError``), and a step that names a step
that does not exist is one too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Discriminator, Field, field_validator, model_validator

from cdp.activation.channels import Channel
from cdp.activation.definitions import (
    NAME,
    Condition,
    key_path,
    known_path,
    load_named,
    named_paths,
)
from cdp.rules_base import Strict, non_empty

STEP_ID = r"^[a-z][a-z0-9_]*$"
#: the records of the marts a journey's event filters match (see ``runs.activity_sql``)
RECORD_TYPES = ("event", "coupon", "order")


class EventFilter(Strict):
    """Records of one kind, narrowed by their type, channel, scene, campaign or amount."""

    record_type: Literal[RECORD_TYPES]
    event_type: list[str] | None = None
    #: the event's source (web, mall, wechat) or the order's channel (pos, tmall, ...)
    channel: list[str] | None = None
    #: QR scene strings (events) that match when they start with one of these
    scene_prefix: list[str] | None = None
    #: the event's campaign, or the coupon's campaign id
    campaign: list[str] | None = None
    min_amount_fen: int | None = Field(default=None, ge=0)
    max_amount_fen: int | None = Field(default=None, ge=0)

    _lists = field_validator("event_type", "channel", "scene_prefix", "campaign")(non_empty)


# -- entry -------------------------------------------------------------------------------------
class EventEntry(Strict):
    """Enter at the time of each matching event (of people who also meet ``rules``)."""

    kind: Literal["event"]
    event: EventFilter
    rules: Condition | None = None


class SegmentEntry(Strict):
    """Enter the people a marts condition selects, on every run (or on ``dates`` only)."""

    kind: Literal["segment"]
    rules: Condition
    #: only on these run days (a schedule: one wave per date); every run when omitted
    dates: list[date] | None = None

    _lists = field_validator("dates")(non_empty)


class DateAttributeEntry(Strict):
    """Enter ``days_before`` a date column of a one-row-per-person mart (every year when
    ``yearly``: birthdays), e.g. ``customer_360.birthday`` or a points expiry date."""

    kind: Literal["date_attribute"]
    mart: Literal["customer_360", "points_balances", "member_tiers"]
    column: str = Field(min_length=1)
    days_before: int = Field(default=0, ge=0, le=366)
    yearly: bool = False


Entry = Annotated[EventEntry | SegmentEntry | DateAttributeEntry, Discriminator("kind")]


class ReEntry(Strict):
    """``once`` ever; ``once_per_period`` (not within ``period_days`` of the last entry);
    ``every_time`` the entry matches again after the person left the journey."""

    policy: Literal["once", "once_per_period", "every_time"] = "once"
    period_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _period(self) -> ReEntry:
        if (self.policy == "once_per_period") != (self.period_days is not None):
            raise ValueError("period_days is given with policy once_per_period, and only then")
        return self


# -- steps -------------------------------------------------------------------------------------
class EventSinceEntry(Strict):
    kind: Literal["event_since_entry"]
    event: EventFilter


class InGroup(Strict):
    kind: Literal["in_group"]
    group: str = Field(pattern=NAME)


class MartsCondition(Strict):
    """A condition over the marts (any segment rule: tags, metrics, RFM, events ...)."""

    kind: Literal["marts"]
    rules: Condition


BranchCondition = Annotated[EventSinceEntry | InGroup | MartsCondition, Discriminator("kind")]


class _Step(Strict):
    id: str = Field(pattern=STEP_ID, max_length=40)
    #: the step after this one (default: the next in the list; after the last: exit completed)
    next: str | None = None


class WaitStep(_Step):
    """Wait a duration after arriving, until a date, or until ``days_before_end`` of the
    journey's end date."""

    kind: Literal["wait"]
    days: int | None = Field(default=None, ge=0)
    hours: int | None = Field(default=None, ge=0)
    until: date | None = None
    days_before_end: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> WaitStep:
        given = [
            k
            for k in ("duration", "until", "days_before_end")
            if (
                (self.days is not None or self.hours is not None)
                if k == "duration"
                else getattr(self, k) is not None
            )
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of: days / hours, until, days_before_end")
        return self

    @property
    def seconds(self) -> int | None:
        """The wait as a duration, when it is one."""
        if self.days is None and self.hours is None:
            return None
        return (self.days or 0) * 86_400 + (self.hours or 0) * 3_600


class BranchStep(Strict):
    kind: Literal["branch"]
    id: str = Field(pattern=STEP_ID, max_length=40)
    condition: BranchCondition = Field(alias="if")
    then: str
    else_: str = Field(alias="else")


class SendStep(_Step):
    """A message through the first channel (in the activation rules' priority) that can reach
    the person, with its content and coupons; ``holdout`` of the treatment group skip it."""

    kind: Literal["send"]
    channels: list[Channel] = Field(min_length=1)
    content: str = Field(min_length=1)
    coupons: list[str] = Field(default_factory=list)
    holdout: float = Field(default=0.0, ge=0, lt=1)

    @field_validator("channels")
    @classmethod
    def _distinct(cls, channels: list[str]) -> list[str]:
        if len(set(channels)) != len(channels):
            raise ValueError("a channel is listed twice")
        return channels


class GroupStep(_Step):
    """Add the person to, or remove them from, a named group of the journey."""

    kind: Literal["group"]
    add: str | None = Field(default=None, pattern=NAME)
    remove: str | None = Field(default=None, pattern=NAME)

    @model_validator(mode="after")
    def _one(self) -> GroupStep:
        if (self.add is None) == (self.remove is None):
            raise ValueError("give exactly one of: add, remove")
        return self


class ExitStep(Strict):
    kind: Literal["exit"]
    id: str = Field(pattern=STEP_ID, max_length=40)
    reason: str = Field(default="completed", pattern=NAME)


Step = Annotated[WaitStep | BranchStep | SendStep | GroupStep | ExitStep, Discriminator("kind")]


class Control(Strict):
    """The journey's global control group: people who go through it without messages."""

    ratio: float = Field(default=0.1, ge=0, lt=1)
    #: salt of the split (default: the journey's name)
    salt: str | None = Field(default=None, min_length=1)


class JourneyDefinition(Strict):
    """One journey file."""

    name: str = Field(pattern=NAME, max_length=63)
    owner: str = Field(min_length=1)
    description: str = Field(min_length=10)
    starts_on: date | None = None
    ends_on: date | None = None
    entry: Entry
    re_entry: ReEntry = ReEntry()
    #: leaving the journey as converted as soon as one of these happens after entering
    converted: list[EventFilter] = Field(default_factory=list)
    control: Control = Control()
    steps: list[Step] = Field(min_length=1)
    #: China time of the sends on the day after the run's day (default: the activation rules')
    send_time: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

    @model_validator(mode="after")
    def _references(self) -> JourneyDefinition:
        ids = [step.id for step in self.steps]
        seen: set[str] = set()
        for i, step_id in enumerate(ids):
            if step_id in seen:
                raise ValueError(f"steps[{i}].id: {step_id!r} is used by an earlier step")
            seen.add(step_id)
        for i, step in enumerate(self.steps):
            for key in ("next", "then", "else_"):
                target = getattr(step, key, None)
                if target is not None and target not in seen:
                    raise ValueError(
                        f"steps[{i}].{key.rstrip('_')}: no step {target!r}; steps: {', '.join(ids)}"
                    )
            if isinstance(step, WaitStep) and step.days_before_end is not None and not self.ends_on:
                raise ValueError(f"steps[{i}].days_before_end: the journey has no ends_on")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on: before starts_on")
        return self

    def step(self, step_id: str) -> Step:
        """The step with this id."""
        return next(s for s in self.steps if s.id == step_id)

    def next_of(self, step_id: str) -> str | None:
        """The step after ``step_id`` when it moves on (None: the journey is completed)."""
        index = [s.id for s in self.steps].index(step_id)
        step = self.steps[index]
        explicit = getattr(step, "next", None)
        if explicit:
            return explicit
        return self.steps[index + 1].id if index + 1 < len(self.steps) else None


#: the tags pydantic puts in an error's location after a union member: not YAML keys
_UNION_TAGS = {
    "entry": {"event", "segment", "date_attribute"},
    "steps": {"wait", "branch", "send", "group", "exit"},
    "if": {"event_since_entry", "in_group", "marts"},
}


def journey_key_path(loc: tuple) -> str:
    """A pydantic error location as the YAML key path, e.g. ``steps[2].days``."""
    kept: list = []
    for part in loc:
        parent = kept[-2] if kept and isinstance(kept[-1], int) and len(kept) > 1 else None
        owner = parent if parent == "steps" else (kept[-1] if kept else None)
        if isinstance(owner, str) and part in _UNION_TAGS.get(owner, ()):
            continue
        kept.append(part)
    text = key_path(tuple(kept))
    return text.replace("else_", "else")


def load_journey(path: Path) -> JourneyDefinition:
    """A journey definition; ConfigError naming the file and key when it is invalid."""
    return load_named(path, JourneyDefinition, journey_key_path)


def journey_paths(journeys_dir: Path) -> dict[str, Path]:
    """``{name: path}`` of every journey file of a folder."""
    return named_paths(journeys_dir, "journey")


def find_journey(name: str, journeys_dir: Path) -> tuple[JourneyDefinition, Path]:
    """The journey named ``name`` and its file; LookupError listing the defined ones."""
    path = known_path(name, journeys_dir, "journey")
    return load_journey(path), path
