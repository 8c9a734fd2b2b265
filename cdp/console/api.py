"""The JSON API (``/api/v1``, documented at ``/docs`` and ``/openapi.json``): OneID lookup
(single and batch), a member's 360, tags and segment memberships, export status. Every
answer keeps to the token's scope: a person outside it is not found."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from cdp.console import audit
from cdp.console.auth import require, viewer
from cdp.console.users import Principal

BATCH_MAX = 10_000


class Problem(BaseModel):
    detail: str


#: the answers every endpoint may give besides its own (documented for the OpenAPI schema)
ERRORS = {
    401: {"model": Problem, "description": "no valid bearer token"},
    403: {"model": Problem, "description": "the token's role may not use the API"},
}
NOT_FOUND = {404: {"model": Problem, "description": "no such member in the token's scope"}}
router = APIRouter(prefix="/api/v1", tags=["api"], responses=ERRORS)
ApiUser = Annotated[Principal, Depends(require("api"))]


class IdentifierType(StrEnum):
    """Identifier types the OneID map holds."""

    phone = "phone"
    member_card = "member_card"
    openid = "openid"
    unionid = "unionid"
    email = "email"
    device_id = "device_id"
    cookie_id = "cookie_id"
    device_mac_hash = "device_mac_hash"
    tmall_ouid = "tmall_ouid"
    jd_pin = "jd_pin"
    douyin_open_id = "douyin_open_id"


class Identifier(BaseModel):
    type: IdentifierType
    value: str = Field(min_length=1, max_length=200)


class Lookup(BaseModel):
    type: IdentifierType
    value: str
    one_id: str | None = Field(description="null: unknown, blocklisted, a hub, or out of scope")


class BatchRequest(BaseModel):
    identifiers: list[Identifier] = Field(min_length=1, max_length=BATCH_MAX)


class BatchResponse(BaseModel):
    results: list[Lookup]
    found: int


class Tag(BaseModel):
    tag: str
    category: str | None
    since: date | None


class Member(BaseModel):
    one_id: str
    masked: bool = Field(description="personal values (phone, name, birthday) are masked")
    profile: dict[str, Any]
    tags: list[Tag]


class Membership(BaseModel):
    segment: str
    run_id: str
    as_of: date
    group: str


class ExportStatus(BaseModel):
    segment: str
    run_id: str
    as_of: date
    send_at: datetime | None
    members: int
    treatment: int
    control: int
    exported: int


def _data(request: Request):
    return request.app.state.console.data


# async: a lookup is a dictionary probe, cheaper than the hop to a worker thread
@router.get("/oneid", response_model=Lookup, summary="The OneID of one identifier")
async def lookup_one(
    request: Request,
    user: ApiUser,
    type: IdentifierType,
    value: Annotated[str, Query(min_length=1, max_length=200)],
) -> Lookup:
    """Normalised as in silver (a phone in any spelling; an openid with or without its
    ``<app_id>/``); ``one_id`` is null when the identifier is unknown or out of scope."""
    one_id = _data(request).lookup(viewer(user).scope, type.value, value)
    return Lookup(type=type, value=value, one_id=one_id)


@router.post(
    "/oneid/batch",
    response_model=BatchResponse,
    summary="OneIDs of many identifiers",
    responses={400: {"model": Problem, "description": "the body is not JSON"}},
)
def lookup_batch(request: Request, user: ApiUser, body: BatchRequest) -> BatchResponse:
    """Up to 10,000 identifiers in one request, answered in order."""
    pairs = [(i.type.value, i.value) for i in body.identifiers]
    found = _data(request).lookup_batch(viewer(user).scope, pairs)
    results = [
        Lookup(type=i.type, value=i.value, one_id=o) for i, o in zip(body.identifiers, found)
    ]
    return BatchResponse(results=results, found=sum(o is not None for o in found))


def _member_or_404(request: Request, user: Principal, one_id: str) -> dict:
    view = viewer(user)
    profile = _data(request).member(view, one_id)
    if profile is None:
        raise HTTPException(404, f"no member {one_id} in scope {view.scope}")
    return profile


@router.get(
    "/members/{one_id}",
    response_model=Member,
    responses=NOT_FOUND,
    summary="A member's 360 and tags",
)
def member(request: Request, user: ApiUser, one_id: str) -> Member:
    """The customer 360 row (masked unless the token's role sees personal values), within
    the token's scope; every call is in the audit log."""
    view = viewer(user)
    profile = _member_or_404(request, user, one_id)
    tags = _data(request).tags(view, one_id)
    audit.record(
        request.app.state.console.lakehouse,
        audit.console_entry(
            "view",
            user.name,
            f"api member {one_id}",
            1,
            1,
            {"one_id": one_id, "masked": not view.personal_values, "via": "api"},
        ),
    )
    return Member(
        one_id=one_id,
        masked=not view.personal_values,
        profile=profile,
        tags=[Tag(**t) for t in tags],
    )


@router.get(
    "/members/{one_id}/tags",
    response_model=list[Tag],
    responses=NOT_FOUND,
    summary="A member's tags",
)
def member_tags(request: Request, user: ApiUser, one_id: str) -> list[Tag]:
    """The tags a member holds as of the marts' day."""
    _member_or_404(request, user, one_id)
    return [Tag(**t) for t in _data(request).tags(viewer(user), one_id)]


@router.get(
    "/members/{one_id}/segments",
    response_model=list[Membership],
    responses=NOT_FOUND,
    summary="Segments a member is in",
)
def member_segments(request: Request, user: ApiUser, one_id: str) -> list[Membership]:
    """The segments a member was in at each segment's latest export, with their group."""
    _member_or_404(request, user, one_id)
    rows = _data(request).segment_memberships(viewer(user).scope, one_id)
    return [Membership(**r) for r in rows]


@router.get("/exports", response_model=list[ExportStatus], summary="Export status")
def exports(request: Request, user: ApiUser) -> list[ExportStatus]:
    """The latest export run of every segment: day, send time, members and how many were
    exported (counts only, no person)."""
    return [ExportStatus(**r) for r in _data(request).export_runs()]
