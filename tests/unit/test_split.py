"""Treatment / control split: deterministic, reproducible, exact within strata."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest

from cdp.activation.split import (
    CONTROL,
    NO_STRATUM,
    TREATMENT,
    assign_groups,
    control_count,
    hash_fraction,
    split_summary,
)


def people(n: int, strata: list | None = None) -> pa.Table:
    columns = {"one_id": [f"O{i:015X}" for i in range(n)]}
    if strata is not None:
        columns["stratum"] = strata
    return pa.table(columns)


def groups_of(table: pa.Table) -> dict[str, str]:
    return dict(zip(table.column("one_id").to_pylist(), table.column("group").to_pylist()))


def test_hash_fraction_is_the_documented_formula():
    digest = hashlib.sha256(b"spring-2026:O00000000000002A").digest()
    assert (
        hash_fraction("spring-2026", "O00000000000002A")
        == int.from_bytes(digest[:8], "big") / 2**64
    )


def test_same_salt_same_groups_whatever_the_input_order():
    table = people(2_000)
    first = assign_groups(table, "salt-a", 0.2)
    shuffled = table.take(list(reversed(range(table.num_rows))))
    assert groups_of(assign_groups(shuffled, "salt-a", 0.2)) == groups_of(first)
    assert first.column("one_id").to_pylist() == sorted(table.column("one_id").to_pylist())


def test_another_salt_gives_another_split():
    table = people(2_000)
    a, b = (
        groups_of(assign_groups(table, "salt-a", 0.5)),
        groups_of(assign_groups(table, "salt-b", 0.5)),
    )
    assert sum(a[k] != b[k] for k in a) > 500


def test_control_share_is_the_ratio_within_tolerance():
    n, ratio = 20_000, 0.1
    control = sum(
        g == CONTROL for g in groups_of(assign_groups(people(n), "tolerance", ratio)).values()
    )
    # binomial standard deviation is sqrt(n p (1 - p)) = 42; allow about 5 of them
    assert abs(control - n * ratio) < 210


def test_unstratified_group_does_not_depend_on_the_other_members():
    everyone = groups_of(assign_groups(people(1_000), "stable", 0.3))
    half = groups_of(assign_groups(people(1_000).slice(0, 500), "stable", 0.3))
    assert all(everyone[k] == g for k, g in half.items())


def test_person_is_control_exactly_when_below_the_ratio():
    result = assign_groups(people(500), "threshold", 0.25)
    for one_id, group in groups_of(result).items():
        assert (group == CONTROL) == (hash_fraction("threshold", one_id) < 0.25)


def test_stratified_split_is_exact_in_every_stratum():
    strata = ["Champions"] * 7 + ["Lost"] * 15 + ["At Risk"] * 1_001 + [None] * 4
    result = assign_groups(people(len(strata), strata), "strata", 0.1, "stratum")
    summary = split_summary(result)
    expected = {"Champions": 1, "Lost": 2, "At Risk": 100, NO_STRATUM: 0}  # 0.7, 1.5, 100.1, 0.4
    for stratum, control in expected.items():
        counts = summary["strata"][stratum]
        assert counts[CONTROL] == control == control_count(counts[CONTROL] + counts[TREATMENT], 0.1)
    assert summary[CONTROL] + summary[TREATMENT] == len(strata)


def test_stratified_control_is_the_lowest_hashes_of_each_stratum():
    strata = ["a"] * 50 + ["b"] * 30
    result = assign_groups(people(80, strata), "order", 0.2, "stratum")
    for stratum in ("a", "b"):
        rows = [row for row in result.to_pylist() if row["stratum"] == stratum]
        ranked = sorted(rows, key=lambda row: (row["hash_fraction"], row["one_id"]))
        k = control_count(len(rows), 0.2)
        assert {row["group"] for row in ranked[:k]} == {CONTROL}
        assert {row["group"] for row in ranked[k:]} == {TREATMENT}


def test_round_half_up():
    assert [control_count(n, 0.5) for n in (1, 3, 5)] == [1, 2, 3]
    assert control_count(25, 0.1) == 3  # 2.5 rounds up, not to even


def test_no_control_group_and_bad_ratios():
    assert set(groups_of(assign_groups(people(100), "none", 0.0)).values()) == {TREATMENT}
    with pytest.raises(ValueError, match="control_ratio"):
        assign_groups(people(10), "bad", 1.0)
