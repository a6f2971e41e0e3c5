"""When a digest is due: the latest send time at or before now, in the monitor's zone.

A daily digest for day D is due from ``hour`` on D (local time) and covers the day before
that moment; a weekly one is due from ``hour`` on ``weekday`` and covers the week before.
The period is named by its send day, so every run in it agrees on one key, and the outbox
queues it once. A monitor that was down for several periods sends the latest one only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from extractors.profile import DigestSettings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class DigestPeriod:
    key: str  # digest:day:2026-12-05, digest:week:2026-11-30
    every: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive: the send time
    day: str  # the send day, local (YYYY-MM-DD)


def due_period(now: datetime, settings: DigestSettings, zone: str) -> DigestPeriod:
    """Return the latest digest period whose send time is at or before now."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    step = 7 if settings.every == "week" else 1
    day = local.date()
    if settings.every == "week":
        day -= timedelta(days=(day.weekday() - WEEKDAYS.index(settings.weekday)) % 7)
    send = datetime.combine(day, time(settings.hour), tzinfo=tz)
    if send > local:
        day -= timedelta(days=step)
        send = datetime.combine(day, time(settings.hour), tzinfo=tz)
    start = datetime.combine(day - timedelta(days=step), time(settings.hour), tzinfo=tz)
    return DigestPeriod(
        key=f"digest:{settings.every}:{day.isoformat()}",
        every=settings.every,
        start=start.astimezone(UTC),
        end=send.astimezone(UTC),
        day=day.isoformat(),
    )
