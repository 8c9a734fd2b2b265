"""The console's data access: the one module that opens the marts and the OneID map.

Roles allowed personal values read the restricted marts (``Settings.restricted_marts_db``;
the one marts file until the marts are split) and ``customer_360``; every other role reads
the analysts' file and ``customer_360_masked``. Every method takes the asker's scope and
keeps to it (``queries.person_filter``): a person outside it is "not found".

OneID lookups go to an in-memory copy of ``silver.identity_map`` (``oneid_index``).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp.config import Settings
from cdp.console import queries as q
from cdp.console.oneid_index import OneIdIndex
from cdp.console.scope import OrgTree, Scope, parse_scope
from cdp.lakehouse import Lakehouse
from cdp.normalise import clean_identifier, normalise_email, normalise_phone
from cdp.tables import SEGMENT_MEMBERSHIP, SEGMENT_RUNS

RAW_360, MASKED_360 = "customer_360", "customer_360_masked"
#: identifier types a member may be found by (``name``: raw names, personal-value roles only)
SEARCH_KINDS = (
    "phone",
    "member_card",
    "openid",
    "unionid",
    "email",
    "device_id",
    "cookie_id",
    "tmall_ouid",
    "jd_pin",
    "douyin_open_id",
    "one_id",
    "name",
)


#: a phone already written as silver writes a mainland mobile: 11 digits from 1
MAINLAND_MOBILE = re.compile(r"1[0-9]{10}")


def restricted_marts_db(settings: Settings) -> Path:
    """The marts file with raw personal values (until the marts are split: the one file)."""
    return getattr(settings, "restricted_marts_db", settings.marts_db)


def canonical_identifier(kind: str, value: str) -> str:
    """An identifier as silver stores it: cleaned, a phone as 11 digits (any spelling), an
    e-mail lower-cased."""
    cleaned = clean_identifier(value) or ""
    if kind == "phone":
        if MAINLAND_MOBILE.fullmatch(cleaned):
            return cleaned  # already silver's form: skip the parser (batches of 10,000)
        return normalise_phone(cleaned) or cleaned
    if kind == "email":
        return normalise_email(cleaned) or cleaned
    return cleaned


class _MartsFile:
    """A read-only DuckDB connection to one marts file, reopened when the file is replaced
    (a marts build swaps a new file in); each query runs on a cursor of its own thread."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stamp: tuple | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        stat = self.path.stat()  # FileNotFoundError: no marts yet
        stamp = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._con is None or stamp != self._stamp:
                if self._con is not None:
                    self._con.close()
                self._con = duckdb.connect(str(self.path), read_only=True)
                self._con.execute("SET TimeZone = 'UTC'")
                self._stamp = stamp
            return self._con.cursor()


@dataclass
class Viewer:
    """What the data layer needs of the asker: their scope and whether they see personal
    values."""

    scope: Scope
    personal_values: bool


class ConsoleData:
    """Every read the console and the API make, under the asker's scope."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.lakehouse = Lakehouse(settings.lakehouse_dir)
        self._analyst = _MartsFile(settings.marts_db)
        restricted = restricted_marts_db(settings)
        self._restricted = (
            self._analyst if restricted == settings.marts_db else _MartsFile(restricted)
        )
        self._identity = OneIdIndex(self.lakehouse)
        self._scope_cache: dict[tuple, frozenset[str] | None] = {}

    # -- connections and the organisation tree -------------------------------------------
    def marts(self, viewer: Viewer) -> duckdb.DuckDBPyConnection:
        """A cursor on the marts file this viewer may read."""
        return (self._restricted if viewer.personal_values else self._analyst).cursor()

    def analyst_marts(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the analysts' marts file (masked values only): segments, options."""
        return self._analyst.cursor()

    def person_relation(self, viewer: Viewer) -> str:
        return RAW_360 if viewer.personal_values else MASKED_360

    def org_tree(self) -> OrgTree:
        """The stores of dim_stores (the organisation tree)."""
        cur = self._analyst.cursor()
        rel = cur.sql("SELECT * FROM dim_stores ORDER BY store_code")
        return OrgTree(tuple(dict(zip(rel.columns, row)) for row in rel.fetchall()))

    def stores(self, scope: Scope) -> list[str] | None:
        """The store codes of a scope (None: the whole group)."""
        return self.org_tree().stores_in(scope)

    def scope_members(self, scope: Scope) -> frozenset[str] | None:
        """The OneIDs within a scope (None: everyone), cached per marts file version."""
        if scope.is_group:
            return None
        stat = self.settings.marts_db.stat()
        key = (str(scope), stat.st_ino, stat.st_mtime_ns)
        if key not in self._scope_cache:
            sql = q.scope_people_sql(self.stores(scope))
            ids = frozenset(r[0] for r in self._analyst.cursor().sql(sql).fetchall())
            self._scope_cache[key] = ids
        return self._scope_cache[key]

    def in_scope(self, scope: Scope, one_id: str | None) -> bool:
        members = self.scope_members(scope)
        return one_id is not None and (members is None or one_id in members)

    # -- OneID --------------------------------------------------------------------------
    def lookup(self, scope: Scope, kind: str, value: str) -> str | None:
        """The OneID of an identifier (normalised as in silver), None when unknown or outside
        the scope. An openid without its ``<app_id>/`` matches that openid in any app."""
        one_id = self._identity.one_id(kind, canonical_identifier(kind, value))
        return one_id if self.in_scope(scope, one_id) else None

    def lookup_batch(self, scope: Scope, pairs: list[tuple[str, str]]) -> list[str | None]:
        """The OneIDs of many identifiers, in order (None: unknown or outside the scope)."""
        found = self._identity.one_ids([(k, canonical_identifier(k, v)) for k, v in pairs])
        members = self.scope_members(scope)
        return [o if o is not None and (members is None or o in members) else None for o in found]

    def identifiers_of(self, one_id: str) -> list[tuple[str, str]]:
        """Every (type, value) the OneID map holds for a person."""
        return self._identity.identifiers_of(one_id)

    # -- members ------------------------------------------------------------------------
    def search(self, viewer: Viewer, kind: str, value: str) -> list[str]:
        """OneIDs found by any identifier (or a raw name, for personal-value roles)."""
        if kind not in SEARCH_KINDS:
            raise ValueError(f"search: unknown kind {kind!r}; expected one of {SEARCH_KINDS}")
        if kind == "one_id":
            return [value] if self.in_scope(viewer.scope, value) else []
        if kind == "name":
            if not viewer.personal_values:
                return []
            sql = q.search_name_sql(self.stores(viewer.scope))
            return [r[0] for r in self.marts(viewer).execute(sql, [value.strip()]).fetchall()]
        one_id = self.lookup(viewer.scope, kind, value)
        return [one_id] if one_id else []

    def member(self, viewer: Viewer, one_id: str) -> dict | None:
        """A person's 360 row within the scope (masked unless personal values), or None.
        Under a scope, group-wide sales columns give way to the sales at its stores."""
        stores = self.stores(viewer.scope)
        cur = self.marts(viewer)
        rel = cur.execute(q.member_sql(self.person_relation(viewer), stores), [one_id])
        row = rel.fetchone()
        if row is None:
            return None
        record = dict(zip([d[0] for d in rel.description], row))
        if stores is not None:
            for column in q.GROUP_SALES_COLUMNS:
                record.pop(column, None)
            sales = cur.execute(q.scoped_sales_sql(stores), [one_id])
            record.update(
                {
                    f"scope_{k}": v
                    for k, v in zip([d[0] for d in sales.description], sales.fetchone())
                }
            )
        return record

    def member_detail(self, viewer: Viewer, one_id: str) -> dict | None:
        """The 360 page's data: profile, tags, timeline, RFM history, points, coupons."""
        profile = self.member(viewer, one_id)
        if profile is None:
            return None
        stores = self.stores(viewer.scope)
        cur = self.marts(viewer)
        detail = {
            "profile": profile,
            "tags": self.tags(viewer, one_id),
            "timeline": _rows(cur.execute(q.timeline_sql(stores, 200), [one_id])),
        }
        if stores is None:
            detail["rfm_history"] = _rows(
                cur.execute(
                    "SELECT as_of, segment, rfm_cell, recency_days, frequency, monetary_fen "
                    "FROM rfm_daily WHERE one_id = ? ORDER BY as_of",
                    [one_id],
                )
            )
            detail["points"] = _rows(
                cur.execute(
                    "SELECT occurred_at, movement_type, reason, points, balance_after "
                    "FROM points_ledger WHERE one_id = ? ORDER BY occurred_at DESC LIMIT 50",
                    [one_id],
                )
            )
            detail["coupons"] = _rows(
                cur.execute(
                    "SELECT coupon_id, campaign_id, status, face_value_fen, issued_at, "
                    "redeemed_at FROM coupon_performance WHERE holder_one_id = ? "
                    "ORDER BY issued_at DESC LIMIT 50",
                    [one_id],
                )
            )
        return detail

    def tags(self, viewer: Viewer, one_id: str) -> list[dict]:
        """A person's tags (empty outside the scope)."""
        if not self.in_scope(viewer.scope, one_id):
            return []
        return _rows(
            self.marts(viewer).execute(
                "SELECT tag, category, since FROM customer_tags WHERE one_id = ? ORDER BY tag",
                [one_id],
            )
        )

    def member_list(
        self, viewer: Viewer, filters: dict[str, str], limit: int | None = 200
    ) -> tuple[list[str], list[tuple]]:
        """Columns and rows of the people matching ``filters`` within the scope."""
        unknown = set(filters) - set(q.LIST_FILTERS)
        if unknown:
            raise ValueError(f"member list: unknown filters {sorted(unknown)}")
        sql = q.member_list_sql(
            self.person_relation(viewer), self.stores(viewer.scope), filters, limit
        )
        rel = self.marts(viewer).sql(sql)
        return rel.columns, rel.fetchall()

    def filter_values(self, viewer: Viewer) -> dict[str, list[str]]:
        """The values each member-list filter can take (offered in the forms)."""
        cur = self._analyst.cursor()
        return {
            column: [
                r[0]
                for r in cur.sql(
                    f"SELECT DISTINCT {column} FROM {MASKED_360} WHERE {column} IS NOT NULL "
                    "ORDER BY 1"
                ).fetchall()
            ]
            for column in q.LIST_FILTERS
        }

    # -- segments -----------------------------------------------------------------------
    def segment_memberships(self, scope: Scope, one_id: str) -> list[dict]:
        """The segments a person was in at each segment's latest export (group, as of)."""
        if not self.in_scope(scope, one_id) or not self.lakehouse.exists(SEGMENT_MEMBERSHIP):
            return []
        rows = self.lakehouse.scan(
            SEGMENT_MEMBERSHIP,
            ["segment", "run_id", "as_of", "one_id", "group"],
            pc.field("one_id") == one_id,
        ).to_pylist()
        latest = {r["segment"]: r for r in self.export_runs()}
        return [
            {
                "segment": r["segment"],
                "run_id": r["run_id"],
                "as_of": r["as_of"],
                "group": r["group"],
            }
            for r in rows
            if r["segment"] in latest and latest[r["segment"]]["run_id"] == r["run_id"]
        ]

    def export_runs(self) -> list[dict]:
        """The latest export run of every segment (gold.segment_runs), by segment."""
        if not self.lakehouse.exists(SEGMENT_RUNS):
            return []
        latest: dict[str, dict] = {}
        for run in self.lakehouse.to_arrow(SEGMENT_RUNS).to_pylist():
            held = latest.get(run["segment"])
            if held is None or (run["as_of"], run["send_at"]) > (held["as_of"], held["send_at"]):
                latest[run["segment"]] = run
        return [latest[s] for s in sorted(latest)]

    def export_manifest(self, segment: str, run_id: str) -> dict | None:
        """The manifest of an export run, or None when its folder is gone."""
        path = self.settings.workspace / "exports" / segment / run_id / "manifest.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def portrait(self, viewer: Viewer, one_ids: list[str], columns: list[str]) -> dict:
        """How a group of people differs from everyone, per column: shares and lift."""
        cur = self._analyst.cursor()
        cur.register("portrait_members", pa.table({"one_id": pa.array(one_ids, pa.string())}))
        out = {}
        for column in columns:
            rows = _rows(cur.sql(q.portrait_sql(MASKED_360, column)))
            for row in rows:
                base = row["base_share"] or 0
                row["lift"] = (row["segment_share"] or 0) / base if base else None
            out[column] = rows
        return out

    # -- dashboards ---------------------------------------------------------------------
    def dashboard(self, viewer: Viewer, drill: Scope | None, days: int = 7) -> dict:
        """Net sales, orders and buyers per day over the last ``days`` days against the
        ``days`` before, and sales by the next level down of ``drill`` (within the viewer's
        scope: a drill outside it shows nothing)."""
        cur = self._analyst.cursor()
        last = cur.sql("SELECT max(sales_date) FROM daily_sales_by_store").fetchone()[0]
        tree = self.org_tree()
        stores = tree.stores_in(viewer.scope)
        node = drill or viewer.scope
        if drill is not None:
            inner = tree.stores_in(drill)
            stores = inner if stores is None else [s for s in stores if inner is None or s in inner]
        first = last - timedelta(days=days - 1)
        before = (first - timedelta(days=days), first - timedelta(days=1))
        current = _rows(cur.sql(q.sales_series_sql(stores, first, last)))
        previous = _rows(cur.sql(q.sales_series_sql(stores, *before)))
        level = _next_level(node)
        return {
            "as_of": last,
            "node": str(node),
            "days": days,
            "series": current,
            "previous_series": previous,
            "totals": _totals(current),
            "previous_totals": _totals(previous),
            "level": level,
            "breakdown": _rows(cur.sql(q.breakdown_sql(stores, level[1], first, last))),
        }

    def member_structure(self, viewer: Viewer) -> dict:
        """People by lifecycle stage, tier and RFM segment within the scope."""
        stores = self.stores(viewer.scope)
        cur = self._analyst.cursor()
        return {
            column: _rows(cur.sql(q.distribution_sql(MASKED_360, column, stores)))
            for column in ("lifecycle_stage", "tier", "rfm_segment")
        }


#: drill-down: from a node's level to the dim_stores column shown below it
DRILL = {
    "group": ("region", "region"),
    "region": ("mall", "mall_code"),
    "city": ("mall", "mall_code"),
    "mall": ("store", "store_code"),
    "store": ("business_format", "business_format"),
}


def _next_level(node: Scope) -> tuple[str, str]:
    return DRILL[node.level]


def _totals(series: list[dict]) -> dict:
    return {k: sum(r[k] or 0 for r in series) for k in ("net_sales_fen", "orders", "buyers")}


def _rows(rel) -> list[dict]:
    columns = [d[0] for d in rel.description]
    return [dict(zip(columns, row)) for row in rel.fetchall()]


def viewer_of(role_permissions: frozenset[str], scope: str) -> Viewer:
    """The data view of a role's permissions and a written scope."""
    return Viewer(parse_scope(scope), "personal_values" in role_permissions)
