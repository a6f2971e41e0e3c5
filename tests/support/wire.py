"""A hostile HTTP server on 127.0.0.1: every path misbehaves the way its test asks.

Raw sockets in threads, on purpose: what matters is what a server does on the wire
(dripping bytes, never answering, streaming without end, speaking plain text to a TLS
client). Each connection serves one request and closes (``Connection: close``), so a
handler owns its socket from the request line to the end. The tests' one raw-socket
server: the fetcher's caps and timeouts and the reliability suite's bad inputs alike.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from tests.support.http import Request


@dataclass
class Conn:
    """One accepted connection: its request and a way to write back."""

    sock: socket.socket
    target: str
    headers: dict[str, str]
    server: HostileServer
    sent: int = 0

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.sent += len(data)
        self.server.sent[urlsplit(self.target).path] += len(data)


Handler = Callable[[Conn], None]


def head(status: int, headers: dict[str, str] | None = None) -> bytes:
    """Return a status line and headers (always closing the connection)."""
    lines = [f"HTTP/1.1 {status} {_phrase(status)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Whatever"


def reply(
    body: bytes | str = b"",
    status: int = 200,
    content_type: str = "text/html; charset=utf-8",
    **headers: str,
) -> Handler:
    """Return a handler answering with a complete response."""
    data = body.encode("utf-8") if isinstance(body, str) else body

    def handle(conn: Conn) -> None:
        extra = {"Content-Type": content_type, "Content-Length": str(len(data))}
        extra.update({name.replace("_", "-"): value for name, value in headers.items()})
        conn.send(head(status, extra) + data)

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    """Return a handler that redirects to location."""
    return reply(b"", status, "text/plain", Location=location)


def first_then(first: Handler, then: Handler, times: int = 1) -> Handler:
    """Return a handler that behaves as ``first`` for the first requests, then as ``then``."""
    lock = threading.Lock()
    used = [0]

    def handle(conn: Conn) -> None:
        with lock:
            used[0] += 1
            turn = used[0]
        (first if turn <= times else then)(conn)

    return handle


def drip(every: float = 1.0, total: int = 10_000) -> Handler:
    """Return a handler that sends a 200 and then one byte per ``every`` seconds."""

    def handle(conn: Conn) -> None:
        conn.send(head(200, {"Content-Type": "text/html", "Content-Length": str(total)}))
        for _ in range(total):
            if conn.server.stopping.wait(every):
                return
            conn.send(b"a")

    return handle


def hang() -> Handler:
    """Return a handler that reads the request and never answers."""

    def handle(conn: Conn) -> None:
        conn.server.stopping.wait(120)

    return handle


def endless(size: int = 50_000_000, chunk: int = 65_536) -> Handler:
    """Return a handler streaming ``size`` bytes of HTML, no length announced."""

    def handle(conn: Conn) -> None:
        conn.send(head(200, {"Content-Type": "text/html; charset=utf-8"}))
        block = b"<p>" + b"filler text " * (chunk // 12) + b"</p>\n"
        remaining = size
        while remaining > 0 and not conn.server.stopping.is_set():
            piece = block[: min(len(block), remaining)]
            conn.send(piece)
            remaining -= len(piece)

    return handle


@lru_cache(maxsize=1)
def _bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


def gzip_bomb(size: int = 200_000_000) -> Handler:
    """Return a handler sending a small gzip body that inflates to ``size`` bytes.

    The body is compressed here, ahead of the request: 200 MB take seconds to compress,
    which inside the handler would run out the client's timeout before the first byte.
    """
    body = _bomb(size)

    def handle(conn: Conn) -> None:
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Encoding": "gzip",
            "Content-Length": str(len(body)),
        }
        conn.send(head(200, headers) + body)

    return handle


def cut_short(body: bytes = b"<html><body><p>The first half of a page") -> Handler:
    """Return a handler that promises more bytes than it sends, then hangs up."""

    def handle(conn: Conn) -> None:
        conn.send(head(200, {"Content-Type": "text/html", "Content-Length": "100000"}) + body)

    return handle


@dataclass
class HostileServer:
    """The running server: its routes (changeable while it runs) and what it saw.

    ``requests`` holds each request's line and headers (bodies are not read); ``hits``
    counts them by path, ``sent`` counts the bytes written, and ``cut_off`` the answers
    that ended on a socket error (the client left, or its socket timed out).
    """

    host: str = "127.0.0.1"
    port: int = 0
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    cut_off: Counter[str] = field(default_factory=Counter)
    tls_attempts: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def handle(self, sock: socket.socket) -> None:
        sock.settimeout(30)
        path = ""
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                if not data and chunk[:1] == b"\x16":  # a TLS ClientHello, not HTTP
                    self.tls_attempts += 1
                    sock.sendall(b"this server speaks no TLS\r\n")
                    return
                data += chunk
                if len(data) > 65_536:
                    return
            lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            words = lines[0].split(" ")
            target = words[1] if len(words) > 1 else "/"
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            parts = urlsplit(target)
            path = parts.path
            self.requests.append(Request(words[0], path, parse_qs(parts.query), headers, b""))
            self.hits[path] += 1
            handler = self.routes.get(target) or self.routes.get(path) or reply(b"", 404)
            handler(Conn(sock, target, headers, self))
        except OSError:
            if path:  # the client left: caps and timeouts do that on purpose
                self.cut_off[path] += 1
        finally:
            sock.close()


@contextmanager
def serve_hostile(routes: dict[str, Handler] | None = None) -> Iterator[HostileServer]:
    """Run a hostile server on 127.0.0.1 in daemon threads; yield it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    server = HostileServer(port=listener.getsockname()[1], routes=dict(routes or {}))

    def accept() -> None:
        while not server.stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=server.handle, args=(sock,), daemon=True).start()

    thread = threading.Thread(target=accept, name="hostile-accept", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        thread.join(timeout=5)
        listener.close()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Return True once predicate holds, False when timeout passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
