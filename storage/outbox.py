"""The alert outbox: alerts queued with the state change behind them, and each one's
delivery per channel, recorded so that a retry never sends twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from extractors.redaction import redact_text, redacted
from storage.models import (
    AlertDelivery,
    AlertOutbox,
)
from storage.queries import chunks, insert_ignore


@dataclass(frozen=True)
class AlertRecord:
    key: str
    kind: str
    title: str
    body: str
    space: str = ""
    severity: str = "info"
    tags: tuple[str, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"  # pending, or silenced for history that must not wake anyone


def add_alerts(
    session: Session, monitor: str, alerts: Sequence[AlertRecord], now: datetime
) -> None:
    """Queue alerts in the outbox; an alert whose key exists already is not queued again.

    Every URL in an alert is stored, and so sent, with its secrets masked.
    """
    insert_ignore(
        session,
        AlertOutbox,
        [
            {
                "monitor": monitor,
                "key": a.key,
                "kind": a.kind,
                "space": a.space,
                "severity": a.severity,
                "tags": list(a.tags),
                "title": redact_text(a.title),
                "body": redact_text(a.body),
                "payload": redacted(a.payload),
                "status": a.status,
                "created_at": now,
            }
            for a in alerts
        ],
    )


@dataclass(frozen=True)
class PendingAlert:
    id: int
    key: str
    kind: str
    space: str
    severity: str
    tags: tuple[str, ...]
    title: str
    body: str
    created_at: datetime
    sent_channels: tuple[str, ...]
    attempts: dict[str, int]
    # channels a sender holds right now, and those whose outcome is unknown (never resent)
    held_channels: tuple[str, ...] = ()
    unknown_channels: tuple[str, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)  # what the message is rendered from

    @classmethod
    def unsent(cls, record: AlertRecord, created_at: datetime, id: int = 0) -> PendingAlert:
        """Return an alert as the outbox would hand it over before any send (for previews)."""
        return cls(
            id=id,
            key=record.key,
            kind=record.kind,
            space=record.space,
            severity=record.severity,
            tags=record.tags,
            title=record.title,
            body=record.body,
            created_at=created_at,
            sent_channels=(),
            attempts={},
            payload=record.payload,
        )


def pending_alerts(session: Session, monitor: str) -> list[PendingAlert]:
    """Return undelivered alerts with the channels that already have them."""
    alerts = session.exec(
        select(AlertOutbox)
        .where(AlertOutbox.monitor == monitor, AlertOutbox.status == "pending")
        .order_by(col(AlertOutbox.id))
    ).all()
    by_alert: dict[int, list[AlertDelivery]] = {}
    for chunk in chunks([a.id for a in alerts if a.id is not None]):
        for d in session.exec(
            select(AlertDelivery).where(col(AlertDelivery.alert_id).in_(chunk))
        ).all():
            by_alert.setdefault(d.alert_id, []).append(d)
    result = []
    for alert in alerts:
        deliveries = by_alert.get(alert.id or 0, [])
        result.append(
            PendingAlert(
                id=alert.id or 0,
                key=alert.key,
                kind=alert.kind,
                space=alert.space,
                severity=alert.severity,
                tags=tuple(alert.tags or ()),
                title=alert.title,
                body=alert.body,
                created_at=alert.created_at,
                sent_channels=tuple(d.channel for d in deliveries if d.status == "sent"),
                attempts={d.channel: d.attempts for d in deliveries},
                held_channels=tuple(
                    d.channel for d in deliveries if d.status in ("claimed", "sending")
                ),
                unknown_channels=tuple(d.channel for d in deliveries if d.status == "unknown"),
                payload=dict(alert.payload or {}),
            )
        )
    return result


def close_alerts(session: Session, alert_ids: Sequence[int], status: str, now: datetime) -> None:
    """Mark alerts as delivered everywhere (sent) or given up on (failed)."""
    for chunk in chunks(list(alert_ids)):
        session.execute(
            update(AlertOutbox)
            .where(col(AlertOutbox.id).in_(chunk))
            .values(status=status, delivered_at=now)
        )


UNKNOWN_AFTER_LEASE = (
    "the sender stopped while sending (killed, or hung past its lease): it may have been "
    "delivered, so it is not sent again"
)


def claim_deliveries(
    session: Session,
    alert_ids: Sequence[int],
    channel: str,
    token: str,
    now: datetime,
    lease: timedelta,
    max_attempts: int,
) -> list[int]:
    """Claim these alerts' delivery to one channel for ``token``; return the ids it holds.

    One conditional UPDATE per chunk takes only rows that are pending or failed and have
    attempts left, so of two senders at once exactly one holds each row (PostgreSQL
    re-checks the condition after a concurrent update; SQLite has one writer at a time).
    The attempt is counted now, before anything leaves: a crash after the send cannot
    make it look untried.
    """
    insert_ignore(
        session,
        AlertDelivery,
        [{"alert_id": a, "channel": channel, "attempts": 0} for a in alert_ids],
    )
    for chunk in chunks(list(alert_ids)):
        session.execute(
            update(AlertDelivery)
            .where(
                col(AlertDelivery.alert_id).in_(chunk),
                col(AlertDelivery.channel) == channel,
                col(AlertDelivery.status).in_(("pending", "failed")),
                col(AlertDelivery.attempts) < max_attempts,
            )
            .values(
                status="claimed",
                claimed_by=token,
                lease_until=now + lease,
                attempts=AlertDelivery.attempts + 1,
                last_attempt_at=now,
            )
        )
    session.flush()
    return sorted(
        session.exec(
            select(AlertDelivery.alert_id).where(
                AlertDelivery.channel == channel,
                AlertDelivery.claimed_by == token,
                AlertDelivery.status == "claimed",
            )
        ).all()
    )


def mark_sending(session: Session, alert_ids: Sequence[int], channel: str, token: str) -> bool:
    """Record that these claimed deliveries are being handed to the channel now.

    A claim whose sender dies before this is retried; one that dies after it is unknown.
    Return False when the claim is no longer this sender's (then it must not send).
    """
    marked = 0
    for chunk in chunks(list(alert_ids)):
        marked += session.exec(
            update(AlertDelivery)
            .where(
                col(AlertDelivery.alert_id).in_(chunk),
                col(AlertDelivery.channel) == channel,
                col(AlertDelivery.claimed_by) == token,
                col(AlertDelivery.status) == "claimed",
            )
            .values(status="sending")
        ).rowcount
    return marked == len(set(alert_ids))


def finish_deliveries(
    session: Session,
    alert_ids: Sequence[int],
    channel: str,
    token: str,
    status: str,
    error: str | None,
    now: datetime,
) -> None:
    """Record the outcome of a claimed send: sent, failed (refused, retried) or unknown."""
    for chunk in chunks(list(alert_ids)):
        session.execute(
            update(AlertDelivery)
            .where(
                col(AlertDelivery.alert_id).in_(chunk),
                col(AlertDelivery.channel) == channel,
                col(AlertDelivery.claimed_by) == token,
                col(AlertDelivery.status).in_(("claimed", "sending")),
            )
            .values(
                status=status,
                last_error=None if status == "sent" else redact_text(error or status)[:500],
                sent_at=now if status == "sent" else None,
                lease_until=None,
            )
        )


def expire_claims(
    session: Session, now: datetime, alive: Callable[[str | None], bool] = lambda _: True
) -> int:
    """Settle claims whose sender is gone (lease over, or ``alive`` says its process died).

    One never handed over goes back to the queue (its attempt stays counted); one that was
    being sent becomes ``unknown``. Return how many were settled.
    """
    held = session.exec(
        select(AlertDelivery).where(col(AlertDelivery.status).in_(("claimed", "sending")))
    ).all()
    settled = 0
    for row in held:
        expired = row.lease_until is not None and row.lease_until < now
        if not expired and alive(row.claimed_by):
            continue
        if row.status == "claimed":
            row.status, row.last_error = "failed", "its sender stopped before sending"
        else:
            row.status, row.last_error = "unknown", UNKNOWN_AFTER_LEASE
        row.claimed_by, row.lease_until = None, None
        session.add(row)
        settled += 1
    return settled
