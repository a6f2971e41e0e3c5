"""Backfill slices: which (start, end) windows of which sources a backfill has finished.

A slice is recorded once its sources all answered, so a rerun skips it and reads again
only what an outage left unfinished.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import BackfillSlice
from storage.queries import insert_ignore


def done_slices(session: Session, monitor: str, sources: str) -> set[tuple[datetime, datetime]]:
    """Return the (start, end) of every finished slice of backfills over these sources."""
    rows = session.exec(
        select(BackfillSlice.start, BackfillSlice.end).where(
            BackfillSlice.monitor == monitor, BackfillSlice.sources == sources
        )
    ).all()
    return {(start, end) for start, end in rows}


def record_slice(
    session: Session,
    monitor: str,
    sources: str,
    start: datetime,
    end: datetime,
    counts: dict[str, int],
    now: datetime,
) -> None:
    """Record a finished backfill slice (once: a rerun of the slice is not recorded twice)."""
    insert_ignore(
        session,
        BackfillSlice,
        [
            {
                "monitor": monitor,
                "sources": sources,
                "start": start,
                "end": end,
                "candidates": counts.get("candidates", 0),
                "stored": counts.get("stored", 0),
                "matches": counts.get("matches", 0),
                "finished_at": now,
            }
        ],
    )


def slices_of(
    session: Session, monitor: str, sources: str, start: datetime, end: datetime
) -> list[BackfillSlice]:
    """Return the finished slices of these sources inside [start, end]."""
    return list(
        session.exec(
            select(BackfillSlice).where(
                BackfillSlice.monitor == monitor,
                BackfillSlice.sources == sources,
                BackfillSlice.start >= start,
                BackfillSlice.end <= end,
            )
        ).all()
    )
