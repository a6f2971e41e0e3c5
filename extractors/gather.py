"""How one source's candidates are gathered: feeds, GDELT, sitemaps and URL lists.

Live (no window): feeds with conditional GET, GDELT since the source's cursor. With a
window (backfills): GDELT split until under its cap, sitemaps by lastmod (child sitemaps
followed), feeds for what they still list in the window. Every failure is a recorded
reason, and unusable entries (no link, a bad link) are one reason per kind, counted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from extractors.feeds import (
    CandidateEntry,
    FeedParse,
    gdelt_query_url,
    parse_feed,
    parse_gdelt,
    parse_sitemap,
    parse_url_list,
)
from extractors.fetch import Backoff, Fetcher, FetchRequest, FetchResult
from extractors.profile import Source
from extractors.records import ErrorRecord, SourceOutcome

GDELT_CAP = 250  # the DOC API returns at most this many articles per query
GDELT_FINEST = timedelta(minutes=15)  # a window is not split below this
MAX_BACKOFF_SECONDS = 120.0
MAX_SITEMAPS = 200  # child sitemaps followed per source and run

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Remembered:
    """What a source's earlier runs left: validators for a conditional GET, and the cursor
    (the end of the last window gathered) from which GDELT is asked again."""

    etag: str | None = None
    last_modified: str | None = None
    cursor_at: datetime | None = None


@dataclass(frozen=True)
class Gathered:
    """What one source gave in a run: its entries, the reasons to record, its outcome."""

    entries: tuple[CandidateEntry, ...]
    errors: tuple[ErrorRecord, ...]
    outcome: SourceOutcome


@dataclass
class _Tally:
    """One source's gathering under way: entries, failures, and its last response."""

    source: Source
    entries: list[CandidateEntry] = field(default_factory=list)
    errors: list[ErrorRecord] = field(default_factory=list)
    failure: FetchResult | FeedParse | None = None
    last: FetchResult | None = None
    not_modified: bool = False
    # Skipped entries by reason: how many, and the first one's detail.
    skipped: dict[str, tuple[int, str]] = field(default_factory=dict)

    def take(self, feed: FeedParse) -> bool:
        """Keep a parsed document's entries; return False when it could not be read."""
        for skip in feed.skipped:
            if skip.reason != "duplicate":
                count, first = self.skipped.get(skip.reason, (0, skip.detail))
                self.skipped[skip.reason] = (count + 1, first)
        if feed.error is not None:
            self.failure = feed
            self.errors.append(
                ErrorRecord("feed", feed.error, feed.detail, self.source.name, self.source.url)
            )
            return False
        self.entries += feed.entries
        return True

    def fetched(self, result: FetchResult) -> bool:
        """Note a response; record it as a failure and return False unless it is ok."""
        self.last = result
        if result.ok:
            return True
        self.failure = result
        self.errors.append(
            ErrorRecord(
                "source",
                result.error or "failed",
                result.detail,
                self.source.name,
                result.url,
                result.status,
            )
        )
        return False

    def result(self) -> Gathered:
        """Return the entries, the reasons (one per kind of skipped entry), the outcome."""
        source = self.source
        skipped = [
            ErrorRecord(
                "feed",
                reason,
                first if count == 1 else f"{count:,} entries skipped; the first: {first}",
                source.name,
                source.url,
            )
            for reason, (count, first) in self.skipped.items()
        ]
        return Gathered(tuple(self.entries), (*skipped, *self.errors), self._outcome())

    def _outcome(self) -> SourceOutcome:
        name = self.source.name
        if isinstance(self.failure, FetchResult):
            return SourceOutcome(
                name,
                ok=False,
                error=self.failure.error,
                detail=self.failure.detail,
                retry_after=self.failure.retry_after,
            )
        if isinstance(self.failure, FeedParse):
            return SourceOutcome(
                name, ok=False, error=self.failure.error, detail=self.failure.detail
            )
        last = self.last
        return SourceOutcome(
            name,
            ok=True,
            not_modified=self.not_modified,
            entries=len(self.entries),
            etag=last.etag if last else None,
            last_modified=last.last_modified if last else None,
        )


async def gather(
    fetcher: Fetcher,
    source: Source,
    remembered: Remembered | None,
    now: datetime,
    window: Window | None = None,
) -> Gathered:
    """Fetch and parse one source; failures come back as recorded reasons, never raised."""
    tally = _Tally(source)
    if source.url.startswith("file:"):
        tally.take(_read_local_list(source))
    elif source.kind == "gdelt":
        since = remembered.cursor_at if remembered else None
        start, end = window or (since or now - timedelta(days=1), now)
        await _gather_gdelt(fetcher, tally, start, end)
    elif source.kind == "sitemap":
        await _gather_sitemap(fetcher, tally, window)
    elif source.kind == "urls":
        result = await fetcher.fetch(FetchRequest(source.url))
        if tally.fetched(result):
            text = result.content.decode("utf-8", "replace")
            tally.take(parse_url_list(text, result.final_url or source.url, source.name))
    else:
        await _gather_feed(fetcher, tally, remembered, window)
    return tally.result()


def _read_local_list(source: Source) -> FeedParse:
    path = Path(source.url.removeprefix("file://").removeprefix("file:"))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return FeedParse(entries=(), skipped=(), error="unreadable", detail=str(exc))
    return parse_url_list(text, path.as_uri(), source.name)


async def _gather_feed(
    fetcher: Fetcher, tally: _Tally, remembered: Remembered | None, window: Window | None
) -> None:
    """A feed: conditional GET when live; with a window, keep what falls in it."""
    source = tally.source
    conditional = remembered if window is None else None
    result = await fetcher.fetch(
        FetchRequest(
            source.url,
            etag=conditional.etag if conditional else None,
            last_modified=conditional.last_modified if conditional else None,
        )
    )
    if not tally.fetched(result):
        return
    if result.not_modified:
        tally.not_modified = True
        return
    feed = parse_feed(result.content, result.final_url or source.url, source.name)
    if tally.take(feed) and window is not None:
        # A feed only lists what it still lists: keep what falls in the window.
        tally.entries = [
            e for e in tally.entries if e.published is None or window[0] <= e.published < window[1]
        ]


async def _gather_gdelt(
    fetcher: Fetcher, tally: _Tally, start: datetime, end: datetime, depth: int = 0
) -> None:
    """Query the DOC API for [start, end); split the window in halves while it hits the cap."""
    source = tally.source
    url = gdelt_query_url(source.url, source.query, start, end, GDELT_CAP)
    result = await _paced_fetch(fetcher, source, url)
    if not tally.fetched(result):
        return
    feed = parse_gdelt(result.content, source.name)
    if len(feed.entries) >= GDELT_CAP and end - start > GDELT_FINEST and depth < 16:
        middle = start + (end - start) / 2
        await _gather_gdelt(fetcher, tally, start, middle, depth + 1)
        await _gather_gdelt(fetcher, tally, middle, end, depth + 1)
        return
    tally.take(feed)


async def _paced_fetch(fetcher: Fetcher, source: Source, url: str) -> FetchResult:
    """Fetch at the source's own pace; a 429 or 503 is retried patiently (4 tries in all),
    waiting the Retry-After or the pace doubled at each retry, at most MAX_BACKOFF_SECONDS."""
    if source.min_interval_seconds:
        await asyncio.sleep(source.min_interval_seconds)
    backoff = Backoff(
        tries=4, pause=source.min_interval_seconds, cap=MAX_BACKOFF_SECONDS, patient=True
    )
    return await fetcher.fetch(FetchRequest(url, backoff=backoff))


async def _gather_sitemap(fetcher: Fetcher, tally: _Tally, window: Window | None) -> None:
    """A sitemap by lastmod, following child sitemaps (at most MAX_SITEMAPS in all)."""
    source = tally.source
    start, end = window or (None, None)
    queue, seen = [source.url], set[str]()
    while queue and len(seen) < MAX_SITEMAPS:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        result = await fetcher.fetch(FetchRequest(url))
        if not tally.fetched(result):
            continue
        feed = parse_sitemap(
            result.content, result.final_url or url, source.name, start=start, end=end
        )
        if tally.take(feed):
            queue += [child for child in feed.sitemaps if child not in seen]
