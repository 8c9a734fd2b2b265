"""The table catalogue: every Delta table of the lakehouse, declared once.

Each table has its place (``Table``: layer and name), its Arrow schema, its business key
(where rows have one), the module that writes it and one line saying what it holds. Writers
and readers import their ``Table`` constants (and the schemas of the tables they build in
Python) from here, so a table is found with one look at this file, and ``cdp tables`` lists
them all, written or not.

Schemas derived from other declarations are built when first asked for: bronze from the
channel contracts (``spark_jobs.contracts``), silver from ``spark_jobs.silver.schema``, whose
package imports the Spark client. Importing this module needs no Spark.

*Published* tables are the ones later steps read whatever channels a customer has (the
marts' dbt sources): ``ensure`` creates the missing ones empty. A landing zone with only POS
tickets (or no loyalty, no consent, no coupons) then builds the same tables as one with every
channel: some of them simply have no rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pyarrow as pa
from deltalake import Schema as DeltaSchema

from cdp.lakehouse import LAYERS, Lakehouse, Table

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

#: Spark SQL types of the bronze and silver declarations -> Arrow (timestamps are UTC, see
#: spark_jobs.contracts)
ARROW_TYPES = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": UTC_TIMESTAMP,
    "decimal(18,2)": pa.decimal128(18, 2),
}

#: the pipeline step that writes a table: ``ensure`` and ``published`` take these
STEPS = ("bronze", "silver", "identity", "gold")


class UnknownTable(LookupError):
    """A table name the catalogue does not declare."""


# -- bronze and meta tables of the ingest ------------------------------------------------------
QUARANTINE = Table("bronze", "quarantine")
INGEST_LOG = Table("meta", "ingest_log")

#: lineage of every bronze row: the file, its batch (the file's checksum), the line and when
#: it was loaded
LINEAGE = ["_source_file", "_batch_id", "_line_no", "_loaded_at"]

QUARANTINE_SCHEMA = pa.schema(
    [
        ("channel", pa.string()),
        ("reason_kind", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
        ("_source_file", pa.string()),
        ("_batch_id", pa.string()),
        ("_line_no", pa.int64()),
        ("_loaded_at", UTC_TIMESTAMP),
    ]
)
INGEST_LOG_SCHEMA = pa.schema(
    [
        ("channel", pa.string()),
        ("source_file", pa.string()),
        ("delivery_date", pa.string()),
        ("checksum", pa.string()),
        ("batch_id", pa.string()),
        ("status", pa.string()),
        ("rows_in", pa.int64()),
        ("loaded", pa.int64()),
        ("quarantined", pa.int64()),
        ("duplicate_of", pa.string()),
        ("reason", pa.string()),
        ("ingested_at", UTC_TIMESTAMP),
        #: rows dropped because they carry an erased person (cdp.privacy.tombstones)
        ("erased", pa.int64()),
    ]
)


def bronze(channel: str) -> Table:
    """The bronze table of a channel that has a contract."""
    from spark_jobs.contracts import CONTRACTS

    if channel not in CONTRACTS:
        raise UnknownTable(
            f"no bronze table for channel {channel!r}: no contract in "
            f"spark_jobs/contracts.py; known: {', '.join(sorted(CONTRACTS))}"
        )
    return Table("bronze", channel)


def bronze_schema(channel: str) -> pa.Schema:
    """A channel's bronze columns: its contract's fields, typed, then the lineage."""
    from spark_jobs.contracts import CONTRACTS

    contract = CONTRACTS[channel]
    fields = [(f.name, _contract_type(f)) for f in contract.fields]
    lineage = [
        ("_source_file", pa.string()),
        ("_batch_id", pa.string()),
        ("_line_no", pa.int64()),
        ("_loaded_at", UTC_TIMESTAMP),
    ]
    return pa.schema(fields + lineage)


def _contract_type(field) -> pa.DataType:
    from spark_jobs.validation import SPARK_TYPES

    if field.kind == "items":
        return pa.list_(pa.struct([(sub.name, _contract_type(sub)) for sub in field.items]))
    return ARROW_TYPES[SPARK_TYPES[field.kind]]


# -- silver tables of standardise --------------------------------------------------------------
ORDERS = Table("silver", "orders")
ORDER_ITEMS = Table("silver", "order_items")
MEMBERS = Table("silver", "members")
FOLLOWERS = Table("silver", "followers")
EVENTS = Table("silver", "events")
COUPON_EVENTS = Table("silver", "coupon_events")
POINTS = Table("silver", "points")
CONSENT = Table("silver", "consent")
IDENTIFIERS = Table("silver", "identifiers")
SILVER_APPLIED = Table("meta", "silver_applied")

SILVER_APPLIED_SCHEMA = pa.schema(
    [
        ("channel", pa.string()),
        ("batch_id", pa.string()),
        ("applied_at", UTC_TIMESTAMP),
    ]
)


@cache
def _silver_declarations() -> dict:
    from spark_jobs.silver.schema import SILVER_TABLES

    return SILVER_TABLES


def silver_schema(name: str) -> pa.Schema:
    """A standardised silver table's columns (``spark_jobs.silver.schema``) as Arrow."""
    return pa.schema(
        [
            (column, ARROW_TYPES[sql_type])
            for column, sql_type in _silver_declarations()[name].columns
        ]
    )


# -- identity tables ---------------------------------------------------------------------------
IDENTITY_MAP = Table("silver", "identity_map")
IDENTITY_LINKS = Table("silver", "identity_links")
IDENTITY_CHANGES = Table("silver", "identity_changes")
IDENTITY_REJECTED = Table("silver", "identity_rejected")
IDENTITY_CUT_LINKS = Table("silver", "identity_cut_links")
IDENTITY_RULE_EFFECTS = Table("silver", "identity_rule_effects")
GOLDEN_RECORDS = Table("silver", "golden_records")
IDENTITY_RUNS = Table("meta", "identity_runs")

IDENTITY_MAP_SCHEMA = pa.schema(
    [
        ("identifier_type", pa.string()),
        ("identifier_value", pa.string()),
        ("one_id", pa.string()),
        ("run_id", pa.string()),
    ]
)
IDENTITY_LINKS_SCHEMA = pa.schema(
    [
        ("a_key", pa.string()),
        ("b_key", pa.string()),
        ("source", pa.string()),
        ("first_seen_at", UTC_TIMESTAMP),
        ("last_seen_at", UTC_TIMESTAMP),
        ("records", pa.int64()),
    ]
)
IDENTITY_CHANGES_SCHEMA = pa.schema(
    [
        ("change", pa.string()),
        ("one_id", pa.string()),
        ("into_one_id", pa.string()),
        ("identifiers", pa.int64()),
        ("reason", pa.string()),
        ("run_id", pa.string()),
    ]
)
IDENTITY_REJECTED_SCHEMA = pa.schema(
    [
        ("identifier_type", pa.string()),
        ("identifier_value", pa.string()),
        ("rule", pa.string()),
        ("detail", pa.string()),
    ]
)
IDENTITY_CUT_LINKS_SCHEMA = pa.schema(
    [
        ("a_key", pa.string()),
        ("b_key", pa.string()),
        ("identifier_type", pa.string()),
        ("rule", pa.string()),
        ("detail", pa.string()),
    ]
)
IDENTITY_RULE_EFFECTS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("rule", pa.string()),
        ("identifier_type", pa.string()),
        ("identifiers", pa.int64()),
        ("links", pa.int64()),
    ]
)
GOLDEN_RECORDS_SCHEMA = pa.schema(
    [
        ("one_id", pa.string()),
        ("name", pa.string()),
        ("gender", pa.string()),
        ("birthday", pa.date32()),
        ("city", pa.string()),
        ("best_phone", pa.string()),
        ("member_card_no", pa.string()),
        ("tier", pa.string()),
        ("first_seen_channel", pa.string()),
        ("first_seen_at", UTC_TIMESTAMP),
        ("channels", pa.list_(pa.string())),
        ("identifiers", pa.int64()),
    ]
)
IDENTITY_RUNS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("started_at", UTC_TIMESTAMP),
        ("finished_at", UTC_TIMESTAMP),
        ("engine", pa.string()),
        ("rounds", pa.int64()),
        ("identifiers", pa.int64()),
        ("links", pa.int64()),
        ("people", pa.int64()),
        ("merges", pa.int64()),
        ("splits", pa.int64()),
        ("map_written", pa.bool_()),
        ("inputs", pa.string()),
        # incremental or full, and what it re-solved (everything in a full run)
        ("mode", pa.string()),
        ("touched_identifiers", pa.int64()),
        ("touched_people", pa.int64()),
    ]
)

# -- gold tables of activation -----------------------------------------------------------------
SEGMENT_MEMBERSHIP = Table("gold", "segment_membership")
SEGMENT_RUNS = Table("gold", "segment_runs")
TOUCHES = Table("gold", "touches")

SEGMENT_MEMBERSHIP_SCHEMA = pa.schema(
    [
        ("segment", pa.string()),
        ("run_id", pa.string()),
        ("as_of", pa.date32()),
        ("one_id", pa.string()),
        ("group", pa.string()),
        ("stratum", pa.string()),
    ]
)
SEGMENT_RUNS_SCHEMA = pa.schema(
    [
        ("segment", pa.string()),
        ("run_id", pa.string()),
        ("as_of", pa.date32()),
        ("definition_sha256", pa.string()),
        ("send_at", UTC_TIMESTAMP),
        ("members", pa.int64()),
        ("treatment", pa.int64()),
        ("control", pa.int64()),
        ("exported", pa.int64()),
    ]
)
TOUCHES_SCHEMA = pa.schema(
    [
        ("one_id", pa.string()),
        ("channel", pa.string()),
        ("touched_at", UTC_TIMESTAMP),
        ("run_id", pa.string()),
        ("segment", pa.string()),
        ("as_of", pa.date32()),
    ]
)


# -- gold tables of journeys ------------------------------------------------------------------
JOURNEY_EVENTS = Table("gold", "journey_events")
JOURNEY_STATE = Table("gold", "journey_state")

JOURNEY_EVENTS_SCHEMA = pa.schema(
    [
        ("journey", pa.string()),
        ("run_day", pa.date32()),
        ("one_id", pa.string()),
        ("instance", pa.int64()),
        ("seq", pa.int64()),
        ("event_at", UTC_TIMESTAMP),
        ("action", pa.string()),
        ("step", pa.string()),
        ("to_step", pa.string()),
        ("reason", pa.string()),
        ("channel", pa.string()),
        ("split_group", pa.string()),
        ("trigger_id", pa.string()),
    ]
)
JOURNEY_STATE_SCHEMA = pa.schema(
    [
        ("journey", pa.string()),
        ("one_id", pa.string()),
        ("instance", pa.int64()),
        ("trigger_id", pa.string()),
        ("entered_at", UTC_TIMESTAMP),
        ("split_group", pa.string()),
        ("step", pa.string()),
        ("step_at", UTC_TIMESTAMP),
        ("seq", pa.int64()),
        ("status", pa.string()),
        ("exit_reason", pa.string()),
        ("exited_at", UTC_TIMESTAMP),
        ("run_day", pa.date32()),
    ]
)


# -- privacy tables ----------------------------------------------------------------------------
AUDIT_LOG = Table("gold", "audit_log")
TOMBSTONES = Table("meta", "erasure_tombstones")

AUDIT_LOG_SCHEMA = pa.schema(
    [
        ("event", pa.string()),
        ("actor", pa.string()),
        ("at", UTC_TIMESTAMP),
        ("what", pa.string()),
        ("people", pa.int64()),
        ("rows", pa.int64()),
        ("detail", pa.string()),
    ]
)
TOMBSTONES_SCHEMA = pa.schema(
    [
        ("identifier_type", pa.string()),
        ("identifier_sha256", pa.string()),
        ("request_id", pa.string()),
        ("erased_at", UTC_TIMESTAMP),
    ]
)

#: the columns holding personal values (phones, names, birthdays, e-mails, plates, phones
#: used as raw identifiers, raw text), per table: left out of the Delta statistics
#: (``stats_columns``) and what an erasure must leave no trace of
PERSONAL_COLUMNS = {
    "bronze.miniprogram_members": ("phone_number", "name", "birthday", "email"),
    "bronze.tmall_orders": ("buyer_nick",),
    "bronze.tmall_members": ("buyer_nick", "mobile"),
    "bronze.jd_members": ("mobile",),
    "bronze.pos_tickets": ("member_phone",),
    "bronze.web_events": ("user_id",),
    "bronze.mall_events": ("phone", "plate_no"),
    "bronze.consent": ("identifier_value",),
    "bronze.quarantine": ("raw",),
    "silver.orders": ("member_phone",),
    "silver.members": ("phone", "name", "birthday", "email"),
    "silver.events": ("phone", "plate_no"),
    "silver.consent": ("identifier_value",),
    "silver.identifiers": ("identifier_value",),
    "silver.identity_map": ("identifier_value",),
    "silver.identity_links": ("a_key", "b_key"),
    "silver.identity_rejected": ("identifier_value",),
    "silver.identity_cut_links": ("a_key", "b_key"),
    "silver.golden_records": ("name", "birthday", "best_phone"),
}
STATS_COLUMNS_PROPERTY = "delta.dataSkippingStatsColumns"


# -- the catalogue -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TableSpec:
    """One declared table: where it is, which step and module write it, what it holds."""

    table: Table
    step: str
    owner: str
    description: str
    #: builds the Arrow schema (see ``schema``)
    columns: Callable[[], pa.Schema]
    #: the columns that identify a row; empty for logs and histories
    key: tuple[str, ...] = ()
    #: read by later steps whatever channels delivered: ``ensure`` creates it empty
    published: bool = False

    @property
    def schema(self) -> pa.Schema:
        """The table's Arrow schema (built on first use: silver's comes from the Spark jobs)."""
        return self.columns()

    @property
    def personal(self) -> tuple[str, ...]:
        """The columns holding personal values (``PERSONAL_COLUMNS``)."""
        return PERSONAL_COLUMNS.get(str(self.table), ())


def _fixed(schema: pa.Schema) -> Callable[[], pa.Schema]:
    return lambda: schema


def _bronze() -> list[TableSpec]:
    from spark_jobs.contracts import CONTRACTS

    channels = [
        TableSpec(
            Table("bronze", c.channel),
            "bronze",
            "spark_jobs.ingest",
            f"{c.description} (append-only)",
            lambda c=c: bronze_schema(c.channel),
        )
        for c in sorted(CONTRACTS.values(), key=lambda c: c.channel)
    ]
    return channels + [
        TableSpec(
            QUARANTINE,
            "bronze",
            "spark_jobs.ingest",
            "Every rejected row (or unreadable file) with its reason and raw text",
            _fixed(QUARANTINE_SCHEMA),
        ),
        TableSpec(
            INGEST_LOG,
            "bronze",
            "spark_jobs.ingest",
            "Every landed file and what became of it: started, loaded, unreadable, "
            "skipped as a copy, ignored",
            _fixed(INGEST_LOG_SCHEMA),
        ),
    ]


def _silver() -> list[TableSpec]:
    declared = _silver_declarations()
    return [
        TableSpec(
            Table("silver", t.name),
            "silver",
            "spark_jobs.standardise",
            t.description,
            lambda name=t.name: silver_schema(name),
            tuple(t.key),
            published=t.name != IDENTIFIERS.name,
        )
        for t in declared.values()
    ] + [
        TableSpec(
            SILVER_APPLIED,
            "silver",
            "spark_jobs.standardise",
            "Bronze batches already applied to silver (a batch is applied once)",
            _fixed(SILVER_APPLIED_SCHEMA),
            ("batch_id",),
            # the incremental marts read which batches arrived since their last build
            published=True,
        ),
    ]


def _identity() -> list[TableSpec]:
    resolve = "identity.resolve"
    return [
        TableSpec(
            IDENTITY_MAP,
            "identity",
            resolve,
            "Identifier -> one_id, the OneID map",
            _fixed(IDENTITY_MAP_SCHEMA),
            ("identifier_type", "identifier_value"),
            published=True,
        ),
        TableSpec(
            GOLDEN_RECORDS,
            "identity",
            "identity.golden",
            "One row per OneID: survivorship of profile attributes",
            _fixed(GOLDEN_RECORDS_SCHEMA),
            ("one_id",),
            published=True,
        ),
        TableSpec(
            IDENTITY_LINKS,
            "identity",
            resolve,
            "Pairs of identifiers seen together, per source, with first and last sighting",
            _fixed(IDENTITY_LINKS_SCHEMA),
            ("a_key", "b_key", "source"),
        ),
        TableSpec(
            IDENTITY_CHANGES,
            "identity",
            resolve,
            "History of OneID merges and splits, per run",
            _fixed(IDENTITY_CHANGES_SCHEMA),
        ),
        TableSpec(
            IDENTITY_REJECTED,
            "identity",
            resolve,
            "Identifiers that join nobody (blocklisted, hubs) and why",
            _fixed(IDENTITY_REJECTED_SCHEMA),
        ),
        TableSpec(
            IDENTITY_CUT_LINKS,
            "identity",
            resolve,
            "Links the rules cut (reassignment, weak links, untrusted sources, limits) and why",
            _fixed(IDENTITY_CUT_LINKS_SCHEMA),
        ),
        TableSpec(
            IDENTITY_RULE_EFFECTS,
            "identity",
            resolve,
            "Per run, rule and identifier type: identifiers rejected and links cut",
            _fixed(IDENTITY_RULE_EFFECTS_SCHEMA),
            ("run_id", "rule", "identifier_type"),
        ),
        TableSpec(
            IDENTITY_RUNS,
            "identity",
            resolve,
            "Every OneID run: engine, sizes, merges, splits and the inputs it read",
            _fixed(IDENTITY_RUNS_SCHEMA),
            ("run_id",),
        ),
    ]


def _gold() -> list[TableSpec]:
    history = "cdp.activation.history"
    return [
        TableSpec(
            SEGMENT_MEMBERSHIP,
            "gold",
            history,
            "Who was in which segment's treatment or control, per export run",
            _fixed(SEGMENT_MEMBERSHIP_SCHEMA),
            ("segment", "run_id", "one_id"),
            published=True,
        ),
        TableSpec(
            SEGMENT_RUNS,
            "gold",
            history,
            "One row per segment export and as-of day: definition, send time, counts",
            _fixed(SEGMENT_RUNS_SCHEMA),
            ("segment", "as_of"),
        ),
        TableSpec(
            TOUCHES,
            "gold",
            history,
            "Contacts each export planned, per person and channel (frequency caps)",
            _fixed(TOUCHES_SCHEMA),
        ),
    ]


def _journeys() -> list[TableSpec]:
    return [
        TableSpec(
            JOURNEY_EVENTS,
            "gold",
            "cdp.journeys.store",
            "Every journey transition per run: entries, moves, sends (or why not), exits",
            _fixed(JOURNEY_EVENTS_SCHEMA),
            ("journey", "one_id", "instance", "seq", "action"),
            published=True,  # the journey_funnel mart reads it
        ),
        TableSpec(
            JOURNEY_STATE,
            "gold",
            "cdp.journeys.store",
            "Every person's journeys after the latest run: step, since when, or how they left",
            _fixed(JOURNEY_STATE_SCHEMA),
            ("journey", "one_id", "instance"),
        ),
    ]


def _privacy() -> list[TableSpec]:
    return [
        TableSpec(
            AUDIT_LOG,
            "gold",
            "cdp.privacy.audit",
            "Every export of raw personal values and every erasure: who, when, what, how many",
            _fixed(AUDIT_LOG_SCHEMA),
        ),
        TableSpec(
            TOMBSTONES,
            "gold",
            "cdp.privacy.tombstones",
            "SHA-256 of every erased identifier: ingest drops rows that carry one",
            _fixed(TOMBSTONES_SCHEMA),
            ("identifier_sha256",),
        ),
    ]


_STEP_TABLES = {
    "bronze": _bronze,
    "silver": _silver,
    "identity": _identity,
    "gold": lambda: _gold() + _journeys() + _privacy(),
}


@cache
def catalogue() -> tuple[TableSpec, ...]:
    """Every declared table, step by step (bronze, silver, identity, gold)."""
    return tuple(spec for step in STEPS for spec in _STEP_TABLES[step]())


def spec(name: str) -> TableSpec:
    """The declaration of a table named ``layer.name``, or by its name alone when only one
    layer has it."""
    found = [s for s in catalogue() if name in (str(s.table), s.table.name)]
    if len(found) == 1:
        return found[0]
    if found:
        raise UnknownTable(
            f"table name {name!r} is ambiguous: say {' or '.join(str(s.table) for s in found)}"
        )
    raise UnknownTable(
        f"no table {name!r} in the catalogue (cdp/tables.py); `cdp tables` lists them"
    )


def silver(name: str) -> Table:
    """The declared silver-layer table ``name``."""
    table = Table("silver", name)
    if table not in {s.table for s in catalogue()}:
        raise UnknownTable(f"no silver table {name!r} in the catalogue (cdp/tables.py)")
    return table


def published(*steps: str) -> list[TableSpec]:
    """The published tables of the given steps (all steps by default)."""
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        raise ValueError(f"unknown step(s) {unknown}; expected some of {STEPS}")
    return [s for s in catalogue() if s.published and (not steps or s.step in steps)]


def ensure(lakehouse: Lakehouse, *steps: str) -> list[Table]:
    """Create every published table of ``steps`` that does not exist yet, empty, with its
    schema; return the tables created."""
    created = []
    for declared in published(*steps):
        if not lakehouse.exists(declared.table):
            lakehouse.overwrite_arrow(declared.schema.empty_table(), declared.table)
            created.append(declared.table)
    return created


def stats_columns(declared: TableSpec) -> list[str]:
    """The columns Delta keeps per-file statistics for: every top-level scalar column but the
    personal ones (min / max values of a phone column would be phones in the log). Booleans
    and binaries are left out too: Delta Lake on Spark rejects them in the property
    (DELTA_COLUMN_DATA_SKIPPING_NOT_SUPPORTED_TYPE) and keeps no min / max for them anyway."""
    return [
        f.name
        for f in declared.schema
        if not pa.types.is_nested(f.type)
        and not pa.types.is_boolean(f.type)
        and not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))
        and f.name not in declared.personal
    ]


def table_properties(table: Table) -> dict[str, str]:
    """The Delta table properties a new table is created with: tables with personal columns
    restrict their statistics to the other columns (``delta.dataSkippingStatsColumns``, which
    delta-rs and the engine's writers both honour)."""
    found = [s for s in catalogue() if s.table == table]
    if not found or not found[0].personal:
        return {}
    return {STATS_COLUMNS_PROPERTY: ",".join(stats_columns(found[0]))}


def undeclared(lakehouse: Lakehouse) -> list[Table]:
    """Tables in the lakehouse that the catalogue does not declare (left by older code)."""
    declared = {s.table for s in catalogue()}
    return [t for layer in LAYERS for t in lakehouse.tables(layer) if t not in declared]


def _delta_type(field: pa.Field) -> str:
    """The Delta type a column is stored as (Arrow spellings of one type differ: list item
    names, string views), as JSON text."""
    [delta] = DeltaSchema.from_arrow(pa.schema([field])).fields
    return json.dumps(json.loads(delta.to_json())["type"], sort_keys=True)


def schema_differences(declared: pa.Schema, written: pa.Schema) -> list[str]:
    """How a written table's columns differ from its declaration (names, order and Delta
    types; nullability aside), one sentence each; empty when they agree."""
    differences = []
    written_names = set(written.names)
    if missing := [n for n in declared.names if n not in written_names]:
        differences.append(f"declared but not written: {', '.join(missing)}")
    if extra := [n for n in written.names if n not in set(declared.names)]:
        differences.append(f"written but not declared: {', '.join(extra)}")
    for name in (n for n in declared.names if n in written_names):
        want, got = declared.field(name), written.field(name)
        if _delta_type(want) != _delta_type(got):
            differences.append(f"{name}: declared {want.type}, written {got.type}")
    common = [n for n in declared.names if n in written_names]
    if not differences and [n for n in written.names if n in set(common)] != common:
        differences.append(f"columns in another order: {', '.join(written.names)}")
    return differences


def written_schema(lakehouse: Lakehouse, table: Table) -> pa.Schema:
    """The Arrow schema of a table as its Delta log records it."""
    return pa.schema(lakehouse.delta(table).schema())
