"""The console's pages for everyone: login, the dashboards, members (search, 360, list and
its export) and identity explain; server-rendered with Jinja2 (templates/), charts drawn by
ECharts from JSON the page embeds. Each page requires a permission of the role and reads data
only through ``ConsoleData`` under the user's scope. Segments and the builder:
``segment_pages``."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cdp.console import queries as q
from cdp.console.auth import SESSION_USER, viewer
from cdp.console.data import SEARCH_KINDS
from cdp.console.rendering import console_of, page_user, record, render
from cdp.console.roles import role_named
from cdp.console.scope import parse_scope

router = APIRouter(include_in_schema=False)


# -- login ---------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def loginpage_user(request: Request, next: str = "/"):
    return render(request, "login.html", None, next=next, error=None)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
):
    user = console_of(request).users.authenticate(username, password)
    if user is None:
        return render(request, "login.html", None, next=next, error="Wrong user name or password.")
    request.session.clear()
    request.session[SESSION_USER] = user.name
    # only a path of this site: never redirect elsewhere after a login
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- dashboards ----------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: page_user("dashboard"), drill: str | None = None, days: int = 7):
    data = console_of(request).data
    view = viewer(user)
    node = parse_scope(drill) if drill else None
    sales = data.dashboard(view, node, max(1, min(days, 90)))
    structure = data.member_structure(view)
    return render(
        request,
        "dashboard.html",
        user,
        kind=role_named(user.role).dashboard,
        sales=sales,
        structure=structure,
        runs=data.export_runs() if "segments" in role_named(user.role).permissions else [],
        charts={"sales": sales, "structure": structure},
    )


# -- members -------------------------------------------------------------------------------
@router.get("/members/search", response_class=HTMLResponse)
def search(request: Request, user: page_user("members"), kind: str = "phone", value: str = ""):
    found = console_of(request).data.search(viewer(user), kind, value) if value.strip() else []
    if len(found) == 1:
        return RedirectResponse(f"/members/{found[0]}", status_code=303)
    return render(
        request, "search.html", user, kinds=SEARCH_KINDS, kind=kind, value=value, found=found
    )


@router.get("/members", response_class=HTMLResponse)
def member_list(request: Request, user: page_user("members")):
    data = console_of(request).data
    filters = _list_filters(request)
    columns, rows = data.member_list(viewer(user), filters)
    return render(
        request,
        "members.html",
        user,
        columns=columns,
        rows=rows,
        filters=filters,
        options=data.filter_values(viewer(user)),
        query=str(request.url.query),
    )


@router.get("/members/export.csv")
def member_export(request: Request, user: page_user("member_export")):
    """The whole filtered list as CSV (UTF-8 with a BOM for Excel), audited."""
    view = viewer(user)
    filters = _list_filters(request)
    columns, rows = console_of(request).data.member_list(view, filters, limit=None)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    record(
        request,
        "export",
        user,
        f"member list ({len(rows)} people)",
        len(rows),
        {
            "filters": filters,
            "scope": str(view.scope),
            "columns": columns,
            "masked": not view.personal_values,
        },
    )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="members.csv"'},
    )


def _list_filters(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k in q.LIST_FILTERS and v}


@router.get("/members/{one_id}", response_class=HTMLResponse)
def member(request: Request, user: page_user("members"), one_id: str):
    data = console_of(request).data
    view = viewer(user)
    detail = data.member_detail(view, one_id)
    if detail is None:
        raise HTTPException(404, f"no member {one_id} in your scope")
    record(
        request,
        "view",
        user,
        f"member {one_id}",
        1,
        {"one_id": one_id, "masked": not view.personal_values, "via": "console"},
    )
    memberships = data.segment_memberships(view.scope, one_id)
    return render(
        request,
        "member.html",
        user,
        one_id=one_id,
        detail=detail,
        memberships=memberships,
        masked=not view.personal_values,
        charts={"rfm": detail.get("rfm_history", [])},
    )


# -- identity ------------------------------------------------------------------------------
@router.get("/identity/explain", response_class=HTMLResponse)
def explainpage_user(request: Request, user: page_user("identity"), one_id: str):
    from identity import explain

    data = console_of(request).data
    if not data.in_scope(viewer(user).scope, one_id):
        raise HTTPException(404, f"no member {one_id} in your scope")
    identifiers = data.identifiers_of(one_id)
    if not identifiers:
        raise HTTPException(404, f"the OneID map holds no identifier of {one_id}")
    kind, value = identifiers[0]
    result = explain(console_of(request).lakehouse, kind, value)
    record(request, "view", user, f"identity explain {one_id}", 1, {"one_id": one_id})
    return render(
        request,
        "explain.html",
        user,
        one_id=one_id,
        result=result,
        masked=not viewer(user).personal_values,
    )
