"""Data scopes on the organisation tree, the role table, the SQL filters and the segment
builder's YAML (validated by the segment loader)."""

import pytest
import yaml

from cdp.activation.definitions import load_segment
from cdp.console import builder
from cdp.console import queries as q
from cdp.console.roles import ROLES
from cdp.console.scope import OrgTree, parse_scope

STORES = (
    {"store_code": "SH001", "region": "East China", "city": "Shanghai", "mall_code": "MALL_SH01"},
    {"store_code": "SH002", "region": "East China", "city": "Shanghai", "mall_code": "MALL_SH01"},
    {"store_code": "HZ001", "region": "East China", "city": "Hangzhou", "mall_code": "MALL_HZ01"},
    {"store_code": "BJ001", "region": "North China", "city": "Beijing", "mall_code": "MALL_BJ01"},
)


@pytest.mark.parametrize(
    ("scope", "stores"),
    [
        ("group", None),
        ("region:East China", ["HZ001", "SH001", "SH002"]),
        ("city:Shanghai", ["SH001", "SH002"]),
        ("mall:MALL_BJ01", ["BJ001"]),
        ("store:SH002", ["SH002"]),
    ],
)
def test_scope_is_the_stores_under_its_node(scope, stores):
    assert OrgTree(STORES).stores_in(parse_scope(scope)) == stores


def test_unknown_node_is_refused_naming_known_values():
    with pytest.raises(ValueError, match="no such mall in dim_stores; known: MALL_BJ01"):
        OrgTree(STORES).check(parse_scope("mall:MALL_XX01"))


def test_only_crm_and_admin_see_personal_values():
    assert {r for r, role in ROLES.items() if "personal_values" in role.permissions} == {
        "admin",
        "crm",
    }
    assert "member_export" not in ROLES["store_staff"].permissions


def test_scoped_queries_always_carry_the_store_filter():
    scoped = q.member_list_sql("customer_360_masked", ["SH001"], {"tier": "gold"}, 10)
    assert "store_code IN ('SH001')" in scoped and "tier = 'gold'" in scoped
    assert "store_code" not in q.member_list_sql("customer_360_masked", None, {}, 10)
    # a scope with no stores sees nobody, never everybody
    assert (
        q.person_filter([]) == "one_id IN (SELECT DISTINCT one_id FROM fct_orders WHERE "
        "one_id IS NOT NULL AND FALSE)"
    )
    assert "o.store_code IN ('SH001')" in q.timeline_sql(["SH001"], 5)


def test_builder_writes_the_segment_file_format(tmp_path):
    form = {
        "name": "active_shanghai",
        "owner": "crm-team",
        "description": "Active buyers who live in Shanghai",
        "match": "all",
        "conditions": [
            {"kind": "lifecycle_stage", "in": ["active"]},
            {"kind": "field", "mart": "customer_360", "field": "city", "in": ["Shanghai"]},
            {"kind": "events", "channel": ["web"], "window": {"days": 30}, "count": {"gte": 3}},
        ],
        "channels": ["sms", "pos"],
        "include_csv": "one_id\nO1\n",
    }
    document = builder.segment_document(form)
    assert document["rules"]["all"][1] == form["conditions"][1]
    assert document["include"] == {"file": "lists/active_shanghai.csv"}
    path = tmp_path / "active_shanghai.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    definition = load_segment(path)
    assert definition.campaign.channels == ["sms", "pos"]
    assert definition.rules.all[2].window.days == 30


def test_builder_refuses_to_save_an_invalid_or_existing_segment(tmp_path):
    bad = builder.BuiltSegment("x", "name: x\n", errors=["rules: field required"])
    with pytest.raises(ValueError, match="not valid: rules: field required"):
        builder.save(bad, tmp_path)
    (tmp_path / "taken.yml").write_text("name: taken\n")
    with pytest.raises(ValueError, match="exists already"):
        builder.save(builder.BuiltSegment("taken", "name: taken\n"), tmp_path)
