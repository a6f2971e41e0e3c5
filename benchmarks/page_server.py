"""The benchmark's site: N pages, repeated under distinct URLs, and their RSS feeds.

``serve_pages`` serves them on 127.0.0.1 from memory with the tests' fixture server
(``tests.support.http``, HTTP/1.1 so connections are reused as with a real site), with
ETags on the feeds (so a second run finds them unchanged) and a ``robots.txt`` that allows
everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from tests.support.http import NOT_FOUND, Request, Response, serve

FEED_SIZE = 500  # items per feed: N pages are listed in ceil(N / FEED_SIZE) feeds


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
    files: dict[str, Response] = {}

    def answer(request: Request) -> Response:
        found = files.get(request.path, NOT_FOUND)
        etag = found.headers.get("ETag")
        if etag and request.headers.get("if-none-match") == etag:
            return Response(304, b"", found.content_type, found.headers)
        return found

    with serve(answer, keep_alive=True) as server:
        base = server.base_url
        files["/robots.txt"] = Response(200, b"User-agent: *\nAllow: /\n", "text/plain")
        urls = []
        for i in range(count):
            slug, body = pages[i % len(pages)]
            path = f"/articles/{i:06d}-{slug}.html"
            files[path] = Response(200, body, "text/html")
            urls.append(base + path)
        now = datetime.now(UTC).replace(microsecond=0)
        feeds = []
        for start in range(0, count, FEED_SIZE):
            path = f"/feeds/feed-{start // FEED_SIZE:03d}.xml"
            body = _rss(base, list(enumerate(urls))[start : start + FEED_SIZE], now)
            etag = {"ETag": f'"feed-{start}-{count}"'}
            files[path] = Response(200, body, "application/rss+xml", etag)
            feeds.append(base + path)
        files["/urls.txt"] = Response(200, "\n".join(urls).encode(), "text/plain")
        yield {"base": base, "urls": urls, "feeds": feeds}
