"""Segments for the CLI: every segment's size (``list_segments``), and one segment's preview.

A preview compiles the segment (``cdp.activation.compiler``), counts its people, measures its
overlap with the other valid segments and samples it from the masked customer 360.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from cdp.activation import definitions as d
from cdp.activation.catalog import MartCatalog, SegmentError
from cdp.activation.compiler import CompiledSegment, compile_segment, members
from cdp.activation.people_lists import IdentifierLookup
from cdp.config import ConfigError

MASKED = "customer_360_masked"
SAMPLE_COLUMNS = (
    "one_id",
    "name",
    "phone",
    "member_card_no",
    "city",
    "lifecycle_stage",
    "rfm_segment",
    "tier",
)


@dataclass
class SegmentSummary:
    """A line of ``cdp segments list``: the size, or the error that stops the segment."""

    name: str
    owner: str
    description: str
    size: int | None
    error: str | None = None


@dataclass
class Preview:
    """What ``cdp segments preview`` shows of one segment."""

    name: str
    owner: str
    as_of: date
    size: int
    #: (other segment, people in both, share of this segment) for overlapping segments
    overlaps: list[tuple[str, int, float]]
    sample_columns: list[str]
    sample: list[tuple]
    sql: str
    unresolved: dict[str, int]


def compile_all(
    con: duckdb.DuckDBPyConnection, segments_dir: Path, lookup: IdentifierLookup | None = None
) -> dict[str, CompiledSegment | ConfigError]:
    """Every segment compiled, or the error that stops it."""
    catalog = MartCatalog(con)
    out: dict[str, CompiledSegment | ConfigError] = {}
    for name, path in d.segment_paths(segments_dir).items():
        try:
            out[name] = compile_segment(d.load_segment(path), path, con, lookup, catalog)
        except ConfigError as exc:
            out[name] = exc
    return out


def list_segments(
    con: duckdb.DuckDBPyConnection, segments_dir: Path, lookup: IdentifierLookup | None = None
) -> list[SegmentSummary]:
    """Name, owner and size of every segment; an invalid one carries its error instead."""
    summaries = []
    for name, compiled in compile_all(con, segments_dir, lookup).items():
        if isinstance(compiled, ConfigError):
            summaries.append(SegmentSummary(name, "", "", None, str(compiled)))
            continue
        d = compiled.definition
        try:
            size = members(con, compiled).num_rows
        except SegmentError as exc:  # one segment the marts cannot run hides no other
            summaries.append(SegmentSummary(name, d.owner, d.description, None, str(exc)))
        else:
            summaries.append(SegmentSummary(name, d.owner, d.description, size))
    return summaries


def preview(
    con: duckdb.DuckDBPyConnection,
    name: str,
    segments_dir: Path,
    lookup: IdentifierLookup | None = None,
    sample_size: int = 10,
) -> Preview:
    """Size, overlap with the other (valid) segments, and a sample with personal data masked
    (``customer_360_masked``)."""
    definition, path = d.find_segment(name, segments_dir)
    catalog = MartCatalog(con)
    compiled = compile_segment(definition, path, con, lookup, catalog)
    people = members(con, compiled)
    con.register("preview_members", people)
    overlaps = []
    for other_name, other in compile_all(con, segments_dir, lookup).items():
        if other_name == name or isinstance(other, ConfigError):
            continue
        try:
            con.register("preview_other", members(con, other))
        except SegmentError:  # `segments list` reports it; it overlaps nobody here
            continue
        both = con.sql(
            "SELECT count(*) FROM preview_members JOIN preview_other USING (one_id)"
        ).fetchone()[0]
        if both:
            overlaps.append((other_name, both, both / people.num_rows))
    available = catalog.columns(MASKED)
    columns = [c for c in SAMPLE_COLUMNS if c in available]
    sample = con.sql(sample_sql(columns, sample_size)).fetchall()
    return Preview(
        name,
        definition.owner,
        compiled.as_of,
        people.num_rows,
        sorted(overlaps, key=lambda o: (-o[1], o[0])),
        columns,
        sample,
        compiled.sql,
        compiled.unresolved,
    )


def sample_sql(columns: list[str], limit: int) -> str:
    """A reproducible sample of the previewed members from the masked customer 360."""
    return (
        f"SELECT {', '.join('c.' + c for c in columns)} FROM preview_members AS s "
        f"JOIN {MASKED} AS c USING (one_id) ORDER BY md5(s.one_id) LIMIT {int(limit)}"
    )
