"""The console application: FastAPI with the API router, the pages, signed session cookies
(Starlette's SessionMiddleware) and the static files (ECharts shipped in ``static/``)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from cdp.config import Settings
from cdp.console import api, pages, segment_pages
from cdp.console.auth import LoginRequired
from cdp.console.data import ConsoleData
from cdp.console.users import UserStore, users_db
from cdp.lakehouse import Lakehouse

STATIC = Path(__file__).parent / "static"
SESSION_HOURS = 8


@dataclass
class Console:
    """What every request reaches through ``app.state.console``."""

    settings: Settings
    users: UserStore
    data: ConsoleData
    lakehouse: Lakehouse


def session_secret(workspace: Path) -> str:
    """The key signing session cookies: created once per workspace (mode 0600), so sessions
    survive a restart of the server."""
    path = Path(workspace) / "console" / "session_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(settings: Settings) -> FastAPI:
    """The console and API over one workspace."""
    app = FastAPI(
        title="CDP console API",
        version="1",
        description="OneID lookup, member 360, tags, segment membership and export status. "
        "Authenticate with `Authorization: Bearer <token>` (`cdp tokens add`).",
    )
    app.state.console = Console(
        settings,
        UserStore(users_db(settings.workspace)),
        ConsoleData(settings),
        Lakehouse(settings.lakehouse_dir),
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings.workspace),
        max_age=SESSION_HOURS * 3600,
        same_site="strict",
        session_cookie="cdp_session",
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(segment_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _exc: LoginRequired):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the console on ``host:port`` until interrupted."""
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
