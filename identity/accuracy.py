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
"""

from __future__ import annotations

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
        return (self.linkable_correct_pairs / self.linkable_pairs if self.linkable_pairs
                else 1.0)

    def summary(self) -> str:
        return (f"pairwise precision {self.precision:.4f}, recall {self.recall:.4f} "
                f"(of linkable pairs {self.linkable_recall:.4f}) over {self.identifiers:,} "
                f"identifiers of {self.people:,} people: {self.correct_pairs:,} of "
                f"{self.predicted_pairs:,} predicted pairs correct; {self.true_pairs:,} true "
                f"pairs, {self.linkable_pairs:,} of them linkable")


def pairwise_accuracy(identity_map: pa.Table, links: pa.Table, truth_csv: Path,
                      types: list[str] | None = None) -> Accuracy:
    """``identity_map`` has identifier_type, identifier_value, one_id; ``links`` (a_key, b_key)
    every pair of identifiers seen together in a record. ``types`` restricts the evaluation to
    identifiers of those types (e.g. only the joining ones)."""
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
               coalesce(m.one_id, 'unmapped:' || t.identifier_type || ':' || t.identifier_value)
                   AS one_id
        FROM truth t LEFT JOIN identity_map m USING (identifier_type, identifier_value)""")
    evidence = _evidence_groups(con)
    con.register("evidence", evidence)
    row = con.execute("""
        WITH ids AS (SELECT DISTINCT identifier_type, identifier_value, one_id FROM labelled),
        predicted AS (SELECT one_id, count(*) AS n FROM ids GROUP BY one_id),
        actual AS (SELECT person_id, count(*) AS n FROM labelled GROUP BY person_id),
        cells AS (SELECT one_id, person_id, count(*) AS n FROM labelled GROUP BY ALL),
        grouped AS (SELECT l.*, e.component FROM labelled l JOIN evidence e
                    ON e.node = l.person_id || '|' || l.identifier_type || ':'
                                || l.identifier_value),
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
