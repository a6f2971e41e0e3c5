"""The first stages of a run: fetch every due source and keep the candidates not seen yet.

Feeds are fetched with conditional GET; every source's outcome (entries, not modified, or a
recorded reason) updates its fetch state, so `status` shows which sources are failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
from extractors.fetch import FetchRequest, FetchResult
from extractors.profile import Source
from extractors.urls import canonical_url
from flows.pipeline import Candidate, RunConfig, fetch_all, fetch_policy, profile_of
from storage import queries as q
from storage.db import make_engine, read_session, write_session


@dataclass(frozen=True)
class Collected:
    entries: tuple[CandidateEntry, ...]
    outcomes: tuple[q.SourceOutcome, ...]
    errors: tuple[q.ErrorRecord, ...]


def _source_request(
    source: Source,
    state: q.SourceState | None,
    now: datetime,
    window: tuple[datetime, datetime] | None,
) -> FetchRequest:
    if source.kind == "gdelt":
        start, end = window or (
            (state.last_success_at if state and state.last_success_at else now - timedelta(days=1)),
            now,
        )
        return FetchRequest(gdelt_query_url(source.url, source.query, start, end))
    if source.kind == "feed" and state is not None:
        return FetchRequest(source.url, etag=state.etag, last_modified=state.last_modified)
    return FetchRequest(source.url)


def _parse_source(
    source: Source, result: FetchResult, window: tuple[datetime, datetime] | None
) -> FeedParse:
    base = result.final_url or source.url
    if source.kind == "gdelt":
        return parse_gdelt(result.content, source.name)
    if source.kind == "sitemap":
        start, end = window or (None, None)
        return parse_sitemap(result.content, base, source.name, start=start, end=end)
    if source.kind == "urls":
        return parse_url_list(result.content.decode("utf-8", "replace"), base, source.name)
    return parse_feed(result.content, base, source.name)


def _read_local_list(source: Source) -> FeedParse:
    path = Path(source.url.removeprefix("file://").removeprefix("file:"))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return FeedParse(entries=(), skipped=(), error="unreadable", detail=str(exc))
    return parse_url_list(text, path.as_uri(), source.name)


def collect_candidates(
    config: RunConfig,
    now: datetime,
    sources: Sequence[str] | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> Collected:
    """Fetch every due source (conditional GET for feeds) and parse its candidate entries."""
    profile = profile_of(config)
    engine = make_engine(config.db_url)
    with read_session(engine) as session:
        states = q.source_states(session, profile.monitor.name)
    due = [s for s in profile.sources if s.enabled and (sources is None or s.name in sources)]
    due = [s for s in due if not _backing_off(states.get(s.name), now)]
    remote = [s for s in due if not s.url.startswith("file:")]
    requests = [_source_request(s, states.get(s.name), now, window) for s in remote]
    results = asyncio.run(fetch_all(fetch_policy(config), requests))
    entries: list[CandidateEntry] = []
    outcomes: list[q.SourceOutcome] = []
    errors: list[q.ErrorRecord] = []
    parsed = [(s, _read_local_list(s), None) for s in due if s.url.startswith("file:")]
    for source, result in zip(remote, results, strict=True):
        if result.error is not None:
            outcomes.append(
                q.SourceOutcome(
                    source.name,
                    ok=False,
                    error=result.error,
                    detail=result.detail,
                    retry_after=result.retry_after,
                )
            )
            errors.append(
                q.ErrorRecord(
                    "source", result.error, result.detail, source.name, source.url, result.status
                )
            )
            continue
        if result.not_modified:
            outcomes.append(
                q.SourceOutcome(
                    source.name,
                    ok=True,
                    not_modified=True,
                    etag=result.etag,
                    last_modified=result.last_modified,
                )
            )
            continue
        parsed.append((source, _parse_source(source, result, window), result))
    for source, feed, result in parsed:
        errors += [
            q.ErrorRecord("feed", s.reason, s.detail, source.name, source.url)
            for s in feed.skipped
            if s.reason != "duplicate"
        ]
        if feed.error is not None:
            outcomes.append(
                q.SourceOutcome(source.name, ok=False, error=feed.error, detail=feed.detail)
            )
            errors.append(q.ErrorRecord("feed", feed.error, feed.detail, source.name, source.url))
            continue
        entries.extend(feed.entries)
        outcomes.append(
            q.SourceOutcome(
                source.name,
                ok=True,
                entries=len(feed.entries),
                etag=result.etag if result else None,
                last_modified=result.last_modified if result else None,
            )
        )
    return Collected(tuple(entries), tuple(outcomes), tuple(errors))


def _backing_off(state: q.SourceState | None, now: datetime) -> bool:
    return bool(state and state.retry_not_before and state.retry_not_before > now)


def select_new(config: RunConfig, collected: Collected, now: datetime) -> list[Candidate]:
    """Return candidates never seen (or failed and worth a retry), one per canonical URL."""
    profile = profile_of(config)
    by_key: dict[str, Candidate] = {}
    new_per_source: dict[str, int] = {}
    for entry in collected.entries:
        key = canonical_url(entry.url)
        if key is None or key in by_key:
            continue
        by_key[key] = Candidate(entry.url, key, entry.source, entry.title, entry.published)
    engine = make_engine(config.db_url)
    with write_session(engine) as session:
        fresh = q.unseen_keys(session, profile.monitor.name, list(by_key), config.max_attempts)
        for candidate in by_key.values():
            if candidate.url_key in fresh:
                new_per_source[candidate.source] = new_per_source.get(candidate.source, 0) + 1
        for outcome in collected.outcomes:
            outcome = _with_new(outcome, new_per_source.get(outcome.name, 0))
            q.record_source_outcome(session, profile.monitor.name, outcome, now)
        q.record_errors(session, profile.monitor.name, collected.errors, now)
    return [c for key, c in by_key.items() if key in fresh]


def _with_new(outcome: q.SourceOutcome, count: int) -> q.SourceOutcome:
    return replace(outcome, new_entries=count)
