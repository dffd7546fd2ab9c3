"""`zoo serve`: the catalog site over HTTP on 127.0.0.1 (the standard library's
http.server), for people who prefer a URL to a folder. Loopback only: the
catalog is for this machine.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .site import CSP

HOST = "127.0.0.1"


class CatalogHandler(SimpleHTTPRequestHandler):
    """Static files of one folder, with the catalog's security headers, quiet logs."""

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def list_directory(self, path: Any) -> Any:  # no folder listings: the site has index.html
        self.send_error(404, "not found")
        return None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def make_server(directory: str | Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for ``directory`` on 127.0.0.1:``port`` (0: any free port); not started."""
    handler = functools.partial(CatalogHandler, directory=str(directory))
    return ThreadingHTTPServer((HOST, port), handler)


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/index.html"
