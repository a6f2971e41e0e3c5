"""The benchmark's site: N pages, repeated under distinct URLs, and their RSS feeds.

``serve_pages`` serves them on 127.0.0.1 from memory, in threads, with ETags on the feeds
(so a second run finds them unchanged) and a ``robots.txt`` that allows everything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

FEED_SIZE = 500  # items per feed: N pages are listed in ceil(N / FEED_SIZE) feeds


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, tuple[bytes, str, str]]  # path -> (body, content type, ETag)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall without DNS.
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _PageHandler(BaseHTTPRequestHandler):
    server: _PageServer
    protocol_version = "HTTP/1.1"
    timeout = 30

    def do_GET(self) -> None:  # the name http.server dispatches to
        entry = self.server.files.get(urlsplit(self.path).path)
        if entry is None:
            self._send(404, b"not found\n", "text/plain", "")
        elif entry[2] and self.headers.get("If-None-Match") == entry[2]:
            self._send(304, b"", entry[1], entry[2])
        else:
            self._send(200, *entry)

    def _send(self, status: int, body: bytes, ctype: str, etag: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if etag:
            self.send_header("ETag", etag)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a request log line per page would cost more than the page


def _rss(base: str, items: list[tuple[int, str]], now: datetime) -> bytes:
    entries = "".join(
        f"<item><title>Benchmark page {i}</title><link>{escape(url)}</link>"
        f"<guid>{escape(url)}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=i), usegmt=True)}</pubDate></item>"
        for i, url in items
    )
    channel = f"<title>Benchmark</title><link>{base}/</link><description>pages</description>"
    rss = f'<rss version="2.0"><channel>{channel}{entries}</channel></rss>'
    return ('<?xml version="1.0"?>' + rss).encode()


@contextmanager
def serve_pages(pages: list[tuple[str, bytes]], count: int) -> Iterator[dict[str, Any]]:
    """Serve count pages (repeated under distinct URLs) and their RSS feeds on 127.0.0.1.

    Yields the site: ``base`` (its root URL), ``urls`` (article URLs in order) and ``feeds``
    (feed URLs).
    """
    httpd = _PageServer(("127.0.0.1", 0), _PageHandler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    files: dict[str, tuple[bytes, str, str]] = {
        "/robots.txt": (b"User-agent: *\nAllow: /\n", "text/plain", "")
    }
    urls = []
    for i in range(count):
        slug, body = pages[i % len(pages)]
        path = f"/articles/{i:06d}-{slug}.html"
        files[path] = (body, "text/html", "")
        urls.append(base + path)
    now = datetime.now(UTC).replace(microsecond=0)
    feeds = []
    for start in range(0, count, FEED_SIZE):
        path = f"/feeds/feed-{start // FEED_SIZE:03d}.xml"
        body = _rss(base, list(enumerate(urls))[start : start + FEED_SIZE], now)
        files[path] = (body, "application/rss+xml", f'"feed-{start}-{count}"')
        feeds.append(base + path)
    files["/urls.txt"] = ("\n".join(urls).encode(), "text/plain", "")
    httpd.files = files
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield {"base": base, "urls": urls, "feeds": feeds}
    finally:
        httpd.shutdown()
        httpd.server_close()
