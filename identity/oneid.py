"""Stable OneIDs: this run's components -> OneIDs, keeping the ids of the previous map.

Rules (documented in docs/identity.md):
- Every previous OneID goes to the one new component holding most of its identifiers (ties:
  the smaller component key). A component keeps the OneID it received.
- Merge: a component that received several OneIDs keeps the one with most of its identifiers
  (ties: the smaller OneID); the others are recorded as merged into it.
- Split: a component holding identifiers of an earlier OneID that went elsewhere gets a new id;
  the split is recorded from the OneID it held most identifiers of.
- New ids are ``O`` + 15 hex digits of the MD5 of the component's smallest key, so the same
  data always gives the same ids; an id already issued (now or before) is never reused: the
  key is then salted with ``#1``, ``#2``... until the id is free.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

from cdp import local_duckdb
from cdp.tables import IDENTITY_CHANGES_SCHEMA

#: the changes one run computes: the catalogue's identity_changes before the run id is stamped
CHANGES_SCHEMA = IDENTITY_CHANGES_SCHEMA.remove(IDENTITY_CHANGES_SCHEMA.get_field_index("run_id"))


def new_id(key: str, salt: int = 0) -> str:
    text = key if salt == 0 else f"{key}#{salt}"
    return "O" + hashlib.md5(text.encode()).hexdigest()[:15].upper()


def assign(
    assignment: pa.Table, previous: pa.Table | None, retired: frozenset[str] = frozenset()
) -> tuple[pa.Table, pa.Table]:
    """``assignment`` (node, component) + ``previous`` (node, one_id) ->
    (``node, one_id`` map, changes). ``retired`` are ids issued earlier and merged away."""
    if previous is None:
        previous = pa.table(
            {"node": pa.array([], pa.string()), "one_id": pa.array([], pa.string())}
        )
    con = local_duckdb.connect()
    con.register("cur", assignment)
    con.register("prev", previous)
    con.execute("""
        CREATE TEMP TABLE held AS
        SELECT c.component, p.one_id, count(*) AS n
        FROM cur c JOIN prev p USING (node) GROUP BY ALL""")
    # heir: the component each previous OneID goes to
    con.execute("""
        CREATE TEMP TABLE heir AS
        SELECT one_id, component, n FROM held
        QUALIFY row_number() OVER (PARTITION BY one_id ORDER BY n DESC, component) = 1""")
    kept = con.execute("""
        SELECT component, one_id,
               row_number() OVER (PARTITION BY component ORDER BY n DESC, one_id) AS rank, n
        FROM heir""").to_arrow_table()
    con.register("kept", kept)
    survivors = con.execute("SELECT component, one_id FROM kept WHERE rank = 1").to_arrow_table()
    merges = con.execute("""
        SELECT 'merge' AS change, k.one_id, s.one_id AS into_one_id, k.n AS identifiers,
               'linked to ' || s.one_id || ' by new records or relaxed rules' AS reason
        FROM kept k JOIN kept s ON s.component = k.component AND s.rank = 1
        WHERE k.rank > 1 ORDER BY k.one_id""").to_arrow_table()
    orphans = con.execute("""
        WITH held_best AS (
            SELECT component, one_id AS split_from, n FROM held
            QUALIFY row_number() OVER (PARTITION BY component ORDER BY n DESC, one_id) = 1)
        SELECT c.component, 'O' || upper(substr(md5(c.component), 1, 15)) AS one_id,
               b.split_from, b.n
        FROM (SELECT DISTINCT component FROM cur) c
        ANTI JOIN kept k ON k.component = c.component
        LEFT JOIN held_best b ON b.component = c.component
        ORDER BY c.component""").to_arrow_table()
    fresh = _unique_ids(orphans, set(previous.column("one_id").unique().to_pylist()) | retired)
    splits = [
        ("split", f, i, n, f"split from {f}: links removed by new data or rules")
        for f, i, n in zip(
            orphans.column("split_from").to_pylist(), fresh, orphans.column("n").to_pylist()
        )
        if f is not None
    ]
    ids = pa.concat_tables(
        [
            survivors,
            pa.table(
                {"component": orphans.column("component"), "one_id": pa.array(fresh, pa.string())}
            ),
        ]
    )
    con.register("ids", ids)
    mapping = con.execute("""
        SELECT c.node, i.one_id FROM cur c JOIN ids i USING (component)
        ORDER BY c.node""").to_arrow_table()
    changes = pa.concat_tables(
        [
            merges.cast(CHANGES_SCHEMA),
            pa.Table.from_pylist(
                [dict(zip(CHANGES_SCHEMA.names, s)) for s in splits], schema=CHANGES_SCHEMA
            ),
        ]
    )
    return mapping, changes


def _unique_ids(orphans: pa.Table, taken: set[str]) -> list[str]:
    """The orphans' MD5 ids, re-salted where an id is already taken (rare: only when a key
    once named another component)."""
    ids = orphans.column("one_id").to_pylist()
    if taken.isdisjoint(ids) and len(set(ids)) == len(ids):
        return ids
    result = []
    for component, one_id in zip(orphans.column("component").to_pylist(), ids):
        salt = 0
        while one_id in taken:
            salt += 1
            one_id = new_id(component, salt)
        taken.add(one_id)
        result.append(one_id)
    return result
