"""The segment compiler: a definition (``segments/*.yml``) made SQL over the marts.

A segment is everyone known on the marts' as-of day (``customer_lifecycle``) for whom its rule
holds, plus its ``include`` list, minus its ``exclude`` list. The SQL is built by the named
functions below, one per kind of condition; every column a definition names is checked against
the marts (``catalog``) as it is compiled. Values reach the SQL only as literals of
``cdp.sql_literals``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from cdp.activation import definitions as d
from cdp.activation.catalog import UNIVERSE, MartCatalog, SegmentError, marts_as_of
from cdp.activation.people_lists import IdentifierLookup, resolve_list
from cdp.sql_literals import literal

TIMELINE = "customer_timeline"
#: kind -> (mart, column) of the shortcut conditions
SHORTCUTS = {
    "rfm_segment": ("customer_rfm", "segment"),
    "lifecycle_stage": ("customer_lifecycle", "lifecycle_stage"),
    "tier": ("member_tiers", "tier"),
}
RECORD_TYPES = ("order", "refund", "event", "coupon", "points", "follow")


# -- SQL builders -------------------------------------------------------------------------------
def _family(sql_type: str) -> str:
    sql_type = sql_type.upper()
    if sql_type.endswith("[]"):
        return "list"
    if sql_type.startswith(("VARCHAR", "TEXT", "STRING", "JSON", "UUID")):
        return "text"
    if sql_type == "BOOLEAN":
        return "boolean"
    if sql_type.startswith(("DATE", "TIMESTAMP")):
        return "date"
    return "number"


def _check_values(values: list, family: str, where: str) -> None:
    expected = {"text": str, "list": str, "boolean": bool, "date": date, "number": (int, float)}[
        family
    ]
    for value in values:
        if not isinstance(value, expected) or (family == "number" and isinstance(value, bool)):
            raise SegmentError(f"{where}: {value!r} does not fit a {family} field")


def predicate_sql(column: str, predicate: d.Predicate, sql_type: str, where: str) -> str:
    """The SQL test of ``predicate`` on ``column`` (type ``sql_type``), NULL-free."""
    family = _family(sql_type)
    if predicate.present is not None:
        return f"{column} IS NOT NULL"  # present: false is the negation, made by the caller
    if predicate.in_ is not None or predicate.not_in is not None:
        values = predicate.in_ if predicate.in_ is not None else predicate.not_in
        _check_values(values, family, where)
        items = ", ".join(literal(v) for v in values)
        if family == "list":
            test = f"list_has_any({column}, [{items}])"
        else:
            test = f"{column} IN ({items})"
        return (
            f"coalesce({test}, FALSE)"
            if predicate.in_ is not None
            else f"NOT coalesce({test}, TRUE)"
        )
    if family not in ("number", "date"):
        raise SegmentError(
            f"{where}: a range needs a number or date field; {column} is "
            f"{sql_type} (test it with in / not_in / present)"
        )
    bounds = predicate.comparisons()
    _check_values([v for _, v in bounds], family, where)
    return " AND ".join(f"{column} {op} {literal(v)}" for op, v in bounds)


def field_condition_sql(
    mart: str, column: str, predicate: d.Predicate, sql_type: str, where: str
) -> str:
    """People of ``mart`` whose ``column`` passes ``predicate`` (absent people fail it,
    except for ``present: false``)."""
    test = predicate_sql(f"m.{column}", predicate, sql_type, where)
    exists = f"EXISTS (SELECT 1 FROM {mart} AS m WHERE m.one_id = p.one_id AND {test})"
    return f"NOT {exists}" if predicate.present is False else exists


def tag_condition_sql(tags: list[str], match: str) -> str:
    """People holding any (or all) of ``tags`` in customer_tags."""
    names = ", ".join(literal(t) for t in tags)
    if match == "any" or len(tags) == 1:
        return (
            f"EXISTS (SELECT 1 FROM customer_tags AS t WHERE t.one_id = p.one_id "
            f"AND t.tag IN ({names}))"
        )
    return (
        f"p.one_id IN (SELECT t.one_id FROM customer_tags AS t WHERE t.tag IN ({names}) "
        f"AND t.one_id IS NOT NULL GROUP BY t.one_id HAVING count(DISTINCT t.tag) = "
        f"{len(set(tags))})"
    )


def window_sql(column: str, window: d.Window | None, as_of: date) -> str:
    """Days of ``window`` ending on the as-of day (never after it)."""
    if window is None:
        return f"{column} <= {literal(as_of)}"
    if window.days is not None:
        first = as_of - timedelta(days=window.days - 1)
        return f"{column} BETWEEN {literal(first)} AND {literal(as_of)}"
    return f"{column} BETWEEN {literal(window.start)} AND {literal(min(window.end, as_of))}"


def events_condition_sql(condition: d.EventsCondition, as_of: date) -> str:
    """People whose customer_timeline records matching the filters, counted in the window,
    fall in ``count`` (people without records count 0)."""
    filters = [window_sql("e.event_date", condition.window, as_of)]
    for column in ("record_type", "channel", "event_type"):
        values = getattr(condition, column)
        if values is not None:
            filters.append(f"e.{column} IN ({', '.join(literal(v) for v in values)})")
    counted = (
        f"(SELECT count(*) FROM {TIMELINE} AS e WHERE e.one_id = p.one_id AND "
        f"{' AND '.join(filters)})"
    )
    return " AND ".join(f"{counted} {op} {v}" for op, v in condition.count.comparisons())


def combine_sql(operator: str, parts: list[str]) -> str:
    """``parts`` joined by AND / OR (indented, one per line), or the negation of one part."""
    if operator == "NOT":
        return f"NOT {parts[0]}" if parts[0].startswith("(") else f"NOT ({parts[0]})"
    if len(parts) == 1:
        return parts[0]
    return "(\n" + textwrap.indent(f"\n{operator} ".join(parts), "    ") + "\n)"


def segment_sql(rule: str, as_of: date, include: str | None, exclude: str | None) -> str:
    """The segment: the universe filtered by the rule, plus include, minus exclude."""
    keep = (
        rule
        if include is None
        else combine_sql("OR", [rule, f"p.one_id IN (SELECT one_id FROM {include})"])
    )
    drop = "" if exclude is None else f"\n  AND p.one_id NOT IN (SELECT one_id FROM {exclude})"
    return (
        f"SELECT p.one_id\nFROM {UNIVERSE} AS p\nWHERE p.as_of = {literal(as_of)}\n"
        f"  AND {textwrap.indent(keep, '  ').lstrip()}{drop}\nORDER BY p.one_id"
    )


# -- compilation --------------------------------------------------------------------------------
@dataclass
class CompiledSegment:
    """A definition made SQL, with the list relations the SQL reads."""

    definition: d.SegmentDefinition
    path: Path
    as_of: date
    sql: str
    marts: set[str]
    #: relation name -> one_id table of the include / exclude lists
    lists: dict[str, pa.Table] = field(default_factory=dict)
    #: list entries that matched nobody, per list
    unresolved: dict[str, int] = field(default_factory=dict)
    list_files: dict[str, bytes] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.definition.name


class _Compiler:
    def __init__(self, catalog: MartCatalog, path: Path):
        self.catalog, self.path = catalog, path
        self.marts: set[str] = {UNIVERSE}
        self.as_of: date | None = None

    def where(self, key: str) -> str:
        return f"{self.path}: {key}"

    def values(self, kind: str, values: list | None, key: str) -> None:
        known = self.catalog.known_values(kind)
        for value in values or []:
            if value not in known:
                raise SegmentError(
                    f"{self.where(key)}: unknown {kind} {value!r}; known: "
                    f"{', '.join(map(str, known))}"
                )

    def compile(self, condition, key: str) -> str:
        if isinstance(condition, d.AllOf):
            return combine_sql(
                "AND", [self.compile(c, f"{key}.all[{i}]") for i, c in enumerate(condition.all)]
            )
        if isinstance(condition, d.AnyOf):
            return combine_sql(
                "OR", [self.compile(c, f"{key}.any[{i}]") for i, c in enumerate(condition.any)]
            )
        if isinstance(condition, d.NotCondition):
            return combine_sql("NOT", [self.compile(condition.not_, f"{key}.not")])
        if isinstance(condition, d.TagCondition):
            self.catalog.column_type("customer_tags", "tag", self.where(key))
            self.values("tag", condition.tags, f"{key}.tags")
            self.marts.add("customer_tags")
            return tag_condition_sql(condition.tags, condition.match)
        if isinstance(condition, d.EventsCondition):
            for column in ("one_id", "event_date", "record_type", "channel", "event_type"):
                self.catalog.column_type(TIMELINE, column, self.where(key))
            for value in condition.record_type or []:
                if value not in RECORD_TYPES:
                    raise SegmentError(
                        f"{self.where(key + '.record_type')}: unknown record "
                        f"type {value!r}; known: {', '.join(RECORD_TYPES)}"
                    )
            self.marts.add(TIMELINE)
            return events_condition_sql(condition, self.as_of)
        if isinstance(condition, d.MetricCondition):
            mart, column = "customer_metrics", condition.field
        elif isinstance(condition, d.FieldCondition):
            mart, column = condition.mart, condition.field
        else:
            mart, column = SHORTCUTS[condition.kind]
            for values, name in ((condition.in_, "in"), (condition.not_in, "not_in")):
                self.values(condition.kind, values, f"{key}.{name}")
        field_key = f"{key}.field" if hasattr(condition, "field") else key
        sql_type = self.catalog.column_type(mart, column, self.where(field_key))
        self.catalog.column_type(mart, "one_id", self.where(key))
        self.marts.add(mart)
        return field_condition_sql(mart, column, condition, sql_type, self.where(key))


def compile_segment(
    definition: d.SegmentDefinition,
    path: Path,
    con: duckdb.DuckDBPyConnection,
    lookup: IdentifierLookup | None = None,
    catalog: MartCatalog | None = None,
) -> CompiledSegment:
    """SQL of a segment over the marts in ``con``, checked against their columns."""
    catalog = catalog or MartCatalog(con)
    compiler = _Compiler(catalog, path)
    compiler.as_of = marts_as_of(catalog, [UNIVERSE])
    rule = compiler.compile(definition.rules, "rules")
    marts_as_of(catalog, compiler.marts)  # every mart read agrees on the day
    compiled = CompiledSegment(definition, path, compiler.as_of, "", compiler.marts)
    relations: dict[str, str | None] = {}
    for which in ("include", "exclude"):
        one_ids, unresolved, files = resolve_list(
            getattr(definition, which), path.parent, f"{path}: {which}", lookup
        )
        relation = f"segment_{which}_{definition.name}"
        relations[which] = relation if one_ids else None
        if one_ids:
            compiled.lists[relation] = pa.table({"one_id": pa.array(one_ids, pa.string())})
        if unresolved:
            compiled.unresolved[which] = unresolved
        compiled.list_files.update(files)
    compiled.sql = segment_sql(rule, compiler.as_of, relations["include"], relations["exclude"])
    return compiled


def members(con: duckdb.DuckDBPyConnection, compiled: CompiledSegment) -> pa.Table:
    """The segment's people (``one_id``), sorted; SegmentError naming the file when the
    marts cannot run its SQL."""
    for relation, table in compiled.lists.items():
        con.register(relation, table)
    try:
        return con.sql(compiled.sql).to_arrow_table()
    except duckdb.Error as exc:
        raise SegmentError(f"{compiled.path}: the marts cannot select this segment: {exc}") from exc
