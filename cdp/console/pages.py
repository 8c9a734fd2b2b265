"""The console's pages, server-rendered with Jinja2 (templates/), charts drawn by ECharts
from JSON the page embeds. Each page requires a permission of the role (``auth.require``)
and reads data only through ``ConsoleData`` under the user's scope."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cdp.activation import definitions as d
from cdp.activation.catalog import LIFECYCLE_STAGES, MartCatalog
from cdp.activation.channels import CHANNELS
from cdp.activation.compiler import compile_segment, members
from cdp.activation.inputs import identity_lookup
from cdp.activation.segments import compile_all
from cdp.config import ConfigError, segments_folder
from cdp.console import audit, builder
from cdp.console import queries as q
from cdp.console.auth import SESSION_USER, principal_of, require, viewer
from cdp.console.data import SEARCH_KINDS
from cdp.console.roles import role_named
from cdp.console.scope import parse_scope
from cdp.console.users import Principal
from cdp.report import mask
from cdp.tables import SEGMENT_RUNS

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def mask_identifier(value, masked: bool):
    """``type:value`` with a phone or e-mail masked (139****5678) unless ``masked`` is off;
    other values pass unchanged."""
    if not masked or not isinstance(value, str):
        return value
    kind, _, raw = value.partition(":")
    if kind == "phone" and raw.startswith("+") and len(raw) > 8:
        return f"phone:{raw[:4]}****{raw[-4:]}"
    return mask(value) if kind in ("phone", "email") else value


templates.env.filters["mask_identifier"] = mask_identifier
#: the columns a segment's portrait compares with the base
PORTRAIT_COLUMNS = ("city", "gender", "lifecycle_stage", "tier", "rfm_segment", "age_band")


def _page(permission: str):
    return Annotated[Principal, Depends(require(permission, page=True))]


def _render(request: Request, template: str, user: Principal | None, **context) -> HTMLResponse:
    role = role_named(user.role) if user else None
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "role": role,
            "charts": json.dumps(jsonable_encoder(context.pop("charts", {}))),
            **context,
        },
    )


def _console(request: Request):
    return request.app.state.console


def _audit(request: Request, event: str, user: Principal, what: str, people: int, detail: dict):
    audit.record(
        _console(request).lakehouse,
        audit.console_entry(event, user.name, what, people, people, detail),
    )


# -- login ---------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):
    return _render(request, "login.html", None, next=next, error=None)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
):
    user = _console(request).users.authenticate(username, password)
    if user is None:
        return _render(request, "login.html", None, next=next, error="Wrong user name or password.")
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
def home(request: Request, user: _page("dashboard"), drill: str | None = None, days: int = 7):
    data = _console(request).data
    view = viewer(user)
    node = parse_scope(drill) if drill else None
    sales = data.dashboard(view, node, max(1, min(days, 90)))
    structure = data.member_structure(view)
    return _render(
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
def search(request: Request, user: _page("members"), kind: str = "phone", value: str = ""):
    found = _console(request).data.search(viewer(user), kind, value) if value.strip() else []
    if len(found) == 1:
        return RedirectResponse(f"/members/{found[0]}", status_code=303)
    return _render(
        request, "search.html", user, kinds=SEARCH_KINDS, kind=kind, value=value, found=found
    )


@router.get("/members", response_class=HTMLResponse)
def member_list(request: Request, user: _page("members")):
    data = _console(request).data
    filters = _list_filters(request)
    columns, rows = data.member_list(viewer(user), filters)
    return _render(
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
def member_export(request: Request, user: _page("member_export")):
    """The whole filtered list as CSV (UTF-8 with a BOM for Excel), audited."""
    view = viewer(user)
    filters = _list_filters(request)
    columns, rows = _console(request).data.member_list(view, filters, limit=None)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    _audit(
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
def member(request: Request, user: _page("members"), one_id: str):
    data = _console(request).data
    view = viewer(user)
    detail = data.member_detail(view, one_id)
    if detail is None:
        raise HTTPException(404, f"no member {one_id} in your scope")
    _audit(
        request,
        "view",
        user,
        f"member {one_id}",
        1,
        {"one_id": one_id, "masked": not view.personal_values, "via": "console"},
    )
    memberships = data.segment_memberships(view.scope, one_id)
    return _render(
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
def explain_page(request: Request, user: _page("identity"), one_id: str):
    from identity import explain

    data = _console(request).data
    if not data.in_scope(viewer(user).scope, one_id):
        raise HTTPException(404, f"no member {one_id} in your scope")
    identifiers = data.identifiers_of(one_id)
    if not identifiers:
        raise HTTPException(404, f"the OneID map holds no identifier of {one_id}")
    kind, value = identifiers[0]
    result = explain(_console(request).lakehouse, kind, value)
    _audit(request, "view", user, f"identity explain {one_id}", 1, {"one_id": one_id})
    return _render(
        request,
        "explain.html",
        user,
        one_id=one_id,
        result=result,
        masked=not viewer(user).personal_values,
    )


# -- segments ------------------------------------------------------------------------------
def _marts_con(request: Request):
    return _console(request).data.analyst_marts()


@router.get("/segments", response_class=HTMLResponse)
def segments(request: Request, user: _page("segments")):
    console = _console(request)
    folder = segments_folder(console.settings)
    con = _marts_con(request)
    compiled = compile_all(con, folder, identity_lookup(console.lakehouse))
    people, errors = {}, {}
    for name, result in compiled.items():
        if isinstance(result, ConfigError):
            errors[name] = str(result)
            continue
        try:
            people[name] = set(members(con, result).column("one_id").to_pylist())
        except ConfigError as exc:
            errors[name] = str(exc)
    runs = {r["segment"]: r for r in console.data.export_runs()}
    names = sorted(people)
    overlap = [[len(people[a] & people[b]) for b in names] for a in names]
    reach = {n: _reach(console.data, runs.get(n)) for n in names}
    return _render(
        request,
        "segments.html",
        user,
        names=names,
        sizes={n: len(people[n]) for n in names},
        errors=errors,
        runs=runs,
        reach=reach,
        charts={"names": names, "overlap": overlap},
    )


def _reach(data, run: dict | None) -> dict[str, int]:
    manifest = data.export_manifest(run["segment"], run["run_id"]) if run else None
    return {c: v["exported"] for c, v in (manifest or {}).get("channels", {}).items()}


@router.get("/segments/{name}", response_class=HTMLResponse)
def segment(request: Request, user: _page("segments"), name: str):
    console = _console(request)
    folder = segments_folder(console.settings)
    try:
        definition, path = d.find_segment(name, folder)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    con = _marts_con(request)
    try:
        compiled = compile_segment(
            definition, path, con, identity_lookup(console.lakehouse), MartCatalog(con)
        )
        one_ids = members(con, compiled).column("one_id").to_pylist()
        error = None
    except ConfigError as exc:
        one_ids, error = [], str(exc)
    runs = [r for r in _all_runs(console, SEGMENT_RUNS) if r["segment"] == name]
    latest = runs[-1] if runs else None
    portrait = (
        console.data.portrait(viewer(user), one_ids, list(PORTRAIT_COLUMNS)) if one_ids else {}
    )
    return _render(
        request,
        "segment.html",
        user,
        name=name,
        definition=definition,
        yaml_text=path.read_text(encoding="utf-8"),
        size=len(one_ids),
        error=error,
        runs=runs,
        reach=_reach(console.data, latest),
        manifest=console.data.export_manifest(name, latest["run_id"]) if latest else None,
        portrait=portrait,
        charts={"portrait": portrait, "history": runs},
    )


def _all_runs(console, table) -> list[dict]:
    if not console.lakehouse.exists(table):
        return []
    return sorted(
        console.lakehouse.to_arrow(table).to_pylist(), key=lambda r: (r["as_of"], r["send_at"])
    )


@router.post("/segments/{name}/export")
def segment_export(request: Request, user: _page("pack_download"), name: str):
    """Export the segment now (holding the workspace lock, as `cdp segments export`)."""
    from cdp.activation.export import export_segment
    from cdp.pipeline import locked

    console = _console(request)
    with locked(console.settings):
        export_segment(console.settings, name)
    return RedirectResponse(f"/segments/{name}", status_code=303)


@router.get("/segments/{name}/pack.zip")
def segment_pack(request: Request, user: _page("pack_download"), name: str):
    """The latest export folder of a segment as one zip, audited."""
    console = _console(request)
    run = next((r for r in console.data.export_runs() if r["segment"] == name), None)
    folder = console.settings.workspace / "exports" / name / run["run_id"] if run else None
    if folder is None or not folder.is_dir():
        raise HTTPException(404, f"segment {name} has no export yet; export it first")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(folder))
    _audit(
        request,
        "export",
        user,
        f"pack of segment {name} run {run['run_id']}",
        run["exported"],
        {"segment": name, "run_id": run["run_id"]},
    )
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}-{run["run_id"]}.zip"'},
    )


# -- segment builder -----------------------------------------------------------------------
@router.get("/builder", response_class=HTMLResponse)
def builder_page(request: Request, user: _page("segment_edit")):
    con = _marts_con(request)
    catalog = MartCatalog(con)
    options = {
        "tag": catalog.known_values("tag"),
        "rfm_segment": catalog.known_values("rfm_segment"),
        "tier": catalog.known_values("tier"),
        "lifecycle_stage": list(LIFECYCLE_STAGES),
        "city": [
            r[0]
            for r in con.sql(
                "SELECT DISTINCT city FROM customer_360_masked WHERE city IS NOT NULL ORDER BY 1"
            ).fetchall()
        ],
        "metric": sorted(catalog.columns("customer_metrics")),
        "channel": [
            r[0]
            for r in con.sql("SELECT DISTINCT channel FROM customer_timeline ORDER BY 1").fetchall()
        ],
        "event_type": [
            r[0]
            for r in con.sql(
                "SELECT DISTINCT event_type FROM customer_timeline WHERE record_type = 'event' ORDER BY 1"
            ).fetchall()
        ],
        "channels": list(CHANNELS),
    }
    return _render(request, "builder.html", user, options=options, charts={"options": options})


def _build(request: Request, form: dict) -> builder.BuiltSegment:
    return builder.build(form, _marts_con(request), identity_lookup(_console(request).lakehouse))


@router.post("/builder/validate")
async def builder_validate(request: Request, user: _page("segment_edit")):
    built = _build(request, await request.json())
    return JSONResponse({"yaml": built.yaml_text, "errors": built.errors, "size": built.size})


@router.post("/builder/save")
async def builder_save(request: Request, user: _page("segment_edit")):
    built = _build(request, await request.json())
    try:
        path = builder.save(built, segments_folder(_console(request).settings))
    except ValueError as exc:
        return JSONResponse({"errors": [str(exc)], "yaml": built.yaml_text}, status_code=400)
    return JSONResponse({"saved": str(path), "url": f"/segments/{built.name}", "size": built.size})


@router.get("/whoami")
def whoami(request: Request):
    user = principal_of(request)
    return {"user": user.name, "role": user.role, "scope": user.scope} if user else {"user": None}
