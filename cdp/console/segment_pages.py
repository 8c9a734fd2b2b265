"""The segment pages: browse (size, reach, overlap), one segment (history, suppression,
portrait with lift, export and pack download), and the segment builder."""

from __future__ import annotations

import io
import zipfile

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cdp.activation import definitions as d
from cdp.activation.catalog import LIFECYCLE_STAGES, MartCatalog
from cdp.activation.channels import CHANNELS
from cdp.activation.compiler import compile_segment, members
from cdp.activation.inputs import identity_lookup
from cdp.activation.segments import compile_all
from cdp.config import ConfigError, segments_folder
from cdp.console import builder
from cdp.console.auth import viewer
from cdp.console.rendering import console_of, page_user, record, render
from cdp.tables import SEGMENT_RUNS

router = APIRouter(include_in_schema=False)
#: the columns a segment's portrait compares with the base
PORTRAIT_COLUMNS = ("city", "gender", "lifecycle_stage", "tier", "rfm_segment", "age_band")


# -- segments ------------------------------------------------------------------------------
def _marts_con(request: Request):
    return console_of(request).data.analyst_marts()


@router.get("/segments", response_class=HTMLResponse)
def segments(request: Request, user: page_user("segments")):
    console = console_of(request)
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
    return render(
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
def segment(request: Request, user: page_user("segments"), name: str):
    console = console_of(request)
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
    return render(
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
def segment_export(request: Request, user: page_user("pack_download"), name: str):
    """Export the segment now (holding the workspace lock, as `cdp segments export`)."""
    from cdp.activation.export import export_segment
    from cdp.pipeline import locked

    console = console_of(request)
    with locked(console.settings):
        export_segment(console.settings, name)
    return RedirectResponse(f"/segments/{name}", status_code=303)


@router.get("/segments/{name}/pack.zip")
def segment_pack(request: Request, user: page_user("pack_download"), name: str):
    """The latest export folder of a segment as one zip, audited."""
    console = console_of(request)
    run = next((r for r in console.data.export_runs() if r["segment"] == name), None)
    folder = console.settings.workspace / "exports" / name / run["run_id"] if run else None
    if folder is None or not folder.is_dir():
        raise HTTPException(404, f"segment {name} has no export yet; export it first")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(folder))
    record(
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
def builderpage_user(request: Request, user: page_user("segment_edit")):
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
    return render(request, "builder.html", user, options=options, charts={"options": options})


def _build(request: Request, form: dict) -> builder.BuiltSegment:
    return builder.build(form, _marts_con(request), identity_lookup(console_of(request).lakehouse))


@router.post("/builder/validate")
async def builder_validate(request: Request, user: page_user("segment_edit")):
    built = _build(request, await request.json())
    return JSONResponse({"yaml": built.yaml_text, "errors": built.errors, "size": built.size})


@router.post("/builder/save")
async def builder_save(request: Request, user: page_user("segment_edit")):
    built = _build(request, await request.json())
    try:
        path = builder.save(built, segments_folder(console_of(request).settings))
    except ValueError as exc:
        return JSONResponse({"errors": [str(exc)], "yaml": built.yaml_text}, status_code=400)
    return JSONResponse({"saved": str(path), "url": f"/segments/{built.name}", "size": built.size})
