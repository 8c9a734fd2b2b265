"""Data scopes: nodes of the organisation tree (group -> region -> city -> mall -> store).

A scope is written ``group`` (everything) or ``<level>:<value>``: ``region:East China``,
``city:Shanghai``, ``mall:MALL_SH01``, ``store:SH001``. The tree is the marts' ``dim_stores``
(dbt_project/models/marts/console). Under a scope below the group, a person is visible when
they bought at one of the scope's stores, and only those stores' sales and records are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

#: scope level -> the dim_stores column it names
LEVELS = {"region": "region", "city": "city", "mall": "mall_code", "store": "store_code"}
GROUP = "group"


@dataclass(frozen=True)
class Scope:
    """One node of the organisation tree; ``level`` is ``group`` for the whole group."""

    level: str
    value: str | None = None

    @property
    def is_group(self) -> bool:
        return self.level == GROUP

    def __str__(self) -> str:
        return GROUP if self.is_group else f"{self.level}:{self.value}"


def parse_scope(text: str) -> Scope:
    """A scope from its written form; ValueError naming what was expected."""
    text = text.strip()
    if text == GROUP:
        return Scope(GROUP)
    level, _, value = text.partition(":")
    if level not in LEVELS or not value.strip():
        raise ValueError(
            f"scope {text!r}: expected 'group' or one of "
            f"{', '.join(f'{lvl}:<{lvl}>' for lvl in LEVELS)} (e.g. store:SH001)"
        )
    return Scope(level, value.strip())


@dataclass(frozen=True)
class OrgTree:
    """The stores of the tree: one dict per store (store_code, business_format, region, city,
    mall_code, is_physical)."""

    stores: tuple[dict, ...]

    def stores_in(self, scope: Scope) -> list[str] | None:
        """The store codes under ``scope``; None for the group (no restriction)."""
        if scope.is_group:
            return None
        column = LEVELS[scope.level]
        return sorted(s["store_code"] for s in self.stores if s[column] == scope.value)

    def check(self, scope: Scope) -> Scope:
        """``scope`` when the tree holds it; ValueError listing some known values otherwise."""
        if scope.is_group or self.stores_in(scope):
            return scope
        known = sorted({s[LEVELS[scope.level]] for s in self.stores if s[LEVELS[scope.level]]})
        raise ValueError(
            f"scope {scope}: no such {scope.level} in dim_stores; known: {', '.join(known[:20])}"
        )
