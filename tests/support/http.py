"""An HTTP server on 127.0.0.1 for tests and benchmarks: fixed routes or a responder, and a
record of every request it was sent.

Our own small server rather than pytest-httpserver: the history and soak sites answer
subprocess-run CLIs from state that changes under them, and ``benchmarks/huge_feed.py``
runs without the test extra; a threaded stdlib server with a responder callable does both.
Where the wire itself is the point (drips, hangs, gzip bombs), ``tests.support.wire`` serves.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """One request as the server read it; header names are lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    """What to answer: Content-Type and Content-Length are always sent."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, data: object, status: int = 200) -> Response:
        return cls(status, json.dumps(data).encode(), "application/json; charset=utf-8")


NOT_FOUND = Response(404, b"not found")

Responder = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, responder: Responder, keep_alive: bool) -> None:
        self.responder = responder
        self.lock = threading.Lock()
        self.log: list[Request] = []
        super().__init__(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            self.command,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            {name.lower(): value for name, value in self.headers.items()},
            self.rfile.read(length) if length else b"",
        )
        with self.server.lock:
            self.server.log.append(request)
        response = self.server.responder(request)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.status != 304:  # a 304 has no body, so no length either
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and response.status != 304:
            self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _answer  # the names http.server calls

    def log_message(self, format: str, *args: object) -> None:
        pass  # the record is ``FixtureServer.requests``


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"  # a client may send many requests on one connection
    timeout = 30


class FixtureServer:
    """A running server: where it listens, how it answers, and what it was sent."""

    def __init__(self, httpd: _Server) -> None:
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def responder(self) -> Responder:
        """How it answers; a site built on ``base_url`` sets itself here once it exists."""
        return self._httpd.responder

    @responder.setter
    def responder(self, responder: Responder) -> None:
        self._httpd.responder = responder

    @property
    def requests(self) -> list[Request]:
        """Every request so far, in the order they arrived."""
        with self._httpd.lock:
            return list(self._httpd.log)


def _from_routes(routes: Mapping[str, Response]) -> Responder:
    """Answer each path from ``routes`` (the query is not part of the key), else 404."""
    return lambda request: routes.get(request.path, NOT_FOUND)


@contextmanager
def serve(
    answer: Mapping[str, Response] | Responder | None = None, *, keep_alive: bool = False
) -> Iterator[FixtureServer]:
    """Serve on a free port of 127.0.0.1, in threads, until the block ends.

    ``answer`` is a route table ``{path: Response}`` (read at each request, so it may be
    filled once ``base_url`` is known) or a callable ``(Request) -> Response``; without it
    every request is a 404 until ``responder`` is set. ``keep_alive`` speaks HTTP/1.1, so a
    client reuses its connections (as it would with a real site); by default each request
    has its own connection.
    """
    responder = answer if callable(answer) else _from_routes({} if answer is None else answer)
    httpd = _Server(responder, keep_alive)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield FixtureServer(httpd)
    finally:
        httpd.shutdown()
        httpd.server_close()
