"""Source documents (feeds, GDELT answers, sitemaps, URL lists) -> candidate entries.

Every parser returns a FeedParse: the usable entries, the entries it skipped and why, and
a document-level error when nothing could be read. Nothing here raises on bad input.

Its length is one parser per kind of source document (RSS/Atom/JSON Feed, GDELT's
answer, sitemaps, URL lists); they share ``FeedParse``, the skip reasons and the date
checks, and stay together so every kind reports a bad entry the same way.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import feedparser
import lxml.etree
import lxml.html

from extractors.urls import canonical_url, resolve_link

_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=2)
_SUMMARY_CHARS = 2000
# The sitemap protocol caps a file at 50 MB uncompressed; more is a decompression bomb.
_SITEMAP_MAX_BYTES = 50_000_000
_GDELT_MAX_RECORDS = 250
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_SPACES = re.compile(r"\s+")
_NO_CONTENT_TYPE = feedparser.NonXMLContentType


@dataclass(frozen=True)
class CandidateEntry:
    url: str
    title: str
    published: datetime | None  # aware, UTC
    summary: str
    guid: str | None
    source: str


@dataclass(frozen=True)
class SkippedEntry:
    reason: str  # "no_link", "bad_link", "duplicate", "out_of_window"
    detail: str


@dataclass(frozen=True)
class FeedParse:
    entries: tuple[CandidateEntry, ...]
    skipped: tuple[SkippedEntry, ...]
    error: str | None  # "malformed_feed", "not_a_feed", "empty", "not_json", ...
    detail: str = ""
    sitemaps: tuple[str, ...] = ()  # child sitemaps of a sitemap index


class _Collector:
    """Entries of one document, each article once (by canonical URL or GUID)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.entries: list[CandidateEntry] = []
        self.skipped: list[SkippedEntry] = []
        self._seen: set[str] = set()

    def skip(self, reason: str, detail: str) -> None:
        self.skipped.append(SkippedEntry(reason, detail[:300]))

    def add(
        self,
        url: str,
        title: str = "",
        published: datetime | None = None,
        summary: str = "",
        guid: str | None = None,
    ) -> None:
        keys = {f"url:{canonical_url(url) or url}"} | ({f"guid:{guid}"} if guid else set())
        if keys & self._seen:
            self.skip("duplicate", url)
            return
        self._seen |= keys
        self.entries.append(CandidateEntry(url, title, published, summary, guid, self.source))

    def result(
        self, error: str | None = None, detail: str = "", sitemaps: Iterable[str] = ()
    ) -> FeedParse:
        return FeedParse(tuple(self.entries), tuple(self.skipped), error, detail, tuple(sitemaps))


def _failure(error: str, detail: str = "") -> FeedParse:
    return FeedParse((), (), error, detail[:300])


def _plausible(moment: datetime | None, now: datetime | None) -> datetime | None:
    """Return moment in UTC, or None when it is before 1990 or over 2 days ahead."""
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment < _EARLIEST or moment > (now or datetime.now(UTC)) + _FUTURE_SLACK:
        return None
    return moment


def _parse_iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _plain(text: str) -> str:
    """Return the visible text of an HTML fragment, whitespace collapsed."""
    if "<" in text:
        try:
            text = lxml.html.fromstring(f"<div>{text}</div>").text_content()
        except (lxml.etree.ParserError, ValueError):
            pass
    return _SPACES.sub(" ", text).strip()[:_SUMMARY_CHARS]


def _looks_like_html(content: bytes) -> bool:
    return bool(_HTML_START.match(content.lstrip(b"\xef\xbb\xbf")[:2048]))


def _feed_moment(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get, not entry.get: feedparser maps a missing updated_parsed to an unparseable
        # published_parsed with a DeprecationWarning, which turns into a crash wherever
        # warnings are errors.
        parsed = dict.get(entry, key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _entry_link(entry: Any, base_url: str, collector: _Collector) -> str | None:
    raw = entry.get("link")
    guid = entry.get("id")
    if not raw:
        # An RSS guid is a permalink unless it says otherwise; Atom ids may be URLs too.
        fallback = resolve_link(guid, "") if guid and entry.get("guidislink", True) else None
        if fallback is None:
            collector.skip("no_link", entry.get("title", "") or guid or "")
        return fallback
    link = resolve_link(raw, base_url)
    if link is None:
        collector.skip("bad_link", raw)
    return link


def parse_feed(
    content: bytes, base_url: str, source: str, *, now: datetime | None = None
) -> FeedParse:
    """Return the entries of an RSS, Atom, RDF or JSON Feed document.

    A feed that is not well-formed but still yields entries keeps them (detail says so).
    Dates before 1990 or more than two days after now become None; the entry stays.
    """
    if not content.strip():
        return _failure("empty")
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _parse_json_feed(content, base_url, source, now)
    # A stream, never a str: feedparser fetches strings that look like URLs or paths.
    parsed = feedparser.parse(io.BytesIO(content), response_headers={"content-location": base_url})
    exception = parsed.get("bozo_exception")
    # NonXMLContentType only says no HTTP Content-Type came with the bytes: none was given.
    problem = "" if exception is None or isinstance(exception, _NO_CONTENT_TYPE) else str(exception)
    if not parsed.entries:
        if _looks_like_html(content):
            return _failure("not_a_feed", "an HTML page")
        if problem:
            return _failure("malformed_feed", problem)
        if not parsed.get("version"):
            return _failure("not_a_feed", "no feed element")
    collector = _Collector(source)
    for entry in parsed.entries:
        link = _entry_link(entry, base_url, collector)
        if link is None:
            continue
        collector.add(
            link,
            title=_plain(entry.get("title", "")),
            published=_plausible(_feed_moment(entry), now),
            summary=_plain(entry.get("summary", "")),
            guid=entry.get("id") or None,
        )
    return collector.result(detail=f"not well-formed, read leniently: {problem}" if problem else "")


def _parse_json_feed(content: bytes, base_url: str, source: str, now: datetime | None) -> FeedParse:
    # feedparser 6.0 reads XML feeds only; JSON Feed (jsonfeed.org) is simple enough here.
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        return _failure("malformed_feed", f"JSON: {exc}")
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        return _failure("not_a_feed", "JSON without an items list")
    collector = _Collector(source)
    for item in items:
        if not isinstance(item, dict):
            collector.skip("bad_entry", repr(item)[:100])
            continue
        raw = item.get("url") or item.get("external_url")
        link = resolve_link(raw if isinstance(raw, str) else None, base_url)
        if link is None:
            collector.skip("bad_link" if raw else "no_link", str(raw or item.get("id", "")))
            continue
        date = item.get("date_published") or item.get("date_modified")
        summary = item.get("summary") or item.get("content_text") or item.get("content_html")
        collector.add(
            link,
            title=_plain(str(item.get("title") or "")),
            published=_plausible(_parse_iso(date) if isinstance(date, str) else None, now),
            summary=_plain(str(summary or "")),
            guid=str(item["id"]) if item.get("id") else None,
        )
    return collector.result()


def gdelt_query_url(
    endpoint: str, query: str, start: datetime, end: datetime, max_records: int = 250
) -> str:
    """Return the GDELT DOC 2.0 artlist URL for query over [start, end] (naive means UTC)."""

    def stamp(moment: datetime) -> str:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")

    params = {
        "query": query,
        "mode": "artlist",
        "format": "json",
        "maxrecords": str(max(1, min(max_records, _GDELT_MAX_RECORDS))),
        "startdatetime": stamp(start),
        "enddatetime": stamp(end),
        "sort": "datedesc",
    }
    joiner = "&" if "?" in endpoint else "?"
    return endpoint + joiner + urlencode(params, quote_via=quote)


def parse_gdelt(content: bytes, source: str, *, now: datetime | None = None) -> FeedParse:
    """Return the articles of a GDELT DOC 2.0 artlist JSON answer.

    GDELT reports errors (bad query, rate limit) as plain text: that is "not_json", with
    the text as detail. No match at all comes back as "{}": no entries, no error.
    """
    if not content.strip():
        return _failure("empty")
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return _failure("not_json", content[:300].decode("utf-8", "replace").strip())
    if not isinstance(document, dict):
        return _failure("not_json", "JSON but not an object")
    collector = _Collector(source)
    for article in document.get("articles") or ():
        raw = article.get("url") if isinstance(article, dict) else None
        link = resolve_link(raw, "") if isinstance(raw, str) else None
        if link is None:
            collector.skip("bad_link" if raw else "no_link", str(raw or article)[:200])
            continue
        seen = article.get("seendate") or ""
        try:
            moment = datetime.strptime(seen, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except (TypeError, ValueError):
            moment = None
        collector.add(
            link, title=_plain(str(article.get("title") or "")), published=_plausible(moment, now)
        )
    return collector.result()


def _local(element: Any) -> str:
    return lxml.etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child_text(element: Any, *path: str) -> str:
    """Return the text of the first descendant along path (local names), or ""."""
    for name in path:
        element = next((child for child in element if _local(child) == name), None)
        if element is None:
            return ""
    return (element.text or "").strip()


def _in_window(moment: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    if moment is None:
        return True  # undated: the window cannot rule it out
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    if start is not None and moment < (
        start.replace(tzinfo=UTC) if start.tzinfo is None else start
    ):
        return False
    return end is None or moment <= (end.replace(tzinfo=UTC) if end.tzinfo is None else end)


def _sitemap_root(content: bytes) -> tuple[Any, str]:
    """Return (root element, "") or (None, error detail) for raw or gzipped sitemap bytes."""
    if content[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            content = inflater.decompress(content, _SITEMAP_MAX_BYTES)
        except zlib.error as exc:
            return None, f"gzip: {exc}"
        if inflater.unconsumed_tail:
            return None, f"over {_SITEMAP_MAX_BYTES} bytes uncompressed"
    # No DTDs, no entity expansion, no network: a sitemap needs none of them.
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return lxml.etree.fromstring(content, parser), ""
    except lxml.etree.XMLSyntaxError as exc:
        return None, str(exc)


def parse_sitemap(
    content: bytes,
    base_url: str,
    source: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> FeedParse:
    """Return the URLs of a sitemap (urlset, news sitemaps included) dated within [start, end].

    A sitemap index gives its child sitemaps in FeedParse.sitemaps instead, without those
    last modified before start (they cannot list anything newer). Undated URLs are kept.
    """
    if not content.strip():
        return _failure("empty")
    root, problem = _sitemap_root(content)
    if root is None:
        return _failure(
            "not_a_sitemap" if _looks_like_html(content) else "malformed_sitemap", problem
        )
    kind = _local(root)
    if kind not in ("urlset", "sitemapindex"):
        return _failure("not_a_sitemap", f"root element <{kind}>")
    collector = _Collector(source)
    children: list[str] = []
    for item in root:
        if _local(item) not in ("url", "sitemap"):
            continue
        raw = _child_text(item, "loc")
        link = resolve_link(raw, base_url)
        if link is None:
            collector.skip("bad_link" if raw else "no_link", raw)
            continue
        stamp = _child_text(item, "news", "publication_date") or _child_text(item, "lastmod")
        moment = _parse_iso(stamp) if stamp else None
        # A child sitemap changed after end may still list older URLs: only start rules it out.
        if not _in_window(moment, start, None if kind == "sitemapindex" else end):
            collector.skip("out_of_window", f"{link} {stamp}")
        elif kind == "sitemapindex":
            children.append(link)
        else:
            title = _child_text(item, "news", "title")
            collector.add(link, title=title, published=_plausible(moment, None))
    return collector.result(sitemaps=dict.fromkeys(children))


def parse_url_list(text: str, base_url: str, source: str) -> FeedParse:
    """Return the URLs of a plain list: one a line; blank lines and # comments ignored."""
    collector = _Collector(source)
    for line in text.splitlines():
        raw = line.split(" #", 1)[0].strip()
        if not raw or raw.startswith("#"):
            continue
        link = resolve_link(raw, base_url)
        if link is None:
            collector.skip("bad_link", raw)
        else:
            collector.add(link)
    if not collector.entries and not collector.skipped:
        return _failure("empty")
    return collector.result()
