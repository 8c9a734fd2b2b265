"""Identity rules: load and validate the YAML file (see ``identity/rules.yml`` for meanings).

Errors name the file and the key, e.g. ``rules.yml: types.phone.priority: ...``.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    types: dict[str, TypeRule] = Field(min_length=1)
    blocklist: Blocklist = Field(default_factory=Blocklist)
    untrusted_sources: list[str] = Field(default_factory=list)
    weak_relays: bool = False
    max_component_size: int = Field(ge=2)

    @model_validator(mode="after")
    def _blocklist_names_known_types_and_valid_patterns(self) -> Rules:
        for section in ("values", "patterns"):
            for kind, items in getattr(self.blocklist, section).items():
                if kind not in self.types:
                    raise ValueError(f"blocklist.{section}.{kind}: unknown identifier type "
                                     f"(known: {', '.join(sorted(self.types))})")
                if section == "patterns":
                    for pattern in items:
                        try:
                            re.compile(pattern)
                        except re.error as exc:
                            raise ValueError(
                                f"blocklist.patterns.{kind}: {pattern!r} is not a valid "
                                f"regular expression: {exc}") from None
                        if re.search(r"\\[1-9]", pattern):
                            raise ValueError(f"blocklist.patterns.{kind}: {pattern!r} uses a "
                                             "back-reference, which the engines do not support")
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
        raise RulesError(f"{path}: expected a mapping with 'types', 'blocklist' and "
                         "'max_component_size'")
    try:
        return Rules(**data)
    except ValidationError as exc:
        problems = "; ".join(
            (f"{'.'.join(str(p) for p in err['loc'])}: " if err["loc"] else "") + err["msg"]
            for err in exc.errors())
        raise RulesError(f"{path}: invalid identity rules: {problems}") from exc
