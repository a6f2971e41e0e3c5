"""The tables straitwatch remembers things in.

Every table carries the monitor's name, so one database can hold several monitors. Lists and
small structures are JSON columns (SQLite and Postgres both have them). Timestamps are
aware UTC datetimes (SQLModel's UTCDateTime refuses naive ones, which catches mistakes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _json(default: Any = None) -> Any:
    return Field(
        default_factory=lambda: default() if callable(default) else default,
        sa_column=Column(JSON, nullable=True),
    )


class Source(SQLModel, table=True):
    """A configured source and its fetch state."""

    __tablename__ = "source"
    __table_args__ = (UniqueConstraint("monitor", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    name: str
    kind: str
    url: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_at: datetime | None = None
    error_streak: int = 0
    last_error: str | None = None
    last_error_detail: str | None = None
    retry_not_before: datetime | None = None
    # End of the last window whose candidates were all stored (GDELT's next "since").
    cursor_at: datetime | None = None
    # The source-health episode in progress ("failing" or "silent"), and episodes so far.
    health_problem: str | None = None
    health_episode: int = 0
    health: str = "unknown"  # ok | failing | silent | unknown
    entries_seen: int = 0


class StoryCluster(SQLModel, table=True):
    """One story, however many outlets carried it."""

    __tablename__ = "story_cluster"

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    fingerprint: str
    title: str = ""
    first_seen_at: datetime
    article_count: int = 1


class Article(SQLModel, table=True):
    """A fetched and extracted article, relevant or not; the text is kept for matches only."""

    __tablename__ = "article"
    __table_args__ = (UniqueConstraint("monitor", "canonical_url"),)

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    canonical_url: str
    url: str
    source: str = ""
    outlet: str = ""
    title: str = ""
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    published_at: datetime | None = None
    author: str = ""
    sitename: str = ""
    language: str = ""
    fingerprint: str = ""
    cluster_id: int | None = Field(default=None, foreign_key="story_cluster.id", index=True)
    relevant: bool = Field(default=False, index=True)
    relevance_score: float = 0.0
    relevance_reason: str = ""
    matched_topics: list[str] = _json(list)
    relevance_evidence: list[str] = _json(list)
    space: str | None = Field(default=None, index=True)
    action: str | None = None
    stage_evidence: list[str] = _json(list)
    # What decided the space ("rule: cooperation: keeps GSOMIA (…)", "model: economic 0.81")
    # and the model's probability (1.0 for a sure rule; None where cue scores decided).
    stage_reason: str = Field(default="", sa_column_kwargs={"server_default": ""})
    stage_confidence: float | None = None
    first_seen_at: datetime
    # Set when the escalation tracker has taken this article's stage into account.
    escalated_at: datetime | None = Field(default=None, index=True)


class SeenUrl(SQLModel, table=True):
    """Every candidate address met, so a run fetches only what is new (or worth a retry)."""

    __tablename__ = "seen_url"
    __table_args__ = (UniqueConstraint("monitor", "url_key"),)

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    url_key: str
    url: str
    source: str = ""
    status: str  # stored | irrelevant | no_body | failed | skipped
    reason: str | None = None
    attempts: int = 1
    retryable: bool = False
    article_id: int | None = Field(default=None, foreign_key="article.id")
    first_seen_at: datetime
    last_attempt_at: datetime


class FetchError(SQLModel, table=True):
    """A recorded reason why something could not be fetched, parsed or extracted."""

    __tablename__ = "fetch_error"

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    run_id: int | None = Field(default=None, index=True)
    source: str = ""
    url: str = ""
    stage: str  # source | feed | page | extract
    reason: str
    detail: str = ""
    status_code: int | None = None
    at: datetime = Field(index=True)


class DisputeStateRow(SQLModel, table=True):
    """The escalation tracker's state, one row per monitor, updated with its transitions."""

    __tablename__ = "dispute_state"

    monitor: str = Field(primary_key=True)
    state: dict[str, Any] = _json(dict)
    version: int = 0
    updated_at: datetime


class StageTransition(SQLModel, table=True):
    """The stage state history: every escalation and de-escalation decided."""

    __tablename__ = "stage_transition"
    __table_args__ = (UniqueConstraint("monitor", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    key: str
    kind: str
    space: str
    episode: int
    severity: str
    at: datetime = Field(index=True)
    evidence: list[str] = _json(list)
    outlets: list[str] = _json(list)
    active_after: list[str] = _json(list)
    mode: str = "live"  # live | backfill | historical
    created_at: datetime


class AlertOutbox(SQLModel, table=True):
    """An alert to deliver, written in the same transaction as the state change behind it."""

    __tablename__ = "alert_outbox"
    __table_args__ = (UniqueConstraint("monitor", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    key: str
    kind: str  # escalation | de-escalation | summary | health | test
    space: str = ""
    severity: str = "info"
    tags: list[str] = _json(list)
    title: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    payload: dict[str, Any] = _json(dict)
    status: str = Field(default="pending", index=True)  # pending | sent | failed | silenced
    created_at: datetime
    delivered_at: datetime | None = None


class AlertDelivery(SQLModel, table=True):
    """One alert's delivery to one channel: status and attempts, so a retry never resends."""

    __tablename__ = "alert_delivery"
    __table_args__ = (UniqueConstraint("alert_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert_outbox.id", index=True)
    channel: str  # the channel's URL with secrets masked
    # pending | sending (claimed) | sent | failed (refused: retried) | unknown (never resent)
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    claimed_by: str | None = None  # the sender holding it while it sends
    lease_until: datetime | None = None  # past this, a claim still sending is ``unknown``


class BackfillSlice(SQLModel, table=True):
    """A finished slice of a backfill window, so an interrupted backfill resumes."""

    __tablename__ = "backfill_slice"
    __table_args__ = (UniqueConstraint("monitor", "sources", "start", "end"),)

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    sources: str
    start: datetime
    end: datetime
    candidates: int = 0
    stored: int = 0
    matches: int = 0
    finished_at: datetime


class RunRecord(SQLModel, table=True):
    """One monitor or backfill run and what it did."""

    __tablename__ = "run_record"

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    flow: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    counts: dict[str, Any] = _json(dict)


class Correction(SQLModel, table=True):
    """An analyst's correction of an article's decision; the latest per article counts."""

    __tablename__ = "correction"

    id: int | None = Field(default=None, primary_key=True)
    monitor: str = Field(index=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    relevant: bool
    space: str | None = None
    action: str | None = None
    by: str
    at: datetime = Field(index=True)
