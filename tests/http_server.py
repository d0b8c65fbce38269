"""A local HTTP server for download tests: stdlib `http.server` in a thread, scripted routes.

Tests drive the real download code (urllib, sockets, headers) against it instead of faking the
network. Each route answers with a status, a body and headers, and can misbehave the way real
services do: an HTML page with status 200, a Content-Length larger than what is sent before
the connection closes, a 404 or 500.

Use the `http_server` fixture (import it into the test module under its Python name, so that
the test's argument does not shadow the import)::

    from http_server import http_server_fixture  # noqa: F401  (provides the http_server fixture)

    def test_get(http_server, tmp_path):
        url = http_server.serve("/data.zip", b"PK...")
        ...
        http_server.requests  # paths asked for, in order

or `serving()` as a context manager outside pytest fixtures.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    """What the server answers at one path.

    ``truncate_after``: send only that many bytes of ``body`` (the Content-Length still
    announces the whole body), then close the connection, as a dropped transfer does.
    ``content_length``: announce this length instead of the body's (None: the true length).
    """

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    truncate_after: int | None = None
    content_length: int | None = None


class ThreadedServer:
    """A stdlib HTTP server on a free local port, serving in a daemon thread; `root` is its base
    address (``http://127.0.0.1:<port>``). `start()` returns the server, `stop()` ends it."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        # a short poll interval: stopping the server waits for one poll
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class LocalServer(ThreadedServer):
    """The running server: `url` is its base address (``http://127.0.0.1:<port>``)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        super().__init__(_handler_for(self))
        self.url = self.root

    def serve(self, path: str, body: bytes | str = b"", status: int = 200, **route) -> str:
        """Answer ``path`` with ``body`` (replacing any earlier route there); returns its URL."""
        if isinstance(body, str):
            body = body.encode()
        self.routes[path] = Route(body=body, status=status, **route)
        return self.url + path


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # a real Content-Length contract, as the services keep

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            server.requests.append(self.path)
            route = server.routes.get(self.path) or Route(body=b"not found", status=404)
            body = route.body
            self.send_response(route.status)
            headers = {"Content-Type": "application/octet-stream", **route.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            length = route.content_length if route.content_length is not None else len(body)
            self.send_header("Content-Length", str(length))
            if route.truncate_after is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if route.truncate_after is not None:
                self.wfile.write(body[: route.truncate_after])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:  # keep the test output quiet
            pass

    return Handler


@contextmanager
def serving() -> Iterator[LocalServer]:
    """A started `LocalServer`, stopped on exit."""
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="http_server")
def http_server_fixture() -> Iterator[LocalServer]:
    """A local HTTP server for one test; ``http_server.url`` is its base URL."""
    with serving() as server:
        yield server
