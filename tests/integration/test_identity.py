"""OneID on a small generated dataset with traps: accuracy, stability, explain, serving."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from cdp import pipeline
from cdp.lakehouse import Lakehouse
from identity.accuracy import pairwise_accuracy
from identity.explain import UnknownIdentifier, explain
from identity.golden import GOLDEN
from identity.resolve import CHANGES, LINKS, MAP, REJECTED
from identity.rules import DEFAULT_RULES, load_rules
from identity.serving import one_id_of, register_views

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def resolved(shared_run, generated):
    """The shared pipeline run: (settings, lakehouse, OneID outcome, generator root)."""
    root, _ = generated
    settings = shared_run.settings
    return settings, Lakehouse(settings.lakehouse_dir), shared_run.summary.identity, root


def current_map(lakehouse) -> dict[str, str]:
    rows = lakehouse.to_arrow(MAP, ["identifier_type", "identifier_value", "one_id"])
    return {f"{t}:{v}": o for t, v, o in zip(*[c.to_pylist() for c in rows.columns])}


def test_accuracy_against_ground_truth(resolved):
    _, lakehouse, outcome, root = resolved
    truth = root / "ground_truth" / "identifiers.csv"
    identity_map, links = lakehouse.to_arrow(MAP), lakehouse.to_arrow(LINKS)
    everything = pairwise_accuracy(identity_map, links, truth)
    assert everything.precision >= 0.995, everything.summary()
    joining = pairwise_accuracy(identity_map, links, truth, load_rules().joining_types)
    assert joining.precision >= 0.995 and joining.linkable_recall >= 0.98, joining.summary()
    assert outcome.people == len(set(identity_map.column("one_id").to_pylist()))


def test_traps_are_rejected_not_merged(resolved):
    _, lakehouse, _, root = resolved
    traps = {
        tuple(line.split(",")[1:3])
        for line in (root / "ground_truth" / "traps.csv").read_text().splitlines()[1:]
    }
    mapped = current_map(lakehouse)
    rejected = lakehouse.to_arrow(REJECTED).to_pylist()
    rules = {r["rule"] for r in rejected}
    assert "blocklist" in rules
    for kind, value in traps:
        if kind == "phone" and value == "13800000000":
            assert f"{kind}:{value}" not in mapped


def test_one_golden_record_per_person(resolved):
    _, lakehouse, outcome, _ = resolved
    golden = lakehouse.to_arrow(GOLDEN).to_pylist()
    assert len(golden) == outcome.people == len({g["one_id"] for g in golden})
    assert set(current_map(lakehouse).values()) == {g["one_id"] for g in golden}
    with_profile = [g for g in golden if g["name"]]
    assert with_profile and all(g["channels"] for g in golden)
    assert any("miniprogram" in g["channels"] for g in with_profile)


def test_explain_gives_the_chain_of_records(resolved):
    _, lakehouse, _, _ = resolved
    people: dict[str, list[str]] = {}
    for key, one_id in current_map(lakehouse).items():
        people.setdefault(one_id, []).append(key)
    one_id, keys = max(people.items(), key=lambda p: (len(p[1]), p[0]))
    start, end = min(keys), max(keys)
    result = explain(lakehouse, *start.split(":", 1), to=tuple(end.split(":", 1)))
    assert result.one_id == one_id and sorted(result.identifiers) == sorted(keys)
    assert result.path and result.path[0].sources and result.path[0].records >= 1
    ends = [{h.a, h.b} for h in result.path]
    assert start in ends[0] and end in ends[-1]
    with pytest.raises(UnknownIdentifier, match="not in the identity map"):
        explain(lakehouse, "phone", "13800000000")


def test_lookup_and_duckdb_serving(resolved):
    _, lakehouse, _, _ = resolved
    key, one_id = next(iter(sorted(current_map(lakehouse).items())))
    assert one_id_of(lakehouse, *key.split(":", 1)) == one_id
    assert one_id_of(lakehouse, "phone", "13800000000") is None
    con = duckdb.connect()
    assert "silver_identity_map" in register_views(con, lakehouse)
    assert con.sql("SELECT count(*) FROM silver_identity_map").fetchone()[0] == lakehouse.count(MAP)


def test_tightened_rules_split_and_restored_rules_merge(shared_copy, tmp_path):
    settings, lakehouse = shared_copy, Lakehouse(shared_copy.lakehouse_dir)
    before = current_map(lakehouse)
    rules = yaml.safe_load(DEFAULT_RULES.read_text())
    rules["types"]["phone"]["joins"] = False  # phones may no longer join people
    rules.get("reassignment", {}).pop("phone", None)  # so none passes to a new owner either
    strict = tmp_path / "strict.yml"
    strict.write_text(yaml.safe_dump(rules))

    split = pipeline.resolve_identity(settings.model_copy(update={"identity_rules": strict}))
    after = current_map(lakehouse)
    assert split.changes.get("split", 0) > 0 and split.people > len(set(before.values()))
    changes = [c for c in lakehouse.to_arrow(CHANGES).to_pylist() if c["run_id"] == split.run_id]
    assert {c["change"] for c in changes} == {"split"}
    for c in changes:  # every split part left an id that still exists
        assert c["one_id"] in after.values() and c["into_one_id"] in after.values()
    untouched = [
        k
        for k, o in before.items()
        if not k.startswith("phone:") and sum(1 for v in before.values() if v == o) == 1
    ]
    assert all(after[k] == before[k] for k in untouched)

    merged = pipeline.resolve_identity(settings)
    assert merged.changes.get("merge", 0) == split.changes["split"]
    assert merged.people == len(set(before.values()))
    assert set(current_map(lakehouse)) == set(before)
