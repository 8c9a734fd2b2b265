"""Identity rules: load and validate the YAML file (see ``identity/rules.yml`` for meanings).

Errors name the file and the key, e.g. ``rules.yml: types.phone.priority: ...``.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from spark_jobs.silver.identifiers import SIGHTINGS

DEFAULT_RULES = Path(__file__).resolve().parent / "rules.yml"


class RulesError(ValueError):
    """The identity rules file is missing or invalid; the message names the file and key."""


class TypeRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: int = Field(ge=1)
    joins: bool
    max_per_person: int = Field(ge=1)
    hub_limit: int = Field(ge=1)


class Blocklist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    values: dict[str, list[str]] = Field(default_factory=dict)
    patterns: dict[str, list[str]] = Field(default_factory=dict)


class Reassignment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gap_days: int = Field(ge=1)


def source_labels() -> tuple[list[str], list[tuple[str, str]]]:
    """The record sources of ``SIGHTINGS``: exact labels (``coupon_events``), and the prefix and
    column of labels built from a column (``("events:", "source")`` for ``events:web`` ...)."""
    exact, built = [], []
    for label, _, _ in SIGHTINGS.values():
        literal = re.fullmatch(r"'([^']+)'", label)
        concat = re.fullmatch(r"concat\('([^']+)', *(\w+)\)", label)
        if literal is None and concat is None:
            raise AssertionError(
                f"SIGHTINGS source label {label!r} is neither a literal nor "
                "concat('<prefix>', <column>)"
            )
        if literal:
            exact.append(literal.group(1))
        else:
            built.append((concat.group(1), concat.group(2)))
    return sorted(exact), sorted(built)


class CardProgramme(BaseModel):
    """A member-card programme: cards whose cleaned number matches ``match`` (searched, Rust/Java
    regex syntax) take its canonical form (``cdp.normalise.canonical_card``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    match: str = Field(min_length=1)
    digits_only: bool = False
    width: int | None = Field(default=None, ge=1, le=64)

    @field_validator("match")
    @classmethod
    def _match_is_a_portable_regex(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        if re.search(r"\\[1-9]", pattern):
            raise ValueError(f"{pattern!r} uses a back-reference, which the engines do not support")
        return pattern

    @model_validator(mode="after")
    def _width_pads_digits(self) -> CardProgramme:
        if self.width is not None and not self.digits_only:
            raise ValueError("width restores leading zeros, so it needs digits_only: true")
        return self


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    types: dict[str, TypeRule] = Field(min_length=1)
    blocklist: Blocklist = Field(default_factory=Blocklist)
    untrusted_sources: list[str] = Field(default_factory=list)
    weak_relays: bool = False
    member_cards: list[CardProgramme] = Field(default_factory=list)
    reassignment: dict[str, Reassignment] = Field(default_factory=dict)
    max_component_size: int = Field(ge=2)

    @model_validator(mode="after")
    def _blocklist_names_known_types_and_valid_patterns(self) -> Rules:
        for section in ("values", "patterns"):
            for kind, items in getattr(self.blocklist, section).items():
                if kind not in self.types:
                    raise ValueError(
                        f"blocklist.{section}.{kind}: unknown identifier type "
                        f"(known: {', '.join(sorted(self.types))})"
                    )
                if section == "patterns":
                    for pattern in items:
                        try:
                            re.compile(pattern)
                        except re.error as exc:
                            raise ValueError(
                                f"blocklist.patterns.{kind}: {pattern!r} is not a valid "
                                f"regular expression: {exc}"
                            ) from None
                        if re.search(r"\\[1-9]", pattern):
                            raise ValueError(
                                f"blocklist.patterns.{kind}: {pattern!r} uses a "
                                "back-reference, which the engines do not support"
                            )
        return self

    @model_validator(mode="after")
    def _untrusted_sources_are_record_sources(self) -> Rules:
        exact, built = source_labels()
        for source in self.untrusted_sources:
            if source not in exact and not any(
                source.startswith(prefix) and len(source) > len(prefix) for prefix, _ in built
            ):
                known = ", ".join(exact + [f"{prefix}<{column}>" for prefix, column in built])
                raise ValueError(
                    f"untrusted_sources: {source!r} is not a record source (known: {known})"
                )
        return self

    @model_validator(mode="after")
    def _reassignment_names_joining_types(self) -> Rules:
        for kind in self.reassignment:
            if kind not in self.types:
                raise ValueError(
                    f"reassignment.{kind}: unknown identifier type "
                    f"(known: {', '.join(sorted(self.types))})"
                )
            if not self.types[kind].joins:
                raise ValueError(
                    f"reassignment.{kind}: {kind} does not join (joins: false), "
                    "so it never links two people and has no owner to pass on"
                )
        return self

    @model_validator(mode="after")
    def _card_programme_names_are_unique(self) -> Rules:
        names = [programme.name for programme in self.member_cards]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"member_cards: programme name {name!r} is used twice")
        return self

    @property
    def joining_types(self) -> list[str]:
        return sorted(k for k, r in self.types.items() if r.joins)

    @property
    def weak_types(self) -> list[str]:
        return sorted(k for k, r in self.types.items() if not r.joins)

    def by_priority(self) -> list[str]:
        """Identifier types, strongest first (ties by name, so the order is stable)."""
        return sorted(self.types, key=lambda k: (self.types[k].priority, k))


def load_rules(path: Path | None = None) -> Rules:
    path = Path(path) if path is not None else DEFAULT_RULES
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesError(f"{path}: identity rules file not found") from None
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(
            f"{path}: expected a mapping with 'types', 'blocklist' and 'max_component_size'"
        )
    try:
        return Rules(**data)
    except ValidationError as exc:
        problems = "; ".join(
            (f"{'.'.join(str(p) for p in err['loc'])}: " if err["loc"] else "") + err["msg"]
            for err in exc.errors()
        )
        raise RulesError(f"{path}: invalid identity rules: {problems}") from exc
