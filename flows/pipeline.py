"""The stages of one monitor run, as plain functions.

Each stage takes and returns values (dataclasses, ids), opens its own short database
session, and turns every bad input into a recorded reason. ``flows/tasks.py`` wraps each
one as a Prefect task; without the decorators this module still runs the whole pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from extractors import article as article_mod
from extractors.article import ExtractionFailure, ParsedArticle, extract_articles
from extractors.escalation import DisputeState, EscalationRules, Report, advance
from extractors.feeds import (
    CandidateEntry,
    FeedParse,
    gdelt_query_url,
    parse_feed,
    parse_gdelt,
    parse_sitemap,
    parse_url_list,
)
from extractors.fetch import Fetcher, FetchPolicy, FetchRequest, FetchResult, fetch_pages
from extractors.profile import Profile, Source, load_profile
from extractors.relevance import RelevanceScorer
from extractors.stages import StageClassifier
from extractors.topics import derive_topics
from extractors.urls import canonical_url
from flows.messages import compose_transition_alert
from storage import queries as q
from storage.db import make_engine, migrate, read_session, write_session

log = logging.getLogger("straitwatch")


@dataclass(frozen=True)
class RunConfig:
    """Everything a stage needs, as values: built once from Settings at the edge."""

    db_url: str
    profile_path: Path
    batch_size: int = 100
    extract_workers: int = 2
    max_attempts: int = 3
    # Loopback or private networks the fetcher may reach (tests and the demo only).
    extra_allowed_networks: tuple[str, ...] = ()


@lru_cache(maxsize=4)
def _profile(path: Path) -> Profile:
    return load_profile(path)


def profile_of(config: RunConfig) -> Profile:
    """Return the run's monitor profile (read once per process)."""
    return _profile(config.profile_path)


@lru_cache(maxsize=4)
def _scoring(path: Path) -> tuple[RelevanceScorer, StageClassifier]:
    profile = _profile(path)
    topics = derive_topics(profile.seed_text(), profile)
    return RelevanceScorer(topics, profile), StageClassifier(profile)


def fetch_policy(config: RunConfig) -> FetchPolicy:
    """Return the fetch policy of the profile, widened by the run's extra networks."""
    f = profile_of(config).fetch
    return FetchPolicy(
        user_agent=f.user_agent,
        connect_timeout=f.connect_timeout_seconds,
        timeout=f.timeout_seconds,
        max_bytes=f.max_bytes,
        max_redirects=f.max_redirects,
        per_host_concurrency=f.per_host_concurrency,
        per_host_delay=f.per_host_delay_seconds,
        concurrency=f.concurrency,
        respect_robots=f.respect_robots,
        allowed_networks=tuple(f.allowed_networks) + config.extra_allowed_networks,
    )


def prepare_database(config: RunConfig) -> None:
    """Migrate the schema and register the profile's sources."""
    engine = make_engine(config.db_url)
    migrate(engine)
    profile = profile_of(config)
    with write_session(engine) as session:
        q.sync_sources(
            session,
            profile.monitor.name,
            [(s.name, s.kind, s.url) for s in profile.sources if s.enabled],
        )


def start_run(config: RunConfig, flow: str, now: datetime) -> int:
    """Record a run's start; return its id."""
    with write_session(make_engine(config.db_url)) as session:
        return q.start_run(session, profile_of(config).monitor.name, flow, now)


def finish_run(
    config: RunConfig, run_id: int, status: str, counts: dict[str, object], now: datetime
) -> None:
    """Record a run's end."""
    with write_session(make_engine(config.db_url)) as session:
        q.finish_run(session, run_id, status, dict(counts), now)


# ---------------------------------------------------------------- sources -> candidates


@dataclass(frozen=True)
class Candidate:
    url: str
    url_key: str
    source: str
    title: str = ""
    published: datetime | None = None


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
    results = asyncio.run(_fetch_all(fetch_policy(config), requests))
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


async def _fetch_all(policy: FetchPolicy, requests: Sequence[FetchRequest]) -> list[FetchResult]:
    if not requests:
        return []
    async with Fetcher(policy) as fetcher:
        return await fetch_pages(fetcher, requests)


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
    from dataclasses import replace

    return replace(outcome, new_entries=count)


# ---------------------------------------------------------------- fetch, extract, score, store


@dataclass(frozen=True)
class Page:
    candidate: Candidate
    content: bytes
    content_type: str
    final_url: str


@dataclass(frozen=True)
class Fetched:
    pages: tuple[Page, ...]
    failures: tuple[tuple[Candidate, FetchResult], ...]


def fetch_batch(config: RunConfig, batch: Sequence[Candidate]) -> Fetched:
    """Fetch one batch of article pages concurrently; failures are data."""
    requests = [FetchRequest(c.url) for c in batch]
    results = asyncio.run(_fetch_all(fetch_policy(config), requests))
    pages, failures = [], []
    for candidate, result in zip(batch, results, strict=True):
        if result.ok and result.content:
            pages.append(Page(candidate, result.content, result.content_type, result.final_url))
        else:
            failures.append((candidate, result))
    return Fetched(tuple(pages), tuple(failures))


@dataclass(frozen=True)
class Extracted:
    articles: tuple[tuple[Candidate, ParsedArticle], ...]
    failures: tuple[tuple[Candidate, ExtractionFailure], ...]
    fetch_failures: tuple[tuple[Candidate, FetchResult], ...] = ()


def extract_batch(fetched: Fetched, executor: Executor | None = None) -> Extracted:
    """Extract the body text and metadata of each fetched page (comments dropped)."""
    inputs = [(p.final_url or p.candidate.url, p.content, p.content_type) for p in fetched.pages]
    outputs = extract_articles(inputs, executor=executor)
    good, bad = [], []
    for page, output in zip(fetched.pages, outputs, strict=True):
        if isinstance(output, ParsedArticle):
            good.append((page.candidate, output))
        else:
            bad.append((page.candidate, output))
    return Extracted(tuple(good), tuple(bad), fetched.failures)


@dataclass(frozen=True)
class Scored:
    records: tuple[tuple[Candidate, q.ArticleRecord], ...]
    extracted: Extracted


def _published(article: ParsedArticle, candidate: Candidate) -> datetime | None:
    if candidate.published is not None and article.published == candidate.published.date():
        return candidate.published
    if article.published is not None:
        return datetime.combine(article.published, time(12, 0), tzinfo=UTC)
    return candidate.published


def score_batch(config: RunConfig, extracted: Extracted) -> Scored:
    """Score each article against the seed's topics and stage the relevant ones."""
    scorer, classifier = _scoring(config.profile_path)
    # A source's outlet name beats the host: several outlets may share a host (syndication
    # platforms, the demo site), and one outlet may publish on several hosts.
    outlets = {s.name: s.outlet for s in profile_of(config).sources if s.outlet}
    records = []
    for candidate, art in extracted.articles:
        relevance = scorer.score(art.title, art.text)
        stage = classifier.classify(art.title, art.text) if relevance.relevant else None
        records.append(
            (
                candidate,
                q.ArticleRecord(
                    canonical_url=art.canonical_url,
                    url=art.url,
                    source=candidate.source,
                    outlet=outlets.get(candidate.source, art.outlet),
                    title=art.title or candidate.title,
                    text=art.text,
                    published_at=_published(art, candidate),
                    author=art.author or "",
                    sitename=art.sitename or "",
                    language=art.language or "",
                    fingerprint=art.fingerprint,
                    relevant=relevance.relevant,
                    relevance_score=relevance.score,
                    relevance_reason=relevance.reason,
                    matched_topics=tuple(relevance.matched_topics),
                    relevance_evidence=tuple(relevance.evidence),
                    space=stage.space if stage else None,
                    action=stage.action if stage else None,
                    stage_evidence=tuple(stage.evidence) if stage else (),
                ),
            )
        )
    return Scored(tuple(records), extracted)


@dataclass
class BatchCounts:
    fetched: int = 0
    stored: int = 0
    matches: int = 0
    failed: int = 0
    no_body: int = 0
    duplicates: int = 0

    def add(self, other: BatchCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def store_batch(
    config: RunConfig, scored: Scored, now: datetime, run_id: int | None = None
) -> BatchCounts:
    """Store the batch in one transaction: articles, clusters, seen URLs, recorded reasons."""
    monitor = profile_of(config).monitor.name
    counts = BatchCounts()
    seen: list[q.SeenRecord] = []
    errors: list[q.ErrorRecord] = []
    for candidate, result in scored.extracted.fetch_failures:
        reason = result.error or "empty"
        seen.append(
            q.SeenRecord(
                candidate.url_key,
                candidate.url,
                candidate.source,
                "failed",
                reason,
                result.retryable,
            )
        )
        errors.append(
            q.ErrorRecord(
                "page", reason, result.detail, candidate.source, candidate.url, result.status
            )
        )
        counts.failed += 1
    for candidate, failure in scored.extracted.failures:
        seen.append(
            q.SeenRecord(
                candidate.url_key, candidate.url, candidate.source, "no_body", failure.reason
            )
        )
        errors.append(
            q.ErrorRecord(
                "extract", failure.reason, failure.detail, candidate.source, candidate.url
            )
        )
        counts.no_body += 1
    with write_session(make_engine(config.db_url)) as session:
        stored = q.store_articles(
            session, monitor, [r for _, r in scored.records], now, article_mod.is_near_duplicate
        )
        for (candidate, record), result in zip(scored.records, stored, strict=True):
            status = "stored" if record.relevant else "irrelevant"
            seen.append(
                q.SeenRecord(
                    candidate.url_key,
                    candidate.url,
                    candidate.source,
                    status,
                    None,
                    False,
                    result.article_id,
                )
            )
            counts.fetched += 1
            counts.stored += int(result.created)
            counts.duplicates += int(not result.created)
            counts.matches += int(result.created and record.relevant)
        q.record_seen(session, monitor, seen, now)
        q.record_errors(session, monitor, errors, now, run_id)
    return counts


# ---------------------------------------------------------------- escalation


@dataclass(frozen=True)
class EscalationOutcome:
    transitions: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    queued_alerts: int = 0
    reports: int = 0
    details: tuple[dict[str, object], ...] = field(default_factory=tuple)


def update_escalation(
    config: RunConfig, now: datetime, *, silent: bool = False, mode: str = "live"
) -> EscalationOutcome:
    """Feed newly staged matches to the tracker; persist state, history and alerts together."""
    profile = profile_of(config)
    monitor = profile.monitor.name
    rules = EscalationRules.from_profile(profile)
    with write_session(make_engine(config.db_url)) as session:
        state = DisputeState.from_json(q.lock_dispute_state(session, monitor, now))
        rows = q.pending_reports(session, monitor)
        reports = [
            Report(
                key=r.canonical_url,
                cluster=str(r.cluster_id or r.canonical_url),
                outlet=r.outlet,
                at=r.at,
                space=r.space,
                action=r.action,
            )
            for r in rows
        ]
        new_state, transitions = advance(state, reports, now, rules)
        evidence = q.reports_by_keys(session, monitor, [k for t in transitions for k in t.evidence])
        records, alerts = [], []
        for t in transitions:
            records.append(
                q.TransitionRecord(
                    key=t.key,
                    kind=t.kind,
                    space=t.space,
                    episode=t.episode,
                    severity=t.severity,
                    at=t.at,
                    evidence=t.evidence,
                    outlets=t.outlets,
                    active_after=new_state.active,
                    mode=mode,
                )
            )
            alert = compose_transition_alert(
                profile, t, [evidence[k] for k in t.evidence if k in evidence], new_state.active
            )
            alerts.append(
                q.AlertRecord(**{**alert.__dict__, "status": "silenced" if silent else "pending"})
            )
        q.save_escalation(
            session,
            monitor,
            new_state.to_json(),
            records,
            alerts,
            [r.article_id for r in rows],
            now,
        )
    return EscalationOutcome(
        tuple(t.key for t in transitions), new_state.active, 0 if silent else len(alerts), len(rows)
    )


def today_window(day: date) -> tuple[datetime, datetime]:
    """Return the UTC day [00:00, 24:00) as aware datetimes."""
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return start, start + timedelta(days=1)
