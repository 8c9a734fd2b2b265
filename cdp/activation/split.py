"""Treatment and control: a deterministic, reproducible split of a segment.

Every person gets a number in [0, 1): the first 8 bytes (big-endian) of
``SHA-256(salt + ":" + one_id)`` (UTF-8) divided by 2**64. Anyone can recompute it from the
salt and the OneID, in any language.

- Without strata, a person is in the control group when their number is below the control
  ratio. The group of a person depends only on the salt and their OneID, so it does not change
  when other people enter or leave the segment between runs; the control share is the ratio
  within sampling tolerance.
- With strata (e.g. the RFM segment), the people of each stratum are ordered by their number
  (ties by OneID) and the first ``round_half_up(n * ratio)`` are control: exact proportions
  within each stratum, at the price that a person's group may change when the stratum's
  membership changes.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pyarrow as pa

TREATMENT, CONTROL = "treatment", "control"
NO_STRATUM = "(none)"
METHOD = (
    "sha256(salt:one_id)[:8] / 2**64; control when below the ratio, or the first "
    "round_half_up(n * ratio) of each stratum by that number"
)


def hash_fraction(salt: str, one_id: str) -> float:
    """The person's number in [0, 1) for ``salt``."""
    digest = hashlib.sha256(f"{salt}:{one_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _hash_keys(salt: str, one_ids: list[str]) -> np.ndarray:
    prefix = f"{salt}:".encode()
    return np.fromiter(
        (
            int.from_bytes(hashlib.sha256(prefix + one_id.encode()).digest()[:8], "big")
            for one_id in one_ids
        ),
        dtype=np.uint64,
        count=len(one_ids),
    )


def control_count(size: int, ratio: float) -> int:
    """People of a stratum of ``size`` held out: ``size * ratio`` rounded half up."""
    exact = Decimal(int(size)) * Decimal(repr(ratio))
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def assign_groups(
    people: pa.Table, salt: str, control_ratio: float, stratum_column: str | None = None
) -> pa.Table:
    """``people`` (``one_id`` and, when stratified, ``stratum_column``) with ``stratum``,
    ``hash_fraction`` and ``group`` (treatment / control), sorted by one_id."""
    if not 0 <= control_ratio < 1:
        raise ValueError(f"control_ratio must be in [0, 1), got {control_ratio}")
    people = people.sort_by("one_id")
    one_ids = people.column("one_id").to_pylist()
    keys = _hash_keys(salt, one_ids)
    fractions = keys.astype(np.float64) / 2**64
    control = np.zeros(len(one_ids), dtype=bool)
    if stratum_column is None:
        strata = [NO_STRATUM] * len(one_ids)
        threshold = np.uint64(min(int(Decimal(repr(control_ratio)) * 2**64), 2**64 - 1))
        control = keys < threshold
    else:
        strata = [
            NO_STRATUM if s is None else str(s) for s in people.column(stratum_column).to_pylist()
        ]
        codes = np.unique(np.array(strata, dtype=object), return_inverse=True)[1]
        # one_ids are sorted, so a stable sort by (stratum, hash) breaks hash ties by one_id
        order = np.lexsort((keys, codes))
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for start, end in zip(starts, ends):
            control[order[start : start + control_count(end - start, control_ratio)]] = True
    return pa.table(
        {
            "one_id": pa.array(one_ids, pa.string()),
            "stratum": pa.array(strata, pa.string()),
            "hash_fraction": pa.array(fractions, pa.float64()),
            "group": pa.array(np.where(control, CONTROL, TREATMENT), pa.string()),
        }
    )


def split_summary(groups: pa.Table) -> dict:
    """Counts per group and per stratum, for the manifest."""
    strata: dict[str, dict[str, int]] = {}
    for stratum, group in zip(
        groups.column("stratum").to_pylist(), groups.column("group").to_pylist()
    ):
        counts = strata.setdefault(stratum, {TREATMENT: 0, CONTROL: 0})
        counts[group] += 1
    total = {g: sum(c[g] for c in strata.values()) for g in (TREATMENT, CONTROL)}
    return {**total, "strata": dict(sorted(strata.items()))}
