"""What `straitwatch status` reads, in one read-only pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.fetch_state import SourceState, source_states
from storage.models import (
    AlertDelivery,
    AlertOutbox,
    Article,
    DisputeStateRow,
    FetchError,
    RunRecord,
    StageTransition,
    StoryCluster,
)


@dataclass(frozen=True)
class StatusSummary:
    state: dict[str, Any]
    transitions: list[StageTransition]
    matches: list[Article]
    sources: list[SourceState]
    errors: list[FetchError]
    alerts: list[AlertOutbox]
    deliveries: list[AlertDelivery]
    runs: list[RunRecord]
    counts: dict[str, int]


def status_summary(session: Session, monitor: str, limit: int = 10) -> StatusSummary:
    """Return what `straitwatch status` shows: state, history, matches, sources, errors."""
    state_row = session.get(DisputeStateRow, monitor)

    def latest(model: Any, order: Any, *where: Any) -> list[Any]:
        stmt = select(model).where(*where).order_by(order.desc()).limit(limit)
        return list(session.exec(stmt).all())

    alerts = latest(AlertOutbox, col(AlertOutbox.id), AlertOutbox.monitor == monitor)
    alert_ids = [a.id for a in alerts]
    deliveries = (
        list(
            session.exec(
                select(AlertDelivery).where(col(AlertDelivery.alert_id).in_(alert_ids))
            ).all()
        )
        if alert_ids
        else []
    )
    counts = {
        "articles": session.exec(
            select(func.count()).select_from(Article).where(Article.monitor == monitor)
        ).one(),
        "matches": session.exec(
            select(func.count())
            .select_from(Article)
            .where(Article.monitor == monitor, col(Article.relevant).is_(True))
        ).one(),
        "clusters": session.exec(
            select(func.count()).select_from(StoryCluster).where(StoryCluster.monitor == monitor)
        ).one(),
        "errors": session.exec(
            select(func.count()).select_from(FetchError).where(FetchError.monitor == monitor)
        ).one(),
    }
    return StatusSummary(
        state=dict(state_row.state) if state_row else {},
        transitions=latest(
            StageTransition, col(StageTransition.at), StageTransition.monitor == monitor
        ),
        matches=latest(
            Article,
            col(Article.first_seen_at),
            Article.monitor == monitor,
            col(Article.relevant).is_(True),
        ),
        sources=sorted(source_states(session, monitor).values(), key=lambda s: s.name),
        errors=latest(FetchError, col(FetchError.id), FetchError.monitor == monitor),
        alerts=alerts,
        deliveries=deliveries,
        runs=latest(RunRecord, col(RunRecord.id), RunRecord.monitor == monitor),
        counts=counts,
    )


def transitions_between(
    session: Session, monitor: str, start: datetime, end: datetime
) -> list[StageTransition]:
    """Return the stage history's transitions decided in [start, end), oldest first."""
    return list(
        session.exec(
            select(StageTransition)
            .where(
                StageTransition.monitor == monitor,
                StageTransition.at >= start,
                StageTransition.at < end,
            )
            .order_by(col(StageTransition.at))
        ).all()
    )
