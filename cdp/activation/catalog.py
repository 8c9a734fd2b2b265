"""The marts a segment is compiled against: their columns, the values they know, their day.

Every mart column a definition names is checked against the marts (DuckDB ``DESCRIBE``) at
compile time, so a typo says which field is unknown and lists the ones there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb

from cdp.config import ConfigError

UNIVERSE = "customer_lifecycle"  # one row per person known on the as-of day
#: where the values a shortcut or tag condition may name are listed: (relation, column)
VALUE_CATALOGS = {
    "tag": ("tag_catalog", "tag"),
    "rfm_segment": ("intermediate.rfm_segment_map", "segment"),
    "tier": ("loyalty_tiers", "tier"),
}
#: customer_lifecycle's stages (its accepted_values test in dbt); no table lists them
LIFECYCLE_STAGES = (
    "visitor",
    "follower",
    "member",
    "member_never_bought",
    "first_purchase",
    "active",
    "dormant",
    "at_risk",
    "churned",
)


class SegmentError(ConfigError):
    """A definition does not fit the marts (unknown field, tag, value); names file and key."""


class MartCatalog:
    """Column names and types of the marts in one DuckDB connection (``DESCRIBE``), cached."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._columns: dict[str, dict[str, str]] = {}
        self._values: dict[str, list[str]] = {}

    def columns(self, relation: str) -> dict[str, str]:
        """``{column: DuckDB type}`` of ``relation``; SegmentError when the marts lack it."""
        if relation not in self._columns:
            try:
                described = self.con.sql(f"DESCRIBE {relation}").fetchall()
            except duckdb.CatalogException:
                raise SegmentError(
                    f"the marts have no table {relation}; build the marts (`cdp marts build`)"
                ) from None
            self._columns[relation] = {row[0]: row[1] for row in described}
        return self._columns[relation]

    def column_type(self, relation: str, column: str, where: str) -> str:
        """The type of ``relation.column``; SegmentError at ``where`` listing the columns."""
        columns = self.columns(relation)
        if column not in columns:
            raise SegmentError(
                f"{where}: unknown field {column!r} in {relation}; available: "
                f"{', '.join(sorted(columns))}"
            )
        return columns[column]

    def known_values(self, kind: str) -> list[str]:
        """The values a ``kind`` condition may name (tags, RFM segments, tiers, stages)."""
        if kind == "lifecycle_stage":
            return list(LIFECYCLE_STAGES)
        if kind not in self._values:
            relation, column = VALUE_CATALOGS[kind]
            self.column_type(relation, column, relation)
            self._values[kind] = [
                v
                for (v,) in self.con.sql(
                    f"SELECT DISTINCT {column} FROM {relation} WHERE {column} IS NOT NULL "
                    f"ORDER BY 1"
                ).fetchall()
            ]
        return self._values[kind]


def marts_as_of(catalog: MartCatalog, relations: Iterable[str]) -> date:
    """The one as-of day of the marts a segment reads (the marts are built together)."""
    days: set[date] = set()
    for relation in sorted(set(relations) | {UNIVERSE}):
        if "as_of" in catalog.columns(relation):
            days |= {
                d
                for (d,) in catalog.con.sql(f"SELECT DISTINCT as_of FROM {relation}").fetchall()
                if d is not None
            }
    if len(days) != 1:
        raise SegmentError(
            f"the marts disagree on the as-of day ({sorted(days) or 'no rows'}); "
            "rebuild them (`cdp marts build`)"
        )
    return days.pop()
