"""The YAML formats of activation: segment definitions and the activation rules.

``segments/<name>.yml`` defines one segment (who) and its campaign (how it is activated);
``segments/_activation.yml`` holds the rules every campaign shares: consent per channel,
frequency caps, channel priority and mutually exclusive channel groups, WeChat routing.
Both are validated here with pydantic; errors name the file and the key (``ConfigError``).
The formats are described in ``segments/README.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from cdp.config import ConfigError
from cdp.mart_rules import read_model
from cdp.mart_rules.tags import Window

SEGMENTS_DIR = Path(__file__).resolve().parents[2] / "segments"
ACTIVATION_FILE = "_activation.yml"
NAME = r"^[a-z][a-z0-9_]*$"

#: every channel a campaign can use, and the identifier each one sends to
IDENTIFIER_OF_CHANNEL = {
    "wechat_cs": "openid",        # customer-service message: followers who interacted lately
    "wechat_template": "openid",  # template / subscribe message of an official account
    "sms": "phone",
    "pos": "member_card",         # flag shown to the cashier at the till
    "tencent": "phone",           # DMP: Tencent Ads HASH_MOBILE_PHONE
    "oceanengine": "phone",       # DMP: Ocean Engine MOBILE_HASH_SHA256
    "google": "phone",            # DMP: Google Customer Match (SHA-256, E.164)
    "meta": "phone",              # DMP: Meta custom audience (SHA-256)
}
CHANNELS = tuple(IDENTIFIER_OF_CHANNEL)
DMP_CHANNELS = ("tencent", "oceanengine", "google", "meta")
Channel = Literal[CHANNELS]
#: the ``channel`` values of silver.consent besides ``all`` (which covers every channel)
CONSENT_TOPICS = ("sms", "wechat_template", "wechat_broadcast", "email")
#: mart columns a campaign may stratify its control group by: (mart, column)
STRATA = {"rfm_segment": ("customer_rfm", "segment"),
          "lifecycle_stage": ("customer_lifecycle", "lifecycle_stage"),
          "tier": ("member_tiers", "tier")}
#: one-row-per-person marts a ``field`` condition may test
PERSON_MARTS = ("customer_360", "customer_metrics", "customer_rfm", "customer_lifecycle",
                "member_tiers", "points_balances")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              str_strip_whitespace=True)


def _non_empty(values: list | None) -> list | None:
    if values is not None and (not values or any(isinstance(v, str) and not v.strip()
                                                 for v in values)):
        raise ValueError("must be a non-empty list of non-empty values")
    return values


def _finite(value: Any) -> Any:
    """YAML spells infinity and not-a-number ``.inf`` / ``.nan``: no mart value compares with
    them meaningfully, and SQL has no literal for them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    return value


def _all_finite(values: list | None) -> list | None:
    for value in values or []:
        _finite(value)
    return values


# -- conditions ---------------------------------------------------------------------------------
Value = str | int | float | bool | date


class Predicate(_Strict):
    """A test of one value: ``in`` / ``not_in`` a list, ``present``, or a range."""

    in_: list[Value] | None = Field(default=None, alias="in")
    not_in: list[Value] | None = None
    present: bool | None = None
    gt: int | float | date | None = None
    gte: int | float | date | None = None
    lt: int | float | date | None = None
    lte: int | float | date | None = None

    _lists = field_validator("in_", "not_in")(_non_empty)
    _finite_values = field_validator("in_", "not_in")(_all_finite)
    _finite_bounds = field_validator("gt", "gte", "lt", "lte")(_finite)

    @model_validator(mode="after")
    def _one_test(self) -> Predicate:
        kinds = [k for k, given in (("in", self.in_ is not None),
                                    ("not_in", self.not_in is not None),
                                    ("present", self.present is not None),
                                    ("range", self.has_range)) if given]
        if len(kinds) != 1:
            raise ValueError("give exactly one test: in, not_in, present, or a range "
                             "(gt / gte and/or lt / lte)")
        if self.gt is not None and self.gte is not None:
            raise ValueError("give gt or gte, not both")
        if self.lt is not None and self.lte is not None:
            raise ValueError("give lt or lte, not both")
        low = self.gt if self.gt is not None else self.gte
        high = self.lt if self.lt is not None else self.lte
        if low is not None and high is not None:
            if type(low) is not type(high) and date in (type(low), type(high)):
                raise ValueError("a range compares dates with dates or numbers with numbers")
            if low > high:
                raise ValueError(f"empty range: lower bound {low} is above upper bound {high}")
        return self

    @property
    def has_range(self) -> bool:
        return any(v is not None for v in (self.gt, self.gte, self.lt, self.lte))


class Count(_Strict):
    """Bounds on a number of events: ``gt``/``gte`` and/or ``lt``/``lte``."""

    gt: int | None = Field(default=None, ge=0)
    gte: int | None = Field(default=None, ge=0)
    lt: int | None = Field(default=None, ge=0)
    lte: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> Count:
        if all(v is None for v in (self.gt, self.gte, self.lt, self.lte)):
            raise ValueError("give at least one of gt, gte, lt, lte")
        if (self.gt is not None and self.gte is not None) or (
                self.lt is not None and self.lte is not None):
            raise ValueError("give gt or gte, lt or lte, not both")
        return self




class TagCondition(_Strict):
    """Holds the tags of ``customer_tags``: any of them (default) or all of them."""

    kind: Literal["tag"]
    tags: list[str] = Field(min_length=1)
    match: Literal["any", "all"] = "any"

    _lists = field_validator("tags")(_non_empty)


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


class EventsCondition(_Strict):
    """Records of ``customer_timeline`` counted in a window (default: at least one)."""

    kind: Literal["events"]
    record_type: list[str] | None = None
    channel: list[str] | None = None
    event_type: list[str] | None = None
    window: Window | None = None
    count: Count = Count(gte=1)

    _lists = field_validator("record_type", "channel", "event_type")(_non_empty)


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1)


class NotCondition(_Strict):
    not_: Condition = Field(alias="not")


def _condition_tag(value: Any) -> str | None:
    """Which model a condition is: its ``kind``, or the combinator key it holds."""
    if isinstance(value, BaseModel):
        return getattr(value, "kind", None) or next(
            k for k in ("all", "any", "not") if hasattr(value, k if k != "not" else "not_"))
    if isinstance(value, dict):
        if "kind" in value:
            return value["kind"]
        keys = [k for k in ("all", "any", "not") if k in value]
        return keys[0] if len(keys) == 1 else None
    return None


Condition = Annotated[
    Annotated[TagCondition, Tag("tag")] | Annotated[MetricCondition, Tag("metric")]
    | Annotated[FieldCondition, Tag("field")]
    | Annotated[RfmSegmentCondition, Tag("rfm_segment")]
    | Annotated[LifecycleStageCondition, Tag("lifecycle_stage")]
    | Annotated[TierCondition, Tag("tier")] | Annotated[EventsCondition, Tag("events")]
    | Annotated[AllOf, Tag("all")] | Annotated[AnyOf, Tag("any")]
    | Annotated[NotCondition, Tag("not")],
    Discriminator(_condition_tag, custom_error_type="condition",
                  custom_error_message="a condition is a mapping with kind: tag | metric | "
                  "field | rfm_segment | lifecycle_stage | tier | events, or one of all: [...], "
                  "any: [...], not: {...}"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotCondition.model_rebuild()


# -- lists, campaign, segment -------------------------------------------------------------------
class IdentifierEntry(_Strict):
    type: Literal["phone", "member_card", "openid", "unionid", "email", "tmall_ouid", "jd_pin",
                  "douyin_open_id"]
    value: str = Field(min_length=1)


class PeopleList(_Strict):
    """People named explicitly: OneIDs, identifiers (resolved through OneID) and/or a CSV file
    (relative to the segment file) with a header ``one_id`` or ``identifier_type,
    identifier_value``."""

    one_ids: list[str] = []
    identifiers: list[IdentifierEntry] = []
    file: str | None = None


class Campaign(_Strict):
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


class SegmentDefinition(_Strict):
    name: str = Field(pattern=NAME, max_length=63)
    owner: str = Field(min_length=1)
    description: str = Field(min_length=10)
    rules: Condition
    include: PeopleList = PeopleList()
    exclude: PeopleList = PeopleList()
    campaign: Campaign | None = None


CONDITION_TAGS = frozenset({"tag", "metric", "field", "rfm_segment", "lifecycle_stage", "tier",
                            "events", "all", "any", "not"})


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


def load_segment(path: Path) -> SegmentDefinition:
    """A segment definition; ConfigError naming the file and key when it is invalid."""
    definition = read_model(path, SegmentDefinition, key_path)
    if definition.name != Path(path).stem:
        raise ConfigError(f"{path}: name: {definition.name!r} must match the file name "
                          f"({Path(path).stem!r})")
    return definition


def segment_paths(segments_dir: Path = SEGMENTS_DIR) -> dict[str, Path]:
    """``{name: path}`` of every segment file (``_*.yml`` files are not segments)."""
    folder = Path(segments_dir)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no segments folder")
    return {p.stem: p for p in sorted(folder.glob("*.yml")) if not p.name.startswith("_")}


def find_segment(name: str, segments_dir: Path = SEGMENTS_DIR) -> tuple[SegmentDefinition, Path]:
    paths = segment_paths(segments_dir)
    if name not in paths:
        raise LookupError(f"no segment {name!r} in {segments_dir}; defined: "
                          f"{', '.join(paths) or 'none'}")
    return load_segment(paths[name]), paths[name]


# -- activation rules ---------------------------------------------------------------------------
class ChannelRule(_Strict):
    """Consent a channel needs. ``opt_in``: the identifier sent to must have opted in (latest
    record); ``not_opted_out``: no identifier of the person may have opted out; ``none``."""

    consent: Literal["opt_in", "not_opted_out", "none"]
    #: silver.consent channels that govern this channel (``all`` always does)
    consent_topics: list[Literal[CONSENT_TOPICS]] = []


class FrequencyCap(_Strict):
    """At most ``max_touches`` touches of ``channels`` per person in ``window_days`` days."""

    name: str = Field(pattern=NAME)
    channels: list[Channel] = Field(min_length=1)
    max_touches: int = Field(ge=1)
    window_days: int = Field(ge=1, le=366)


class ActivationRules(_Strict):
    #: China time the campaigns go out, on the day after the as-of day
    send_time: time = time(10, 0)
    #: a follower who interacted this recently can get a customer-service message
    customer_service_window_hours: int = Field(default=48, ge=1, le=48)
    #: silver.events types (source wechat) that open the customer-service window
    interaction_events: list[str] = Field(min_length=1)
    #: app ids in priority order when a person follows several official accounts
    official_accounts: list[str] = []
    #: every channel, highest priority first
    channel_priority: list[Channel]
    #: channels of which a person gets at most one per campaign (the first that reaches them)
    exclusive_groups: list[list[Channel]] = []
    channels: dict[Channel, ChannelRule]
    frequency_caps: list[FrequencyCap] = []
    #: a WeChat template_delivered event this soon after our own template touch of the same
    #: person is that touch's delivery, not another message
    delivery_match_hours: int = Field(default=24, ge=0)

    @model_validator(mode="after")
    def _complete(self) -> ActivationRules:
        if sorted(self.channel_priority) != sorted(CHANNELS):
            raise ValueError(f"channel_priority must list every channel once: {list(CHANNELS)}")
        missing = [c for c in CHANNELS if c not in self.channels]
        if missing:
            raise ValueError(f"channels: missing rules for {missing}")
        grouped = [c for group in self.exclusive_groups for c in group]
        if len(grouped) != len(set(grouped)):
            raise ValueError("exclusive_groups: a channel is in two groups")
        names = [cap.name for cap in self.frequency_caps]
        if len(names) != len(set(names)):
            raise ValueError("frequency_caps: two caps have the same name")
        return self

    def groups_of(self, channels: list[str]) -> list[list[str]]:
        """The campaign's channels as exclusive groups (a channel in no group is its own),
        each in priority order, groups ordered by their first channel."""
        chosen = [c for c in self.channel_priority if c in channels]
        groups: list[list[str]] = []
        for channel in chosen:
            group = next((g for g in self.exclusive_groups if channel in g), [channel])
            members = [c for c in chosen if c in group]
            if members not in groups:
                groups.append(members)
        return groups


def load_activation_rules(segments_dir: Path = SEGMENTS_DIR) -> ActivationRules:
    return read_model(Path(segments_dir) / ACTIVATION_FILE, ActivationRules)


def definition_hash(definition: SegmentDefinition, rules: ActivationRules,
                    list_files: dict[str, bytes] | None = None) -> str:
    """SHA-256 of everything that decides an export: the definition, the activation rules and
    the bytes of the list files it names."""
    payload = {"segment": definition.model_dump(mode="json", by_alias=True),
               "activation": rules.model_dump(mode="json"),
               "files": {k: hashlib.sha256(v).hexdigest()
                         for k, v in sorted((list_files or {}).items())}}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_id_of(as_of: date, digest: str) -> str:
    """The run id of an export: the as-of day and the definition hash, e.g.
    ``20260930-3fa2b1c4d5e6``. Same segment, rules and day: same run, same folder."""
    return f"{as_of:%Y%m%d}-{digest[:12]}"
