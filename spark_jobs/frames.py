"""Small DataFrame helpers shared by the jobs, and the lineage every silver row carries."""

from __future__ import annotations

from functools import reduce


def union_all(frames: list):
    """Union frames by column name; None when there are none."""
    return reduce(lambda left, right: left.unionByName(right), frames) if frames else None


#: bronze lineage kept on every silver row: the file, its batch and the line a row comes from
LINEAGE = ["_source_file", "_batch_id", "_line_no"]


def delivery_order(row: str = "") -> list[str]:
    """SQL expressions that order rows as they were delivered, earliest first: delivery folder
    (a date) and file name, the last two parts of ``_source_file``, then the line number.

    They are the same on every run over the same files, unlike ``_batch_id`` (a checksum, so
    in random order) and ``_loaded_at``; and they do not depend on where the landing zone is
    mounted, the rest of the path. ``row`` qualifies the columns (a MERGE's ``s`` or ``t``).
    A file replaced in place keeps its path, so a correction must come as a new file.
    """
    prefix = f"{row}." if row else ""
    return [f"substring_index({prefix}_source_file, '/', -2)", f"{prefix}_line_no"]


#: aggregate keeping the lineage of a group's last delivered row (see ``delivery_order``):
#: one max over one text, so the file, batch and line come from the same row. A max per
#: column costs a third more, and a max over a struct exhausted 24 GiB. chr(1) sorts below
#: every character of a path, and the padded line number sorts as a number; rows written
#: before silver kept lines have none, which pads to 0 (lines count from 1).
LINEAGE_TEXT = (
    "concat(substring_index(_source_file, '/', -2), chr(1), "
    "lpad(coalesce(CAST(_line_no AS string), ''), 19, '0'), chr(1), "
    "_source_file, chr(1), _batch_id)"
)
LAST_LINEAGE = f"max({LINEAGE_TEXT}) AS _lineage"
#: ``_source_file``, ``_batch_id`` and ``_line_no`` back out of ``_lineage``
LINEAGE_COLUMNS = [
    "substring_index(substring_index(_lineage, chr(1), -2), chr(1), 1) AS _source_file",
    "substring_index(_lineage, chr(1), -1) AS _batch_id",
    (
        "nullif(CAST(substring_index(substring_index(_lineage, chr(1), 2), chr(1), -1) AS bigint), "
        "0) AS _line_no"
    ),
]
