"""A local web server for documentation sites that need HTTP (`cdp marts docs --serve`).

dbt's docs page fetches its manifest and catalog, which browsers refuse from ``file://``; served
from 127.0.0.1 it renders with no internet at all (the page carries its own scripts). Only this
machine can reach it.
"""

from __future__ import annotations

import functools
import http.server
from collections.abc import Callable
from pathlib import Path

HOST = "127.0.0.1"


class DocsServerError(ValueError):
    """The server cannot start: no site to serve or the port is taken."""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, message_format: str, *args) -> None:
        """No line per request on the terminal."""


def make_server(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    """An HTTP server of the files in ``folder`` on 127.0.0.1 (``port`` 0: any free port)."""
    if not (folder / "index.html").is_file():
        raise DocsServerError(f"{folder} has no index.html to serve")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        return http.server.ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise DocsServerError(
            f"cannot serve on {HOST}:{port} ({exc.strerror}); choose another port with --port"
        ) from None


def serve(folder: Path, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve ``folder`` until interrupted (Ctrl-C); ``on_ready`` gets the page's address."""
    with make_server(folder, port) as server:
        on_ready(f"http://{HOST}:{server.server_address[1]}/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
