"""Small DataFrame helpers shared by the jobs."""

from __future__ import annotations

from functools import reduce


def union_all(frames: list):
    """Union frames by column name; None when there are none."""
    return reduce(lambda left, right: left.unionByName(right), frames) if frames else None
