"""Incremental marts builds give the rows a full refresh gives: on a copy of the shared run
(whose marts build is the previous build), a next day's delivery lands with a late ticket, a
correction of an old ticket the previous build counted and a ticket that merges two people in
OneID, and an incremental build as of that day is compared, table by table and row by row,
with a full refresh over the same lakehouse. (A build whose as-of day goes back is a full
refresh: tests/unit/test_marts_incremental.py.)"""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta

import duckdb
from deltalake import DeltaTable

from cdp import marts_incremental, pipeline
from cdp.runtime import spark_session
from spark_jobs.contracts import CONTRACTS

#: a POS export's columns, as its contract declares them
POS_COLUMNS = [f.name for f in CONTRACTS["pos_tickets"].fields]
#: written by the build itself, not data: which build wrote a row, what the build saw
BUILD_COLUMNS = {"marts_build_id"}
FLOATS = {"DOUBLE", "FLOAT"}
BUILD_TABLES = {"marts_build_state", "int_identity__touched", "int_marts__new_batches"}


def read(lakehouse, name: str, columns: list[str]) -> list[dict]:
    return (
        DeltaTable(str(lakehouse / "silver" / name)).to_pyarrow_table(columns=columns).to_pylist()
    )


def two_people(lakehouse) -> tuple[tuple[str, str], tuple[str, str]]:
    """(card, one_id) of a member and (phone, one_id) of someone else with no card."""
    keys = read(lakehouse, "identity_map", ["identifier_type", "identifier_value", "one_id"])
    with_card = {k["one_id"] for k in keys if k["identifier_type"] == "member_card"}
    card = next(k for k in keys if k["identifier_type"] == "member_card")
    phone = next(
        k
        for k in keys
        if k["identifier_type"] == "phone"
        and k["one_id"] not in with_card
        and k["identifier_value"].startswith("1")
    )
    return (card["identifier_value"], card["one_id"]), (phone["identifier_value"], phone["one_id"])


def pos_line(ticket: str, when: str, card: str = "", phone: str = "", quantity: int = 1) -> dict:
    return dict(
        zip(
            POS_COLUMNS,
            [
                "SH001",
                "Beauty",
                ticket,
                "1",
                "SALE",
                "",
                when,
                phone,
                card,
                "BE02005",
                "Hand Cream",
                "Beauty",
                str(quantity),
                "135.00",
                "0.00",
                f"{135 * quantity:.2f}",
                "WeChat Pay",
            ],
            strict=True,
        )
    )


def old_ticket(shared_landing, day: date) -> list[dict]:
    """The lines of a member's sale ticket of ``day`` as the shared run's landing delivered them."""
    for path in sorted((shared_landing / "pos_tickets" / day.isoformat()).glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as lines:
            rows = list(csv.DictReader(lines))
        sales = [r for r in rows if r["ticket_type"] == "SALE" and r["member_card_no"]]
        if sales:
            return [r for r in rows if r["ticket_no"] == sales[0]["ticket_no"]]
    raise AssertionError(f"no member's sale ticket delivered on {day}")


def corrected(lines: list[dict]) -> list[dict]:
    """A correction of a ticket (same ticket number and time): three more of its first item."""
    first = dict(lines[0])
    quantity = int(first["quantity"]) + 3
    amount = float(first["line_amount"]) / int(first["quantity"]) * quantity
    first.update(quantity=str(quantity), line_amount=f"{amount:.2f}")
    return [first, *lines[1:]]


def deliver(landing, shared_landing, day: date, lakehouse) -> tuple[str, str, list[dict]]:
    """A POS file of ``day``: a late ticket (ten days old), a correction of a ticket three days
    old and a ticket carrying one person's card and another's phone. Returns the card and the
    phone that should now be one person, and the corrected ticket's lines."""
    (card, _), (phone, _) = two_people(lakehouse)
    late_day = (day - timedelta(days=11)).strftime("%Y/%m/%d")
    correction = corrected(old_ticket(shared_landing, day - timedelta(days=4)))
    rows = [
        pos_line("TZZ-LATE-1", f"{late_day} 11:00:00", card=card),
        *correction,
        pos_line("TZZ-MERGE-1", f"{day.strftime('%Y/%m/%d')} 15:00:00", card, phone),
    ]
    path = landing / "pos_tickets" / day.isoformat() / "pos_tickets_ZZ_next.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, POS_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return card, phone, correction


def land(settings, through: date) -> None:
    with spark_session(settings) as spark:
        pipeline.ingest(settings, spark, through_date=through.isoformat())
        pipeline.standardise(settings, spark)
        pipeline.resolve_identity(settings, spark)


def tables(con, catalog: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1, 2",
        [catalog],
    ).fetchall()


def differences(incremental, full) -> dict[str, tuple[int, int]]:
    """Per table: rows only in the incremental file, rows only in the full refresh."""
    found = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{incremental}' AS incr (READ_ONLY)")
        con.execute(f"ATTACH '{full}' AS full_build (READ_ONLY)")
        names = tables(con, "incr")
        assert names == tables(con, "full_build")
        for schema, table in names:
            if table in BUILD_TABLES:
                continue
            columns = [
                (c, kind)
                for (c, kind) in con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() "
                    "WHERE database_name = 'incr' "
                    "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                    [schema, table],
                ).fetchall()
                if c not in BUILD_COLUMNS
            ]
            # a sum of floats depends on the order it adds in, which an incremental model's
            # rows need not keep: floats are compared to 9 decimals
            listed = ", ".join(
                f'round("{c}", 9)' if kind in FLOATS else f'"{c}"' for c, kind in columns
            )

            def only(a, b, schema=schema, table=table, listed=listed):
                return con.execute(
                    f'SELECT count(*) FROM (SELECT {listed} FROM {a}."{schema}"."{table}" '
                    f'EXCEPT ALL SELECT {listed} FROM {b}."{schema}"."{table}")'
                ).fetchone()[0]

            counts = (only("incr", "full_build"), only("full_build", "incr"))
            if counts != (0, 0):
                found[f"{schema}.{table}"] = counts
    return found


def one_id_of(lakehouse, kind: str, value: str) -> str:
    keys = read(lakehouse, "identity_map", ["identifier_type", "identifier_value", "one_id"])
    return next(
        k["one_id"] for k in keys if (k["identifier_type"], k["identifier_value"]) == (kind, value)
    )


def test_incremental_builds_equal_a_full_refresh(shared_copy, tmp_path):
    landing = tmp_path / "landing"
    settings = shared_copy.model_copy(update={"landing": landing})
    lakehouse = settings.lakehouse_dir
    next_day = marts_incremental.read_state(settings.restricted_marts_db).as_of + timedelta(1)
    card, phone, correction = deliver(landing, shared_copy.landing_dir, next_day, lakehouse)

    land(settings, next_day)
    assert one_id_of(lakehouse, "member_card", card) == one_id_of(lakehouse, "phone", phone)
    said: list[str] = []
    pipeline.build_marts(settings, as_of=next_day.isoformat(), progress=said.append)
    assert said[0].startswith("marts: incremental since the build as of")
    incremental = tmp_path / "incremental.duckdb"
    shutil.copy2(settings.restricted_marts_db, incremental)

    pipeline.build_marts(settings, as_of=next_day.isoformat(), full_refresh=True)
    with duckdb.connect(str(incremental), read_only=True) as con:
        units = con.execute(
            "SELECT unit_count FROM fct_orders WHERE order_id = ?",
            [f"{correction[0]['store_code']}-{correction[0]['ticket_no']}"],
        ).fetchall()
        late = con.execute("SELECT count(*) FROM fct_orders WHERE order_id LIKE '%TZZ-LATE-1%'")
        assert units == [(sum(int(line["quantity"]) for line in correction),)]
        assert late.fetchone() == (1,)
    assert differences(incremental, settings.restricted_marts_db) == {}
