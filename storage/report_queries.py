"""What `straitwatch report` reads: matches, transitions and source troubles over a window.

Everything comes back as small frozen values, so the report's renderer never sees a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from storage.models import Article, FetchError, RunRecord, Source, StageTransition
from storage.queries import chunks

# Failures of a whole source (its feed or API), as opposed to one page's.
SOURCE_STAGES = ("source", "feed")


@dataclass(frozen=True)
class MatchRow:
    """A relevant, staged article; ``at`` is its publication time, else when it was found."""

    canonical_url: str
    url: str
    title: str
    outlet: str
    cluster_id: int | None
    at: datetime
    space: str
    action: str


@dataclass(frozen=True)
class TransitionRow:
    kind: str
    space: str
    severity: str
    at: datetime
    evidence: tuple[str, ...]  # canonical URLs of the reports that confirmed it
    outlets: tuple[str, ...]
    active_after: tuple[str, ...]


@dataclass(frozen=True)
class SourceErrorRow:
    source: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class SourceRow:
    name: str
    kind: str
    health: str
    last_success_at: datetime | None
    error_streak: int
    last_error: str | None


def matches_between(
    session: Session, monitor: str, start: datetime, end: datetime
) -> list[MatchRow]:
    """Return the staged matches dated in [start, end), oldest first.

    Published time decides, as it does for the escalation tracker; found time stands in.
    """
    rows = session.exec(
        _select_matches().where(
            Article.monitor == monitor,
            col(Article.relevant).is_(True),
            col(Article.space).is_not(None),
        )
    ).all()
    matches = [_match(*row) for row in rows]
    return sorted(
        (m for m in matches if start <= m.at < end), key=lambda m: (m.at, m.canonical_url)
    )


def matches_by_keys(session: Session, monitor: str, keys: Sequence[str]) -> dict[str, MatchRow]:
    """Return the stored matches whose canonical URL is in ``keys``, by canonical URL."""
    found: dict[str, MatchRow] = {}
    for chunk in chunks(sorted(set(keys))):
        rows = session.exec(
            _select_matches().where(
                Article.monitor == monitor, col(Article.canonical_url).in_(list(chunk))
            )
        ).all()
        found.update((row[0], _match(*row)) for row in rows)
    return found


# The article's text stays in the database: the report needs none of it.
_MATCH_COLUMNS = (
    col(Article.canonical_url),
    col(Article.url),
    col(Article.title),
    col(Article.outlet),
    col(Article.cluster_id),
    col(Article.published_at),
    col(Article.first_seen_at),
    col(Article.space),
    col(Article.action),
)
# What those columns hold, in the order ``_match`` takes them.
_MatchSelect: TypeAlias = (
    "Select[str, str, str, str, int | None, datetime | None, datetime, str | None, str | None]"
)


def _select_matches() -> _MatchSelect:
    # SQLModel's select() is typed for at most four columns: the nine are typed by hand.
    statement: _MatchSelect = select(*_MATCH_COLUMNS)  # type: ignore[call-overload]
    return statement


def _match(
    canonical_url: str,
    url: str,
    title: str,
    outlet: str,
    cluster_id: int | None,
    published_at: datetime | None,
    first_seen_at: datetime,
    space: str | None,
    action: str | None,
) -> MatchRow:
    return MatchRow(
        canonical_url=canonical_url,
        url=url,
        title=title,
        outlet=outlet,
        cluster_id=cluster_id,
        at=published_at or first_seen_at,
        space=space or "",
        action=action or "talk",
    )


def transitions_in(
    session: Session, monitor: str, start: datetime, end: datetime
) -> list[TransitionRow]:
    """Return the stage history's transitions decided in [start, end), oldest first."""
    rows = session.exec(
        select(StageTransition)
        .where(
            StageTransition.monitor == monitor,
            StageTransition.at >= start,
            StageTransition.at < end,
        )
        .order_by(col(StageTransition.at), col(StageTransition.id))
    ).all()
    return [
        TransitionRow(
            kind=row.kind,
            space=row.space,
            severity=row.severity,
            at=row.at,
            evidence=tuple(row.evidence or ()),
            outlets=tuple(row.outlets or ()),
            active_after=tuple(row.active_after or ()),
        )
        for row in rows
    ]


def source_errors_between(
    session: Session, monitor: str, start: datetime, end: datetime
) -> list[SourceErrorRow]:
    """Return the failures of whole sources (feed or API, not single pages) in [start, end)."""
    rows = session.exec(
        select(FetchError.source, FetchError.at, FetchError.reason)
        .where(
            FetchError.monitor == monitor,
            col(FetchError.stage).in_(SOURCE_STAGES),
            FetchError.at >= start,
            FetchError.at < end,
        )
        .order_by(col(FetchError.at))
    ).all()
    return [SourceErrorRow(source=s, at=at, reason=reason) for s, at, reason in rows]


def run_times_between(
    session: Session, monitor: str, start: datetime, end: datetime
) -> list[datetime]:
    """Return when each run in [start, end) started, oldest first."""
    return list(
        session.exec(
            select(RunRecord.started_at)
            .where(
                RunRecord.monitor == monitor,
                RunRecord.started_at >= start,
                RunRecord.started_at < end,
            )
            .order_by(col(RunRecord.started_at))
        ).all()
    )


def sources_now(session: Session, monitor: str) -> list[SourceRow]:
    """Return every configured source's current health, by name."""
    rows = session.exec(
        select(Source).where(Source.monitor == monitor).order_by(col(Source.name))
    ).all()
    return [
        SourceRow(
            name=row.name,
            kind=row.kind,
            health=row.health,
            last_success_at=row.last_success_at,
            error_streak=row.error_streak,
            last_error=row.last_error,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class RunMatchRow:
    """A relevant article a run stored: what the run's table in the Prefect UI shows."""

    title: str
    url: str
    outlet: str
    space: str
    action: str
    stage_reason: str


def matches_of_run(session: Session, run_id: int, limit: int = 200) -> list[RunMatchRow]:
    """Return the relevant articles stored by one run (``first_seen_at`` is its start)."""
    run = session.get(RunRecord, run_id)
    if run is None:
        return []
    # SQLModel's select() is typed for at most four columns: the six are typed by hand.
    columns: Select[str, str, str, str | None, str | None, str] = select(  # type: ignore[call-overload]
        Article.title,
        Article.url,
        Article.outlet,
        Article.space,
        Article.action,
        Article.stage_reason,
    )
    found = session.exec(
        columns.where(
            Article.monitor == run.monitor,
            Article.first_seen_at == run.started_at,
            col(Article.relevant).is_(True),
        )
        .order_by(col(Article.id))
        .limit(limit)
    ).all()
    return [
        RunMatchRow(title, url, outlet, space or "", action or "", reason or "")
        for title, url, outlet, space, action, reason in found
    ]
