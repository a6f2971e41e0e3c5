"""The demo site server, and the bundled site as a fair test of the extractor."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import httpx
import lxml.html
import pytest
import trafilatura

from flows.demo.server import (
    DEMO_FEEDS,
    DEMO_SITE_ROOT,
    Route,
    SiteServer,
    content_type,
    render_template,
    serve_site,
)

GALLERY = "/east-sea-wire/pictures/spring-along-the-southern-coast"
COMMENTED = "/harbor-daily/jagalchi-fish-market-main-hall-reopens"
WIRE = "/east-sea-wire/seoul-suspends-military-intelligence-sharing-with-tokyo"
REPRINT = "/capital-ledger/world/seoul-suspends-military-intel-sharing-with-tokyo"
LOCAL = "/harbor-daily/navy-destroyer-radar-row-seoul-freezes-intelligence-flow-to-tokyo"


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    with serve_site(DEMO_SITE_ROOT) as running:
        yield running


@pytest.fixture(scope="module")
def client(site: SiteServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=5) as http:
        yield http


@pytest.fixture(scope="module")
def feed_links(site: SiteServer, client: httpx.Client) -> list[str]:
    links = []
    for feed in DEMO_FEEDS:
        parsed = feedparser.parse(client.get(feed.path).content)
        links += [entry.link for entry in parsed.entries]
    return links


def _path(url: str) -> str:
    return httpx.URL(url).path


# ---- templates -------------------------------------------------------------------------


def test_render_template_fills_base_and_relative_dates() -> None:
    now = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    text = "{base}/a {rfc822:-1d} {iso:-2h} {date:-1d} {iso} {date:+3d}"
    rendered = render_template(text, "http://127.0.0.1:9", now)
    assert rendered == (
        "http://127.0.0.1:9/a Mon, 09 Mar 2026 09:30:00 GMT 2026-03-10T07:30:00Z"
        " 2026-03-09 2026-03-10T09:30:00Z 2026-03-13"
    )


def test_render_template_leaves_other_braces_alone() -> None:
    text = 'body { margin: 0 } {"a": 1} {unknown} {iso:-1w}'
    assert render_template(text, "http://x", datetime(2026, 1, 1, tzinfo=UTC)) == text


def test_content_type_tells_feeds_apart_by_root_element() -> None:
    rss = b'<?xml version="1.0"?>\n<!-- note --><rss version="2.0"><channel/></rss>'
    atom = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>'
    assert content_type(Path("a.xml"), rss) == "application/rss+xml"
    assert content_type(Path("b.xml"), atom) == "application/atom+xml"
    assert content_type(Path("c.xml"), b"<urlset/>") == "application/xml"
    assert content_type(Path("d.html"), b"") == "text/html; charset=utf-8"


# ---- serving ---------------------------------------------------------------------------


def test_feeds_are_rendered_fresh(site: SiteServer, client: httpx.Client) -> None:
    response = client.get("/feeds/harbor-daily.xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rss+xml"
    one_day_ago = format_datetime(site.now - timedelta(days=1), usegmt=True)
    assert f"<pubDate>{one_day_ago}</pubDate>" in response.text
    assert f"<link>{site.base_url}/harbor-daily/" in response.text
    assert not re.search(r"\{(base|rfc822|iso|date)[:}]", response.text)


def test_atom_feed_has_its_content_type(client: httpx.Client) -> None:
    response = client.get("/feeds/east-sea-wire.xml")
    assert response.headers["content-type"] == "application/atom+xml"


def test_article_urls_have_no_extension(site: SiteServer, client: httpx.Client) -> None:
    response = client.get(WIRE + "?utm_source=rss")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert f'<link rel="canonical" href="{site.base_url}{WIRE}">' in response.text
    assert client.get("/east-sea-wire/no-such-story").status_code == 404


def test_paths_outside_the_root_are_not_found(client: httpx.Client) -> None:
    assert client.get("/%2e%2e/demo_server.py").status_code == 404
    assert client.get("/feeds/%2e%2e/%2e%2e/demo_server.py").status_code == 404


def test_etag_answers_304(client: httpx.Client) -> None:
    first = client.get("/feeds/capital-ledger.xml")
    etag = first.headers["etag"]
    again = client.get("/feeds/capital-ledger.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/feeds/capital-ledger.xml", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200
    assert other.content == first.content


def test_last_modified_answers_304(site: SiteServer, client: httpx.Client) -> None:
    first = client.get("/feeds/east-sea-wire.xml")
    since = first.headers["last-modified"]
    assert client.get(first.url, headers={"If-Modified-Since": since}).status_code == 304
    older = format_datetime(site.now - timedelta(hours=1), usegmt=True)
    assert client.get(first.url, headers={"If-Modified-Since": older}).status_code == 200


def test_head_sends_headers_only(client: httpx.Client) -> None:
    response = client.head("/feeds/harbor-daily.xml")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 1000
    assert response.content == b""


def test_robots_txt_disallows_private_only(client: httpx.Client) -> None:
    response = client.get("/robots.txt")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    rules = [line for line in response.text.splitlines() if line and not line.startswith("#")]
    assert rules == ["User-agent: *", "Disallow: /private/", "Allow: /"]


def test_hits_record_method_target_and_headers(site: SiteServer, client: httpx.Client) -> None:
    client.get("/robots.txt?probe=1", headers={"User-Agent": "probe/1.0"})
    method, path, headers = site.hits[-1]
    assert (method, path, headers["user-agent"]) == ("GET", "/robots.txt?probe=1", "probe/1.0")
    assert "/robots.txt?probe=1" in site.paths()


def test_route_overrides_status_and_headers_then_falls_through() -> None:
    routes = {"/feeds/harbor-daily.xml": Route(503, (("Retry-After", "7"),), times=1)}
    with serve_site(DEMO_SITE_ROOT, routes=routes) as site, httpx.Client() as http:
        busy = http.get(site.url("/feeds/harbor-daily.xml"))
        assert (busy.status_code, busy.headers["retry-after"]) == (503, "7")
        assert http.get(site.url("/feeds/harbor-daily.xml")).status_code == 200
        site.routes["/missing"] = Route(body=b"<rss/>", headers=(("Content-Type", "text/xml"),))
        made_up = http.get(site.url("/missing"))
        assert (made_up.status_code, made_up.text) == (200, "<rss/>")
        assert made_up.headers["content-type"] == "text/xml"


def test_route_delay_makes_a_client_time_out() -> None:
    with serve_site(DEMO_SITE_ROOT, routes={"/slow": Route(body=b"late", delay=0.5)}) as site:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(site.url("/slow"), timeout=0.1)
        assert site.paths() == ["/slow"]


def test_binds_loopback_only_and_stops() -> None:
    with serve_site(DEMO_SITE_ROOT) as site:
        assert site.host == "127.0.0.1"
        assert site.base_url == f"http://127.0.0.1:{site.port}"
        assert httpx.get(site.url("/robots.txt")).status_code == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", site.port), timeout=1).close()
    for host in ("0.0.0.0", "192.168.1.10", "localhost"):
        with pytest.raises(ValueError, match="loopback"):
            with serve_site(DEMO_SITE_ROOT, host=host):
                pass


@pytest.mark.skipif(not socket.has_ipv6, reason="this Python has no IPv6 support")
def test_serves_ipv6_loopback() -> None:
    try:
        context = serve_site(DEMO_SITE_ROOT, host="::1")
        site = context.__enter__()
    except OSError as exc:
        pytest.skip(f"::1 cannot be bound here: {exc}")
    try:
        assert site.base_url.startswith("http://[::1]:")
        assert "Disallow: /private/" in httpx.get(site.url("/robots.txt")).text
    finally:
        context.__exit__(None, None, None)


# ---- the bundled site ------------------------------------------------------------------


def test_feeds_list_every_kind_of_page(site: SiteServer, feed_links: list[str]) -> None:
    paths = {_path(link) for link in feed_links}
    assert {GALLERY, COMMENTED, WIRE, REPRINT, LOCAL} <= paths
    assert any(path.startswith("/private/") for path in paths)
    assert f"{site.base_url}{REPRINT}?utm_source=rss&utm_medium=feed" in feed_links
    assert all(link.startswith(site.base_url + "/") for link in feed_links)


def test_feed_entries_are_recent_and_resolve(
    site: SiteServer, client: httpx.Client, feed_links: list[str]
) -> None:
    for feed in DEMO_FEEDS:
        parsed = feedparser.parse(client.get(feed.path).content)
        assert not parsed.bozo, (feed.path, parsed.get("bozo_exception"))
        for entry in parsed.entries:
            published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
            assert timedelta(0) < site.now - published <= timedelta(hours=72), entry.link
    for link in feed_links:
        assert client.get(link).status_code == 200, link


def test_pages_stay_small() -> None:
    sizes = {path.name: path.stat().st_size for path in DEMO_SITE_ROOT.rglob("*") if path.is_file()}
    assert sizes and max(sizes.values()) < 15_000, sizes


def _article_paragraphs(page: str) -> list[str]:
    tree = lxml.html.fromstring(page)
    paragraphs = tree.xpath("//article//p[not(@class)]")
    return [" ".join(p.text_content().split()) for p in paragraphs]


def _extract(page: str) -> trafilatura.settings.Document:
    document = trafilatura.bare_extraction(page, include_comments=False, with_metadata=True)
    assert document is not None
    return document


def test_each_article_page_yields_its_body(client: httpx.Client, feed_links: list[str]) -> None:
    articles = [link for link in feed_links if _path(link) != GALLERY]
    assert len(articles) == 8
    for link in articles:
        page = client.get(link).text
        paragraphs = _article_paragraphs(page)
        assert 250 <= sum(len(p.split()) for p in paragraphs) <= 600, link
        document = _extract(page)
        text = " ".join(document.text.split())
        missing = [p for p in paragraphs if p not in text]
        assert not missing, (link, missing)
        published = re.search(r'published_time" content="(\d{4}-\d\d-\d\d)T', page)
        assert published and document.date == published.group(1), link
        assert document.title and document.author and document.sitename, link


def test_comments_do_not_reach_the_text(client: httpx.Client) -> None:
    page = client.get(COMMENTED).text
    tree = lxml.html.fromstring(page)
    comments = [
        " ".join(c.text_content().split()) for c in tree.xpath("//div[@class='comment-body']")
    ]
    body_words = sum(len(p.split()) for p in _article_paragraphs(page))
    assert sum(len(c.split()) for c in comments) > 2.5 * body_words
    # The markup is typical: an extractor asked for comments finds every one of them.
    with_comments = " ".join(trafilatura.extract(page, include_comments=True).split())
    assert all(comment in with_comments for comment in comments)
    document = _extract(page)
    assert not document.comments
    text = " ".join(document.text.split())
    # The article's last paragraph ends the text: nothing after it was taken.
    assert text.endswith(_article_paragraphs(page)[-1])
    leaked = [c[:40] for c in comments if c[:40] in text]
    assert not leaked
    assert "boycott" not in text.lower()


def test_gallery_yields_no_article_body(client: httpx.Client) -> None:
    smallest_body = min(
        sum(len(p.split()) for p in _article_paragraphs(client.get(path).text))
        for path in (WIRE, LOCAL, COMMENTED)
    )
    document = trafilatura.bare_extraction(
        client.get(GALLERY).text, include_comments=False, with_metadata=True
    )
    lines = (document.text or "").splitlines() if document else []
    # Whatever trafilatura falls back to is captions and navigation, never prose.
    assert sum(len(line.split()) for line in lines) < smallest_body / 2
    assert max((len(line.split()) for line in lines), default=0) < 20


def _shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def _overlap(a: str, b: str) -> float:
    first, second = _shingles(a), _shingles(b)
    return len(first & second) / len(first | second)


def test_reprint_is_near_identical_and_the_local_report_is_not(client: httpx.Client) -> None:
    wire, reprint, local = (_extract(client.get(path).text).text for path in (WIRE, REPRINT, LOCAL))
    assert _overlap(wire, reprint) > 0.8
    assert _overlap(wire, local) < 0.05
