"""Segment definitions: the YAML format of ``segments/<name>.yml``.

A file defines one segment (who: a rule over the marts, include and exclude lists) and its
campaign (how it is activated: control group, channels, send time). It is validated here with
pydantic; errors name the file and the key (``ConfigError``). ``cdp.activation.compiler``
makes a definition SQL; the format is described in ``segments/README.md``.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from cdp.activation.channels import Channel
from cdp.config import ConfigError
from cdp.mart_rules import read_model
from cdp.mart_rules.tags import Window
from cdp.rules_base import Bounds, Range, Strict, all_finite, non_empty

NAME = r"^[a-z][a-z0-9_]*$"
#: mart columns a campaign may stratify its control group by: (mart, column)
STRATA = {
    "rfm_segment": ("customer_rfm", "segment"),
    "lifecycle_stage": ("customer_lifecycle", "lifecycle_stage"),
    "tier": ("member_tiers", "tier"),
}
#: one-row-per-person marts a ``field`` condition may test
PERSON_MARTS = (
    "customer_360",
    "customer_metrics",
    "customer_rfm",
    "customer_lifecycle",
    "member_tiers",
    "points_balances",
)


# -- conditions ---------------------------------------------------------------------------------
Value = str | int | float | bool | date


class Predicate(Bounds):
    """A test of one value: ``in`` / ``not_in`` a list, ``present``, or a range."""

    in_: list[Value] | None = Field(default=None, alias="in")
    not_in: list[Value] | None = None
    present: bool | None = None

    _lists = field_validator("in_", "not_in")(non_empty)
    _finite_values = field_validator("in_", "not_in")(all_finite)

    @model_validator(mode="after")
    def _one_test(self) -> Predicate:
        kinds = [
            k
            for k, given in (
                ("in", self.in_ is not None),
                ("not_in", self.not_in is not None),
                ("present", self.present is not None),
                ("range", self.has_range),
            )
            if given
        ]
        if len(kinds) != 1:
            raise ValueError(
                "give exactly one test: in, not_in, present, or a range (gt / gte and/or lt / lte)"
            )
        return self


class Count(Range):
    """Bounds on a number of events: ``gt``/``gte`` and/or ``lt``/``lte``."""

    gt: int | None = Field(default=None, ge=0)
    gte: int | None = Field(default=None, ge=0)
    lt: int | None = Field(default=None, ge=0)
    lte: int | None = Field(default=None, ge=0)


class TagCondition(Strict):
    """Holds the tags of ``customer_tags``: any of them (default) or all of them."""

    kind: Literal["tag"]
    tags: list[str] = Field(min_length=1)
    match: Literal["any", "all"] = "any"

    _lists = field_validator("tags")(non_empty)


class MetricCondition(Predicate):
    """A column of ``customer_metrics`` (buyers only; other people match no test but
    ``present: false``)."""

    kind: Literal["metric"]
    field: str = Field(min_length=1)


class FieldCondition(Predicate):
    """A column of any one-row-per-person mart."""

    kind: Literal["field"]
    mart: Literal[PERSON_MARTS]
    field: str = Field(min_length=1)


class RfmSegmentCondition(Predicate):
    """``customer_rfm.segment`` (Champions, At Risk, ...)."""

    kind: Literal["rfm_segment"]


class LifecycleStageCondition(Predicate):
    """``customer_lifecycle.lifecycle_stage`` (active, dormant, ...)."""

    kind: Literal["lifecycle_stage"]


class TierCondition(Predicate):
    """``member_tiers.tier`` (silver, gold, platinum)."""

    kind: Literal["tier"]


class EventsCondition(Strict):
    """Records of ``customer_timeline`` counted in a window (default: at least one)."""

    kind: Literal["events"]
    record_type: list[str] | None = None
    channel: list[str] | None = None
    event_type: list[str] | None = None
    window: Window | None = None
    count: Count = Count(gte=1)

    _lists = field_validator("record_type", "channel", "event_type")(non_empty)


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1)


class NotCondition(Strict):
    not_: Condition = Field(alias="not")


def _condition_tag(value: Any) -> str | None:
    """Which model a condition is: its ``kind``, or the combinator key it holds."""
    if isinstance(value, BaseModel):
        return getattr(value, "kind", None) or next(
            k for k in ("all", "any", "not") if hasattr(value, k if k != "not" else "not_")
        )
    if isinstance(value, dict):
        if "kind" in value:
            return value["kind"]
        keys = [k for k in ("all", "any", "not") if k in value]
        return keys[0] if len(keys) == 1 else None
    return None


Condition = Annotated[
    Annotated[TagCondition, Tag("tag")]
    | Annotated[MetricCondition, Tag("metric")]
    | Annotated[FieldCondition, Tag("field")]
    | Annotated[RfmSegmentCondition, Tag("rfm_segment")]
    | Annotated[LifecycleStageCondition, Tag("lifecycle_stage")]
    | Annotated[TierCondition, Tag("tier")]
    | Annotated[EventsCondition, Tag("events")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotCondition, Tag("not")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with kind: tag | metric | "
        "field | rfm_segment | lifecycle_stage | tier | events, or one of all: [...], "
        "any: [...], not: {...}",
    ),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotCondition.model_rebuild()


# -- lists, campaign, segment -------------------------------------------------------------------
class IdentifierEntry(Strict):
    type: Literal[
        "phone",
        "member_card",
        "openid",
        "unionid",
        "email",
        "tmall_ouid",
        "jd_pin",
        "douyin_open_id",
    ]
    value: str = Field(min_length=1)


class PeopleList(Strict):
    """People named explicitly: OneIDs, identifiers (resolved through OneID) and/or a CSV file
    (relative to the segment file) with a header ``one_id`` or ``identifier_type,
    identifier_value``."""

    one_ids: list[str] = Field(default_factory=list)
    identifiers: list[IdentifierEntry] = Field(default_factory=list)
    file: str | None = None


class Campaign(Strict):
    """How the segment is activated: control group, channels, send time."""

    #: per-campaign salt of the treatment / control split (default: the segment's name)
    salt: str | None = Field(default=None, min_length=1)
    #: share of the segment held out as the control group
    control_ratio: float = Field(default=0.1, ge=0, lt=1)
    #: exact proportions within each value of this column (else a per-person hash threshold)
    stratify_by: Literal[tuple(STRATA)] | None = None
    #: channels to export, any order (the priority comes from the activation rules)
    channels: list[Channel] = Field(min_length=1)
    #: only this official account for WeChat messages (default: any the person follows)
    official_account: str | None = None
    #: China time of the send on the day after the as-of day (default: the activation rules')
    send_time: time | None = None
    #: exported by the daily schedule (``export_scheduled``)
    schedule: Literal["daily", "manual"] = "manual"

    @field_validator("channels")
    @classmethod
    def _distinct(cls, channels: list[str]) -> list[str]:
        if len(set(channels)) != len(channels):
            raise ValueError("a channel is listed twice")
        return channels


class SegmentDefinition(Strict):
    """One segment file: who (``rules``, ``include``, ``exclude``) and how (``campaign``)."""

    name: str = Field(pattern=NAME, max_length=63)
    owner: str = Field(min_length=1)
    description: str = Field(min_length=10)
    rules: Condition
    include: PeopleList = PeopleList()
    exclude: PeopleList = PeopleList()
    campaign: Campaign | None = None


CONDITION_TAGS = frozenset(
    {
        "tag",
        "metric",
        "field",
        "rfm_segment",
        "lifecycle_stage",
        "tier",
        "events",
        "all",
        "any",
        "not",
    }
)


def key_path(loc: tuple) -> str:
    """A pydantic error location as the YAML key path, e.g. ``rules.all[0].field``: the
    union tags pydantic inserts after each condition (its kind) are left out."""
    parts: list[str] = []
    expect_tag = False
    for part in loc:
        if expect_tag and part in CONDITION_TAGS:
            expect_tag = False
            continue
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
        expect_tag = isinstance(part, int) or part in ("rules", "not")
    return ".".join(parts)


def load_named(path: Path, model, locate):
    """A definition whose ``name`` is its file's stem (segments, journeys); ConfigError naming
    the file and key (``locate`` spells a pydantic error location) when it is invalid."""
    definition = read_model(path, model, locate)
    if definition.name != Path(path).stem:
        raise ConfigError(
            f"{path}: name: {definition.name!r} must match the file name ({Path(path).stem!r})"
        )
    return definition


def named_paths(folder: Path, kind: str) -> dict[str, Path]:
    """``{name: path}`` of every ``kind`` file of a folder (``_*.yml`` files are not ones)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no {kind}s folder")
    return {p.stem: p for p in sorted(folder.glob("*.yml")) if not p.name.startswith("_")}


def known_path(name: str, folder: Path, kind: str) -> Path:
    """The file of the ``kind`` named ``name``; LookupError listing the defined ones."""
    paths = named_paths(folder, kind)
    if name not in paths:
        raise LookupError(f"no {kind} {name!r} in {folder}; defined: {', '.join(paths) or 'none'}")
    return paths[name]


def load_segment(path: Path) -> SegmentDefinition:
    """A segment definition; ConfigError naming the file and key when it is invalid."""
    return load_named(path, SegmentDefinition, key_path)


def segment_paths(segments_dir: Path) -> dict[str, Path]:
    """``{name: path}`` of every segment file."""
    return named_paths(segments_dir, "segment")


def find_segment(name: str, segments_dir: Path) -> tuple[SegmentDefinition, Path]:
    """The definition named ``name`` and its file; LookupError listing the defined ones."""
    path = known_path(name, segments_dir, "segment")
    return load_segment(path), path
