"""The words of an alert: what moved, why we think so, who reported it, where to read it.

Article titles and sentences come from the web: every one goes through ``one_line`` so no
CR, LF or control character reaches a subject line or a header of any channel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from extractors.escalation import Transition
from extractors.health import HealthChange
from extractors.profile import Profile
from storage.outbox import AlertRecord
from storage.tracker import ReportRow

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def one_line(text: str, limit: int = 300) -> str:
    """Return text on one line, control characters folded to spaces, cut at limit."""
    flat = " ".join(_CONTROL.sub(" ", text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _stories(reports: Sequence[ReportRow]) -> int:
    # Reprints of one story share a cluster: they are one report, however many outlets.
    return len({r.cluster_id if r.cluster_id is not None else r.canonical_url for r in reports})


def _sentences(report: ReportRow) -> list[str]:
    """Return the report's evidence sentences, flattened, without repeats or its headline."""
    title = one_line(report.title, 400)
    unique = dict.fromkeys(one_line(s, 400) for s in report.evidence)
    return [s for s in unique if s and s != title] or ([title] if title else [])


def compose_transition_alert(
    profile: Profile, transition: Transition, reports: Sequence[ReportRow], active: Sequence[str]
) -> AlertRecord:
    """Return the alert for an escalation or de-escalation, with its evidence."""
    subject = profile.monitor.title or profile.monitor.name
    if transition.kind == "escalation":
        headline = f"escalation: the dispute enters the {transition.space} space"
    else:
        headline = "de-escalation: a cooperation step is confirmed"
    title = one_line(f"[straitwatch] {subject} — {headline} ({transition.severity})", 200)
    lines = [
        f"{subject}: {headline}.",
        f"Severity: {transition.severity}. Decided {transition.at:%Y-%m-%d %H:%M} UTC.",
        f"Active conflict spaces now: {', '.join(active) if active else 'none'}.",
        f"Confirmed by {_stories(reports)} independent report(s) from "
        f"{len(set(transition.outlets))} outlet(s): "
        f"{', '.join(one_line(o, 80) for o in transition.outlets)}.",
        "",
        "Evidence:",
    ]
    for report in reports:
        lines.append(
            f"- {one_line(report.outlet, 80)} ({report.at:%Y-%m-%d}): {one_line(report.title, 200)}"
        )
        lines.append(f"  {one_line(report.url, 500)}")
        for sentence in _sentences(report)[:2]:
            lines.append(f'  "{sentence}"')
    payload = {
        "kind": transition.kind,
        "space": transition.space,
        "episode": transition.episode,
        "severity": transition.severity,
        "at": transition.at.isoformat(),
        "active": list(active),
        "outlets": list(transition.outlets),
        "evidence": [
            {
                "url": r.url,
                "outlet": r.outlet,
                "title": one_line(r.title),
                "sentences": [one_line(s, 400) for s in r.evidence[:2]],
            }
            for r in reports
        ],
    }
    tags = (transition.kind, transition.space, transition.severity)
    return AlertRecord(
        key=transition.key,
        kind=transition.kind,
        title=title,
        body="\n".join(lines),
        space=transition.space,
        severity=transition.severity,
        tags=tags,
        payload=payload,
    )


def compose_backfill_summary(
    profile: Profile, start: date, end: date, sources: Sequence[str], transitions: Sequence[Any]
) -> AlertRecord:
    """Return the one alert a backfill sends: the transitions its window holds."""
    subject = profile.monitor.title or profile.monitor.name
    title = one_line(
        f"[straitwatch] {subject} — backfill {start} to {end}: {len(transitions)} transition(s)",
        200,
    )
    lines = [
        f"Backfill of {subject} from {start} to {end} (sources: {', '.join(sources)}).",
        f"{len(transitions)} transition(s) in the rebuilt history of this window:",
        "",
    ]
    lines += [
        f"- {t.at:%Y-%m-%d} {t.kind} {t.space} ({t.severity}): "
        f"{', '.join(one_line(o, 80) for o in t.outlets)}"
        for t in transitions
    ]
    if not transitions:
        lines.append("- none: no space was confirmed in this window.")
    return AlertRecord(
        key=f"backfill:{start}:{end}:{','.join(sources)}",
        kind="summary",
        title=title,
        body="\n".join(lines),
        severity="info",
        tags=("summary",),
        payload={
            "start": str(start),
            "end": str(end),
            "sources": list(sources),
            "transitions": [t.key for t in transitions],
        },
    )


def compose_health_alert(profile: Profile, change: HealthChange, url: str) -> AlertRecord:
    """Return the alert that a source started failing or going quiet, or recovered."""
    subject = profile.monitor.title or profile.monitor.name
    if change.kind == "health":
        headline = f"source {change.source} is {change.problem}"
        body = (
            f"{subject}: the source {change.source} is {change.problem}: {change.detail}.\n"
            f"Address: {one_line(url, 300)}\nThis is one notice for the whole episode; "
            f"another comes when the source recovers. `straitwatch status` shows the "
            f"recorded reasons."
        )
        severity = "high"
    else:
        headline = f"source {change.source} recovered"
        body = f"{subject}: the source {change.source} is no longer {change.problem}."
        severity = "info"
    return AlertRecord(
        key=change.key,
        kind=change.kind,
        title=one_line(f"[straitwatch] {subject} — {headline}", 200),
        body=body,
        severity=severity,
        tags=("health", change.kind, severity),
        payload={
            "source": change.source,
            "problem": change.problem,
            "episode": change.episode,
            "detail": change.detail,
        },
    )
