"""What every page shares: the templates, the login requirement, rendering, audit entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cdp.console import audit
from cdp.console.auth import require
from cdp.console.roles import role_named
from cdp.console.users import Principal
from cdp.report import mask

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


def page_user(permission: str):
    """The type of a page's user parameter: logged in (else to the login page) with a role
    granting ``permission``."""
    return Annotated[Principal, Depends(require(permission, page=True))]


def render(request: Request, template: str, user: Principal | None, **context) -> HTMLResponse:
    """A template with the user, their role and ``charts`` (the JSON the page's charts draw)."""
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


def console_of(request: Request):
    """The application's ``Console`` (settings, users, data, lakehouse)."""
    return request.app.state.console


def record(request: Request, event: str, user: Principal, what: str, people: int, detail: dict):
    """An audit entry (a view or an export) by the page's user."""
    audit.record(
        console_of(request).lakehouse,
        audit.console_entry(event, user.name, what, people, people, detail),
    )
