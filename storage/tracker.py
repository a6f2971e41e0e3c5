"""The escalation tracker's memory: its state row, the staged reports it has not seen,
and the transitions it decided, saved with their alerts in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import (
    Article,
    DisputeStateRow,
    StageTransition,
)
from storage.outbox import AlertRecord, add_alerts
from storage.queries import chunks, insert_ignore


@dataclass(frozen=True)
class ReportRow:
    article_id: int
    canonical_url: str
    cluster_id: int | None
    outlet: str
    at: datetime
    space: str
    action: str
    title: str
    url: str
    evidence: tuple[str, ...]
    reason: str = ""  # why the stage was decided: the direction rule, or the model
    confidence: float | None = None


def lock_dispute_state(session: Session, monitor: str, now: datetime) -> dict[str, Any]:
    """Return the tracker state, holding the row lock until the transaction ends."""
    insert_ignore(
        session,
        DisputeStateRow,
        [{"monitor": monitor, "state": {}, "version": 0, "updated_at": now}],
    )
    row = session.exec(
        select(DisputeStateRow).where(DisputeStateRow.monitor == monitor).with_for_update()
    ).one()
    return dict(row.state or {})


def report_row(row: Article) -> ReportRow:
    return ReportRow(
        article_id=row.id or 0,
        canonical_url=row.canonical_url,
        cluster_id=row.cluster_id,
        outlet=row.outlet,
        at=row.published_at or row.first_seen_at,
        space=row.space or "",
        action=row.action or "talk",
        title=row.title,
        url=row.url,
        evidence=tuple(row.stage_evidence or ()),
        reason=row.stage_reason or "",
        confidence=row.stage_confidence,
    )


def pending_reports(session: Session, monitor: str, *, everything: bool = False) -> list[ReportRow]:
    """Return staged matches the tracker has not taken into account yet (or all of them)."""
    query = select(Article).where(
        Article.monitor == monitor,
        col(Article.relevant).is_(True),
        col(Article.space).is_not(None),
    )
    if not everything:
        query = query.where(col(Article.escalated_at).is_(None))
    rows = session.exec(query.order_by(col(Article.published_at), col(Article.id))).all()
    return [report_row(row) for row in rows]


@dataclass(frozen=True)
class StoredTransition:
    """A transition of the stage history: its key, space, and the reports that confirmed it."""

    key: str
    space: str
    evidence: tuple[str, ...]


def stored_transitions(session: Session, monitor: str) -> list[StoredTransition]:
    """Return every transition of the monitor's stage history."""
    rows = session.exec(select(StageTransition).where(StageTransition.monitor == monitor)).all()
    return [StoredTransition(t.key, t.space, tuple(t.evidence or ())) for t in rows]


def transition_keys(session: Session, monitor: str) -> set[str]:
    """Return the keys of every transition already in the stage history."""
    return set(
        session.exec(select(StageTransition.key).where(StageTransition.monitor == monitor)).all()
    )


def reports_by_keys(session: Session, monitor: str, keys: Sequence[str]) -> dict[str, ReportRow]:
    """Return stored staged matches by canonical URL (for alert evidence)."""
    found: dict[str, ReportRow] = {}
    for chunk in chunks(list(keys)):
        for row in session.exec(
            select(Article).where(Article.monitor == monitor, col(Article.canonical_url).in_(chunk))
        ):
            found[row.canonical_url] = report_row(row)
    return found


@dataclass(frozen=True)
class TransitionRecord:
    key: str
    kind: str
    space: str
    episode: int
    severity: str
    at: datetime
    evidence: tuple[str, ...]
    outlets: tuple[str, ...]
    active_after: tuple[str, ...]
    mode: str


def save_escalation(
    session: Session,
    monitor: str,
    state: dict[str, Any],
    transitions: Sequence[TransitionRecord],
    alerts: Sequence[AlertRecord],
    article_ids: Sequence[int],
    now: datetime,
) -> None:
    """Persist the new tracker state, its transitions and their alerts in one transaction."""
    row = session.exec(select(DisputeStateRow).where(DisputeStateRow.monitor == monitor)).one()
    row.state, row.version, row.updated_at = state, row.version + 1, now
    session.add(row)
    insert_ignore(
        session,
        StageTransition,
        [
            {
                "monitor": monitor,
                "key": t.key,
                "kind": t.kind,
                "space": t.space,
                "episode": t.episode,
                "severity": t.severity,
                "at": t.at,
                "evidence": list(t.evidence),
                "outlets": list(t.outlets),
                "active_after": list(t.active_after),
                "mode": t.mode,
                "created_at": now,
            }
            for t in transitions
        ],
    )
    add_alerts(session, monitor, alerts, now)
    for chunk in chunks(list(article_ids)):
        session.execute(update(Article).where(col(Article.id).in_(chunk)).values(escalated_at=now))
