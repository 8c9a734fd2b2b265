"""OneID: one customer id per person, from the identifiers silver has seen together.

The public API is three functions; everything else is internals:

- ``resolve(spark, lakehouse)``: build the identity graph from silver, apply the rules, solve
  connected components on an engine (``identity.engines``), keep ids stable, write the tables;
- ``explain(lakehouse, kind, value)``: the person an identifier belongs to, and why;
- ``lookup(lakehouse, kind, value)``: the OneID of one identifier.

Importing the package loads none of Spark, DuckDB or the engines: each function imports what
it needs when called.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdp.lakehouse import Lakehouse
    from identity.explain import Explanation
    from identity.resolve import IdentityOutcome
    from identity.rules import Rules

__all__ = ["explain", "lookup", "resolve"]


def resolve(
    spark,
    lakehouse: Lakehouse,
    rules: Rules | Path | None = None,
    *,
    engine: str = "auto",
    embedded_max_edges: int = 500_000_000,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
    full: bool = False,
) -> IdentityOutcome | None:
    """Resolve OneIDs from the current silver tables of ``lakehouse`` and write the identity
    tables (map, changes, links, rejected identifiers, cut links, rule effects) and golden
    records.

    ``rules``: loaded rules, a rules YAML file, or None for ``identity/rules.yml``. ``engine``:
    ``embedded``, ``spark`` or ``auto`` (embedded up to ``embedded_max_edges`` edges).
    Returns None while silver has no identifiers; a run whose silver tables and rules are
    unchanged since the last one is skipped (its outcome says so) unless ``force``. Only the
    people whose silver records changed are re-solved, unless ``full`` (or the rules changed,
    or there is no previous run): see ``identity.incremental``.
    """
    from identity.resolve import run_identity
    from identity.rules import Rules, load_rules

    if not isinstance(rules, Rules):
        rules = load_rules(rules) if rules is not None else load_rules()
    return run_identity(spark, lakehouse, rules, engine, embedded_max_edges, progress, force, full)


def explain(
    lakehouse: Lakehouse, kind: str, value: str, to: tuple[str, str] | None = None
) -> Explanation:
    """The person identifier ``kind:value`` belongs to: its identifiers, the records that
    linked them, and the links the rules cut next to it. With ``to`` (another identifier's
    kind and value): the chain of records joining the two, or, if they are two people, the
    cut links that kept them apart. Raises ``identity.explain.UnknownIdentifier`` for an
    identifier the map does not hold."""
    from identity.explain import explain as explain_identifier

    return explain_identifier(lakehouse, kind, value, to)


def lookup(lakehouse: Lakehouse, kind: str, value: str) -> str | None:
    """The OneID of identifier ``kind:value`` (normalised as in silver: a phone as 11 digits,
    an openid as ``<app_id>/<openid>``), or None when it is unknown, blocklisted or a hub."""
    from identity.serving import one_id_of

    return one_id_of(lakehouse, kind, value)


class _PublicApi(types.ModuleType):
    """Keeps ``identity.resolve`` and ``identity.explain`` the public functions. Python binds
    a submodule as an attribute of its package when it is first imported, which would replace
    the function by the module of the same name; ``from identity.resolve import ...`` still
    reaches the modules (through ``sys.modules``)."""

    def __setattr__(self, name: str, value) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicApi
