"""What a digest reports: the relevant articles first seen in its period that confirmed
no transition (the transitions had their own alerts)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AlertOutbox, Article, StageTransition
from storage.tracker import ReportRow, report_row


def digest_queued(session: Session, monitor: str, key: str) -> bool:
    """Whether the outbox holds this period's digest already (sent or not)."""
    found = session.exec(
        select(AlertOutbox.id).where(AlertOutbox.monitor == monitor, AlertOutbox.key == key)
    ).first()
    return found is not None


def digest_articles(
    session: Session, monitor: str, start: datetime, end: datetime
) -> list[ReportRow]:
    """Return the period's relevant articles that are no transition's evidence, oldest first."""
    evidence: set[str] = set()
    for keys in session.exec(
        select(StageTransition.evidence).where(StageTransition.monitor == monitor)
    ):
        evidence.update(keys or ())
    rows = session.exec(
        select(Article)
        .where(
            Article.monitor == monitor,
            col(Article.relevant).is_(True),
            col(Article.first_seen_at) >= start,
            col(Article.first_seen_at) < end,
        )
        .order_by(col(Article.first_seen_at), col(Article.id))
    ).all()
    return [report_row(row) for row in rows if row.canonical_url not in evidence]
