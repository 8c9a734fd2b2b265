"""The identity graph, built from silver on Spark: nodes, links, and the rules that prune them.

A node is an identifier, keyed ``<type>:<value>`` (``phone:13912345678``,
``openid:<app_id>/<openid>``). A link says two identifiers were seen together in one record:
each record links its anchor (its strongest identifier by rule priority) to each of its other
identifiers, which connects them all with one link per identifier instead of one per pair.

Rules applied here, before any connected components (every function is pure):
- blocklisted values never become nodes or links;
- hubs (seen with more distinct identifiers of a type than its ``hub_limit``) join nobody;
- a reassignable identifier (a recycled phone number) seen in periods far apart keeps only
  its links of the latest period (see ``reassignment_cuts``);
- a weak identifier (``joins: false``) keeps only its single best link: to a joining
  identifier if it has one, else (optionally) to a weak relay (see ``weak_links``). Each weak
  node then owns at most one link, so a path between two people through weak nodes would need
  more links than those nodes own: weak ids attach to one person, never merge two.
"""

from __future__ import annotations

from pyspark.sql import Window
from pyspark.sql import functions as F

from cdp.sql_literals import SPARK
from identity.rules import Rules
from spark_jobs.frames import union_all
from spark_jobs.silver.identifiers import SIGHTINGS

sql_string = SPARK.string  # a Spark SQL string literal (backslash escapes)


def blocked_sql(rules: Rules, kind: str, value: str) -> str:
    """SQL predicate: the identifier ``value`` of type ``kind`` is blocklisted."""
    tests = []
    values = rules.blocklist.values.get(kind, [])
    if values:
        tests.append(f"{value} IN ({', '.join(sql_string(v) for v in values)})")
    tests += [f"{value} RLIKE {sql_string(p)}" for p in rules.blocklist.patterns.get(kind, [])]
    return " OR ".join(f"({t})" for t in tests) if tests else "FALSE"


def _kind_case(rules: Rules, column: str, attribute: str) -> str:
    """SQL CASE mapping an identifier type column to a rule attribute."""
    whens = " ".join(
        f"WHEN {sql_string(k)} THEN {int(getattr(r, attribute))}" for k, r in rules.types.items()
    )
    return f"CASE {column} {whens} END"


def nodes(identifiers, rules: Rules):
    """One row per identifier of ``silver.identifiers`` whose type the rules know:
    ``key, identifier_type, first_seen_at, last_seen_at, records, blocked``."""
    known = ", ".join(sql_string(k) for k in rules.types)
    blocked = " ".join(
        f"WHEN {sql_string(k)} THEN {blocked_sql(rules, k, 'identifier_value')}"
        for k in rules.types
    )
    return (
        identifiers.where(f"identifier_type IN ({known})")
        .groupBy("identifier_type", "identifier_value")
        .agg(
            F.min("first_seen_at").alias("first_seen_at"),
            F.max("last_seen_at").alias("last_seen_at"),
            F.sum("records").alias("records"),
        )
        .selectExpr(
            "concat(identifier_type, ':', identifier_value) AS key",
            "identifier_type",
            "first_seen_at",
            "last_seen_at",
            "records",
            f"CASE identifier_type {blocked} END AS blocked",
        )
    )


def record_links(table: str, df, rules: Rules):
    """Anchor -> other identifier links of one silver table's records (blocked values and
    types the rules do not know are left out): ``a_key, b_key, source, seen_at``."""
    source, seen_at, ids = SIGHTINGS[table]
    ids = sorted(
        ((k, v) for k, v in ids if k in rules.types),
        key=lambda kv: (rules.types[kv[0]].priority, kv[0]),
    )
    cleaned = [
        f"CASE WHEN {value} = '' OR {blocked_sql(rules, kind, value)} THEN NULL "
        f"ELSE concat('{kind}:', {value}) END AS id{i}"
        for i, (kind, value) in enumerate(ids)
    ]
    present = " + ".join(f"CAST(id{i} IS NOT NULL AS INT)" for i in range(len(ids)))
    anchor = f"coalesce({', '.join(f'id{i}' for i in range(len(ids)))})"
    others = ", ".join(f"id{i}" for i in range(len(ids)))
    return (
        df.selectExpr(f"{source} AS source", f"{seen_at} AS seen_at", *cleaned)
        .where(f"{present} >= 2")
        .selectExpr(
            "source", "seen_at", f"{anchor} AS anchor", f"explode(array({others})) AS other"
        )
        .where("other IS NOT NULL AND other <> anchor")
        .selectExpr(
            "least(anchor, other) AS a_key", "greatest(anchor, other) AS b_key", "source", "seen_at"
        )
    )


def links(tables: dict, rules: Rules):
    """Links of all silver tables (name -> DataFrame), aggregated per pair and source:
    ``a_key, b_key, source, first_seen_at, last_seen_at, records``; None without any.
    Links of untrusted sources are kept here as evidence; ``pairs`` leaves them out."""
    union = union_all(
        [record_links(name, df, rules) for name, df in tables.items() if name in SIGHTINGS]
    )
    if union is None:
        return None
    return union.groupBy("a_key", "b_key", "source").agg(
        F.min("seen_at").alias("first_seen_at"),
        F.max("seen_at").alias("last_seen_at"),
        F.count("*").alias("records"),
    )


#: the columns of a pair the graph uses, from ``pairs`` through ``weak_links``
PAIR_COLUMNS = ["a_key", "b_key", "records", "first_seen_at", "last_seen_at"]


def _kind(key_column: str) -> str:
    return f"substring_index({key_column}, ':', 1)"


def _trusted(rules: Rules) -> str:
    if not rules.untrusted_sources:
        return "TRUE"
    return f"source NOT IN ({', '.join(sql_string(s) for s in rules.untrusted_sources)})"


def _classified(link_rows, rules: Rules):
    """Per pair: records, first and last sighting, whether a trusted source saw it, and the
    number of distinct partners each end has in untrusted sources."""
    per_pair = link_rows.groupBy("a_key", "b_key").agg(
        F.sum("records").alias("records"),
        F.min("first_seen_at").alias("first_seen_at"),
        F.max("last_seen_at").alias("last_seen_at"),
        F.max(F.expr(f"CAST({_trusted(rules)} AS INT)")).alias("trusted"),
        F.max(F.expr(f"CAST(NOT ({_trusted(rules)}) AS INT)")).alias("untrusted"),
        F.expr("array_join(array_sort(collect_set(source)), ', ')").alias("sources"),
    )
    in_untrusted = per_pair.where("untrusted = 1")
    degree = (
        in_untrusted.selectExpr("a_key AS key")
        .unionByName(in_untrusted.selectExpr("b_key AS key"))
        .groupBy("key")
        .count()
    )
    return per_pair.join(
        degree.selectExpr("key AS a_key", "count AS a_partners"), "a_key", "left"
    ).join(degree.selectExpr("key AS b_key", "count AS b_partners"), "b_key", "left")


def pairs(link_rows, rules: Rules):
    """Pairs the graph may use (``a_key, b_key, records, first_seen_at, last_seen_at``): seen
    in a trusted source, or exclusive in the untrusted ones (each end seen there with no other
    identifier: a customer claiming their own coupons, not a clerk claiming for many)."""
    return (
        _classified(link_rows, rules)
        .where("trusted = 1 OR (a_partners = 1 AND b_partners = 1)")
        .select(*PAIR_COLUMNS)
    )


def untrusted_pairs(link_rows, rules: Rules):
    """Pairs left out: seen only in untrusted sources, with an end that has other partners
    there (``a_key, b_key, sources, a_partners, b_partners``)."""
    return (
        _classified(link_rows, rules)
        .where("trusted = 0 AND NOT (a_partners = 1 AND b_partners = 1)")
        .select("a_key", "b_key", "sources", "a_partners", "b_partners")
    )


def hubs(pair_rows, rules: Rules):
    """Identifiers seen with more distinct identifiers of one type than that type's
    ``hub_limit``: ``key, identifier_type, neighbour_type, neighbours``."""
    both_ways = pair_rows.selectExpr("a_key AS key", "b_key AS neighbour").unionByName(
        pair_rows.selectExpr("b_key AS key", "a_key AS neighbour")
    )
    counts = (
        both_ways.selectExpr("key", f"{_kind('neighbour')} AS neighbour_type")
        .groupBy("key", "neighbour_type")
        .agg(F.count("*").alias("neighbours"))
    )
    limit = _kind_case(rules, "neighbour_type", "hub_limit")
    return counts.where(f"neighbours > {limit}").selectExpr(
        "key", f"{_kind('key')} AS identifier_type", "neighbour_type", "neighbours"
    )


def without_hubs(pair_rows, hub_keys):
    """Pairs touching no hub. The hub list is small, so it stays on the build (left) side."""
    marked = hub_keys.selectExpr("key AS hub")
    kept = marked.join(pair_rows, F.col("hub") == F.col("a_key"), "right").where("hub IS NULL")
    kept = kept.drop("hub")
    return (
        marked.join(kept, F.col("hub") == F.col("b_key"), "right").where("hub IS NULL").drop("hub")
    )


def _days(column: str) -> str:
    return f"CAST(CAST({column} AS DATE) AS STRING)"


def _reassignable_ends(pair_rows, rules: Rules):
    """Pairs between two joining identifiers, once per end of a reassignable type:
    ``a_key, b_key, key, other, first_seen_at, last_seen_at, gap_days``."""
    joins = [f"{_kind_case(rules, _kind(end), 'joins')} = 1" for end in ("a_key", "b_key")]
    strong = pair_rows.where(" AND ".join(joins))
    kinds = ", ".join(sql_string(k) for k in rules.reassignment)
    gaps = " ".join(
        f"WHEN {sql_string(k)} THEN {r.gap_days}" for k, r in rules.reassignment.items()
    )
    both_ways = strong.selectExpr(
        "a_key", "b_key", "a_key AS key", "b_key AS other", "first_seen_at", "last_seen_at"
    ).unionByName(
        strong.selectExpr(
            "a_key", "b_key", "b_key AS key", "a_key AS other", "first_seen_at", "last_seen_at"
        )
    )
    return both_ways.where(f"{_kind('key')} IN ({kinds})").selectExpr(
        "*", f"CASE {_kind('key')} {gaps} END AS gap_days"
    )


def _reassignment_detail() -> str:
    """SQL: why a link was cut, e.g. ``phone reassigned: earlier owner's period
    2023-01-05..2024-03-01, next from 2025-02-10, gap 346 days > 180``."""
    gap = "datediff(CAST(next_from AS DATE), CAST(period_to AS DATE))"
    reassigned = sql_string(" reassigned: earlier owner's period ")
    return (
        f"concat(identifier_type, {reassigned}, {_days('period_from')}, '..', "
        f"{_days('period_to')}, ', next from ', {_days('next_from')}, ', gap ', {gap}, "
        "' days > ', gap_days)"
    )


def _periods(ends):
    """Number each reassignable identifier's links into periods: sorted by first sighting, a
    link seen first more than ``gap_days`` (calendar days, UTC) after the last sighting of
    every earlier link starts a new period. Adds ``period`` (0, 1, ...)."""
    order = Window.partitionBy("key").orderBy("first_seen_at", "other")
    earlier = order.rowsBetween(Window.unboundedPreceding, -1)
    so_far = order.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    starts = ends.withColumn("seen_before", F.max("last_seen_at").over(earlier)).withColumn(
        "starts",
        F.expr(
            "CAST(coalesce(datediff(CAST(first_seen_at AS DATE), "
            "CAST(seen_before AS DATE)) > gap_days, FALSE) AS INT)"
        ),
    )
    return starts.withColumn("period", F.sum("starts").over(so_far)).drop("seen_before", "starts")


def reassignment_cuts(pair_rows, rules: Rules):
    """Links cut by the ``reassignment`` rule: ``a_key, b_key, identifier_type, detail``.

    A reassignable identifier (a phone number passed to a new owner) whose links to other
    joining identifiers fall into two or more periods keeps the links of its latest period
    (the current owner keeps the number); its links to earlier periods' identifiers are cut,
    so two owners are never joined through it. Links to weak identifiers are not considered.
    """
    if not rules.reassignment:
        return pair_rows.where("FALSE").selectExpr(
            "a_key",
            "b_key",
            "CAST(NULL AS STRING) AS identifier_type",
            "CAST(NULL AS STRING) AS detail",
        )
    numbered = _periods(_reassignable_ends(pair_rows, rules))
    per_period = numbered.groupBy("key", "period").agg(
        F.min("first_seen_at").alias("period_from"), F.max("last_seen_at").alias("period_to")
    )
    by_period = Window.partitionBy("key").orderBy("period")
    spans = (
        per_period.withColumn("next_from", F.lead("period_from").over(by_period))
        .withColumn("latest", F.max("period").over(Window.partitionBy("key")))
        .where("period < latest")
    )
    cut = (
        numbered.join(spans, ["key", "period"])
        .selectExpr(
            "a_key",
            "b_key",
            f"{_kind('key')} AS identifier_type",
            "gap_days",
            "period_from",
            "period_to",
            "next_from",
        )
        .selectExpr("a_key", "b_key", "identifier_type", f"{_reassignment_detail()} AS detail")
    )
    # A pair of two reassignable identifiers can be cut from both ends: keep one reason.
    once = Window.partitionBy("a_key", "b_key").orderBy("identifier_type", "detail")
    return cut.withColumn("rank", F.row_number().over(once)).where("rank = 1").drop("rank")


def without_links(pair_rows, cut_rows):
    """Pairs not among ``cut_rows`` (``a_key, b_key``); the cut list stays on the build side."""
    marked = cut_rows.selectExpr("a_key", "b_key", "TRUE AS is_cut")
    return (
        marked.join(pair_rows, ["a_key", "b_key"], "right")
        .where("is_cut IS NULL")
        .select(*pair_rows.columns)
    )


def weak_links(pair_rows, rules: Rules):
    """Split pairs into (kept, cut). Every pair between joining identifiers is kept. A weak
    identifier keeps one link, its best (stronger type, more records, more recent, smaller
    key): to a joining identifier if it has any; otherwise, when ``weak_relays`` is on, to a
    weak *relay*: a weak identifier seen with at most one identifier of each joining type (a
    phone's own device id relays its cookies to its owner; a family tablet used by two
    logged-in members relays nothing, but one used by a single logged-in member relays the
    whole family's cookies to that member, which is why it is off by default)."""
    flagged = pair_rows.selectExpr(
        "*",
        f"{_kind_case(rules, _kind('a_key'), 'joins')} = 1 AS a_joins",
        f"{_kind_case(rules, _kind('b_key'), 'joins')} = 1 AS b_joins",
    )
    strong = flagged.where("a_joins AND b_joins")
    weak = flagged.where("NOT (a_joins AND b_joins)")
    ends = (
        weak.selectExpr(
            "a_key",
            "b_key",
            "a_key AS weak",
            "b_key AS other",
            "b_joins AS other_joins",
            "a_joins AS weak_joins",
            "records",
            "last_seen_at",
        )
        .unionByName(
            weak.selectExpr(
                "a_key",
                "b_key",
                "b_key AS weak",
                "a_key AS other",
                "a_joins AS other_joins",
                "b_joins AS weak_joins",
                "records",
                "last_seen_at",
            )
        )
        .where("NOT weak_joins")
    )
    # Per weak node with joining neighbours: the most identifiers of one joining type it has.
    anchored = (
        ends.where("other_joins")
        .selectExpr("weak", f"{_kind('other')} AS kind")
        .groupBy("weak", "kind")
        .count()
        .groupBy("weak")
        .agg(F.max("count").alias("most_of_a_type"))
    )
    candidates = (
        anchored.selectExpr("weak", "TRUE AS anchored")
        .join(ends, "weak", "right")
        .join(anchored.selectExpr("weak AS other", "most_of_a_type AS other_most"), "other", "left")
        .where(
            "CASE WHEN anchored THEN other_joins "
            f"ELSE {'other_most <= 1' if rules.weak_relays else 'FALSE'} END"
        )
    )
    order = Window.partitionBy("weak").orderBy(
        F.expr(_kind_case(rules, _kind("other"), "priority")),
        F.col("records").desc(),
        F.col("last_seen_at").desc(),
        F.col("other"),
    )
    best = (
        candidates.withColumn("rank", F.row_number().over(order))
        .where("rank = 1")
        .select("a_key", "b_key")
        .distinct()
        .withColumn("best", F.lit(True))
    )
    marked = best.join(weak, ["a_key", "b_key"], "right")
    kept = union_all([strong.select(*PAIR_COLUMNS), marked.where("best").select(*PAIR_COLUMNS)])
    cut = marked.where("best IS NULL").selectExpr(
        *PAIR_COLUMNS,
        "CASE WHEN a_joins OR b_joins THEN 'a weak identifier keeps only its best link'"
        " ELSE 'links two weak identifiers' END AS detail",
    )
    return kept, cut


def graph_edges(kept_pairs, node_keys):
    """What the connected-components engines solve: kept pairs plus a self loop per node, so
    identifiers without links still become (single-identifier) people."""
    return kept_pairs.selectExpr("a_key AS src", "b_key AS dst").unionByName(
        node_keys.selectExpr("key AS src", "key AS dst")
    )
