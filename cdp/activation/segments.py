"""Segments as code: definitions (``segments/*.yml``) compiled to SQL over the marts.

A segment is everyone known on the marts' as-of day (``customer_lifecycle``) for whom its rule
holds, plus its ``include`` list, minus its ``exclude`` list. The SQL is built by the named
functions below, one per kind of condition; every mart column a definition names is checked
against the marts (DuckDB ``DESCRIBE``) at compile time, so a typo says which field is unknown
and lists the ones there are. ``list_segments``, ``preview`` and ``members`` serve the CLI;
``cdp.activation.export`` exports.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from cdp.activation import rules as r
from cdp.config import ConfigError

UNIVERSE = "customer_lifecycle"  # one row per person known on the as-of day
TIMELINE = "customer_timeline"
MASKED = "customer_360_masked"
#: kind -> (mart, column) of the shortcut conditions
SHORTCUTS = {"rfm_segment": ("customer_rfm", "segment"),
             "lifecycle_stage": ("customer_lifecycle", "lifecycle_stage"),
             "tier": ("member_tiers", "tier")}
#: where the values a shortcut or tag condition may name are listed: (relation, column)
VALUE_CATALOGS = {"tag": ("tag_catalog", "tag"),
                  "rfm_segment": ("intermediate.rfm_segment_map", "segment"),
                  "tier": ("loyalty_tiers", "tier")}
#: customer_lifecycle's stages (its accepted_values test in dbt); no table lists them
LIFECYCLE_STAGES = ("visitor", "follower", "member", "member_never_bought", "first_purchase",
                    "active", "dormant", "at_risk", "churned")
RECORD_TYPES = ("order", "refund", "event", "coupon", "points", "follow")
SAMPLE_COLUMNS = ("one_id", "name", "phone", "member_card_no", "city", "lifecycle_stage",
                  "rfm_segment", "tier")
#: resolves (identifier_type, identifier_value) pairs to OneIDs
IdentifierLookup = Callable[[list[tuple[str, str]]], dict[tuple[str, str], str]]


class SegmentError(ConfigError):
    """A definition does not fit the marts (unknown field, tag, value); names file and key."""


# -- the marts' columns -------------------------------------------------------------------------
class MartCatalog:
    """Column names and types of the marts in one DuckDB connection (``DESCRIBE``), cached."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._columns: dict[str, dict[str, str]] = {}
        self._values: dict[str, list[str]] = {}

    def columns(self, relation: str) -> dict[str, str]:
        if relation not in self._columns:
            try:
                described = self.con.sql(f"DESCRIBE {relation}").fetchall()
            except duckdb.CatalogException:
                raise SegmentError(f"the marts have no table {relation}; build the marts "
                                   "(`cdp marts build`)") from None
            self._columns[relation] = {row[0]: row[1] for row in described}
        return self._columns[relation]

    def column_type(self, relation: str, column: str, where: str) -> str:
        columns = self.columns(relation)
        if column not in columns:
            raise SegmentError(f"{where}: unknown field {column!r} in {relation}; available: "
                               f"{', '.join(sorted(columns))}")
        return columns[column]

    def known_values(self, kind: str) -> list[str]:
        if kind == "lifecycle_stage":
            return list(LIFECYCLE_STAGES)
        if kind not in self._values:
            relation, column = VALUE_CATALOGS[kind]
            self.column_type(relation, column, relation)
            self._values[kind] = [v for (v,) in self.con.sql(
                f"SELECT DISTINCT {column} FROM {relation} WHERE {column} IS NOT NULL "
                f"ORDER BY 1").fetchall()]
        return self._values[kind]


def marts_as_of(catalog: MartCatalog, relations: Iterable[str]) -> date:
    """The one as-of day of the marts a segment reads (the marts are built together)."""
    days: set[date] = set()
    for relation in sorted(set(relations) | {UNIVERSE}):
        if "as_of" in catalog.columns(relation):
            days |= {d for (d,) in catalog.con.sql(
                f"SELECT DISTINCT as_of FROM {relation}").fetchall() if d is not None}
    if len(days) != 1:
        raise SegmentError(f"the marts disagree on the as-of day ({sorted(days) or 'no rows'}); "
                           "rebuild them (`cdp marts build`)")
    return days.pop()


# -- SQL builders -------------------------------------------------------------------------------
def literal(value) -> str:
    """A SQL literal for a YAML value."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


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
    expected = {"text": str, "list": str, "boolean": bool, "date": date,
                "number": (int, float)}[family]
    for value in values:
        if not isinstance(value, expected) or (family == "number" and isinstance(value, bool)):
            raise SegmentError(f"{where}: {value!r} does not fit a {family} field")


def predicate_sql(column: str, predicate: r.Predicate, sql_type: str, where: str) -> str:
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
        return (f"coalesce({test}, FALSE)" if predicate.in_ is not None
                else f"NOT coalesce({test}, TRUE)")
    if family not in ("number", "date"):
        raise SegmentError(f"{where}: a range needs a number or date field; {column} is "
                           f"{sql_type} (test it with in / not_in / present)")
    bounds = [(op, v) for op, v in ((">", predicate.gt), (">=", predicate.gte),
                                    ("<", predicate.lt), ("<=", predicate.lte)) if v is not None]
    _check_values([v for _, v in bounds], family, where)
    return " AND ".join(f"{column} {op} {literal(v)}" for op, v in bounds)


def field_condition_sql(mart: str, column: str, predicate: r.Predicate, sql_type: str,
                        where: str) -> str:
    """People of ``mart`` whose ``column`` passes ``predicate`` (absent people fail it,
    except for ``present: false``)."""
    test = predicate_sql(f"m.{column}", predicate, sql_type, where)
    exists = f"EXISTS (SELECT 1 FROM {mart} AS m WHERE m.one_id = p.one_id AND {test})"
    return f"NOT {exists}" if predicate.present is False else exists


def tag_condition_sql(tags: list[str], match: str) -> str:
    """People holding any (or all) of ``tags`` in customer_tags."""
    names = ", ".join(literal(t) for t in tags)
    if match == "any" or len(tags) == 1:
        return (f"EXISTS (SELECT 1 FROM customer_tags AS t WHERE t.one_id = p.one_id "
                f"AND t.tag IN ({names}))")
    return (f"p.one_id IN (SELECT t.one_id FROM customer_tags AS t WHERE t.tag IN ({names}) "
            f"AND t.one_id IS NOT NULL GROUP BY t.one_id HAVING count(DISTINCT t.tag) = "
            f"{len(set(tags))})")


def window_sql(column: str, window: r.Window | None, as_of: date) -> str:
    """Days of ``window`` ending on the as-of day (never after it)."""
    if window is None:
        return f"{column} <= {literal(as_of)}"
    if window.days is not None:
        first = as_of - timedelta(days=window.days - 1)
        return f"{column} BETWEEN {literal(first)} AND {literal(as_of)}"
    return f"{column} BETWEEN {literal(window.start)} AND {literal(min(window.end, as_of))}"


def events_condition_sql(condition: r.EventsCondition, as_of: date) -> str:
    """People whose customer_timeline records matching the filters, counted in the window,
    fall in ``count`` (people without records count 0)."""
    filters = [window_sql("e.event_date", condition.window, as_of)]
    for column in ("record_type", "channel", "event_type"):
        values = getattr(condition, column)
        if values is not None:
            filters.append(f"e.{column} IN ({', '.join(literal(v) for v in values)})")
    counted = (f"(SELECT count(*) FROM {TIMELINE} AS e WHERE e.one_id = p.one_id AND "
               f"{' AND '.join(filters)})")
    c = condition.count
    bounds = [(op, v) for op, v in ((">", c.gt), (">=", c.gte), ("<", c.lt), ("<=", c.lte))
              if v is not None]
    return " AND ".join(f"{counted} {op} {v}" for op, v in bounds)


def combine_sql(operator: str, parts: list[str]) -> str:
    """``parts`` joined by AND / OR (indented, one per line), or the negation of one part."""
    if operator == "NOT":
        return f"NOT {parts[0]}" if parts[0].startswith("(") else f"NOT ({parts[0]})"
    if len(parts) == 1:
        return parts[0]
    return "(\n" + textwrap.indent(f"\n{operator} ".join(parts), "    ") + "\n)"


def segment_sql(rule: str, as_of: date, include: str | None, exclude: str | None) -> str:
    """The segment: the universe filtered by the rule, plus include, minus exclude."""
    keep = rule if include is None else combine_sql(
        "OR", [rule, f"p.one_id IN (SELECT one_id FROM {include})"])
    drop = "" if exclude is None else f"\n  AND p.one_id NOT IN (SELECT one_id FROM {exclude})"
    return (f"SELECT p.one_id\nFROM {UNIVERSE} AS p\nWHERE p.as_of = {literal(as_of)}\n"
            f"  AND {textwrap.indent(keep, '  ').lstrip()}{drop}\nORDER BY p.one_id")


# -- compilation --------------------------------------------------------------------------------
@dataclass
class CompiledSegment:
    """A definition made SQL, with the list relations the SQL reads."""

    definition: r.SegmentDefinition
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
                raise SegmentError(f"{self.where(key)}: unknown {kind} {value!r}; known: "
                                   f"{', '.join(map(str, known))}")

    def compile(self, condition, key: str) -> str:
        if isinstance(condition, r.AllOf):
            return combine_sql("AND", [self.compile(c, f"{key}.all[{i}]")
                                       for i, c in enumerate(condition.all)])
        if isinstance(condition, r.AnyOf):
            return combine_sql("OR", [self.compile(c, f"{key}.any[{i}]")
                                      for i, c in enumerate(condition.any)])
        if isinstance(condition, r.NotCondition):
            return combine_sql("NOT", [self.compile(condition.not_, f"{key}.not")])
        if isinstance(condition, r.TagCondition):
            self.catalog.column_type("customer_tags", "tag", self.where(key))
            self.values("tag", condition.tags, f"{key}.tags")
            self.marts.add("customer_tags")
            return tag_condition_sql(condition.tags, condition.match)
        if isinstance(condition, r.EventsCondition):
            for column in ("one_id", "event_date", "record_type", "channel", "event_type"):
                self.catalog.column_type(TIMELINE, column, self.where(key))
            for value in condition.record_type or []:
                if value not in RECORD_TYPES:
                    raise SegmentError(f"{self.where(key + '.record_type')}: unknown record "
                                       f"type {value!r}; known: {', '.join(RECORD_TYPES)}")
            self.marts.add(TIMELINE)
            return events_condition_sql(condition, self.as_of)
        if isinstance(condition, r.MetricCondition):
            mart, column = "customer_metrics", condition.field
        elif isinstance(condition, r.FieldCondition):
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


def _read_list_file(path: Path, where: str) -> tuple[list[str], list[tuple[str, str]], bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SegmentError(f"{where}: file {path} not found") from None
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    header = set(rows[0]) if rows else set()
    if "one_id" in header:
        return [row["one_id"].strip() for row in rows if row["one_id"].strip()], [], data
    if {"identifier_type", "identifier_value"} <= header:
        return [], [(row["identifier_type"].strip(), row["identifier_value"].strip())
                    for row in rows], data
    raise SegmentError(f"{where}: {path.name} needs a header one_id, or identifier_type and "
                       "identifier_value")


def _canonical(kind: str, value: str) -> str:
    from cdp.normalise import normalise_email, normalise_phone

    if kind == "phone":
        return normalise_phone(value) or value
    if kind == "email":
        return normalise_email(value) or value
    return value


def resolve_list(people: r.PeopleList, base: Path, where: str,
                 lookup: IdentifierLookup | None) -> tuple[list[str], int, dict[str, bytes]]:
    """The OneIDs of a people list, the entries that matched nobody, the list files' bytes."""
    one_ids = list(people.one_ids)
    pairs = [(e.type, e.value) for e in people.identifiers]
    files: dict[str, bytes] = {}
    if people.file:
        file_ids, file_pairs, data = _read_list_file(base / people.file, f"{where}.file")
        one_ids += file_ids
        pairs += file_pairs
        files[people.file] = data
    pairs = [(kind, _canonical(kind, value)) for kind, value in pairs]
    unresolved = 0
    if pairs:
        if lookup is None:
            raise SegmentError(f"{where}.identifiers: needs OneID (silver.identity_map)")
        found = lookup(pairs)
        unresolved = sum(1 for pair in pairs if pair not in found)
        one_ids += [found[pair] for pair in pairs if pair in found]
    return sorted(set(one_ids)), unresolved, files


def compile_segment(definition: r.SegmentDefinition, path: Path,
                    con: duckdb.DuckDBPyConnection, lookup: IdentifierLookup | None = None,
                    catalog: MartCatalog | None = None) -> CompiledSegment:
    """SQL of a segment over the marts in ``con``, checked against their columns."""
    catalog = catalog or MartCatalog(con)
    compiler = _Compiler(catalog, path)
    compiler.as_of = marts_as_of(catalog, [UNIVERSE])
    rule = compiler.compile(definition.rules, "rules")
    marts_as_of(catalog, compiler.marts)  # every mart read agrees on the day
    compiled = CompiledSegment(definition, path, compiler.as_of, "", compiler.marts)
    relations: dict[str, str | None] = {}
    for which in ("include", "exclude"):
        one_ids, unresolved, files = resolve_list(getattr(definition, which), path.parent,
                                                  f"{path}: {which}", lookup)
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
        raise SegmentError(f"{compiled.path}: the marts cannot select this segment: "
                           f"{exc}") from exc


# -- list / preview -----------------------------------------------------------------------------
@dataclass
class SegmentSummary:
    name: str
    owner: str
    description: str
    size: int | None
    error: str | None = None


@dataclass
class Preview:
    name: str
    owner: str
    as_of: date
    size: int
    #: (other segment, people in both, share of this segment) for overlapping segments
    overlaps: list[tuple[str, int, float]]
    sample_columns: list[str]
    sample: list[tuple]
    sql: str
    unresolved: dict[str, int]


def compile_all(con: duckdb.DuckDBPyConnection, segments_dir: Path,
                lookup: IdentifierLookup | None = None
                ) -> dict[str, CompiledSegment | ConfigError]:
    """Every segment compiled, or the error that stops it."""
    catalog = MartCatalog(con)
    out: dict[str, CompiledSegment | ConfigError] = {}
    for name, path in r.segment_paths(segments_dir).items():
        try:
            out[name] = compile_segment(r.load_segment(path), path, con, lookup, catalog)
        except ConfigError as exc:
            out[name] = exc
    return out


def list_segments(con: duckdb.DuckDBPyConnection, segments_dir: Path = r.SEGMENTS_DIR,
                  lookup: IdentifierLookup | None = None) -> list[SegmentSummary]:
    """Name, owner and size of every segment; an invalid one carries its error instead."""
    summaries = []
    for name, compiled in compile_all(con, segments_dir, lookup).items():
        if isinstance(compiled, ConfigError):
            summaries.append(SegmentSummary(name, "", "", None, str(compiled)))
            continue
        d = compiled.definition
        try:
            size = members(con, compiled).num_rows
        except SegmentError as exc:  # one segment the marts cannot run hides no other
            summaries.append(SegmentSummary(name, d.owner, d.description, None, str(exc)))
        else:
            summaries.append(SegmentSummary(name, d.owner, d.description, size))
    return summaries


def preview(con: duckdb.DuckDBPyConnection, name: str, segments_dir: Path = r.SEGMENTS_DIR,
            lookup: IdentifierLookup | None = None, sample_size: int = 10) -> Preview:
    """Size, overlap with the other (valid) segments, and a sample with personal data masked
    (``customer_360_masked``)."""
    definition, path = r.find_segment(name, segments_dir)
    catalog = MartCatalog(con)
    compiled = compile_segment(definition, path, con, lookup, catalog)
    people = members(con, compiled)
    con.register("preview_members", people)
    overlaps = []
    for other_name, other in compile_all(con, segments_dir, lookup).items():
        if other_name == name or isinstance(other, ConfigError):
            continue
        try:
            con.register("preview_other", members(con, other))
        except SegmentError:  # `segments list` reports it; it overlaps nobody here
            continue
        both = con.sql("SELECT count(*) FROM preview_members JOIN preview_other "
                       "USING (one_id)").fetchone()[0]
        if both:
            overlaps.append((other_name, both, both / people.num_rows))
    available = catalog.columns(MASKED)
    columns = [c for c in SAMPLE_COLUMNS if c in available]
    sample = con.sql(sample_sql(columns, sample_size)).fetchall()
    return Preview(name, definition.owner, compiled.as_of, people.num_rows,
                   sorted(overlaps, key=lambda o: (-o[1], o[0])), columns, sample,
                   compiled.sql, compiled.unresolved)


def sample_sql(columns: list[str], limit: int) -> str:
    """A reproducible sample of the previewed members from the masked customer 360."""
    return (f"SELECT {', '.join('c.' + c for c in columns)} FROM preview_members AS s "
            f"JOIN {MASKED} AS c USING (one_id) ORDER BY md5(s.one_id) LIMIT {int(limit)}")
