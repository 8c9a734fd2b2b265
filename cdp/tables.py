"""The catalogue of published tables: what every later step may read, with its schema.

A step only writes a table when its sources delivered something, yet the marts, the exports
and the console read every one of them whatever channels a customer has. So each published
table is declared here once, with its Arrow schema, and ``ensure`` creates the missing ones
empty. A landing zone with only POS tickets (or no loyalty, no consent, no coupons) then
builds the same tables as one with every channel: some of them simply have no rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from cdp.lakehouse import IDENTITY_MAP, SEGMENT_MEMBERSHIP, Lakehouse, Table

#: Spark SQL types of the silver declarations -> Arrow (timestamps are UTC, see contracts)
ARROW_TYPES = {
    "string": pa.string(), "bigint": pa.int64(), "int": pa.int32(), "boolean": pa.bool_(),
    "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Published:
    """A table later steps read: where it is, who writes it, what it holds."""

    table: Table
    owner: str
    description: str
    schema: pa.Schema


def _silver() -> list[Published]:
    from spark_jobs.silver.schema import SILVER_TABLES

    return [Published(Table("silver", t.name), "spark_jobs.standardise", t.description,
                      pa.schema([(name, ARROW_TYPES[sql_type]) for name, sql_type in t.columns]))
            for t in SILVER_TABLES.values()]


IDENTITY_MAP_SCHEMA = pa.schema([
    ("identifier_type", pa.string()), ("identifier_value", pa.string()),
    ("one_id", pa.string()), ("run_id", pa.string()),
])
GOLDEN_RECORDS_SCHEMA = pa.schema([
    ("one_id", pa.string()), ("name", pa.string()), ("gender", pa.string()),
    ("birthday", pa.date32()), ("city", pa.string()), ("best_phone", pa.string()),
    ("member_card_no", pa.string()), ("tier", pa.string()),
    ("first_seen_channel", pa.string()), ("first_seen_at", pa.timestamp("us", tz="UTC")),
    ("channels", pa.list_(pa.string())), ("identifiers", pa.int64()),
])
SEGMENT_MEMBERSHIP_SCHEMA = pa.schema([
    ("segment", pa.string()), ("run_id", pa.string()), ("as_of", pa.date32()),
    ("one_id", pa.string()), ("group", pa.string()), ("stratum", pa.string()),
])


def _identity() -> list[Published]:
    return [
        Published(IDENTITY_MAP, "identity.resolve", "identifier -> one_id, the OneID map",
                  IDENTITY_MAP_SCHEMA),
        Published(Table("silver", "golden_records"), "identity.golden",
                  "one row per OneID: survivorship of profile attributes", GOLDEN_RECORDS_SCHEMA),
    ]


def _gold() -> list[Published]:
    return [Published(SEGMENT_MEMBERSHIP, "cdp.activation.export",
                      "who was in which segment's treatment or control, per export run",
                      SEGMENT_MEMBERSHIP_SCHEMA)]


#: groups of published tables, by the step that publishes them
GROUPS = {"silver": _silver, "identity": _identity, "gold": _gold}


def published(*groups: str) -> list[Published]:
    """The declared tables of the given groups (all groups by default)."""
    return [p for g in groups or GROUPS for p in GROUPS[g]()]


def ensure(lakehouse: Lakehouse, *groups: str) -> list[Table]:
    """Create every declared table of ``groups`` that does not exist yet, empty, with its
    schema; return the tables created."""
    created = []
    for spec in published(*groups):
        if not lakehouse.exists(spec.table):
            lakehouse.overwrite_arrow(spec.schema.empty_table(), spec.table)
            created.append(spec.table)
    return created
