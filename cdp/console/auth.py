"""Who is asking: a browser session (a signed cookie naming the user) or an API bearer
token; and what they may do (``require``)."""

from __future__ import annotations

from fastapi import HTTPException, Request

from cdp.console.data import Viewer, viewer_of
from cdp.console.roles import role_named
from cdp.console.users import Principal

SESSION_USER = "user"


class LoginRequired(Exception):
    """A page was asked for without a session: the app redirects to the login page."""


def principal_of(request: Request) -> Principal | None:
    """The user of the session, or the system of a bearer token; None for neither. A user
    disabled since logging in is no one."""
    store = request.app.state.console.users
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return store.token_principal(header[7:].strip())
    name = request.session.get(SESSION_USER) if "session" in request.scope else None
    return store.user(name) if name else None


def require(permission: str, page: bool = False):
    """A dependency: the asker, when their role grants ``permission``; 401 without a valid
    session or token (a page redirects to the login), 403 when the role lacks it."""

    # async: run on the event loop, not a worker thread (a token check is a cache probe)
    async def dependency(request: Request) -> Principal:
        principal = principal_of(request)
        if principal is None:
            if page:
                raise LoginRequired()
            raise HTTPException(401, "a valid bearer token (or a console session) is needed")
        if permission not in role_named(principal.role).permissions:
            raise HTTPException(403, f"role {principal.role} may not use {permission}")
        return principal

    return dependency


def viewer(principal: Principal) -> Viewer:
    """The data view of a principal: their scope, and personal values if their role has
    them."""
    return viewer_of(role_named(principal.role).permissions, principal.scope)
