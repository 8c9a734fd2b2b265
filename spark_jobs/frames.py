"""Small DataFrame helpers shared by the jobs."""

from __future__ import annotations

from functools import reduce


def union_all(frames: list):
    """Union frames by column name; None when there are none."""
    return reduce(lambda left, right: left.unionByName(right), frames) if frames else None


#: aggregate keeping the lineage of a group's last file by path (its folder is the delivery
#: date) together with that file's own batch: one max over both, so they come from the same
#: row. A max per column costs a third more, and a max over a struct exhausted 24 GiB.
#: chr(1) sorts below every character of a path, so the path decides the order.
LAST_LINEAGE = "max(concat(_source_file, chr(1), _batch_id)) AS _lineage"
#: ``_source_file`` and ``_batch_id`` back out of ``_lineage``
LINEAGE_COLUMNS = ["substring_index(_lineage, chr(1), 1) AS _source_file",
                   "substring_index(_lineage, chr(1), -1) AS _batch_id"]
