"""The OneID step: silver -> identity graph -> components -> limits -> stable OneIDs -> tables.

Named stages, each returning its result: ``read_silver`` -> ``build_graph`` and ``prune``
(``identity.graph``, Spark) -> ``solve`` (an engine of ``identity.engines``) -> limits
(``identity.limits``), together ``solve_records`` -> ``assign_ids`` (``identity.oneid``).

A run is incremental by default (``identity.incremental``): the same stages over the silver
records of the people touched since the last run, whose rows it then merges into the identity
tables. A full run (``full``, changed rules, no previous run, or changes that reach most
people) solves all of silver and ``write_tables`` replaces the tables; a re-run without new
data writes the same map (and, finding it unchanged, does not write it at all). Golden records
are ``identity.golden``'s, in DuckDB.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import functions as F

from cdp import local_duckdb
from cdp.lakehouse import Lakehouse, Table
from cdp.tables import IDENTITY_CHANGES as CHANGES
from cdp.tables import IDENTITY_CUT_LINKS as CUT_LINKS
from cdp.tables import IDENTITY_CUT_LINKS_SCHEMA as CUT_SCHEMA
from cdp.tables import IDENTITY_LINKS as LINKS
from cdp.tables import IDENTITY_MAP as MAP
from cdp.tables import IDENTITY_REJECTED as REJECTED
from cdp.tables import IDENTITY_REJECTED_SCHEMA as REJECTED_SCHEMA
from cdp.tables import IDENTITY_RULE_EFFECTS as RULE_EFFECTS
from cdp.tables import IDENTITY_RUNS as RUNS
from cdp.tables import IDENTITY_RUNS_SCHEMA as RUNS_SCHEMA
from identity import golden, graph, limits, oneid
from identity.engines import Components, StagedEdges, choose_engine
from identity.rules import Rules
from spark_jobs.silver.identifiers import SIGHTINGS

Progress = Callable[[str], None]

STAGING = "identity"


@dataclass
class IdentityOutcome:
    run_id: str
    engine: str
    nodes: int
    links: int
    people: int
    rounds: int | None
    effects: list[dict] = field(default_factory=list)
    changes: dict[str, int] = field(default_factory=dict)
    map_written: bool = True
    #: the inputs (silver versions, rules) were those of run ``run_id``: nothing was redone
    skipped: bool = False
    #: ``full`` (all of silver re-solved) or ``incremental`` (the touched people only)
    mode: str = "full"
    #: identifiers and people re-solved (everything in a full run)
    touched_identifiers: int | None = None
    touched_people: int | None = None

    def summary(self) -> str:
        if self.skipped:
            return (
                f"OneID: silver and rules unchanged since run {self.run_id} "
                f"({self.people:,} people); nothing to do"
            )
        rounds = f" in {self.rounds} rounds" if self.rounds is not None else ""
        changes = ", ".join(f"{n} {k}s" for k, n in sorted(self.changes.items())) or "no changes"
        touched = (
            f", {self.touched_identifiers:,} identifiers of {self.touched_people:,} people "
            "re-solved"
            if self.mode == "incremental"
            else ""
        )
        return (
            f"OneID ({self.mode}, {self.engine}{rounds}): {self.nodes:,} identifiers, "
            f"{self.links:,} links -> {self.people:,} people{touched}; {changes}"
        )


def run_identity(
    spark,
    lakehouse: Lakehouse,
    rules: Rules,
    engine: str = "auto",
    embedded_max_edges: int = 500_000_000,
    progress: Progress | None = None,
    force: bool = False,
    full: bool = False,
) -> IdentityOutcome | None:
    """Resolve OneIDs from the current silver tables; None while silver has no identifiers.
    Skipped when neither silver nor the rules changed since the last run, unless ``force``
    or ``full``. Incremental (only the people whose silver records changed are re-solved,
    ``identity.incremental``) unless ``full``, the rules changed or there is no previous
    run to build on."""
    say = progress or (lambda _msg: None)
    if not lakehouse.exists(Table("silver", "identifiers")):
        say("identity: no silver identifiers yet")
        return None
    inputs = fingerprint(lakehouse, rules)
    last = _last_run(lakehouse)
    if (
        not (force or full)
        and last is not None
        and last["inputs"] == inputs
        and lakehouse.exists(MAP)
    ):
        outcome = IdentityOutcome(
            last["run_id"],
            last["engine"],
            last["identifiers"],
            last["links"],
            last["people"],
            last["rounds"],
            skipped=True,
        )
        say(outcome.summary())
        return outcome
    started = datetime.now(UTC).replace(microsecond=0)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    # Imported here: the incremental run builds on this module's stages.
    from identity import incremental

    why_full = "asked for" if full else incremental.why_full(lakehouse, rules, last)
    lakehouse.drop_staging(STAGING)
    try:
        outcome = None
        if why_full is None:
            previous = json.loads(last["inputs"])["silver"]
            outcome = incremental.resolve_touched(
                spark, lakehouse, rules, engine, embedded_max_edges, run_id, previous, say
            )
        if outcome is None:
            say(f"identity: full re-solve ({why_full or 'the changes reach most people'})")
            outcome = _resolve(spark, lakehouse, rules, engine, embedded_max_edges, run_id, say)
            say("identity: golden records")
            golden.build(lakehouse)
    finally:
        lakehouse.drop_staging(STAGING)
    _log_run(lakehouse, outcome, started, inputs)
    say(outcome.summary())
    return outcome


def fingerprint(lakehouse: Lakehouse, rules: Rules) -> str:
    """What a run's result depends on: the versions of the silver tables it reads and the
    rules. The same fingerprint means the same result, so the run can be skipped."""
    versions = {
        name: lakehouse.version(Table("silver", name))
        for name in sorted({*SIGHTINGS, "identifiers", "members", "points"})
    }
    return json.dumps({"silver": versions, "rules": rules.model_dump(mode="json")}, sort_keys=True)


def _last_run(lakehouse: Lakehouse) -> dict | None:
    if not lakehouse.exists(RUNS):
        return None
    runs = lakehouse.to_arrow(RUNS).to_pylist()
    return max(runs, key=lambda r: r["run_id"]) if runs else None


def read_silver(spark, lakehouse: Lakehouse):
    """What OneID reads from silver: ``identifiers``, and each sighting table that exists."""
    identifiers = lakehouse.read(spark, Table("silver", "identifiers"))
    sightings = {
        name: lakehouse.read(spark, Table("silver", name))
        for name in SIGHTINGS
        if lakehouse.exists(Table("silver", name))
    }
    return identifiers, sightings


Stage = Callable[[object, str], object]


@dataclass(frozen=True)
class Graph:
    """The identity graph before the rules: staged ``nodes`` and ``links`` (every pair seen
    together, per source; None when no record links two identifiers)."""

    nodes: object
    links: object | None


@dataclass(frozen=True)
class Pruned:
    """The graph after the rules: the ``edges`` the engines solve, the ``hubs`` left out, and
    whether there were links to cut at all (their cuts are staged as ``cut``,
    ``reassigned`` and ``untrusted``; the links kept as ``kept``)."""

    edges: StagedEdges
    hubs: object | None
    has_links: bool


@dataclass(frozen=True)
class Assigned:
    """Stable OneIDs: ``mapping`` (node, one_id), the merges and splits, and whether the map
    differs from the previous one."""

    mapping: pa.Table
    changes: pa.Table
    changed: bool


@dataclass(frozen=True)
class IdentityTables:
    """Everything a run writes to the identity tables (see ``write_tables``)."""

    #: the staged links, or None without any (the table then keeps its rows)
    links: object | None
    #: the map to write, or None when it is unchanged (not rewritten)
    identity_map: pa.Table | None
    changes: pa.Table
    rejected: pa.Table
    cut_links: pa.Table
    effects: pa.Table


def build_graph(identifiers, sightings: dict, rules: Rules, stage: Stage) -> Graph:
    """Nodes (every identifier, blocklisted ones flagged) and links of the silver tables."""
    nodes = stage(graph.nodes(identifiers, rules), "nodes")
    link_rows = graph.links(sightings, rules)
    return Graph(nodes, stage(link_rows, "links") if link_rows is not None else None)


def prune(
    found: Graph, rules: Rules, stage: Stage, staged_edges: Callable[[object], StagedEdges]
) -> Pruned:
    """Apply the rules that stop over-merging before components (untrusted sources, hubs,
    reassignment, weak links) and stage the edges left: kept links plus a self loop per usable
    node. ``staged_edges(df)`` stages the edges for the engines."""
    hubs = kept = None
    if found.links is not None:
        pairs = stage(graph.pairs(found.links, rules), "pairs")
        stage(graph.untrusted_pairs(found.links, rules), "untrusted")
        hubs = stage(graph.hubs(pairs, rules), "hubs")
        no_hubs = graph.without_hubs(pairs, hubs)
        # Staged before anything reads it, so its windows run once; both engines then solve
        # the edges left after it.
        reassigned = stage(graph.reassignment_cuts(no_hubs, rules), "reassigned")
        kept, cut = graph.weak_links(graph.without_links(no_hubs, reassigned), rules)
        kept = stage(kept, "kept")
        stage(cut, "cut")
    usable = found.nodes.where("NOT blocked")
    if hubs is not None:
        usable = (
            hubs.selectExpr("key AS hub")
            .distinct()
            .join(usable, F.col("hub") == F.col("key"), "right")
            .where("hub IS NULL")
            .drop("hub")
        )
    edges = (
        graph.graph_edges(kept, usable)
        if kept is not None
        else usable.selectExpr("key AS src", "key AS dst")
    )
    return Pruned(staged_edges(edges), hubs, found.links is not None)


def solve(
    edges: StagedEdges, configured: str, embedded_max_edges: int, say: Progress
) -> tuple[str, Components]:
    """Connected components of the staged edges on the configured (or, for ``auto``, the
    size-appropriate) engine: the engine's name and its labels."""
    n_edges = edges.frame.count()
    engine = choose_engine(configured, n_edges, embedded_max_edges)
    say(f"identity: connected components on {n_edges:,} edges ({engine.name} engine)")
    return engine.name, engine.components(edges, say)


def assign_ids(
    assignment: pa.Table, previous: pa.Table | None, retired: frozenset[str], run_id: str
) -> Assigned:
    """Stable OneIDs for this run's components, keeping the previous map's ids."""
    mapping, changes = oneid.assign(assignment, previous, retired)
    changed = previous is None or not previous.sort_by("node").equals(mapping)
    return Assigned(mapping, _with_run(changes, run_id), changed)


def write_tables(lakehouse: Lakehouse, tables: IdentityTables) -> None:
    """The one place a run writes the identity tables: links and the map are replaced (when
    there is something new), changes and rule effects appended, rejected identifiers and cut
    links replaced."""
    if tables.links is not None:
        lakehouse.overwrite(tables.links, LINKS)
    if tables.identity_map is not None:
        lakehouse.overwrite_arrow(tables.identity_map, MAP)
    if tables.changes.num_rows:
        lakehouse.append_arrow(tables.changes, CHANGES)
    lakehouse.overwrite_arrow(tables.rejected, REJECTED)
    lakehouse.overwrite_arrow(tables.cut_links, CUT_LINKS)
    lakehouse.append_arrow(tables.effects, RULE_EFFECTS)


@dataclass(frozen=True)
class Solved:
    """The graph of some silver records solved: the graph, its pruning, the engine used, its
    labels before the limits (``labels``), and the components within them (``assignment``)
    with the links the limits cut."""

    found: Graph
    pruned: Pruned
    engine: str
    labels: pa.Table
    rounds: int | None
    assignment: pa.Table
    limit_cuts: list


def solve_records(
    spark, lakehouse, rules, engine, embedded_max_edges, identifiers, sightings, say
) -> Solved:
    """graph -> prune -> solve -> limits of the given silver frames (all of silver in a full
    run, the records of the touched people in an incremental one), staged under ``STAGING``."""

    def stage(df, name):
        return lakehouse.stage(spark, df, f"{STAGING}/{name}")

    say("identity: nodes and links from silver")
    found = build_graph(identifiers, sightings, rules, stage)
    say("identity: rules (blocklist, untrusted sources, hubs, reassignment, weak links)")
    pruned = prune(
        found,
        rules,
        stage,
        lambda edges: StagedEdges.stage(spark, lakehouse, edges, f"{STAGING}/edges"),
    )
    chosen, solved = solve(pruned.edges, engine, embedded_max_edges, say)
    say("identity: per-person and size limits")
    assignment, limit_cuts = apply_limits(lakehouse, solved.labels, rules)
    return Solved(found, pruned, chosen, solved.labels, solved.rounds, assignment, limit_cuts)


def _resolve(spark, lakehouse, rules, engine, embedded_max_edges, run_id, say):
    """The full run: all of silver solved, then every identity table written at once."""
    solved = solve_records(
        spark, lakehouse, rules, engine, embedded_max_edges, *read_silver(spark, lakehouse), say
    )
    ids = assign_ids(solved.assignment, _previous_map(lakehouse), _retired(lakehouse), run_id)
    rejected = _rejected(solved.found.nodes, solved.pruned.hubs)
    cut_links = _cut_links(lakehouse, rules, solved.pruned.has_links, solved.limit_cuts)
    effects = _effects(rejected, cut_links, run_id)
    write_tables(
        lakehouse,
        IdentityTables(
            solved.found.links,
            _map_table(ids.mapping, run_id) if ids.changed else None,
            ids.changes,
            rejected,
            cut_links,
            effects,
        ),
    )
    return IdentityOutcome(
        run_id,
        solved.engine,
        ids.mapping.num_rows,
        lakehouse.count(LINKS),
        len(pc.unique(ids.mapping.column("one_id"))),
        solved.rounds,
        effects.to_pylist(),
        change_counts(ids.changes),
        ids.changed,
    )


def change_counts(changes: pa.Table) -> dict[str, int]:
    """Changes per kind (``{"merge": 2, "split": 1}``)."""
    if not changes.num_rows:
        return {}
    counted = changes.group_by("change").aggregate([("one_id", "count")])
    return dict(
        zip(counted.column("change").to_pylist(), counted.column("one_id_count").to_pylist())
    )


def apply_limits(lakehouse, assignment: pa.Table, rules: Rules):
    """Components within the per-person and size limits (violating ones rebuilt from their
    staged kept links, see ``identity.limits``) and the links cut doing so."""
    bad = limits.violating_components(assignment, rules)
    if bad.num_rows == 0:
        return assignment, []
    in_bad = pc.is_in(assignment.column("component"), value_set=bad.column("component"))
    nodes = assignment.filter(in_bad).column("node")
    kept = lakehouse.read_staged(f"{STAGING}/kept", ["a_key", "b_key", "records", "last_seen_at"])
    links = kept.filter(pc.is_in(kept.column("a_key"), value_set=nodes))
    outcome = limits.enforce(
        list(zip(*[c.to_pylist() for c in links.columns])), nodes.to_pylist(), rules
    )
    fixed = pa.table(
        {"node": list(outcome.reassigned), "component": list(outcome.reassigned.values())}
    )
    return pa.concat_tables([assignment.filter(pc.invert(in_bad)), fixed]), outcome.cuts


def _previous_map(lakehouse) -> pa.Table | None:
    if not lakehouse.exists(MAP):
        return None
    current = lakehouse.to_arrow(MAP, ["identifier_type", "identifier_value", "one_id"])
    node = pc.binary_join_element_wise(
        current.column("identifier_type"), current.column("identifier_value"), ":"
    )
    return pa.table({"node": node, "one_id": current.column("one_id")})


def _retired(lakehouse) -> frozenset[str]:
    if not lakehouse.exists(CHANGES):
        return frozenset()
    changes = lakehouse.to_arrow(CHANGES, ["one_id", "into_one_id"])
    return frozenset(
        changes.column("one_id").to_pylist() + changes.column("into_one_id").to_pylist()
    )


def _split_key(keys: pa.ChunkedArray | pa.Array):
    parts = pc.split_pattern(keys, ":", max_splits=1)
    return pc.list_element(parts, 0), pc.list_element(parts, 1)


def _map_table(mapping: pa.Table, run_id: str) -> pa.Table:
    kind, value = _split_key(mapping.column("node"))
    return pa.table(
        {
            "identifier_type": kind,
            "identifier_value": value,
            "one_id": mapping.column("one_id"),
            "run_id": pa.array([run_id] * mapping.num_rows, pa.string()),
        }
    )


def _with_run(changes: pa.Table, run_id: str) -> pa.Table:
    return changes.append_column("run_id", pa.array([run_id] * changes.num_rows, pa.string()))


def _rejected(nodes, hubs) -> pa.Table:
    """Identifiers that join nobody: blocklisted, or hubs (with what made them one)."""
    blocked = (
        nodes.where("blocked")
        .selectExpr(
            "identifier_type",
            "substring(key, length(identifier_type) + 2) AS identifier_value",
            "'blocklist' AS rule",
            "'blocklisted value or pattern' AS detail",
        )
        .toArrow()
    )
    parts = [blocked]
    if hubs is not None:
        parts.append(
            hubs.selectExpr(
                "identifier_type",
                "substring(key, length(identifier_type) + 2) AS identifier_value",
                "'hub' AS rule",
                "concat('seen with ', neighbours, ' ', neighbour_type, ' identifiers') AS detail",
            ).toArrow()
        )
    return pa.concat_tables([p.cast(REJECTED_SCHEMA) for p in parts]).sort_by(
        [("rule", "ascending"), ("identifier_type", "ascending"), ("identifier_value", "ascending")]
    )


def _cut_links(lakehouse, rules: Rules, has_links: bool, limit_cuts) -> pa.Table:
    """Links not used, with the rule that stopped them and the identifier type it is about
    (the reassigned identifier of a reassignment, the weak end of a weak link, the weaker end
    otherwise)."""
    parts = [
        pa.Table.from_pylist(
            [
                {"a_key": a, "b_key": b, "rule": rule, "detail": detail}
                for a, b, rule, detail in limit_cuts
            ],
            schema=CUT_SCHEMA,
        )
    ]
    if has_links:
        parts.append(
            _with_rule(
                lakehouse.read_staged(
                    f"{STAGING}/reassigned", ["a_key", "b_key", "identifier_type", "detail"]
                ),
                "reassignment",
            )
        )
        parts.append(
            _with_rule(
                lakehouse.read_staged(f"{STAGING}/cut", ["a_key", "b_key", "detail"]), "weak_link"
            )
        )
        untrusted = lakehouse.read_staged(f"{STAGING}/untrusted").to_pylist()
        parts.append(
            pa.Table.from_pylist(
                [
                    {
                        "a_key": u["a_key"],
                        "b_key": u["b_key"],
                        "rule": "untrusted_source",
                        "detail": f"only seen in {u['sources']}, where the two are seen with "
                        f"{u['a_partners']} and {u['b_partners']} identifiers",
                    }
                    for u in untrusted
                ],
                schema=CUT_SCHEMA,
            )
        )
    links = pa.concat_tables(parts)
    weaker = pa.array(
        [
            _weaker_kind(rules, a, b)
            for a, b in zip(links.column("a_key").to_pylist(), links.column("b_key").to_pylist())
        ],
        pa.string(),
    )
    kinds = pc.coalesce(links.column("identifier_type"), weaker)
    links = links.set_column(
        CUT_SCHEMA.get_field_index("identifier_type"), "identifier_type", kinds
    )
    return links.sort_by([("a_key", "ascending"), ("b_key", "ascending")])


def _with_rule(staged: pa.Table, rule: str) -> pa.Table:
    """Staged cut links as rows of ``CUT_SCHEMA`` for one rule (identifier type kept if any)."""
    columns = {
        name: staged.column(name)
        if name in staged.column_names
        else pa.nulls(staged.num_rows, CUT_SCHEMA.field(name).type)
        for name in CUT_SCHEMA.names
    }
    columns["rule"] = pa.array([rule] * staged.num_rows, pa.string())
    return pa.table(columns).cast(CUT_SCHEMA)


def _weaker_kind(rules: Rules, a: str, b: str) -> str:
    ka, kb = limits.kind_of(a), limits.kind_of(b)
    ra, rb = rules.types[ka], rules.types[kb]
    return max((not ra.joins, ra.priority, ka), (not rb.joins, rb.priority, kb))[2]


def _effects(rejected: pa.Table, cut_links: pa.Table, run_id: str) -> pa.Table:
    """Per rule and identifier type: identifiers rejected or links cut this run."""
    con = local_duckdb.connect()
    con.register("rejected", rejected.select(["rule", "identifier_type"]))
    con.register("cut_links", cut_links.select(["rule", "identifier_type"]))
    return con.execute(
        """
        SELECT ? AS run_id, rule, identifier_type,
               count(*) FILTER (WHERE is_identifier) AS identifiers,
               count(*) FILTER (WHERE NOT is_identifier) AS links
        FROM (SELECT *, TRUE AS is_identifier FROM rejected
              UNION ALL SELECT *, FALSE FROM cut_links)
        GROUP BY ALL ORDER BY rule, identifier_type""",
        [run_id],
    ).to_arrow_table()


def _log_run(lakehouse, outcome: IdentityOutcome, started: datetime, inputs: str) -> None:
    row = {
        "run_id": outcome.run_id,
        "started_at": started,
        "finished_at": datetime.now(UTC).replace(microsecond=0),
        "engine": outcome.engine,
        "rounds": outcome.rounds,
        "identifiers": outcome.nodes,
        "links": outcome.links,
        "people": outcome.people,
        "merges": outcome.changes.get("merge", 0),
        "splits": outcome.changes.get("split", 0),
        "map_written": outcome.map_written,
        "inputs": inputs,
        "mode": outcome.mode,
        "touched_identifiers": outcome.touched_identifiers
        if outcome.mode == "incremental"
        else outcome.nodes,
        "touched_people": outcome.touched_people
        if outcome.mode == "incremental"
        else outcome.people,
    }
    lakehouse.append_arrow(pa.Table.from_pylist([row], schema=RUNS_SCHEMA), RUNS)
