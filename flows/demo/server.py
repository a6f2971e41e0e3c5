"""A small local HTTP server for the bundled demo news site and the end-to-end tests.

It serves a directory of static files on a loopback address. Text files are templates:
``{base}`` becomes the server's base URL and ``{rfc822:-1d}``, ``{iso:-2h}`` and
``{date:-1d}`` become dates relative to the server's clock, so the demo's news is always
fresh. It answers conditional requests (ETag, Last-Modified) like a real news site, and
tests may override any path with a :class:`Route` (a status, headers, a body, a delay).
Standard library only: the demo must run with nothing but the package installed.

Its length is what a real news site does on the wire (templates, conditional requests,
routes, content types), which the demo and the end-to-end tests both rely on.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import socketserver
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

DEMO_SITE_ROOT = Path(__file__).resolve().parent / "site"

_TEXT_SUFFIXES = {".html", ".htm", ".xml", ".txt", ".json", ".css", ".js"}
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}
_XML_TYPES = {"rss": "application/rss+xml", "feed": "application/atom+xml"}
_PLACEHOLDER = re.compile(r"\{(?:(base)|(rfc822|iso|date)(?::([+-]?\d+)([hd]))?)\}")
_ROOT_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]")


@dataclass(frozen=True)
class DemoFeed:
    """One feed of the bundled demo site, as a monitor source would name it."""

    name: str
    path: str
    outlet: str


DEMO_FEEDS = (
    DemoFeed("harbor-daily", "/feeds/harbor-daily.xml", "Harbor Daily"),
    DemoFeed("east-sea-wire", "/feeds/east-sea-wire.xml", "East Sea Wire"),
    DemoFeed("capital-ledger", "/feeds/capital-ledger.xml", "Capital Ledger"),
)


@dataclass(frozen=True)
class Route:
    """An override for one path: its status, extra headers, body and delay.

    ``body=None`` keeps the site's own file for a 2xx status and sends a short reason
    otherwise. ``delay`` (seconds) is waited before the response starts. ``times`` limits
    the override to the first N requests of the path, so a test can answer 503 once and
    then the real page.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    delay: float = 0.0
    times: int | None = None


class Hit(NamedTuple):
    """One request the server received; header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class SiteServer:
    """A running site: where it listens, what it was asked, and its live overrides.

    ``routes`` may be changed while the server runs.
    """

    base_url: str
    host: str
    port: int
    now: datetime
    hits: list[Hit] = field(default_factory=list)
    routes: dict[str, Route] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """Return the absolute URL of a site path such as ``/feeds/x.xml``."""
        return self.base_url + path

    def paths(self, method: str = "GET") -> list[str]:
        """Return the request targets (path and query) received with ``method``, in order."""
        return [hit.path for hit in list(self.hits) if hit.method == method]


def render_template(text: str, base_url: str, now: datetime) -> str:
    """Return ``text`` with ``{base}`` and the ``{rfc822|iso|date[:±Nh|±Nd]}`` dates filled.

    Other braces (CSS, JSON-LD) are left alone, so pages need no escaping.
    """
    now = _as_utc(now)

    def fill(match: re.Match[str]) -> str:
        if match.group(1):
            return base_url
        kind, amount, unit = match.group(2), match.group(3), match.group(4)
        when = now
        if amount is not None:
            when += timedelta(hours=int(amount) * (24 if unit == "d" else 1))
        if kind == "rfc822":
            return format_datetime(when, usegmt=True)
        if kind == "iso":
            return when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return when.strftime("%Y-%m-%d")

    return _PLACEHOLDER.sub(fill, text)


def content_type(path: Path, body: bytes) -> str:
    """Return the Content-Type for a site file; XML feeds are told apart by root element."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        match = _ROOT_ELEMENT.search(_skip_prolog(body))
        root = match.group(1).decode("ascii").lower() if match else ""
        return _XML_TYPES.get(root, "application/xml")
    return _CONTENT_TYPES.get(suffix, "application/octet-stream")


@contextmanager
def serve_site(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    routes: Mapping[str, Route] | None = None,
    now: datetime | None = None,
    log: Callable[[str], None] | None = None,
) -> Iterator[SiteServer]:
    """Serve ``root`` on a loopback address in a daemon thread; yield the running site.

    ``port=0`` picks a free port. ``now`` (default: the current UTC time) is fixed for the
    server's life, so a page's ETag stays stable. Only loopback hosts are accepted: the
    site is for the demo and tests, never for a network. ``log`` receives one line per
    request; without it nothing is logged.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the demo site needs a loopback IP address, not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"the demo site serves loopback addresses only, not {host!r}")
    clock = _as_utc(now or datetime.now(UTC)).replace(microsecond=0)
    httpd = _SiteHTTPServer((host, port), address.version, root.resolve(), clock, log)
    bound, bound_port = httpd.server_address[:2]
    bound_host = bound.decode() if isinstance(bound, bytes) else str(bound)
    shown = f"[{bound_host}]" if address.version == 6 else bound_host
    site = SiteServer(f"http://{shown}:{bound_port}", bound_host, int(bound_port), clock)
    site.routes.update(routes or {})
    httpd.site = site
    # A short poll interval makes leaving the context quick: tests start many servers.
    serve = partial(httpd.serve_forever, poll_interval=0.05)
    thread = threading.Thread(target=serve, name="demo-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        thread.join(timeout=5)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _skip_prolog(body: bytes) -> bytes:
    # The XML declaration, comments and a doctype come before the root element.
    return re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", body[:4096], flags=re.S)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _not_modified(headers: Mapping[str, str], etag: str, modified: datetime) -> bool:
    # RFC 9110: If-None-Match wins over If-Modified-Since when both are sent.
    if "if-none-match" in headers:
        tags = [tag.strip().removeprefix("W/") for tag in headers["if-none-match"].split(",")]
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if not since:
        return False
    try:
        return _as_utc(parsedate_to_datetime(since)) >= modified
    except (TypeError, ValueError):
        return False


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    site: SiteServer

    def __init__(
        self,
        address: tuple[str, int],
        version: int,
        root: Path,
        now: datetime,
        log: Callable[[str], None] | None,
    ) -> None:
        self.address_family = socket.AF_INET6 if version == 6 else socket.AF_INET
        self.root, self.now, self.log = root, now, log
        self.lock = threading.Lock()
        self.route_uses: Counter[str] = Counter()
        self.open_sockets: set[socket.socket] = set()
        super().__init__(address, _SiteHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        request, client = super().get_request()
        with self.lock:
            self.open_sockets.add(request)
        return request, client

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close kept-alive client connections, so no handler outlives the server."""
        with self.lock:
            sockets, self.open_sockets = list(self.open_sockets), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client already went away

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (timeouts, byte caps) is normal here; real errors still show.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def take_route(self, target: str) -> Route | None:
        """Return the override for a request target, counting its use."""
        path = urlsplit(target).path
        with self.lock:
            for key in (target, path):
                route = self.site.routes.get(key)
                if route is None:
                    continue
                if route.times is not None and self.route_uses[key] >= route.times:
                    return None
                self.route_uses[key] += 1
                return route
        return None


class _SiteHandler(BaseHTTPRequestHandler):
    server: _SiteHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "straitwatch-demo/1.0"
    sys_version = ""
    timeout = 30

    def do_GET(self) -> None:  # the name http.server dispatches to
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log(format % args)

    def _respond(self, *, send_body: bool) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.site.hits.append(Hit(self.command, self.path, headers))
        route = self.server.take_route(self.path)
        if route is not None and route.delay > 0:
            time.sleep(route.delay)
        if route is not None and (route.body is not None or route.status >= 300):
            if route.body is None:
                body, ctype = _reason(route.status), "text/plain; charset=utf-8"
            else:
                body, ctype = route.body, content_type(Path(urlsplit(self.path).path), route.body)
            self._send(route.status, {"Content-Type": ctype}, body, route, send_body)
            return
        status, extra, body = self._file_response(headers)
        if route is not None and status == HTTPStatus.OK:
            status = route.status
        self._send(status, extra, body, route, send_body)

    def _file_response(self, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        path = self._resolve(urlsplit(self.path).path)
        if path is None:
            body = _reason(HTTPStatus.NOT_FOUND)
            return HTTPStatus.NOT_FOUND, {"Content-Type": "text/plain; charset=utf-8"}, body
        body = path.read_bytes()
        if path.suffix.lower() in _TEXT_SUFFIXES:
            text = render_template(body.decode("utf-8"), self.server.site.base_url, self.server.now)
            body = text.encode("utf-8")
        etag, modified = _etag(body), self.server.now
        extra = {
            "Content-Type": content_type(path, body),
            "ETag": etag,
            "Last-Modified": format_datetime(modified, usegmt=True),
            "Cache-Control": "max-age=60",
        }
        if _not_modified(headers, etag, modified):
            return HTTPStatus.NOT_MODIFIED, extra, b""
        return HTTPStatus.OK, extra, body

    def _resolve(self, url_path: str) -> Path | None:
        root = self.server.root
        candidate = (root / unquote(url_path).lstrip("/")).resolve()
        if not candidate.is_relative_to(root):
            return None
        # Article URLs have no extension, like most news sites: /outlet/slug -> slug.html.
        options = (candidate, candidate / "index.html", candidate.parent / f"{candidate.name}.html")
        for option in options:
            if option.is_file() and option.is_relative_to(root):
                return option
        return None

    def _send(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        route: Route | None,
        send_body: bool,
    ) -> None:
        merged = dict(headers)
        for name, value in route.headers if route else ():
            merged = {key: val for key, val in merged.items() if key.lower() != name.lower()}
            merged[name] = value
        # A 304 carries validators but no body; everything else says how long it is.
        given = {name.lower() for name in merged}
        if status != HTTPStatus.NOT_MODIFIED and "content-length" not in given:
            merged["Content-Length"] = str(len(body))
        self.send_response(status)
        for name, value in merged.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body and status != HTTPStatus.NOT_MODIFIED:
            self.wfile.write(body)


def _reason(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"{status} {phrase}\n".encode()
