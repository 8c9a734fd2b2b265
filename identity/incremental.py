"""Incremental OneID: re-solve only the people whose silver records changed since the last run.

``identity.changed`` finds the changed records in the Delta log, keeps as *changed* only the
identifiers whose records can change the result (new identifiers, new pairs or sources, lost
records, re-sightings a rule reads the counts or dates of), and the region around them: the
touched identifiers (whose OneIDs are recomputed) and their context (whose every
silver record is read). The records of the context go through the same stages as a full run
(``identity.solve_records``: links, rules, components, limits), so merges, splits and
the reassignment rule behave as they do there. Stable ids come from the same rules
(``identity.oneid``) over the touched people only: every identifier of a previous OneID in
the region is in it, so each id goes where a full run would send it; ids issued anywhere
before stay taken.

A component of the re-solve that reaches an identifier of a person outside the region (two
people joined by a new record, or limits rebuilt over a component the region only half
covered) widens the region by that person, and the region is solved again.

The identity tables change in the touched rows only: the map's rows of the touched
identifiers, the links, rejected identifiers and cut links that touch them, the links only
re-sighted (their counts and dates), and the golden records of the touched people and of
everyone else a changed record holds. Each table takes one MERGE on the engine, or, when
more than ``REWRITE_SHARE`` of its rows change, one rewrite (the same rows). Rule effects are counted over the whole
(updated) rejected and cut-link tables, as a full run counts them.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from cdp import local_duckdb
from cdp.lakehouse import Lakehouse, Table
from cdp.tables import GOLDEN_RECORDS, GOLDEN_RECORDS_SCHEMA, IDENTITY_LINKS_SCHEMA
from cdp.tables import IDENTITY_MAP_SCHEMA as MAP_SCHEMA
from identity import golden
from identity.changed import Changes, HistoryGone, Region
from identity.resolve import (
    CHANGES,
    CUT_LINKS,
    CUT_SCHEMA,
    LINKS,
    MAP,
    REJECTED,
    REJECTED_SCHEMA,
    RULE_EFFECTS,
    STAGING,
    IdentityOutcome,
    _cut_links,
    _effects,
    _map_table,
    _previous_map,
    _rejected,
    _retired,
    assign_ids,
    change_counts,
    solve_records,
)
from identity.rules import Rules
from spark_jobs.silver.identifiers import SIGHTINGS, identifiers_seen

#: attempts at a region its own components do not leave before a full run takes over
MAX_WIDENINGS = 3
#: beyond this share of the previous map's identifiers, a full run is the cheaper one (on a
#: map of ``SMALL_MAP`` identifiers or fewer either is quick: the incremental run is kept)
MAX_TOUCHED_SHARE = 0.5
SMALL_MAP = 100_000
#: beyond this share of a table's rows upserted or deleted, one rewrite of the table is
#: quicker than a MERGE on the engine (which stages the rows, then joins and rewrites every
#: file they touch: at a few percent, most files). On day 31 of 100,000 customers x 30 days
#: the five writes took 25 s as MERGEs and 10 s as rewrites (load average 12); where the two
#: cross below that day's shares was not measured, so the threshold errs towards rewriting
REWRITE_SHARE = 0.02


def why_full(lakehouse: Lakehouse, rules: Rules, last: dict | None) -> str | None:
    """Why this run must re-solve everything (a sentence), or None when it can build on the
    last run."""
    if last is None or not lakehouse.exists(MAP):
        return "no previous run"
    previous = json.loads(last["inputs"])
    if previous["rules"] != json.loads(json.dumps(rules.model_dump(mode="json"))):
        return "the rules changed"
    return None


def resolve_touched(
    spark, lakehouse: Lakehouse, rules: Rules, engine, embedded_max_edges, run_id, versions, say
) -> IdentityOutcome | None:
    """Re-solve the people touched by the silver records changed since ``versions`` (silver
    table -> version at the last run) and write their rows. None when a full run is needed
    instead (the history is gone, or the changes reach most people)."""
    previous = _previous_map(lakehouse)
    changes = Changes(lakehouse, previous)
    try:
        sighted = changes.find_changed(versions)
    except HistoryGone as gone:
        say(f"identity: {gone}; re-solving everything")
        return None
    if sighted == 0:
        say("identity: no silver record changed")
        return _unchanged(lakehouse, changes, run_id)
    changed = changes.narrow(spark, rules, f"{STAGING}/changed")
    say(
        f"identity: {sighted:,} identifiers in changed silver records; {changed:,} of them "
        f"change the graph, {changes.resighted_count():,} links only re-sighted"
    )
    solved = None
    if changed:
        solved = _solve_region(spark, lakehouse, rules, engine, embedded_max_edges, changes, say)
        if solved is None:
            return None
    region, result = solved or (None, None)
    touched = region.touched if region is not None else pa.table({"key": pa.array([], pa.string())})
    keys = touched.column("key")
    before = previous.filter(pc.is_in(previous.column("node"), keys))
    ids = None
    if result is not None:
        assignment = result.assignment.filter(pc.is_in(result.assignment.column("node"), keys))
        taken = _retired(lakehouse) | frozenset(previous.column("one_id").to_pylist())
        ids = assign_ids(assignment, before, taken, run_id)
    say(f"identity: writing the rows of {touched.num_rows:,} touched identifiers")
    people = _write_touched(spark, lakehouse, rules, changes, touched, result, ids, before, run_id)
    identifiers, all_people = changes.people_of_map()
    rejected, cut = (
        lakehouse.to_arrow(t, ["rule", "identifier_type"]) for t in (REJECTED, CUT_LINKS)
    )
    effects = _effects(rejected, cut, run_id)
    lakehouse.append_arrow(effects, RULE_EFFECTS)
    return IdentityOutcome(
        run_id,
        result.engine if result is not None else "none",
        identifiers,
        lakehouse.count(LINKS),
        all_people,
        result.rounds if result is not None else None,
        effects.to_pylist(),
        change_counts(ids.changes) if ids is not None else {},
        ids.changed if ids is not None else False,
        mode="incremental",
        touched_identifiers=touched.num_rows,
        touched_people=people,
    )


def _unchanged(lakehouse: Lakehouse, changes: Changes, run_id: str) -> IdentityOutcome:
    """The outcome of a run whose silver versions moved without a record changing (a table
    rewritten as it was): nothing to re-solve or write."""
    identifiers, people = changes.people_of_map()
    return IdentityOutcome(
        run_id,
        "none",
        identifiers,
        lakehouse.count(LINKS),
        people,
        None,
        map_written=False,
        mode="incremental",
        touched_identifiers=0,
        touched_people=0,
    )


def _solve_region(spark, lakehouse, rules, engine, embedded_max_edges, changes: Changes, say):
    """The region and its solved records, widened until no component leaves it; None when
    it grows past ``MAX_TOUCHED_SHARE`` of the map or does not settle."""
    mapped = changes.con.sql("SELECT count(*) FROM prev").fetchone()[0]
    extra = None
    for _ in range(MAX_WIDENINGS):
        region = changes.region(extra)
        if mapped > SMALL_MAP and region.touched.num_rows > MAX_TOUCHED_SHARE * mapped:
            return None
        say(
            f"identity: re-solving {region.touched.num_rows:,} touched identifiers "
            f"({region.context.num_rows:,} with their neighbours)"
        )
        lakehouse.drop_staging(STAGING)
        identifiers, sightings = _region_records(spark, lakehouse, changes)
        result = solve_records(
            spark, lakehouse, rules, engine, embedded_max_edges, identifiers, sightings, say
        )
        outside = _reached_outside(changes.con, region, result.labels)
        if outside.num_rows == 0:
            return _with_reached(region, changes.con, result.labels), result
        say(f"identity: {outside.num_rows:,} identifiers of other people reached; widening")
        extra = outside if extra is None else pa.concat_tables([extra, outside])
    return None


def _region_records(spark, lakehouse: Lakehouse, changes: Changes):
    """The silver records of the region's context, staged for the engine, and the
    identifiers they carry (as ``silver.identifiers`` would hold them)."""
    sightings = {}
    for name in SIGHTINGS:
        table = Table("silver", name)
        if lakehouse.exists(table):
            rows = changes.records(table)
            sightings[name] = lakehouse.stage_arrow(spark, rows, f"{STAGING}/silver/{name}")
    identifiers = lakehouse.stage(
        spark, identifiers_seen(sightings), f"{STAGING}/silver/identifiers"
    )
    return identifiers, sightings


def _reached_outside(con, region: Region, labels: pa.Table) -> pa.Table:
    """Identifiers outside the region in a component of a touched identifier that either
    belonged to someone (their person must be re-solved too) or whose records were not all
    read (outside the context)."""
    con.register("labels", labels)
    con.register("region_touched", region.touched)
    con.register("region_context", region.context)
    return con.sql("""
        WITH reached AS (
            SELECT node AS key FROM labels
            SEMI JOIN (SELECT component FROM labels SEMI JOIN region_touched ON node = key) c
                USING (component)
            ANTI JOIN region_touched r ON labels.node = r.key)
        SELECT key FROM reached SEMI JOIN prev ON node = key
        UNION SELECT key FROM reached ANTI JOIN region_context USING (key)""").to_arrow_table()


def _with_reached(region: Region, con, labels: pa.Table) -> Region:
    """The region with the identifiers its components reached that belonged to nobody (a
    hub that is one no more, say): their rows are touched too."""
    reached = con.sql("""
        SELECT node AS key FROM labels
        SEMI JOIN (SELECT component FROM labels SEMI JOIN region_touched ON node = key) c
            USING (component)
        UNION SELECT key FROM region_touched ORDER BY key""").to_arrow_table()
    return Region(region.changed, reached, region.context)


def _write_touched(
    spark, lakehouse, rules, changes: Changes, touched: pa.Table, result, ids, before, run_id
) -> int:
    """Every identity table's touched rows, the re-sighted links and the golden records of
    everyone a changed record holds, and the changes appended; returns the people the
    touched identifiers now form. Without a re-solve (``result`` None) only the re-sighted
    links and the golden records move."""
    con = changes.con
    con.register("region_final", touched)
    con.execute("CREATE OR REPLACE TEMP TABLE touched AS SELECT key FROM region_final")
    keys = touched.column("key")
    either_end = "a_key IN (SELECT key FROM touched) OR b_key IN (SELECT key FROM touched)"
    identifier = "identifier_type || ':' || identifier_value IN (SELECT key FROM touched)"

    resighted = changes.resighted_outside(touched)
    con.register("resighted_keys", resighted.select(["a_key", "b_key", "source"]))
    new_links = [resighted]
    if result is not None and result.found.links is not None:
        new_links.insert(0, _touching(lakehouse.read_staged(f"{STAGING}/links"), keys))
    if result is not None or resighted.num_rows:
        replace_rows(
            spark,
            lakehouse,
            LINKS,
            IDENTITY_LINKS_SCHEMA,
            pa.concat_tables(
                [
                    t.select(IDENTITY_LINKS_SCHEMA.names).cast(IDENTITY_LINKS_SCHEMA)
                    for t in new_links
                ]
            ),
            changes.previous_rows(
                LINKS,
                f"({either_end}) OR (a_key, b_key, source) IN (SELECT * FROM resighted_keys)",
            ),
            ["a_key", "b_key", "source"],
        )
    new_map = _map_table(
        ids.mapping
        if ids is not None
        else pa.table({"node": pa.array([], pa.string()), "one_id": pa.array([], pa.string())}),
        run_id,
    )
    if result is not None:
        _write_solved(
            spark, lakehouse, rules, changes, result, new_map, keys, identifier, either_end
        )
    _write_golden(spark, lakehouse, changes, ids, before, new_map)
    if ids is not None and ids.changes.num_rows:
        lakehouse.append_arrow(ids.changes, CHANGES)
    return len(pc.unique(ids.mapping.column("one_id"))) if ids is not None else 0


def _write_solved(spark, lakehouse, rules, changes, result, new_map, keys, identifier, either_end):
    """The map, rejected identifiers and cut links of the touched identifiers."""
    replace_rows(
        spark,
        lakehouse,
        MAP,
        MAP_SCHEMA,
        new_map,
        changes.previous_rows(MAP, identifier),
        ["identifier_type", "identifier_value"],
        compare=["identifier_type", "identifier_value", "one_id"],
    )
    rejected = _rejected(result.found.nodes, result.pruned.hubs)
    rejected_keys = pc.binary_join_element_wise(
        rejected.column("identifier_type"), rejected.column("identifier_value"), ":"
    )
    replace_rows(
        spark,
        lakehouse,
        REJECTED,
        REJECTED_SCHEMA,
        rejected.filter(pc.is_in(rejected_keys, keys)),
        changes.previous_rows(REJECTED, identifier),
        ["identifier_type", "identifier_value", "rule"],
    )
    cut = _cut_links(lakehouse, rules, result.pruned.has_links, result.limit_cuts)
    replace_rows(
        spark,
        lakehouse,
        CUT_LINKS,
        CUT_SCHEMA,
        _touching(cut, keys),
        changes.previous_rows(CUT_LINKS, either_end),
        ["a_key", "b_key", "rule"],
    )


def _write_golden(spark, lakehouse, changes: Changes, ids, before, new_map) -> None:
    """The golden records of the touched people (old ids and new) and of every other person
    a changed record holds an identifier of (their map rows as they are)."""
    con = changes.con
    one_ids = [before.column("one_id")]
    if ids is not None:
        one_ids.append(ids.mapping.column("one_id"))
    touched_ids = pc.unique(pa.chunked_array([c for a in one_ids for c in a.chunks], pa.string()))
    con.register("golden_touched", pa.table({"key": touched_ids}))
    con.register("golden_sighted", changes.golden_people())
    con.execute("""
        CREATE OR REPLACE TEMP TABLE golden_ids AS
        SELECT key FROM golden_touched UNION SELECT key FROM golden_sighted""")
    untouched = changes.previous_rows(
        MAP,
        "one_id IN (SELECT key FROM golden_sighted) AND one_id NOT IN (SELECT key FROM "
        "golden_touched) AND identifier_type || ':' || identifier_value NOT IN "
        "(SELECT key FROM touched)",
    )
    people = [new_map.drop_columns(["run_id"])]
    if untouched is not None:
        people.append(untouched.select(["identifier_type", "identifier_value", "one_id"]))
    replace_rows(
        spark,
        lakehouse,
        GOLDEN_RECORDS,
        GOLDEN_RECORDS_SCHEMA,
        golden.records_of(lakehouse, pa.concat_tables([p.cast(people[0].schema) for p in people])),
        changes.previous_rows(GOLDEN_RECORDS, "one_id IN (SELECT key FROM golden_ids)"),
        ["one_id"],
    )


def _touching(links: pa.Table, touched: pa.ChunkedArray) -> pa.Table:
    """Rows of ``links`` with an end among the ``touched`` keys."""
    return links.filter(
        pc.or_(pc.is_in(links.column("a_key"), touched), pc.is_in(links.column("b_key"), touched))
    )


def replace_rows(
    spark,
    lakehouse: Lakehouse,
    table: Table,
    schema: pa.Schema,
    new: pa.Table,
    previous: pa.Table | None,
    keys: list[str],
    compare: list[str] | None = None,
) -> int:
    """Make the rows of ``table`` that were ``previous`` into ``new`` in one MERGE on the
    engine: rows of ``new`` not already there (same ``compare`` columns; all by default)
    upserted by ``keys``, keys of ``previous`` that ``new`` lacks deleted. Returns the rows
    upserted or deleted; a table that does not exist yet is created with ``new``.

    On the engine because delta-rs's MERGE writes strings as Arrow string views, which the
    engine cannot read back."""
    new = new.select(schema.names).cast(schema)
    if previous is None:
        lakehouse.overwrite_arrow(new, table)
        return new.num_rows
    con = local_duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("new_rows", new)
    con.register("old_rows", previous.select(schema.names).cast(schema))
    same = " AND ".join(f'n."{c}" IS NOT DISTINCT FROM o."{c}"' for c in compare or schema.names)
    on_keys = " AND ".join(f'n."{c}" = o."{c}"' for c in keys)
    upserts = con.sql(f"SELECT n.* FROM new_rows n ANTI JOIN old_rows o ON {same}").to_arrow_table()
    gone = con.sql(f"SELECT o.* FROM old_rows o ANTI JOIN new_rows n ON {on_keys}").to_arrow_table()
    if not (upserts.num_rows or gone.num_rows):
        return 0
    if upserts.num_rows + gone.num_rows > REWRITE_SHARE * lakehouse.count(table):
        _rewrite(lakehouse, table, schema, upserts, gone, keys)
        return upserts.num_rows + gone.num_rows
    source = pa.concat_tables(
        [
            upserts.cast(schema).append_column("_delete", pa.repeat(False, upserts.num_rows)),
            gone.cast(schema).append_column("_delete", pa.repeat(True, gone.num_rows)),
        ]
    )
    name = f"{STAGING}/merge/{table.name}"
    view = f"identity_merge_{table.name}"
    lakehouse.stage_arrow(spark, source, name).createOrReplaceTempView(view)
    spark.sql(_merge_sql(lakehouse.uri(table), view, schema.names, keys))
    return source.num_rows


def _rewrite(lakehouse, table: Table, schema: pa.Schema, upserts, gone, keys: list[str]) -> None:
    """Rewrite ``table`` whole with the rows a MERGE of ``upserts`` and ``gone`` leaves."""
    con = local_duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("current_rows", lakehouse.to_arrow(table).select(schema.names).cast(schema))
    con.register("upserts", upserts.cast(schema))
    con.register("gone", gone.cast(schema))
    picked = ", ".join(f'"{c}"' for c in keys)
    on_keys = " AND ".join(f'c."{k}" = s."{k}"' for k in keys)
    rows = con.sql(f"""
        SELECT c.* FROM current_rows c
        ANTI JOIN (SELECT {picked} FROM upserts UNION ALL SELECT {picked} FROM gone) s
            ON {on_keys}
        UNION ALL SELECT * FROM upserts""").to_arrow_table()
    lakehouse.overwrite_arrow(rows.cast(schema), table)


def _merge_sql(uri: str, view: str, columns: list[str], keys: list[str]) -> str:
    """MERGE of ``view`` (``columns`` and ``_delete``) into the Delta table at ``uri``."""
    on = " AND ".join(f"t.`{c}` = s.`{c}`" for c in keys)
    update = ", ".join(f"t.`{c}` = s.`{c}`" for c in columns)
    names = ", ".join(f"`{c}`" for c in columns)
    values = ", ".join(f"s.`{c}`" for c in columns)
    return (
        f"MERGE INTO delta.`{uri}` AS t USING {view} AS s ON {on} "
        "WHEN MATCHED AND s._delete THEN DELETE "
        f"WHEN MATCHED THEN UPDATE SET {update} "
        f"WHEN NOT MATCHED AND NOT s._delete THEN INSERT ({names}) VALUES ({values})"
    )
