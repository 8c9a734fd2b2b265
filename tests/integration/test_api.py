"""The API (``/api/v1``) of a real ``cdp serve`` over the shared run: OneID lookups single
and batch, the 360, tags and segments of a member, export status, the audit log, tokens, the
scope of a store's token on every data endpoint, and the OpenAPI schema fuzzed."""

from __future__ import annotations

import re

import httpx
import hypothesis
import pytest
import schemathesis

from cdp.console.users import UserStore, users_db
from cdp.lakehouse import Lakehouse
from cdp.tables import AUDIT_LOG, IDENTITY_MAP, SEGMENT_MEMBERSHIP


def _get(server, path, token, **params):
    return httpx.get(
        f"{server.url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}
    )


def _identifiers(server) -> list[tuple[str, str, str]]:
    """(type, value, one_id) of every identifier of the OneID map."""
    lakehouse = Lakehouse(server.settings.lakehouse_dir)
    rows = lakehouse.to_arrow(IDENTITY_MAP, ["identifier_type", "identifier_value", "one_id"])
    return [tuple(r.values()) for r in rows.to_pylist()]


def test_phone_in_any_spelling_finds_its_one_id(console_server):
    phone, one_id = next(
        (v, o)
        for t, v, o in _identifiers(console_server)
        if t == "phone" and re.fullmatch("1[0-9]{10}", v)
    )
    spelled = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    answer = _get(
        console_server, "/api/v1/oneid", console_server.group_token, type="phone", value=spelled
    )
    assert answer.status_code == 200
    assert answer.json() == {"type": "phone", "value": spelled, "one_id": one_id}
    unknown = _get(
        console_server,
        "/api/v1/oneid",
        console_server.group_token,
        type="phone",
        value="19900000000",
    )
    assert unknown.json()["one_id"] is None


def test_batch_answers_in_order_and_refuses_more_than_10000(console_server):
    known = _identifiers(console_server)[:50]
    asked = [{"type": t, "value": v} for t, v, _ in known] + [
        {"type": "jd_pin", "value": "jd_nobody"}
    ]
    answer = httpx.post(
        f"{console_server.url}/api/v1/oneid/batch",
        json={"identifiers": asked},
        headers={"Authorization": f"Bearer {console_server.group_token}"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert [r["one_id"] for r in body["results"]] == [o for _, _, o in known] + [None]
    assert body["found"] == 50
    too_many = httpx.post(
        f"{console_server.url}/api/v1/oneid/batch",
        json={"identifiers": [{"type": "phone", "value": "1"}] * 10_001},
        headers={"Authorization": f"Bearer {console_server.group_token}"},
    )
    assert too_many.status_code == 422


def test_no_token_a_wrong_token_and_a_revoked_token_are_refused(console_server):
    url = f"{console_server.url}/api/v1/exports"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer cdp_wrong"}).status_code == 401
    store = UserStore(users_db(console_server.settings.workspace))
    token = store.issue_token("short_lived", "analyst", "group")
    assert _get(console_server, "/api/v1/exports", token).status_code == 200
    store.revoke_token("short_lived")
    assert _get(console_server, "/api/v1/exports", token).status_code == 401


def test_member_360_tags_segments_and_the_audit_entry(console_server):
    one_id, segment = _member_in_a_segment(console_server)
    answer = _get(console_server, f"/api/v1/members/{one_id}", console_server.group_token)
    assert answer.status_code == 200
    body = answer.json()
    # an operations token sees masked values: the phone is never the raw 11 digits
    raw_phone = console_server.marts(
        f"SELECT phone FROM customer_360 WHERE one_id = '{one_id}'", restricted=True
    )[0][0]
    assert body["masked"] is True and (raw_phone is None or body["profile"]["phone"] != raw_phone)
    tags = {
        t["tag"]
        for t in _get(
            console_server, f"/api/v1/members/{one_id}/tags", console_server.group_token
        ).json()
    }
    assert tags == {
        r[0]
        for r in console_server.marts(f"SELECT tag FROM customer_tags WHERE one_id = '{one_id}'")
    }
    segments = _get(
        console_server, f"/api/v1/members/{one_id}/segments", console_server.group_token
    ).json()
    assert segment in {s["segment"] for s in segments}
    views = [
        e
        for e in Lakehouse(console_server.settings.lakehouse_dir).to_arrow(AUDIT_LOG).to_pylist()
        if e["event"] == "view" and one_id in e["what"]
    ]
    assert views and views[-1]["actor"] == "console:crm_desk"
    exports = _get(console_server, "/api/v1/exports", console_server.group_token).json()
    assert segment in {e["segment"] for e in exports}


def _member_in_a_segment(server) -> tuple[str, str]:
    row = Lakehouse(server.settings.lakehouse_dir).to_arrow(SEGMENT_MEMBERSHIP).to_pylist()[0]
    return row["one_id"], row["segment"]


def test_a_store_token_gets_no_id_of_another_store_from_any_endpoint(console_server):
    mine = console_server.store_people()
    identifiers = _identifiers(console_server)
    others = sorted({o for _, _, o in identifiers} - mine)
    assert mine and others
    token = console_server.store_token
    # batch: every identifier there is (up to the cap); only the store's people come back
    asked = [{"type": t, "value": v} for t, v, _ in identifiers[:10_000]]
    found = httpx.post(
        f"{console_server.url}/api/v1/oneid/batch",
        json={"identifiers": asked},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["results"]
    returned = {r["one_id"] for r in found if r["one_id"]}
    assert returned and returned <= mine
    # single lookups, the 360, tags and segments of people of other stores: not found
    for t, v, o in [i for i in identifiers if i[2] in set(others[:8])]:
        assert (
            _get(console_server, "/api/v1/oneid", token, type=t, value=v).json()["one_id"] is None
        )
    for one_id in others[:8]:
        for path in ("", "/tags", "/segments"):
            assert _get(console_server, f"/api/v1/members/{one_id}{path}", token).status_code == 404
    inside = min(mine)
    profile = _get(console_server, f"/api/v1/members/{inside}", token).json()["profile"]
    # the group-wide spend is not the store's to see; its own sales are
    assert "spend_fen" not in profile and "scope_net_sales_fen" in profile


@pytest.fixture(scope="module")
def api_schema(console_server):
    return schemathesis.openapi.from_url(f"{console_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis.settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_openapi_schema_fuzzed(case, console_server):
    case.call_and_validate(headers={"Authorization": f"Bearer {console_server.group_token}"})
