"""The first stages of a run: fetch every due source and keep the candidates not seen yet.

Feeds are fetched with conditional GET; every source's outcome (entries, not modified, or a
recorded reason) updates its fetch state, so `status` shows which sources are failing.
A live run takes a limited number of new candidates per source (flows/stages/backlog.py), and
unusable entries (no link, a bad link) are one recorded reason per source and run, counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
from extractors.health import HealthChange, SourceHealth, health_change
from extractors.profile import Source
from extractors.urls import canonical_url, url_key, without_userinfo
from flows.stages.backlog import oldest_first, waiting_reasons
from flows.stages.messages import compose_health_alerts
from flows.stages.pipeline import Candidate, RunContext, log_reasons
from storage import queries as q
from storage.db import read_session, write_session
from storage.outbox import add_alerts

GDELT_CAP = 250  # the DOC API returns at most this many articles per query
GDELT_FINEST = timedelta(minutes=15)  # a window is not split below this
MAX_BACKOFF_SECONDS = 120.0
MAX_SITEMAPS = 200  # child sitemaps followed per source and run


@dataclass(frozen=True)
class Collected:
    entries: tuple[CandidateEntry, ...]
    outcomes: tuple[q.SourceOutcome, ...]
    errors: tuple[q.ErrorRecord, ...]


def _read_local_list(source: Source) -> FeedParse:
    path = Path(source.url.removeprefix("file://").removeprefix("file:"))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return FeedParse(entries=(), skipped=(), error="unreadable", detail=str(exc))
    return parse_url_list(text, path.as_uri(), source.name)


@dataclass
class _Gathered:
    """What one source gave in this run: entries, recorded reasons, its last response."""

    entries: list[CandidateEntry] = field(default_factory=list)
    errors: list[q.ErrorRecord] = field(default_factory=list)
    failure: FetchResult | FeedParse | None = None
    last: FetchResult | None = None
    not_modified: bool = False
    # Skipped entries by reason: how many, and the first one's detail.
    skipped: dict[str, tuple[int, str]] = field(default_factory=dict)

    def take(self, source: Source, feed: FeedParse) -> bool:
        for skip in feed.skipped:
            if skip.reason != "duplicate":
                count, first = self.skipped.get(skip.reason, (0, skip.detail))
                self.skipped[skip.reason] = (count + 1, first)
        if feed.error is not None:
            self.failure = feed
            self.errors.append(
                q.ErrorRecord("feed", feed.error, feed.detail, source.name, source.url)
            )
            return False
        self.entries += feed.entries
        return True

    def fail(self, source: Source, result: FetchResult) -> None:
        self.failure = result
        self.errors.append(
            q.ErrorRecord(
                "source",
                result.error or "failed",
                result.detail,
                source.name,
                result.url,
                result.status,
            )
        )

    def recorded(self, source: Source) -> list[q.ErrorRecord]:
        """Return the reasons to record: the failures, and one per kind of skipped entry."""
        skipped = [
            q.ErrorRecord(
                "feed",
                reason,
                first if count == 1 else f"{count:,} entries skipped; the first: {first}",
                source.name,
                source.url,
            )
            for reason, (count, first) in self.skipped.items()
        ]
        return [*skipped, *self.errors]

    def outcome(self, name: str) -> q.SourceOutcome:
        if isinstance(self.failure, FetchResult):
            return q.SourceOutcome(
                name,
                ok=False,
                error=self.failure.error,
                detail=self.failure.detail,
                retry_after=self.failure.retry_after,
            )
        if isinstance(self.failure, FeedParse):
            return q.SourceOutcome(
                name, ok=False, error=self.failure.error, detail=self.failure.detail
            )
        last = self.last
        return q.SourceOutcome(
            name,
            ok=True,
            not_modified=self.not_modified,
            entries=len(self.entries),
            etag=last.etag if last else None,
            last_modified=last.last_modified if last else None,
        )


async def _gather_feed(
    fetcher: Fetcher,
    source: Source,
    state: q.SourceState | None,
    window: tuple[datetime, datetime] | None,
) -> _Gathered:
    got = _Gathered()
    conditional = window is None and state is not None
    result = await fetcher.fetch(
        FetchRequest(
            source.url,
            etag=state.etag if conditional and state else None,
            last_modified=state.last_modified if conditional and state else None,
        )
    )
    got.last = result
    if not result.ok:
        got.fail(source, result)
    elif result.not_modified:
        got.not_modified = True
    else:
        feed = parse_feed(result.content, result.final_url or source.url, source.name)
        if got.take(source, feed) and window is not None:
            # A feed only lists what it still lists: keep what falls in the window.
            got.entries = [
                e
                for e in got.entries
                if e.published is None or window[0] <= e.published < window[1]
            ]
    return got


async def _gather_gdelt(
    fetcher: Fetcher, source: Source, start: datetime, end: datetime, got: _Gathered, depth: int = 0
) -> None:
    """Query the DOC API for [start, end); split the window in halves while it hits the cap."""
    result = await _paced_fetch(
        fetcher, source, gdelt_query_url(source.url, source.query, start, end, GDELT_CAP)
    )
    got.last = result
    if not result.ok:
        got.fail(source, result)
        return
    feed = parse_gdelt(result.content, source.name)
    if len(feed.entries) >= GDELT_CAP and end - start > GDELT_FINEST and depth < 16:
        middle = start + (end - start) / 2
        await _gather_gdelt(fetcher, source, start, middle, got, depth + 1)
        await _gather_gdelt(fetcher, source, middle, end, got, depth + 1)
        return
    got.take(source, feed)


async def _paced_fetch(fetcher: Fetcher, source: Source, url: str) -> FetchResult:
    """Fetch at the source's own pace; a 429 or 503 is retried patiently (4 tries in all),
    waiting the Retry-After or the pace doubled at each retry, at most MAX_BACKOFF_SECONDS."""
    if source.min_interval_seconds:
        await asyncio.sleep(source.min_interval_seconds)
    backoff = Backoff(
        tries=4, pause=source.min_interval_seconds, cap=MAX_BACKOFF_SECONDS, patient=True
    )
    return await fetcher.fetch(FetchRequest(url, backoff=backoff))


async def _gather_sitemap(
    fetcher: Fetcher, source: Source, window: tuple[datetime, datetime] | None
) -> _Gathered:
    got = _Gathered()
    start, end = window or (None, None)
    queue, seen = [source.url], set[str]()
    while queue and len(seen) < MAX_SITEMAPS:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        result = await fetcher.fetch(FetchRequest(url))
        got.last = result
        if not result.ok:
            got.fail(source, result)
            continue
        feed = parse_sitemap(
            result.content, result.final_url or url, source.name, start=start, end=end
        )
        if got.take(source, feed):
            queue += [child for child in feed.sitemaps if child not in seen]
    return got


async def _gather(
    fetcher: Fetcher,
    source: Source,
    state: q.SourceState | None,
    now: datetime,
    window: tuple[datetime, datetime] | None,
) -> _Gathered:
    if source.url.startswith("file:"):
        got = _Gathered()
        got.take(source, _read_local_list(source))
        return got
    if source.kind == "gdelt":
        got = _Gathered()
        since = state.cursor_at if state and state.cursor_at else None
        start, end = window or (since or now - timedelta(days=1), now)
        await _gather_gdelt(fetcher, source, start, end, got)
        return got
    if source.kind == "sitemap":
        return await _gather_sitemap(fetcher, source, window)
    if source.kind == "urls":
        got = _Gathered()
        result = await fetcher.fetch(FetchRequest(source.url))
        got.last = result
        if result.ok:
            got.take(
                source,
                parse_url_list(
                    result.content.decode("utf-8", "replace"),
                    result.final_url or source.url,
                    source.name,
                ),
            )
        else:
            got.fail(source, result)
        return got
    return await _gather_feed(fetcher, source, state, window)


async def _gather_all(
    run: RunContext,
    due: Sequence[Source],
    states: dict[str, q.SourceState],
    now: datetime,
    window: tuple[datetime, datetime] | None,
) -> list[_Gathered]:
    async with Fetcher(run.fetch_policy) as fetcher:
        return list(
            await asyncio.gather(
                *(_gather(fetcher, s, states.get(s.name), now, window) for s in due)
            )
        )


def collect_candidates(
    run: RunContext,
    now: datetime,
    sources: Sequence[str] | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> Collected:
    """Fetch every due source and parse its candidate entries.

    Live (no window): feeds with conditional GET, GDELT since the source's last success.
    With a window (backfills): GDELT split until under its cap, sitemaps by lastmod, feeds
    for what they still list in the window.
    """
    profile = run.profile
    with read_session(run.engine) as session:
        states = q.source_states(session, run.monitor)
    due = [s for s in profile.sources if s.enabled and (sources is None or s.name in sources)]
    due = [s for s in due if not _backing_off(states.get(s.name), now)]
    gathered = asyncio.run(_gather_all(run, due, states, now, window))
    return Collected(
        entries=tuple(e for g in gathered for e in g.entries),
        outcomes=tuple(g.outcome(s.name) for s, g in zip(due, gathered, strict=True)),
        errors=tuple(e for s, g in zip(due, gathered, strict=True) for e in g.recorded(s)),
    )


def _backing_off(state: q.SourceState | None, now: datetime) -> bool:
    return bool(state and state.retry_not_before and state.retry_not_before > now)


def select_new(
    run: RunContext,
    collected: Collected,
    now: datetime,
    record: bool = True,
    limit_per_source: int | None = None,
) -> list[Candidate]:
    """Return candidates never seen (or failed and worth a retry), one per canonical URL.

    With ``record`` (the default) the sources' outcomes and recorded reasons are saved in
    the same transaction; without it nothing is written (dry runs). With
    ``limit_per_source`` (live runs) at most that many are taken from each source, oldest
    first (see ``oldest_first``); backfills take every one, since a finished slice is
    never read again.
    """
    profile = run.profile
    by_key: dict[str, Candidate] = {}
    new_per_source: dict[str, int] = {}
    for entry in collected.entries:
        canonical = canonical_url(entry.url)
        if canonical is None:
            continue
        key = url_key(canonical)
        if key in by_key:
            continue
        by_key[key] = Candidate(
            without_userinfo(entry.url), key, entry.source, entry.title, entry.published
        )
    engine = run.engine
    if not record:
        with read_session(engine) as session:
            fresh = q.unseen_keys(
                session, profile.monitor.name, list(by_key), profile.fetch.max_attempts
            )
        return [c for key, c in by_key.items() if key in fresh]
    with write_session(engine) as session:
        fresh = q.unseen_keys(
            session, profile.monitor.name, list(by_key), profile.fetch.max_attempts
        )
        for candidate in by_key.values():
            if candidate.url_key in fresh:
                new_per_source[candidate.source] = new_per_source.get(candidate.source, 0) + 1
        taken, waiting = oldest_first(
            [c for key, c in by_key.items() if key in fresh], limit_per_source
        )
        errors = [*collected.errors, *waiting_reasons(profile, waiting, limit_per_source)]
        for outcome in collected.outcomes:
            outcome = _with_new(outcome, new_per_source.get(outcome.name, 0))
            q.record_source_outcome(session, profile.monitor.name, outcome, now, validators=False)
        q.record_errors(session, profile.monitor.name, errors, now)
    log_reasons(errors)
    return taken


def save_validators(run: RunContext, collected: Collected, now: datetime) -> None:
    """Keep each source's ETag, Last-Modified and window cursor: its candidates are stored."""
    monitor = run.monitor
    with write_session(run.engine) as session:
        for outcome in collected.outcomes:
            if outcome.ok:
                q.save_validators(session, monitor, outcome, now)


def _with_new(outcome: q.SourceOutcome, count: int) -> q.SourceOutcome:
    return replace(outcome, new_entries=count)


def check_health(run: RunContext, now: datetime) -> list[str]:
    """Open or close source-health episodes; queue one alert per change. Return their keys."""
    profile = run.profile
    rules = run.health
    monitor = profile.monitor.name
    configured = {s.name: s for s in profile.sources if s.enabled}
    changes: list[tuple[HealthChange, str]] = []
    with write_session(run.engine) as session:
        states = q.source_states(session, monitor)
        failing_now = {name for name, state in states.items() if state.health_problem == "failing"}
        for state in states.values():
            source = configured.get(state.name)
            if source is None:
                continue
            change = health_change(
                SourceHealth(
                    name=state.name,
                    error_streak=state.error_streak,
                    last_error=state.last_error,
                    last_new_at=state.last_new_at,
                    expected_interval=timedelta(minutes=source.expected_interval_minutes),
                    open_problem=state.health_problem,
                    episode=state.health_episode,
                ),
                now,
                rules,
            )
            if change is None:
                continue
            q.set_health_episode(
                session,
                monitor,
                state.name,
                change.problem if change.kind == "health" else None,
                change.episode,
            )
            failing_now.discard(state.name)
            if change.kind == "health" and change.problem == "failing":
                failing_now.add(state.name)
            changes.append((change, source.url))
        every = len(configured) if len(configured) > 1 and set(configured) <= failing_now else 0
        add_alerts(session, monitor, compose_health_alerts(profile, changes, every), now)
    return [change.key for change, _ in changes]
