"""What the flows ask of the database: values in, values out, one function per question.

Writes are idempotent (insert-or-ignore on the natural keys), so running any window twice
changes nothing, and two runs at once rely on the database's uniqueness, not on timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, col, select

from extractors.records import ErrorRecord
from extractors.redaction import redact_text, redact_url
from storage.models import (
    Article,
    FetchError,
    RunRecord,
    SeenUrl,
    StoryCluster,
)

_CHUNK = 500  # keeps IN (...) lists under every database's parameter limit


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignore(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, silently skipping those that collide with a unique key."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    # A table class has its Table at run time; SQLModel's class is not typed with it.
    table = model.__table__  # type: ignore[attr-defined]
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases: one by one, ignoring duplicates
        for row in rows:
            with session.begin_nested():
                session.execute(table.insert().values(**row))
        return
    for chunk in chunks(list(rows), 200):
        session.execute(stmt, list(chunk))


# ---------------------------------------------------------------- candidates


@dataclass(frozen=True)
class SeenRecord:
    url_key: str
    url: str
    source: str
    status: str  # stored | irrelevant | no_body | failed | skipped
    reason: str | None = None
    retryable: bool = False
    article_id: int | None = None


def unseen_keys(session: Session, monitor: str, keys: Sequence[str], max_attempts: int) -> set[str]:
    """Return the keys never met before, plus failed ones still worth a retry."""
    wanted = list(dict.fromkeys(keys))
    done: set[str] = set()
    for chunk in chunks(wanted):
        rows = session.exec(
            select(SeenUrl.url_key, SeenUrl.retryable, SeenUrl.attempts, SeenUrl.status).where(
                SeenUrl.monitor == monitor, col(SeenUrl.url_key).in_(chunk)
            )
        ).all()
        for key, retryable, attempts, status in rows:
            if not (status == "failed" and retryable and attempts < max_attempts):
                done.add(key)
    return {key for key in wanted if key not in done}


def record_seen(
    session: Session, monitor: str, records: Sequence[SeenRecord], now: datetime
) -> None:
    """Remember what happened to each candidate; a repeat attempt counts up."""
    keys = [r.url_key for r in records]
    existing: dict[str, SeenUrl] = {}
    for chunk in chunks(keys):
        for seen in session.exec(
            select(SeenUrl).where(SeenUrl.monitor == monitor, col(SeenUrl.url_key).in_(chunk))
        ):
            existing[seen.url_key] = seen
    fresh: list[dict[str, Any]] = []
    for record in records:
        row = existing.get(record.url_key)
        if row is None:
            fresh.append(
                {
                    "monitor": monitor,
                    "url_key": record.url_key,
                    "url": record.url,
                    "source": record.source,
                    "status": record.status,
                    "reason": record.reason,
                    "retryable": record.retryable,
                    "article_id": record.article_id,
                    "attempts": 1,
                    "first_seen_at": now,
                    "last_attempt_at": now,
                }
            )
        elif row.status == "failed":  # a retry: whatever happened now replaces the failure
            row.status, row.reason, row.retryable = record.status, record.reason, record.retryable
            row.article_id = record.article_id or row.article_id
            row.attempts += 1
            row.last_attempt_at = now
            session.add(row)
    insert_ignore(session, SeenUrl, fresh)


# ---------------------------------------------------------------- articles


@dataclass(frozen=True)
class ArticleRecord:
    canonical_url: str
    url: str
    source: str
    outlet: str
    title: str
    text: str
    published_at: datetime | None
    author: str
    sitename: str
    language: str
    fingerprint: str
    relevant: bool
    relevance_score: float
    relevance_reason: str
    matched_topics: tuple[str, ...] = ()
    relevance_evidence: tuple[str, ...] = ()
    space: str | None = None
    action: str | None = None
    stage_evidence: tuple[str, ...] = ()
    stage_reason: str = ""
    stage_confidence: float | None = None


@dataclass(frozen=True)
class StoredArticle:
    canonical_url: str
    article_id: int | None  # None: the database refused the row (see error)
    cluster_id: int | None
    created: bool
    error: str = ""


def _article_row(monitor: str, record: ArticleRecord, now: datetime) -> dict[str, Any]:
    row = {k: getattr(record, k) for k in ArticleRecord.__dataclass_fields__}
    for key in ("matched_topics", "relevance_evidence", "stage_evidence"):
        row[key] = list(row[key])
    if not record.relevant:
        row["text"] = ""  # only matches keep their text
    return {**row, "monitor": monitor, "first_seen_at": now}


def _insert_articles(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Insert rows, each in a savepoint if the batch fails; return refused key -> reason.

    One row the database refuses (a key too long for its index, a byte it cannot hold)
    must not cost the rows beside it: the batch is tried whole, then row by row.
    """
    try:
        with session.begin_nested():
            insert_ignore(session, Article, rows)
        return {}
    except DBAPIError:
        pass
    refused: dict[str, str] = {}
    for row in rows:
        try:
            with session.begin_nested():
                insert_ignore(session, Article, [row])
        except DBAPIError as exc:
            refused[row["canonical_url"]] = _first_line(exc.orig or exc)
    return refused


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def store_articles(
    session: Session,
    monitor: str,
    records: Sequence[ArticleRecord],
    now: datetime,
    same_story: Callable[[str, str], bool],
    cluster_horizon: timedelta = timedelta(days=7),
) -> list[StoredArticle]:
    """Insert new articles (existing canonical URLs are left as they are) and cluster matches.

    A relevant article joins the story cluster of a recent article whose fingerprint
    ``same_story`` calls a near duplicate, else it opens a cluster of its own. Each key is
    created at most once, however often it comes in the batch; a row the database refuses
    comes back with its error and no id, and the others are stored.
    """
    keys = [r.canonical_url for r in records]
    before = _article_ids(session, monitor, keys)
    fresh: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.canonical_url not in before and record.canonical_url not in fresh:
            fresh[record.canonical_url] = _article_row(monitor, record, now)
    refused = _insert_articles(session, list(fresh.values()))
    after = _article_ids(session, monitor, keys)
    known = _recent_clusters(session, monitor, now - cluster_horizon)
    stored = []
    created_now: set[str] = set()
    for record in records:
        key = record.canonical_url
        if key not in after:
            stored.append(StoredArticle(key, None, None, False, refused.get(key, "not stored")))
            continue
        article_id, cluster_id = after[key]
        created = key in fresh and key not in created_now
        created_now.add(key)
        if created and record.relevant and cluster_id is None:
            cluster_id = _join_or_open_cluster(session, monitor, record, now, known, same_story)
            session.execute(
                update(Article).where(col(Article.id) == article_id).values(cluster_id=cluster_id)
            )
            after[key] = (article_id, cluster_id)
        stored.append(StoredArticle(key, article_id, cluster_id, created))
    return stored


def _article_ids(
    session: Session, monitor: str, keys: Sequence[str]
) -> dict[str, tuple[int, int | None]]:
    found: dict[str, tuple[int, int | None]] = {}
    for chunk in chunks(list(keys)):
        for key, article_id, cluster_id in session.exec(
            select(Article.canonical_url, Article.id, Article.cluster_id).where(
                Article.monitor == monitor, col(Article.canonical_url).in_(chunk)
            )
        ):
            if article_id is not None:  # a stored row always has its id
                found[key] = (article_id, cluster_id)
    return found


def _recent_clusters(session: Session, monitor: str, since: datetime) -> list[tuple[int, str]]:
    rows = session.exec(
        select(StoryCluster.id, StoryCluster.fingerprint).where(
            StoryCluster.monitor == monitor, StoryCluster.first_seen_at >= since
        )
    ).all()
    return [(cluster_id, fp) for cluster_id, fp in rows if cluster_id is not None]


def _join_or_open_cluster(
    session: Session,
    monitor: str,
    record: ArticleRecord,
    now: datetime,
    known: list[tuple[int, str]],
    same_story: Callable[[str, str], bool],
) -> int:
    if record.fingerprint:
        for cluster_id, fingerprint in known:
            if fingerprint and same_story(record.fingerprint, fingerprint):
                session.execute(
                    update(StoryCluster)
                    .where(col(StoryCluster.id) == cluster_id)
                    .values(article_count=StoryCluster.article_count + 1)
                )
                return cluster_id
    cluster = StoryCluster(
        monitor=monitor, fingerprint=record.fingerprint, title=record.title[:300], first_seen_at=now
    )
    session.add(cluster)
    session.flush()
    assert cluster.id is not None
    known.append((cluster.id, record.fingerprint))
    return cluster.id


# ---------------------------------------------------------------- errors and runs


def record_errors(
    session: Session,
    monitor: str,
    errors: Sequence[ErrorRecord],
    now: datetime,
    run_id: int | None = None,
) -> None:
    """Store recorded reasons for what could not be fetched, parsed, extracted or stored.

    URLs and details are stored with their secrets masked: people read this table.
    """
    for error in errors:
        session.add(
            FetchError(
                monitor=monitor,
                run_id=run_id,
                source=error.source,
                url=redact_url(error.url),
                stage=error.stage,
                reason=error.reason,
                detail=redact_text(error.detail[:1000]),
                status_code=error.status_code,
                at=now,
            )
        )


def start_run(session: Session, monitor: str, flow: str, now: datetime) -> int:
    """Record the start of a run; return its id."""
    run = RunRecord(monitor=monitor, flow=flow, started_at=now)
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def finish_run(
    session: Session, run_id: int, status: str, counts: dict[str, Any], now: datetime
) -> None:
    """Record how a run ended and what it counted."""
    run = session.get(RunRecord, run_id)
    if run is not None:
        run.status, run.counts, run.finished_at = status, counts, now
        session.add(run)
