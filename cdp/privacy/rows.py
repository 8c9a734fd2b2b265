"""Which rows of a bronze or silver table belong to a person: the identifier keys each row
carries, as Spark SQL, in the spelling of the identity map.

Silver rows carry their identifiers in the columns identity resolution reads
(``spark_jobs.silver.identifiers.SIGHTINGS``). A bronze row carries them raw, so its keys are
those of the silver rows the channel's own mapping (``spark_jobs.silver.SOURCES``) makes of
it: the same parsing of phones, cleaning and card forms as standardise, so no spelling is
missed. POS tickets are mapped line by line (the mapping aggregates a ticket, and its ticket
fields repeat on every line).
"""

from __future__ import annotations

from spark_jobs import normalise as n
from spark_jobs.frames import LINEAGE, union_all
from spark_jobs.silver import SILVER_TABLES, SOURCES, conform
from spark_jobs.silver.cards import with_canonical_cards
from spark_jobs.silver.identifiers import SIGHTINGS

#: silver tables whose identifiers are a typed pair of columns
TYPED_PAIRS = ("consent", "identifiers")


def key_exprs(table: str) -> list[str]:
    """SQL expressions of the identifier keys a row of silver ``table`` carries (NULL where
    a column is empty); none for tables without identifiers."""
    if table in TYPED_PAIRS:
        return ["concat(identifier_type, ':', identifier_value)"]
    if table not in SIGHTINGS:
        return []
    _, _, ids = SIGHTINGS[table]
    return [f"concat('{kind}:', nullif({value}, ''))" for kind, value in ids]


def _pos_lines(bronze, tz: str):
    """POS ticket lines with the identifiers the ticket's order takes from them."""
    return n.with_phone(bronze, "member_phone").selectExpr(
        f"{n.phone_of('_phone')} AS member_phone", "member_card_no", *LINEAGE
    )


#: (silver table, bronze channel) -> a mapping that keeps one row per bronze line
LINE_MAPPINGS = {("orders", "pos_tickets"): _pos_lines}


def exploded_keys(df, exprs: list[str], *carried: str):
    """One row per (carried columns, key) of ``df``, NULL keys left out."""
    return df.selectExpr(*carried, f"explode(array({', '.join(exprs)})) AS key").where(
        "key IS NOT NULL"
    )


def bronze_line_keys(channel: str, bronze, tz: str, card_programmes=()):
    """``_batch_id, _line_no, key``: every identifier key each line of a bronze channel's rows
    carries; None for a channel that feeds no table with identifiers."""
    frame = with_canonical_cards({channel: bronze}, card_programmes)[channel]
    parts = []
    for table, sources in SOURCES.items():
        build = LINE_MAPPINGS.get((table, channel), sources.get(channel))
        exprs = key_exprs(table)
        if build is None or not exprs:
            continue
        mapped = conform(build(frame, tz), SILVER_TABLES[table])
        parts.append(exploded_keys(mapped, exprs, "_batch_id", "_line_no"))
    return union_all(parts)
