"""The engine seam and the public API, without Spark: the registry, the choice of engine, the
embedded adapter's contract table, the one writer of the identity tables, and a light
``import identity`` whose functions are not shadowed by their modules."""

from __future__ import annotations

import subprocess
import sys
import typing

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import identity
from cdp.config import Settings
from identity.engines import (
    ENGINES,
    LABELS_SCHEMA,
    Components,
    StagedEdges,
    UnknownEngine,
    choose_engine,
    engine_for,
)
from identity.explain import UnknownIdentifier
from identity.oneid import CHANGES_SCHEMA
from identity.resolve import (
    CHANGES,
    CUT_LINKS,
    CUT_SCHEMA,
    MAP,
    REJECTED,
    RULE_EFFECTS,
    IdentityTables,
    _effects,
    _map_table,
    assign_ids,
    change_counts,
    write_tables,
)
from identity.rules import DEFAULT_RULES


def test_every_configurable_engine_is_registered():
    configurable = typing.get_args(Settings.model_fields["identity_engine"].annotation)
    assert set(configurable) == {"auto", *ENGINES}
    assert all(engine_for(name).name == name for name in ENGINES)


def test_an_unknown_engine_is_a_sentence_naming_the_choices():
    with pytest.raises(UnknownEngine, match=r"engine 'gpu': choose embedded, spark or auto"):
        engine_for("gpu")


@pytest.mark.parametrize(
    "configured, edges, chosen",
    [
        ("auto", 100, "embedded"),
        ("auto", 1_000, "embedded"),
        ("auto", 1_001, "spark"),
        ("spark", 1, "spark"),
        ("embedded", 10**9, "embedded"),
    ],
)
def test_choose_engine_by_setting_and_size(configured, edges, chosen):
    assert choose_engine(configured, edges, embedded_max=1_000) is engine_for(chosen)


@pytest.mark.parametrize("name, work", [("identity/edges", "identity/cc"), ("edges", "edges_cc")])
def test_engines_checkpoint_beside_the_staged_edges(lakehouse, name, work):
    assert StagedEdges(None, lakehouse, name, None).work == work


def test_embedded_adapter_returns_plain_string_labels(lakehouse):
    # Staged as Lakehouse.stage would (one Parquet folder); the embedded engine needs no Spark.
    folder = lakehouse.root / "_staging" / "t" / "edges"
    folder.mkdir(parents=True)
    pq.write_table(
        pa.table({"src": ["b", "c", "x", None], "dst": ["a", "b", "x", "y"]}),
        folder / "part-0.parquet",
    )
    result = engine_for("embedded").components(StagedEdges(None, lakehouse, "t/edges", None))
    assert result.rounds is None and result.labels.schema == LABELS_SCHEMA
    assert result.labels.sort_by("node").to_pylist() == [
        {"node": n, "component": c}
        for n, c in [("a", "a"), ("b", "a"), ("c", "a"), ("x", "x"), ("y", "y")]
    ]
    assert isinstance(result, Components)


def test_import_identity_loads_no_engine():
    code = (
        "import sys, identity; print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pyspark', 'duckdb', 'numba', 'pyarrow', 'deltalake', 'networkx'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_public_functions_survive_their_modules_being_imported():
    import identity.explain
    import identity.resolve
    import identity.serving  # binds nothing over the public lookup either

    assert [f.__module__ for f in (identity.resolve, identity.explain, identity.lookup)] == [
        "identity"
    ] * 3
    from identity import explain, resolve

    assert callable(resolve) and callable(explain)


def test_public_api_on_a_workspace_without_silver(lakehouse):
    said = []
    assert identity.resolve(None, lakehouse, DEFAULT_RULES, progress=said.append) is None
    assert said == ["identity: no silver identifiers yet"]
    assert identity.lookup(lakehouse, "phone", "13912345678") is None
    with pytest.raises(UnknownIdentifier, match="no identity map yet"):
        identity.explain(lakehouse, "phone", "13912345678")


def components(groups: dict[str, list[str]]) -> pa.Table:
    return pa.table(
        {
            "node": [n for members in groups.values() for n in members],
            "component": [c for c, members in groups.items() for _ in members],
        }
    )


def test_assign_ids_says_whether_the_map_changed_and_stamps_the_run():
    first = assign_ids(components({"a": ["a", "b"], "c": ["c"]}), None, frozenset(), "R1")
    assert first.changed and first.changes.num_rows == 0
    again = assign_ids(components({"a": ["a", "b"], "c": ["c"]}), first.mapping, frozenset(), "R2")
    assert not again.changed
    merged = assign_ids(components({"a": ["a", "b", "c"]}), first.mapping, frozenset(), "R3")
    assert merged.changed and merged.changes.column("run_id").to_pylist() == ["R3"]
    assert change_counts(merged.changes) == {"merge": 1} and change_counts(again.changes) == {}


def identity_tables(run_id: str, with_map: bool) -> IdentityTables:
    mapping = pa.table({"node": ["phone:13912345678", "unionid:U1"], "one_id": ["O1", "O1"]})
    rejected = pa.table(
        {
            "identifier_type": ["phone"],
            "identifier_value": ["13800000000"],
            "rule": ["blocklist"],
            "detail": ["blocklisted value or pattern"],
        }
    )
    cut_links = pa.Table.from_pylist(
        [
            {
                "a_key": "cookie_id:K1",
                "b_key": "device_id:D1",
                "identifier_type": "cookie_id",
                "rule": "weak_link",
                "detail": "links two weak identifiers",
            }
        ],
        schema=CUT_SCHEMA,
    )
    changes = pa.Table.from_pylist(
        [
            {
                "change": "merge",
                "one_id": "O2",
                "into_one_id": "O1",
                "identifiers": 1,
                "reason": "linked",
                "run_id": run_id,
            }
        ],
        schema=CHANGES_SCHEMA.append(pa.field("run_id", pa.string())),
    )
    return IdentityTables(
        None,
        _map_table(mapping, run_id) if with_map else None,
        changes,
        rejected,
        cut_links,
        _effects(rejected, cut_links, run_id),
    )


def test_write_tables_writes_every_identity_table(lakehouse):
    write_tables(lakehouse, identity_tables("R1", with_map=True))
    assert lakehouse.to_arrow(MAP, ["identifier_type", "one_id"]).to_pylist() == [
        {"identifier_type": "phone", "one_id": "O1"},
        {"identifier_type": "unionid", "one_id": "O1"},
    ]
    assert lakehouse.to_arrow(CHANGES, ["one_id", "run_id"]).to_pylist() == [
        {"one_id": "O2", "run_id": "R1"}
    ]
    assert lakehouse.to_arrow(REJECTED, ["rule"]).to_pylist() == [{"rule": "blocklist"}]
    assert lakehouse.to_arrow(CUT_LINKS, ["rule"]).to_pylist() == [{"rule": "weak_link"}]
    assert sorted(
        (e["rule"], e["identifiers"], e["links"])
        for e in lakehouse.to_arrow(RULE_EFFECTS).to_pylist()
    ) == [("blocklist", 1, 0), ("weak_link", 0, 1)]

    version = lakehouse.version(MAP)
    write_tables(lakehouse, identity_tables("R2", with_map=False))
    assert lakehouse.version(MAP) == version, "an unchanged map is not rewritten"
    assert lakehouse.count(CHANGES) == 2 and lakehouse.count(RULE_EFFECTS) == 4
    assert lakehouse.count(REJECTED) == 1 and lakehouse.count(CUT_LINKS) == 1
