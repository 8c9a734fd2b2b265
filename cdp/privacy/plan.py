"""Where the rows of the people an erasure erases are, for a whole batch of requests at once.

Each table is searched once for everyone (one engine query per bronze channel and silver
table, one scan per identity table) and the rows found are then split by person: a batch of a
thousand requests costs about what one does. A person's rows: bronze lines whose mapping to
silver carries one of their keys (``rows.bronze_line_keys``), quarantined rows whose raw text
holds one of their identifiers or the raw spellings their bronze lines had, silver rows carrying
their keys (and the order lines of their orders), identity rows of their OneID or keys.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.lakehouse import Lakehouse, Table
from cdp.privacy.keys import search_terms
from cdp.tables import (
    GOLDEN_RECORDS,
    IDENTITY_CHANGES,
    IDENTITY_CUT_LINKS,
    IDENTITY_LINKS,
    IDENTITY_MAP,
    IDENTITY_REJECTED,
    QUARANTINE,
    SEGMENT_MEMBERSHIP,
    TOUCHES,
)

LINE = ("_batch_id", "_line_no")
#: the column that says whose a row found is (an index into the batch)
PERSON = "_person"
#: personal columns whose raw values are not searched for in quarantined text: common
#: values (names, birthdays, nicknames) would match strangers' rows
NOT_SEARCHED = ("name", "birthday", "buyer_nick")
#: tables whose rows of a OneID are deleted by that column
BY_ONE_ID = {
    IDENTITY_MAP: ("one_id",),
    GOLDEN_RECORDS: ("one_id",),
    IDENTITY_CHANGES: ("one_id", "into_one_id"),
    SEGMENT_MEMBERSHIP: ("one_id",),
    TOUCHES: ("one_id",),
}
#: tables whose rows are deleted by a key column holding ``<type>:<value>``
BY_KEY = {IDENTITY_LINKS: ("a_key", "b_key"), IDENTITY_CUT_LINKS: ("a_key", "b_key")}
#: tables whose rows are deleted by the typed identifier pair
BY_PAIR = (IDENTITY_MAP, IDENTITY_REJECTED)
#: terms per regular expression when quarantined text is searched (RE2 stays small)
TERMS_PER_PATTERN = 500

Plan = list[tuple[Table, pa.Table]]


def split_by_person(rows: pa.Table, people: int) -> list[pa.Table]:
    """``rows`` (with a ``PERSON`` column) as one table per person, without that column."""
    columns = [c for c in rows.column_names if c != PERSON]
    ordered = rows.sort_by(PERSON)
    persons = ordered[PERSON].to_numpy()
    starts = np.searchsorted(persons, np.arange(people), "left")
    ends = np.searchsorted(persons, np.arange(people), "right")
    return [ordered.slice(s, e - s).select(columns) for s, e in zip(starts, ends, strict=True)]


def bronze_rows(spark, lakehouse: Lakehouse, table: Table, keys_df, tz: str, cards, people: int):
    """Per person: (their lines of ``table``, raw texts of those lines' identifier columns)."""
    from cdp.privacy.rows import bronze_line_keys
    from cdp.tables import spec

    bronze = lakehouse.read(spark, table)
    lines = bronze_line_keys(table.name, bronze, tz, cards)
    empty = pa.table(
        {c: pa.array([], pa.string() if c == "_batch_id" else pa.int64()) for c in LINE}
    )
    if lines is None:
        return [empty] * people, [set() for _ in range(people)]
    doomed = lines.join(keys_df, "key").select(PERSON, *LINE).distinct()
    found = doomed.toArrow()
    searched = [c for c in spec(str(table)).personal if c not in NOT_SEARCHED]
    raw = [set() for _ in range(people)]
    if found.num_rows and searched:
        texts = bronze.join(doomed, list(LINE)).selectExpr(
            PERSON, *[f"CAST(`{c}` AS string) AS `{c}`" for c in searched]
        )
        for row in texts.toArrow().to_pylist():
            raw[row[PERSON]] |= {v for c, v in row.items() if c != PERSON and v}
    return split_by_person(found, people), raw


def silver_rows(spark, lakehouse: Lakehouse, name: str, keys_df, people: int) -> list[pa.Table]:
    """Per person: business keys of their rows of silver ``name``."""
    from cdp.privacy.rows import exploded_keys, key_exprs
    from spark_jobs.silver import SILVER_TABLES

    key = list(SILVER_TABLES[name].key)
    df = lakehouse.read(spark, Table("silver", name))
    found = exploded_keys(df, key_exprs(name), *key).join(keys_df, "key")
    return split_by_person(found.select(PERSON, *key).distinct().toArrow(), people)


def quarantine_rows(lakehouse: Lakehouse, terms: list[set[str]]) -> list[pa.Table]:
    """Per person: lines of quarantined rows whose raw text holds one of their ``terms``.
    One pass of a few regular expressions finds the rows holding any term; only those are
    then matched term by term."""
    empty = pa.table(
        {c: pa.array([], pa.string() if c == "_batch_id" else pa.int64()) for c in LINE}
    )
    everyone = sorted(set().union(*terms)) if terms else []
    if not everyone or not lakehouse.exists(QUARANTINE):
        return [empty] * len(terms)
    rows = lakehouse.to_arrow(QUARANTINE, ["raw", *LINE])
    raw = pc.fill_null(rows["raw"], "")
    hit = pa.array([False] * rows.num_rows)
    for start in range(0, len(everyone), TERMS_PER_PATTERN):
        chunk = everyone[start : start + TERMS_PER_PATTERN]
        pattern = "|".join(re.escape(t) for t in chunk)
        hit = pc.or_(hit, pc.match_substring_regex(raw, pattern))
    candidates = rows.filter(hit)
    owners = {}
    for index, person_terms in enumerate(terms):
        for term in person_terms:
            owners.setdefault(term, set()).add(index)
    found = {PERSON: [], **{c: [] for c in LINE}}
    for text, batch, line in zip(*(candidates[c].to_pylist() for c in ("raw", *LINE)), strict=True):
        whose = {i for term, people in owners.items() if term in (text or "") for i in people}
        for person in sorted(whose):
            found[PERSON].append(person)
            found["_batch_id"].append(batch)
            found["_line_no"].append(line)
    table = pa.table(
        {
            PERSON: pa.array(found[PERSON], pa.int64()),
            "_batch_id": pa.array(found["_batch_id"], pa.string()),
            "_line_no": pa.array(found["_line_no"], pa.int64()),
        }
    )
    return split_by_person(table, len(terms))


def identity_rows(lakehouse: Lakehouse, people) -> list[Plan]:
    """Per person: (table, matching values held there) of the identity and gold tables."""
    plans: list[Plan] = [[] for _ in people]
    one_ids = sorted({p.one_id for p in people if p.one_id})
    keys = sorted({k for p in people for k in p.keys})
    for table, columns in BY_ONE_ID.items():
        for column in columns if lakehouse.exists(table) and one_ids else ():
            held = set(
                lakehouse.scan(table, [column], pc.field(column).isin(one_ids))[column].to_pylist()
            )
            for plan, person in zip(plans, people, strict=True):
                values = [person.one_id] if person.one_id in held else []
                plan.append((table, pa.table({column: pa.array(values, pa.string())})))
    for table, columns in BY_KEY.items():
        for column in columns if lakehouse.exists(table) and keys else ():
            held = set(
                lakehouse.scan(table, [column], pc.field(column).isin(keys))[column].to_pylist()
            )
            for plan, person in zip(plans, people, strict=True):
                values = [k for k in person.keys if k in held]
                plan.append((table, pa.table({column: pa.array(values, pa.string())})))
    values = sorted({k.split(":", 1)[1] for k in keys})
    for table in BY_PAIR if values else ():
        if not lakehouse.exists(table):
            continue
        columns = ["identifier_type", "identifier_value"]
        found = lakehouse.scan(table, columns, pc.field("identifier_value").isin(values))
        held = set(zip(*(found[c].to_pylist() for c in columns), strict=True))
        for plan, person in zip(plans, people, strict=True):
            pairs = [tuple(k.split(":", 1)) for k in person.keys if tuple(k.split(":", 1)) in held]
            plan.append(
                (
                    table,
                    pa.table(
                        {
                            "identifier_type": pa.array([t for t, _ in pairs], pa.string()),
                            "identifier_value": pa.array([v for _, v in pairs], pa.string()),
                        }
                    ),
                )
            )
    return plans


def plan_batch(spark, lakehouse: Lakehouse, people, tz: str, cards) -> list[Plan]:
    """Per person: every (table, row keys) to delete, found before any row is deleted."""
    from cdp.privacy.rows import key_exprs
    from spark_jobs.contracts import CONTRACTS
    from spark_jobs.silver import SILVER_TABLES

    n = len(people)
    plans: list[Plan] = [[] for _ in people]
    keyed = [(i, k) for i, p in enumerate(people) for k in p.keys]
    if not keyed:
        return plans
    keys_df = spark.createDataFrame(keyed, f"{PERSON} int, key string")
    raw_texts = [set() for _ in people]
    for channel in sorted(CONTRACTS):
        table = Table("bronze", channel)
        if lakehouse.exists(table):
            lines, raw = bronze_rows(spark, lakehouse, table, keys_df, tz, cards, n)
            for i in range(n):
                plans[i].append((table, lines[i]))
                raw_texts[i] |= raw[i]
    terms = [
        (set(search_terms(p.keys)) | raw_texts[i]) if p.keys else set()
        for i, p in enumerate(people)
    ]
    for i, lines in enumerate(quarantine_rows(lakehouse, terms)):
        plans[i].append((QUARANTINE, lines))
    for name in SILVER_TABLES:
        table = Table("silver", name)
        if key_exprs(name) and lakehouse.exists(table):
            for i, rows in enumerate(silver_rows(spark, lakehouse, name, keys_df, n)):
                plans[i].append((table, rows))
    if lakehouse.exists(Table("silver", "order_items")):
        for plan in plans:
            orders = next((rows for t, rows in plan if t == Table("silver", "orders")), None)
            if orders is not None:
                plan.append((Table("silver", "order_items"), orders))
    for plan, identity in zip(plans, identity_rows(lakehouse, people), strict=True):
        plan += identity
    return [[(t, rows) for t, rows in plan if rows.num_rows] for plan in plans]
