"""The digest stage: once per period, the relevant news that moved no stage, by space.

A monitor run queues the period's digest in the outbox when its send time has passed
(``extractors.digest``); the outbox's unique key makes that once per period, whatever
reruns or crashes happen, and delivery is the same claimed, exactly-once path as every
alert. It goes to the channels tagged ``digest``, or to every channel when none is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from extractors.digest import DigestPeriod, due_period
from extractors.escalation import EscalationRules
from extractors.profile import Profile
from flows.stages.context import RunContext
from flows.stages.messages import (
    SUBJECT_LIMIT,
    StoryFacts,
    both_clocks,
    cut_at_word,
    stories_of,
)
from storage.db import write_session
from storage.digest import digest_articles, digest_queued
from storage.outbox import AlertRecord, add_alerts
from storage.tracker import ReportRow

DIGEST_TAG = "digest"
OTHER = "other"  # relevant articles with no conflict or cooperation stage


class DigestSection(TypedDict):
    """One space's stories in a digest's payload."""

    heading: str
    stories: list[StoryFacts]


def _heading(space: str) -> str:
    if space == OTHER:
        return "Other relevant news"
    return "Cooperation" if space == "cooperation" else f"{space.capitalize()} space"


def compose_digest(
    profile: Profile, period: DigestPeriod, reports: Sequence[ReportRow]
) -> AlertRecord:
    """Return the digest alert: one section per space, one line per story."""
    order = [*EscalationRules.from_profile(profile).ladder, "cooperation"][::-1]
    by_space: dict[str, list[ReportRow]] = {}
    for report in reports:
        by_space.setdefault(report.space or OTHER, []).append(report)
    spaces = sorted(by_space, key=lambda s: order.index(s) if s in order else len(order))
    limit = profile.digest.max_stories
    sections: list[DigestSection] = []
    shown = total = 0
    for space in spaces:
        stories = stories_of(by_space[space])
        total += len(stories)
        kept = stories[: max(0, limit - shown)]
        shown += len(kept)
        if kept:
            sections.append(DigestSection(heading=_heading(space), stories=kept))
    title = profile.monitor.title or profile.monitor.name
    when = "Weekly" if period.every == "week" else "Daily"
    subject = cut_at_word(
        f"{when} digest: {total} stor{'ies' if total != 1 else 'y'} with no stage change — {title}",
        SUBJECT_LIMIT,
    )
    lines = [
        f"{when} digest, {period.day}: relevant news that confirmed no transition.",
        f"From {both_clocks(period.start)} to {both_clocks(period.end)}.",
    ]
    if shown < total:
        lines.append(f"The {shown} most widely carried of {total} stories are listed.")
    for section in sections:
        lines += ["", f"{section['heading']}:"]
        for number, story in enumerate(section["stories"], 1):
            lines.append(f"{number}. {story['title']}")
            lines.append(f"   {', '.join(story['outlets'])} · {story['at'][:10]}")
            if story["link"]:
                lines.append(f"   {story['link']}")
    facts = {
        "kind": "digest",
        "label": f"{when} digest",
        "event": f"{total} stor{'ies' if total != 1 else 'y'} with no stage change",
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "facts": lines[:3] if shown < total else lines[:2],
        "sections": sections,
    }
    return AlertRecord(
        key=period.key,
        kind="digest",
        title=subject,
        body="\n".join(lines),
        severity="info",
        tags=(DIGEST_TAG,),
        payload=facts,
    )


def queue_digest(run: RunContext, now: datetime) -> str | None:
    """Queue the digest of the latest period due, once; return its key if queued now."""
    profile = run.profile
    if not profile.digest.enabled:
        return None
    period = due_period(now, profile.digest, profile.monitor.timezone)
    monitor = profile.monitor.name
    with write_session(run.engine) as session:
        if digest_queued(session, monitor, period.key):
            return None
        reports = digest_articles(session, monitor, period.start, period.end)
        if not reports:
            return None  # nothing to say: no message, and the next period starts afresh
        add_alerts(session, monitor, [compose_digest(profile, period, reports)], now)
    return period.key
