"""The activation rules: ``segments/_activation.yml``, shared by every campaign.

Consent per channel, frequency caps, channel priority and mutually exclusive channel groups,
WeChat routing and the send time. Validated with pydantic; errors name the file and the key
(``ConfigError``). The format is described in ``segments/README.md``.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from cdp.activation.channels import CHANNELS, CONSENT_TOPICS, Channel
from cdp.activation.definitions import NAME
from cdp.mart_rules import read_model
from cdp.rules_base import Strict

ACTIVATION_FILE = "_activation.yml"


class ChannelRule(Strict):
    """Consent a channel needs. ``opt_in``: the identifier sent to must have opted in (latest
    record); ``not_opted_out``: no identifier of the person may have opted out; ``none``."""

    consent: Literal["opt_in", "not_opted_out", "none"]
    #: silver.consent channels that govern this channel (``all`` always does)
    consent_topics: list[Literal[CONSENT_TOPICS]] = Field(default_factory=list)


class FrequencyCap(Strict):
    """At most ``max_touches`` touches of ``channels`` per person in ``window_days`` days."""

    name: str = Field(pattern=NAME)
    channels: list[Channel] = Field(min_length=1)
    max_touches: int = Field(ge=1)
    window_days: int = Field(ge=1, le=366)


class ActivationRules(Strict):
    """The rules every campaign shares (``segments/_activation.yml``)."""

    #: China time the campaigns go out, on the day after the as-of day
    send_time: time = time(10, 0)
    #: a follower who interacted this recently can get a customer-service message
    customer_service_window_hours: int = Field(default=48, ge=1, le=48)
    #: silver.events types (source wechat) that open the customer-service window
    interaction_events: list[str] = Field(min_length=1)
    #: app ids in priority order when a person follows several official accounts
    official_accounts: list[str] = Field(default_factory=list)
    #: every channel, highest priority first
    channel_priority: list[Channel]
    #: channels of which a person gets at most one per campaign (the first that reaches them)
    exclusive_groups: list[list[Channel]] = Field(default_factory=list)
    channels: dict[Channel, ChannelRule]
    frequency_caps: list[FrequencyCap] = Field(default_factory=list)
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


def load_activation_rules(segments_dir: Path) -> ActivationRules:
    """The activation rules of a segments folder; ConfigError naming the file and key."""
    return read_model(Path(segments_dir) / ACTIVATION_FILE, ActivationRules)
