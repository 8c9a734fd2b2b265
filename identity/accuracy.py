"""Identity accuracy against the generator's ground truth: pairwise precision and recall.

Over the identifiers the ground truth lists (every identifier a real person used; trap
identifiers such as test phones are never listed), a pair of identifiers is *predicted* when
both map to the same OneID and *true* when both belong to the same person. An identifier
missing from the map counts as a OneID of its own. A family tablet is listed for every member
who used it, so it is truly paired with each of them; no two identifiers share two owners, so
counting pairs per (OneID, person) cell counts every true predicted pair once.

Recall has a ceiling set by the data: an identifier a person used only alone (an openid seen
only in menu clicks, a phone typed only at a till) is linked to nothing by any record. So recall
is also reported over *linkable* pairs: two identifiers of one person that the person's own
records connect (a chain of links whose ends all belong to that person).

``trap_accuracy`` reports per trap (traps.csv) whether it merged strangers, and per reality
(realities.csv: country-code phones, foreign phones, member-card spellings) how many of the
people it affects were resolved correctly.
"""

from __future__ import annotations

import csv
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from identity.embedded import components


@dataclass(frozen=True)
class Accuracy:
    identifiers: int
    people: int
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int
    linkable_pairs: int
    linkable_correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def linkable_recall(self) -> float:
        return self.linkable_correct_pairs / self.linkable_pairs if self.linkable_pairs else 1.0

    def summary(self) -> str:
        return (
            f"pairwise precision {self.precision:.4f}, recall {self.recall:.4f} "
            f"(of linkable pairs {self.linkable_recall:.4f}) over {self.identifiers:,} "
            f"identifiers of {self.people:,} people: {self.correct_pairs:,} of "
            f"{self.predicted_pairs:,} predicted pairs correct; {self.true_pairs:,} true "
            f"pairs, {self.linkable_pairs:,} of them linkable"
        )


def _labelled(
    identity_map: pa.Table, links: pa.Table, truth_csv: Path, types: list[str] | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection holding ``truth``, ``labelled`` (each true identifier with its OneID) and
    ``grouped`` (labelled, with the evidence component of the identifier within its person)."""
    con = duckdb.connect()
    con.register("identity_map", identity_map)
    con.register("links", links)
    con.execute(f"""CREATE TEMP TABLE truth AS SELECT * FROM read_csv('{truth_csv}',
        header = true, columns = {{'person_id': 'VARCHAR', 'identifier_type': 'VARCHAR',
                                   'identifier_value': 'VARCHAR'}})""")
    if types is not None:
        con.execute("DELETE FROM truth WHERE identifier_type <> ALL (?)", [types])
    con.execute("""
        CREATE TEMP TABLE labelled AS
        SELECT t.person_id, t.identifier_type, t.identifier_value,
               m.one_id IS NOT NULL AS is_mapped,
               coalesce(m.one_id, 'unmapped:' || t.identifier_type || ':' || t.identifier_value)
                   AS one_id
        FROM truth t LEFT JOIN identity_map m USING (identifier_type, identifier_value)""")
    evidence = _evidence_groups(con)
    con.register("evidence", evidence)
    con.execute("""
        CREATE TEMP TABLE grouped AS
        SELECT l.*, e.component FROM labelled l JOIN evidence e
        ON e.node = l.person_id || '|' || l.identifier_type || ':' || l.identifier_value""")
    return con


def pairwise_accuracy(
    identity_map: pa.Table, links: pa.Table, truth_csv: Path, types: list[str] | None = None
) -> Accuracy:
    """``identity_map`` has identifier_type, identifier_value, one_id; ``links`` (a_key, b_key)
    every pair of identifiers seen together in a record. ``types`` restricts the evaluation to
    identifiers of those types (e.g. only the joining ones)."""
    con = _labelled(identity_map, links, truth_csv, types)
    row = con.execute("""
        WITH ids AS (SELECT DISTINCT identifier_type, identifier_value, one_id FROM labelled),
        predicted AS (SELECT one_id, count(*) AS n FROM ids GROUP BY one_id),
        actual AS (SELECT person_id, count(*) AS n FROM labelled GROUP BY person_id),
        cells AS (SELECT one_id, person_id, count(*) AS n FROM labelled GROUP BY ALL),
        linkable AS (SELECT person_id, component, count(*) AS n FROM grouped GROUP BY ALL),
        linkable_cells AS (SELECT person_id, component, one_id, count(*) AS n FROM grouped
                           GROUP BY ALL)
        SELECT (SELECT count(*) FROM ids), (SELECT count(*) FROM actual),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM predicted),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM actual),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM cells),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM linkable),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM linkable_cells)""").fetchone()
    return Accuracy(*(int(v) for v in row))


def _evidence_groups(con) -> pa.Table:
    """Per person, which of their identifiers their own records connect: components over
    the links whose two ends belong to the same person (nodes ``person|type:value``)."""
    own = con.execute("""
        WITH keyed AS (SELECT person_id, identifier_type || ':' || identifier_value AS key
                       FROM truth)
        SELECT x.person_id || '|' || l.a_key AS src, y.person_id || '|' || l.b_key AS dst
        FROM links l JOIN keyed x ON x.key = l.a_key
        JOIN keyed y ON y.key = l.b_key AND y.person_id = x.person_id
        UNION ALL
        SELECT person_id || '|' || key, person_id || '|' || key FROM keyed""").to_arrow_table()
    return components(own.column("src"), own.column("dst"))


@dataclass(frozen=True)
class TrapOutcome:
    """How one kind of trap fared: ``merged`` of the ``checked`` pairs of strangers it could
    join were merged (``unit`` "pairs"), or ``merged`` of the ``checked`` shared identifiers
    ended in a OneID holding identifiers of two or more people (``unit`` "identifiers")."""

    trap: str
    unit: str
    checked: int
    merged: int

    def summary(self) -> str:
        what = (
            "pairs of strangers merged" if self.unit == "pairs" else "identifiers joined strangers"
        )
        return f"{self.trap}: {self.merged} of {self.checked} {what}"


@dataclass(frozen=True)
class RealityOutcome:
    """How the people a reality affects were resolved. A person is resolved correctly when
    the affected identifier is in the map, in the OneID of every identifier of theirs their
    own records link it to (the must-merge pairs), and with no identifier of anyone else."""

    reality: str
    people: int
    resolved: int
    must_merge_pairs: int
    kept_together: int
    unmapped: int
    with_strangers: int

    def summary(self) -> str:
        return (
            f"{self.reality}: {self.resolved} of {self.people} people resolved correctly "
            f"(must-merge pairs: {self.kept_together} of {self.must_merge_pairs} kept "
            f"together; {self.with_strangers} merged with strangers; {self.unmapped} not "
            f"in the map)"
        )


@dataclass(frozen=True)
class TrapReport:
    traps: list[TrapOutcome]
    realities: list[RealityOutcome]

    def lines(self) -> list[str]:
        return [t.summary() for t in self.traps] + [r.summary() for r in self.realities]


PERSON = re.compile(r"P[0-9]+")


def trap_accuracy(
    identity_map: pa.Table, links: pa.Table, truth_dir: Path, joining: list[str] | None = None
) -> TrapReport:
    """Per trap kind of ``traps.csv`` and per reality of ``realities.csv`` (beside
    ``identifiers.csv`` in ``truth_dir``), whether resolution kept strangers apart and the
    affected people together. A trap whose note names several people (a family tablet, a
    reassigned phone, a foreign look-alike) is judged on each pair of them; any other (a test
    or store phone, a staff openid, a hub device) on its OneID. ``joining`` (identifier types)
    limits the must-merge pairs to partners of those types: weak ids such as cookies are left
    unattached by design, which is no failure of the reality."""
    con = _labelled(identity_map, links, truth_dir / "identifiers.csv")
    con.execute("""
        CREATE TEMP TABLE own AS
        SELECT DISTINCT person_id, one_id FROM labelled
        WHERE (identifier_type, identifier_value) IN (
            SELECT (identifier_type, identifier_value) FROM labelled GROUP BY ALL
            HAVING count(DISTINCT person_id) = 1)""")
    pairs, hubs = _trap_rows(truth_dir / "traps.csv")
    return TrapReport(
        _pair_traps(con, pairs) + _hub_traps(con, hubs),
        _realities(con, truth_dir / "realities.csv", joining),
    )


def _trap_rows(path: Path) -> tuple[pa.Table, pa.Table]:
    """(trap, person_a, person_b) of each pair a trap could merge; (trap, type, value) of the
    traps judged on their OneID."""
    pairs: dict[str, list] = {"trap": [], "person_a": [], "person_b": []}
    hubs: dict[str, list] = {"trap": [], "identifier_type": [], "identifier_value": []}
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline=""))) if path.exists() else []
    for row in rows:
        persons = PERSON.findall(row["note"])
        if len(persons) < 2:
            for name, key in (
                ("trap", "trap"),
                ("identifier_type", "identifier_type"),
                ("identifier_value", "identifier_value"),
            ):
                hubs[name].append(row[key])
        for a, b in itertools.combinations(persons, 2):
            pairs["trap"].append(row["trap"])
            pairs["person_a"].append(a)
            pairs["person_b"].append(b)
    schema = pa.string()
    return (
        pa.table({k: pa.array(v, schema) for k, v in pairs.items()}),
        pa.table({k: pa.array(v, schema) for k, v in hubs.items()}),
    )


def _pair_traps(con: duckdb.DuckDBPyConnection, pairs: pa.Table) -> list[TrapOutcome]:
    con.register("trap_pairs", pairs)
    rows = con.execute("""
        WITH judged AS (
            SELECT p.trap, p.person_a, p.person_b, bool_or(y.person_id IS NOT NULL) AS merged
            FROM trap_pairs p LEFT JOIN own x ON x.person_id = p.person_a
            LEFT JOIN own y ON y.one_id = x.one_id AND y.person_id = p.person_b
            GROUP BY ALL)
        SELECT trap, count(*), count(*) FILTER (WHERE merged) FROM judged
        GROUP BY trap ORDER BY trap""").fetchall()
    return [TrapOutcome(trap, "pairs", int(n), int(merged)) for trap, n, merged in rows]


def _hub_traps(con: duckdb.DuckDBPyConnection, hubs: pa.Table) -> list[TrapOutcome]:
    con.register("trap_hubs", hubs)
    rows = con.execute("""
        WITH judged AS (
            SELECT h.trap, h.identifier_type, h.identifier_value,
                   count(DISTINCT o.person_id) AS people
            FROM trap_hubs h LEFT JOIN identity_map m USING (identifier_type, identifier_value)
            LEFT JOIN own o ON o.one_id = m.one_id
            GROUP BY ALL)
        SELECT trap, count(*), count(*) FILTER (WHERE people > 1) FROM judged
        GROUP BY trap ORDER BY trap""").fetchall()
    return [TrapOutcome(trap, "identifiers", int(n), int(merged)) for trap, n, merged in rows]


def _realities(
    con: duckdb.DuckDBPyConnection, path: Path, joining: list[str] | None
) -> list[RealityOutcome]:
    if not path.exists():
        return []
    partner_types = pa.table(
        {
            "identifier_type": pa.array(
                joining if joining is not None else _all_types(con), pa.string()
            )
        }
    )
    con.register("partner_types", partner_types)
    con.execute(f"""CREATE TEMP TABLE realities AS SELECT * FROM read_csv('{path}',
        header = true, columns = {{'reality': 'VARCHAR', 'person_id': 'VARCHAR',
                                   'identifier_type': 'VARCHAR',
                                   'identifier_value': 'VARCHAR'}})""")
    rows = con.execute("""
        WITH affected AS (
            SELECT DISTINCT r.reality, g.person_id, g.identifier_type, g.identifier_value,
                   g.one_id, g.is_mapped, g.component
            FROM realities r JOIN grouped g USING (person_id, identifier_type, identifier_value)),
        must_merge AS (
            SELECT a.reality, a.person_id, a.identifier_type, a.identifier_value,
                   count(g.person_id) AS pairs,
                   count(g.person_id) FILTER (WHERE g.one_id = a.one_id) AS together
            FROM affected a LEFT JOIN grouped g
                ON g.person_id = a.person_id AND g.component = a.component
               AND (g.identifier_type, g.identifier_value)
                   <> (a.identifier_type, a.identifier_value)
               AND g.identifier_type IN (SELECT identifier_type FROM partner_types)
            GROUP BY ALL),
        stranger_rows AS (
            SELECT a.reality, a.person_id, a.identifier_type, a.identifier_value
            FROM affected a JOIN labelled o ON o.one_id = a.one_id AND o.person_id <> a.person_id
            ANTI JOIN truth s ON s.person_id = a.person_id
                AND s.identifier_type = o.identifier_type
                AND s.identifier_value = o.identifier_value),
        per_person AS (
            SELECT m.reality, m.person_id, sum(m.pairs) AS pairs, sum(m.together) AS together,
                   bool_and(a.is_mapped) AS mapped,
                   bool_or(EXISTS (SELECT 1 FROM stranger_rows s
                                   WHERE s.reality = m.reality AND s.person_id = m.person_id
                                     AND s.identifier_type = m.identifier_type
                                     AND s.identifier_value = m.identifier_value)) AS strangers
            FROM must_merge m JOIN affected a
                USING (reality, person_id, identifier_type, identifier_value)
            GROUP BY ALL)
        SELECT reality, count(*),
               count(*) FILTER (WHERE mapped AND pairs = together AND NOT strangers),
               sum(pairs), sum(together), count(*) FILTER (WHERE NOT mapped),
               count(*) FILTER (WHERE strangers)
        FROM per_person GROUP BY reality ORDER BY reality""").fetchall()
    return [RealityOutcome(r, *(int(v) for v in values)) for r, *values in rows]


def _all_types(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [t for (t,) in con.execute("SELECT DISTINCT identifier_type FROM truth").fetchall()]
