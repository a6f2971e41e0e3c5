"""The stages of one monitor run, as plain functions: fetch, extract, score, store.

Each stage takes the run's ``RunContext`` (flows/stages/context.py) and values (records of
a batch, ids), opens its own short database session, and turns every bad input into a
recorded reason. ``flows/tasks.py`` wraps each
one as a Prefect task; without the decorators this module still runs the whole pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

import attrs

from extractors import article as article_mod
from extractors.article import ExtractionFailure, ParsedArticle, extract_articles
from extractors.fetch import Fetcher, FetchPolicy, FetchRequest, FetchResult, fetch_pages
from extractors.records import ErrorRecord
from extractors.redaction import redact_text, redact_url
from extractors.urls import outlet_names, url_key
from flows.stages.context import RunContext
from flows.stages.summaries import BatchCounts
from storage import queries as q
from storage.db import write_session

log = logging.getLogger("straitwatch")


@dataclass(frozen=True)
class Candidate:
    url: str
    url_key: str
    source: str
    title: str = ""
    published: datetime | None = None


async def fetch_all(policy: FetchPolicy, requests: Sequence[FetchRequest]) -> list[FetchResult]:
    if not requests:
        return []
    async with Fetcher(policy) as fetcher:
        return await fetch_pages(fetcher, requests)


def log_reasons(errors: Sequence[ErrorRecord]) -> None:
    """Log each recorded reason once, as stored (the run's log tells what `status` shows)."""
    for error in errors:
        log.warning(
            "%s %s: %s%s%s",
            error.stage,
            error.reason,
            redact_url(error.url) if error.url else error.source,
            " — " if error.detail else "",
            redact_text(error.detail),
        )


# ---------------------------------------------------------------- fetch, extract, score, store


@dataclass(frozen=True)
class Page:
    candidate: Candidate
    content: bytes = field(repr=False)  # a page's bytes, not for logs and tracebacks
    content_type: str
    final_url: str


def _count(items: tuple[object, ...]) -> str:
    return f"<{len(items)}>"


# A batch passed from stage to stage is an attrs class, not a dataclass, on purpose (as
# RunContext): Prefect walks every dataclass, pydantic model, tuple and list in a task's
# arguments, item by item, to find futures and upstream results. A batch holds a hundred
# pages, articles or records, and walking them twice for each of four tasks cost about a
# second of CPU per 1,000 pages. To Prefect a batch is one value; its task's dependency on
# the task that returned it is still seen. Reprs give sizes, never pages.


@attrs.frozen
class Fetched:
    """The pages of a batch that came back, and the candidates that failed."""

    pages: tuple[Page, ...] = attrs.field(repr=_count)
    failures: tuple[tuple[Candidate, FetchResult], ...] = attrs.field(repr=_count)


def fetch_batch(run: RunContext, batch: Sequence[Candidate]) -> Fetched:
    """Fetch one batch of article pages concurrently; failures are data."""
    requests = [FetchRequest(c.url) for c in batch]
    results = asyncio.run(fetch_all(run.fetch_policy, requests))
    pages, failures = [], []
    for candidate, result in zip(batch, results, strict=True):
        if result.ok and result.content:
            pages.append(Page(candidate, result.content, result.content_type, result.final_url))
        else:
            failures.append((candidate, result))
    return Fetched(tuple(pages), tuple(failures))


@attrs.frozen
class Extracted:
    """The articles found in a batch, the pages without one, and the fetch failures."""

    articles: tuple[tuple[Candidate, ParsedArticle], ...] = attrs.field(repr=_count)
    failures: tuple[tuple[Candidate, ExtractionFailure], ...] = attrs.field(repr=_count)
    fetch_failures: tuple[tuple[Candidate, FetchResult], ...] = attrs.field(default=(), repr=_count)


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


@attrs.frozen
class Scored:
    """The batch's articles as records to store, with what extraction found."""

    records: tuple[tuple[Candidate, q.ArticleRecord], ...] = attrs.field(repr=_count)
    extracted: Extracted


def _published(article: ParsedArticle, candidate: Candidate) -> datetime | None:
    if candidate.published is not None and article.published == candidate.published.date():
        return candidate.published
    if article.published is not None:
        return datetime.combine(article.published, time(12, 0), tzinfo=UTC)
    return candidate.published


def score_batch(run: RunContext, extracted: Extracted) -> Scored:
    """Score each article against the seed's topics and stage the relevant ones."""
    scorer, classifier = run.scorer, run.classifier
    # A source's outlet name beats the host: several outlets may share a host (syndication
    # platforms, the demo site), and one outlet may publish on several hosts. An aggregator's
    # article is its publisher's: the profile's outlet name for that domain, else the domain.
    sources = run.profile.sources
    outlets = {s.name: s.outlet for s in sources if s.outlet}
    by_domain = outlet_names((s.url, s.outlet) for s in sources)
    records = []
    for candidate, art in extracted.articles:
        relevance = scorer.score(art.title, art.text)
        stage = classifier.classify(art.title, art.text) if relevance.relevant else None
        records.append(
            (
                candidate,
                q.ArticleRecord(
                    canonical_url=url_key(art.canonical_url),
                    url=art.url,
                    source=candidate.source,
                    outlet=outlets.get(candidate.source) or by_domain.get(art.outlet, art.outlet),
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
                    stage_reason=stage.reason if stage else "",
                    stage_confidence=stage.confidence if stage else None,
                ),
            )
        )
    return Scored(tuple(records), extracted)


def store_batch(
    run: RunContext, scored: Scored, now: datetime, run_id: int | None = None
) -> BatchCounts:
    """Store the batch in one transaction: articles, clusters, seen URLs, recorded reasons."""
    monitor = run.monitor
    counts = BatchCounts()
    seen: list[q.SeenRecord] = []
    errors: list[ErrorRecord] = []
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
            ErrorRecord(
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
            ErrorRecord("extract", failure.reason, failure.detail, candidate.source, candidate.url)
        )
        counts.no_body += 1
    with write_session(run.engine) as session:
        stored = q.store_articles(
            session, monitor, [r for _, r in scored.records], now, article_mod.is_near_duplicate
        )
        for (candidate, record), kept in zip(scored.records, stored, strict=True):
            if kept.article_id is None:
                # Refused by the database: recorded, and seen, so it is not fetched again.
                seen.append(
                    q.SeenRecord(
                        candidate.url_key, candidate.url, candidate.source, "failed", "not_stored"
                    )
                )
                errors.append(
                    ErrorRecord(
                        "store", "not_stored", kept.error or "", candidate.source, candidate.url
                    )
                )
                counts.failed += 1
                continue
            status = "stored" if record.relevant else "irrelevant"
            seen.append(
                q.SeenRecord(
                    candidate.url_key,
                    candidate.url,
                    candidate.source,
                    status,
                    None,
                    False,
                    kept.article_id,
                )
            )
            counts.fetched += 1
            counts.stored += int(kept.created)
            counts.duplicates += int(not kept.created)
            counts.matches += int(kept.created and record.relevant)
        q.record_seen(session, monitor, seen, now)
        q.record_errors(session, monitor, errors, now, run_id)
    log_reasons(errors)
    return counts
