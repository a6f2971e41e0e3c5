"""Gathering one source's candidates (extractors/gather.py), without a database: GDELT's
window halving, sitemaps' children, feeds' windows and validators, the recorded reasons.
Requests go to httpx.MockTransport with a fake resolver, so no packet leaves the process.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx

from extractors import gather as gathering
from extractors.fetch import Fetcher, FetchPolicy
from extractors.gather import Gathered, Remembered, gather
from extractors.profile import Source
from extractors.records import ErrorRecord, SourceOutcome

NOW = datetime(2019, 8, 23, 12, 0, tzinfo=UTC)
SITE = "https://news.example"

Handler = Callable[[httpx.Request], httpx.Response]


async def fake_resolve(host: str) -> list[str]:
    if host != "news.example":
        raise socket.gaierror(socket.EAI_NONAME, "unknown name")
    return ["93.184.216.34"]  # never connected to: the transport is a mock


def run(
    handler: Handler,
    source: Source,
    remembered: Remembered | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> tuple[Gathered, list[httpx.Request]]:
    """Gather one source through the handler; return what it gave and the requests made."""
    requests: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return handler(request)

    async def go() -> Gathered:
        policy = FetchPolicy(per_host_delay=0.0, respect_robots=False, timeout=2.0)
        transport = httpx.MockTransport(recording)
        async with Fetcher(policy, transport=transport, resolver=fake_resolve) as fetcher:
            return await gather(fetcher, source, remembered, NOW, window)

    return asyncio.run(go()), requests


# --- GDELT ------------------------------------------------------------------------------


def gdelt_source() -> Source:
    return Source(name="gdelt", kind="gdelt", url=f"{SITE}/api/v2/doc/doc", query="Japan Korea")


def query_window(request: httpx.Request) -> tuple[datetime, datetime]:
    params = parse_qs(request.url.query.decode())

    def moment(name: str) -> datetime:
        return datetime.strptime(params[name][0], "%Y%m%d%H%M%S").replace(tzinfo=UTC)

    return moment("startdatetime"), moment("enddatetime")


def gdelt_answer(count_for: Callable[[timedelta], int]) -> Handler:
    """A DOC API look-alike: for a window, count_for(its length) distinct articles."""

    def handler(request: httpx.Request) -> httpx.Response:
        start, end = query_window(request)
        articles = [
            {
                "url": f"{SITE}/{start:%H%M}/{i}",
                "title": f"Article {i}",
                "seendate": f"{start:%Y%m%dT%H%M%SZ}",
            }
            for i in range(count_for(end - start))
        ]
        return httpx.Response(200, json={"articles": articles})

    return handler


def test_gdelt_halves_a_window_while_it_hits_the_cap() -> None:
    start = datetime(2019, 8, 22, 0, 0, tzinfo=UTC)
    hour = timedelta(hours=1)
    full = gdelt_answer(lambda length: 250 if length > hour else 3)
    got, requests = run(full, gdelt_source(), window=(start, start + 4 * hour))
    assert [query_window(r) for r in requests] == [
        (start + a * hour, start + b * hour)
        for a, b in [(0, 4), (0, 2), (0, 1), (1, 2), (2, 4), (2, 3), (3, 4)]
    ]
    # Only the answers under the cap are kept: three articles from each hour.
    assert [e.url for e in got.entries] == [
        f"{SITE}/{h:02}00/{i}" for h in range(4) for i in range(3)
    ]
    assert got.errors == ()
    assert got.outcome == SourceOutcome("gdelt", ok=True, entries=12)


def test_gdelt_stops_halving_at_fifteen_minutes() -> None:
    start = datetime(2019, 8, 22, 0, 0, tzinfo=UTC)
    window = (start, start + timedelta(hours=4))
    got, requests = run(gdelt_answer(lambda _: 250), gdelt_source(), window=window)
    lengths = [end - begin for begin, end in (query_window(r) for r in requests)]
    # 4 hours, 2, 1, 30 minutes, then 15: every quarter hour asked once, its 250 kept.
    assert sorted(set(lengths)) == [timedelta(minutes=m) for m in (15, 30, 60, 120, 240)]
    assert lengths.count(gathering.GDELT_FINEST) == 16
    assert len(requests) == 1 + 2 + 4 + 8 + 16
    assert len(got.entries) == 16 * 250
    assert got.outcome.ok


def test_live_gdelt_asks_from_the_cursor_or_the_last_day() -> None:
    few = gdelt_answer(lambda _: 1)
    cursor = NOW - timedelta(hours=2)
    _, from_cursor = run(few, gdelt_source(), Remembered(cursor_at=cursor))
    _, first_run = run(few, gdelt_source(), None)
    assert [query_window(r) for r in from_cursor] == [(cursor, NOW)]
    assert [query_window(r) for r in first_run] == [(NOW - timedelta(days=1), NOW)]


# --- sitemaps ---------------------------------------------------------------------------


def index(*children: str) -> str:
    items = "".join(f"<sitemap><loc>{SITE}/{c}</loc></sitemap>" for c in children)
    return (
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'
    )


def urlset(*paths: str) -> str:
    items = "".join(f"<url><loc>{SITE}/{p}</loc></url>" for p in paths)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'


def site(pages: dict[str, str]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        body = pages.get(request.url.path)
        return httpx.Response(404) if body is None else httpx.Response(200, text=body)

    return handler


def sitemap_source() -> Source:
    return Source(name="outlet", kind="sitemap", url=f"{SITE}/sitemap.xml")


def test_sitemap_follows_child_sitemaps_once_each() -> None:
    pages = {
        "/sitemap.xml": index("a.xml", "b.xml", "gone.xml"),
        "/a.xml": index("c.xml", "sitemap.xml"),  # back to the index: not fetched again
        "/b.xml": urlset("2019/08/22/one", "2019/08/22/two"),
        "/c.xml": urlset("2019/08/23/three"),
    }
    got, requests = run(site(pages), sitemap_source())
    assert [r.url.path for r in requests] == [
        "/sitemap.xml",
        "/a.xml",
        "/b.xml",
        "/gone.xml",
        "/c.xml",
    ]
    assert [e.url for e in got.entries] == [
        f"{SITE}/2019/08/22/one",
        f"{SITE}/2019/08/22/two",
        f"{SITE}/2019/08/23/three",
    ]
    assert got.errors == (
        ErrorRecord(
            "source",
            "http_404",
            "news.example answered HTTP 404",
            "outlet",
            f"{SITE}/gone.xml",
            404,
        ),
    )
    assert (got.outcome.ok, got.outcome.error) == (False, "http_404")


def test_sitemap_children_stop_at_the_cap() -> None:
    children = [f"s{i}.xml" for i in range(gathering.MAX_SITEMAPS + 50)]
    pages = {"/sitemap.xml": index(*children)}
    pages |= {f"/{child}": urlset(f"story/{i}") for i, child in enumerate(children)}
    got, requests = run(site(pages), sitemap_source())
    followed = gathering.MAX_SITEMAPS - 1  # the index counts as one
    assert [r.url.path for r in requests] == [
        "/sitemap.xml",
        *(f"/{child}" for child in children[:followed]),
    ]
    assert [e.url for e in got.entries] == [f"{SITE}/story/{i}" for i in range(followed)]
    assert got.outcome == SourceOutcome("outlet", ok=True, entries=followed)


# --- feeds ------------------------------------------------------------------------------


def rss(*items: str) -> str:
    channel = f"<channel><title>t</title>{''.join(items)}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def item(link: str, published: str = "") -> str:
    date = f"<pubDate>{published}</pubDate>" if published else ""
    return f"<item><title>{link}</title><link>{link}</link>{date}</item>"


FEED = rss(
    item(f"{SITE}/before", "Wed, 21 Aug 2019 23:59:00 GMT"),
    item(f"{SITE}/inside", "Thu, 22 Aug 2019 09:40:00 GMT"),
    item(f"{SITE}/at-the-end", "Fri, 23 Aug 2019 00:00:00 GMT"),
    item(f"{SITE}/undated"),
)


def feed_source() -> Source:
    return Source(name="wire", kind="feed", url=f"{SITE}/rss.xml")


def feed_server(body: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, text=body, headers={"ETag": '"v2"'})

    return handler


def test_a_feed_with_a_window_keeps_the_entries_inside_it_and_asks_unconditionally() -> None:
    window = (datetime(2019, 8, 22, tzinfo=UTC), datetime(2019, 8, 23, tzinfo=UTC))
    got, requests = run(feed_server(FEED), feed_source(), Remembered(etag='"v1"'), window)
    assert [e.url for e in got.entries] == [f"{SITE}/inside", f"{SITE}/undated"]
    assert "if-none-match" not in requests[0].headers
    assert got.outcome == SourceOutcome("wire", ok=True, entries=2, etag='"v2"')


def test_a_live_feed_sends_its_validators_and_takes_not_modified() -> None:
    got, requests = run(feed_server(FEED), feed_source(), Remembered(etag='"v1"'))
    assert requests[0].headers["if-none-match"] == '"v1"'
    assert got.entries == ()
    assert got.outcome == SourceOutcome("wire", ok=True, not_modified=True)


def test_skipped_entries_fold_into_one_reason_per_kind() -> None:
    body = rss(
        item("javascript:alert(1)"),
        item(f"{SITE}/kept"),
        item("javascript:alert(2)"),
        item(f"{SITE}/kept"),  # a duplicate: not a reason
        "<item><title>No link</title></item>",
        item("data:text/html,hi"),
    )
    got, _ = run(feed_server(body), feed_source())
    assert [e.url for e in got.entries] == [f"{SITE}/kept"]
    rss_url = f"{SITE}/rss.xml"
    assert got.errors == (
        ErrorRecord(
            "feed", "bad_link", "3 entries skipped; the first: javascript:alert(1)", "wire", rss_url
        ),
        ErrorRecord("feed", "no_link", "No link", "wire", rss_url),
    )
    assert got.outcome.ok  # skipped entries are reasons, not a failed source


BUSY = "news.example answered HTTP 503"


def test_a_refused_fetch_is_a_reason_and_a_failed_outcome_with_its_wait() -> None:
    def busy(_: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "600"})

    got, requests = run(busy, feed_source())
    assert len(requests) == 1  # a wait longer than the run's patience is left to a later run
    assert got.errors == (ErrorRecord("source", "http_503", BUSY, "wire", f"{SITE}/rss.xml", 503),)
    assert got.outcome == SourceOutcome(
        "wire", ok=False, error="http_503", detail=BUSY, retry_after=600.0
    )


def test_an_unreadable_document_fails_the_source() -> None:
    got, _ = run(feed_server(json.dumps({"not": "a feed"})), feed_source())
    detail = "JSON without an items list"
    assert got.entries == ()
    assert got.errors == (ErrorRecord("feed", "not_a_feed", detail, "wire", f"{SITE}/rss.xml"),)
    assert got.outcome == SourceOutcome("wire", ok=False, error="not_a_feed", detail=detail)


# --- URL lists --------------------------------------------------------------------------


def test_a_local_url_list_and_a_missing_one(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"# to check\n{SITE}/a\n{SITE}/b\n", encoding="utf-8")

    def nothing(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a local list asked the network for {request.url}")

    got, _ = run(nothing, Source(name="list", kind="urls", url=listing.as_uri()))
    assert [e.url for e in got.entries] == [f"{SITE}/a", f"{SITE}/b"]
    assert got.outcome == SourceOutcome("list", ok=True, entries=2)
    gone, _ = run(nothing, Source(name="list", kind="urls", url=f"file:{tmp_path}/gone.txt"))
    assert [(r.reason, r.url) for r in gone.errors] == [("unreadable", f"file:{tmp_path}/gone.txt")]
    assert (gone.outcome.ok, gone.outcome.error) == (False, "unreadable")


def test_a_remote_url_list() -> None:
    got, requests = run(
        site({"/list.txt": "/2019/a\n/2019/b\n"}),
        Source(name="list", kind="urls", url=f"{SITE}/list.txt"),
    )
    assert [r.url.path for r in requests] == ["/list.txt"]
    assert [e.url for e in got.entries] == [f"{SITE}/2019/a", f"{SITE}/2019/b"]
