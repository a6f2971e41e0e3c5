"""The sources' fetch state: validators, errors in a row, back-off, window cursor, health.

One row per configured source and monitor. A run reads it to decide which sources are due
and what to send (conditional GET), and writes each attempt's outcome; the validators are
kept only once a run has stored every candidate (``save_validators``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from extractors.records import SourceOutcome
from extractors.redaction import redact_text, redact_url
from storage.models import Source
from storage.queries import insert_ignore


@dataclass(frozen=True)
class SourceState:
    name: str
    kind: str
    url: str
    etag: str | None
    last_modified: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_new_at: datetime | None
    error_streak: int
    last_error: str | None
    last_error_detail: str | None
    retry_not_before: datetime | None
    cursor_at: datetime | None
    health_problem: str | None
    health_episode: int
    health: str
    entries_seen: int


def sync_sources(session: Session, monitor: str, sources: Iterable[tuple[str, str, str]]) -> None:
    """Make sure a row exists for every configured (name, kind, url); keep fetch state.

    The row keeps the URL with its secrets masked: the profile holds the real one.
    """
    rows = [{"monitor": monitor, "name": n, "kind": k, "url": redact_url(u)} for n, k, u in sources]
    insert_ignore(session, Source, rows)
    for row in rows:
        session.execute(
            update(Source)
            .where(col(Source.monitor) == monitor, col(Source.name) == row["name"])
            .where((col(Source.url) != row["url"]) | (col(Source.kind) != row["kind"]))
            .values(url=row["url"], kind=row["kind"], etag=None, last_modified=None)
        )


def _source_state(row: Source) -> SourceState:
    return SourceState(
        name=row.name,
        kind=row.kind,
        url=row.url,
        etag=row.etag,
        last_modified=row.last_modified,
        last_attempt_at=row.last_attempt_at,
        last_success_at=row.last_success_at,
        last_new_at=row.last_new_at,
        error_streak=row.error_streak,
        last_error=row.last_error,
        last_error_detail=row.last_error_detail,
        retry_not_before=row.retry_not_before,
        cursor_at=row.cursor_at,
        health_problem=row.health_problem,
        health_episode=row.health_episode,
        health=row.health,
        entries_seen=row.entries_seen,
    )


def source_states(session: Session, monitor: str) -> dict[str, SourceState]:
    """Return the fetch state of every source of a monitor, by name."""
    rows = session.exec(select(Source).where(Source.monitor == monitor)).all()
    return {row.name: _source_state(row) for row in rows}


def record_source_outcome(
    session: Session, monitor: str, outcome: SourceOutcome, now: datetime, validators: bool = True
) -> None:
    """Update a source's fetch state after one attempt.

    With ``validators=False`` a fresh response's ETag and Last-Modified are not kept yet
    (the old ones are dropped): they are saved by ``save_validators`` once the run has
    stored every candidate, so a run that dies midway is followed by a full fetch, not a
    304 that would hide the entries it never stored.
    """
    row = session.exec(
        select(Source).where(Source.monitor == monitor, Source.name == outcome.name)
    ).one()
    row.last_attempt_at = now
    if outcome.ok:
        row.last_success_at = now
        row.error_streak = 0
        row.last_error = row.last_error_detail = None
        row.health = "ok"
        row.entries_seen += outcome.entries
        if not outcome.not_modified:
            row.etag, row.last_modified = (
                (outcome.etag, outcome.last_modified) if validators else (None, None)
            )
        if outcome.new_entries:
            row.last_new_at = now
        row.retry_not_before = None
    else:
        row.error_streak += 1
        row.last_error, row.last_error_detail = outcome.error, redact_text(outcome.detail)
        row.health = "failing"
        if outcome.retry_after:
            row.retry_not_before = now + timedelta(seconds=outcome.retry_after)
    session.add(row)


def save_validators(
    session: Session, monitor: str, outcome: SourceOutcome, cursor_at: datetime
) -> None:
    """Keep a source's validators and window cursor, now that its candidates are stored."""
    row = session.exec(
        select(Source).where(Source.monitor == monitor, Source.name == outcome.name)
    ).one()
    if not outcome.not_modified:
        row.etag, row.last_modified = outcome.etag, outcome.last_modified
    row.cursor_at = cursor_at
    session.add(row)


def set_health_episode(
    session: Session, monitor: str, name: str, problem: str | None, episode: int
) -> None:
    """Open (problem given) or close (None) a source's health episode."""
    session.execute(
        update(Source)
        .where(col(Source.monitor) == monitor, col(Source.name) == name)
        .values(health_problem=problem, health_episode=episode)
    )
