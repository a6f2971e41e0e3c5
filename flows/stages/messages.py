"""The words of an alert: what happened, how sure we are, who reported it, where to read it.

A transition alert is stored as structured facts (its payload): the event in one sentence,
the space and severity, the stories behind it (one per story, not per reprint: its outlets,
one clean link, at most one quoted sentence) and the decision's reason. ``flows.stages.render``
turns those facts into each channel's message; the plain text kept as the alert's body is
the same rendering, for the console, ``status`` and channels that take text.

Article titles and sentences come from the web: every one goes through ``one_line`` so no
CR, LF or control character reaches a subject line or a header of any channel.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypedDict

from extractors.escalation import Transition
from extractors.health import HealthChange
from extractors.profile import Profile
from extractors.urls import reader_link
from storage.outbox import AlertRecord
from storage.tracker import ReportRow

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# Korea and Japan share UTC+9, with no daylight saving time.
KST = timezone(timedelta(hours=9), "KST/JST")
SUBJECT_LIMIT = 90
QUOTE_LIMIT = 240


def one_line(text: str, limit: int = 300) -> str:
    """Return text on one line, control characters folded to spaces, cut at limit."""
    flat = " ".join(_CONTROL.sub(" ", text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def cut_at_word(text: str, limit: int) -> str:
    """Return text on one line and at most limit characters, cut at a word with "…"."""
    flat = one_line(text, 10_000)
    if len(flat) <= limit:
        return flat
    head = flat[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:-—–") + "…"


def both_clocks(at: datetime) -> str:
    """Return a time in UTC and in Korea/Japan time: ``2019-08-22 09:30 UTC (18:30 KST/JST)``."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    local = at.astimezone(KST)
    day = "" if local.date() == at.astimezone(UTC).date() else f"{local:%m-%d} "
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({day}{local:%H:%M} KST/JST)"


def event_label(kind: str, space: str) -> str:
    """Return what moved, for a person: ``Security escalation``, ``De-escalation``."""
    if kind == "escalation":
        return f"{space.capitalize()} escalation" if space else "Escalation"
    if kind == "de-escalation":
        return "De-escalation"
    return kind.capitalize()


def _story_key(report: ReportRow) -> Any:
    # Reprints of one story share a cluster: they are one story, however many outlets.
    return report.cluster_id if report.cluster_id is not None else report.canonical_url


def _quote(report: ReportRow, title: str) -> str:
    for sentence in report.evidence:
        flat = one_line(sentence, 10_000)
        if flat and flat != title:
            return cut_at_word(flat, QUOTE_LIMIT)
    return ""


class StoryFacts(TypedDict):
    """One story in an alert's payload: its first report's title and link, every outlet."""

    title: str
    link: str  # http(s) only, without userinfo or tracking parameters; "" when none
    outlets: list[str]
    at: str  # ISO time of its first report
    quote: str


class TransitionFacts(TypedDict):
    """What a transition alert is rendered from, stored as its payload."""

    kind: str
    space: str
    label: str
    event: str
    episode: int
    severity: str
    at: str
    active: list[str]
    outlets: list[str]
    reason: str
    monitor: str
    stories: list[StoryFacts]


def stories_of(reports: Sequence[ReportRow]) -> list[StoryFacts]:
    """Return one entry per story, the most widely carried first, then the earliest."""
    groups: dict[Any, list[ReportRow]] = {}
    for report in sorted(reports, key=lambda r: (r.at, r.article_id)):
        groups.setdefault(_story_key(report), []).append(report)
    stories: list[StoryFacts] = []
    for members in groups.values():
        first = members[0]
        title = one_line(first.title, 300) or one_line(first.url, 300)
        quote = next((q for q in (_quote(m, title) for m in members) if q), "")
        stories.append(
            StoryFacts(
                title=title,
                link=reader_link(first.url),
                outlets=list(dict.fromkeys(one_line(m.outlet, 80) for m in members)),
                at=first.at.isoformat(),
                quote=quote,
            )
        )
    stories.sort(key=lambda s: (-len(s["outlets"]), s["at"]))
    return stories


def _reason(reports: Sequence[ReportRow]) -> str:
    """Return the decision's reason: a direction rule if one decided, else the model's or
    the cue count's, as stored with the stage (``rule: …``, ``model: security 0.82``)."""
    reasons = [one_line(r.reason, 160) for r in reports if r.reason]
    rules = [r for r in reasons if r.startswith("rule: ")]
    return (rules or reasons or [""])[0]


def why(reason: str) -> str:
    """Return a stored stage reason as a reader's sentence (without its final stop)."""
    kind, _, rest = reason.partition(": ")
    if kind == "rule" and rest:
        return f"the direction rule {rest!r} decided the stage"
    if kind == "model" and rest:
        space, _, confidence = rest.rpartition(" ")
        return f"the stage model chose {space or rest} (confidence {confidence})"
    if kind == "cues" and rest:
        return f"the cue count chose {rest}"
    return reason


def transition_subject(label: str, event: str, outlets: int) -> str:
    """Return the subject: the event first, under SUBJECT_LIMIT characters, cut at a word."""
    tail = f" — {outlets} outlet{'s' if outlets != 1 else ''}" if outlets else ""
    room = SUBJECT_LIMIT - len(label) - len(tail) - 2
    if not event:
        return cut_at_word(f"{label}{tail}", SUBJECT_LIMIT)
    return f"{label}: {cut_at_word(event, max(room, 20))}{tail}"


def transition_text(facts: TransitionFacts) -> str:
    """Return the plain-text body of a transition alert, one fact per line."""
    stories = facts["stories"]
    outlets = len({o for s in stories for o in s["outlets"]})
    active = facts["active"]
    lines = [
        f"{facts['label']} ({facts['severity']})",
        facts["event"],
        "",
        f"Confirmed {both_clocks(datetime.fromisoformat(facts['at']))} by {outlets} "
        f"outlet{'s' if outlets != 1 else ''} in {len(stories)} "
        f"stor{'ies' if len(stories) != 1 else 'y'}.",
        f"Active conflict spaces: {', '.join(active) if active else 'none'}.",
    ]
    if facts["reason"]:
        lines.append(f"Why: {why(facts['reason'])}.")
    lines += ["", "Stories:"]
    for number, story in enumerate(stories, 1):
        day = story["at"][:10]
        lines.append(f"{number}. {story['title']}")
        lines.append(f"   {', '.join(story['outlets'])} · {day}")
        if story["link"]:
            lines.append(f"   {story['link']}")
        if story["quote"]:
            lines.append(f"   “{story['quote']}”")
    return "\n".join(line for line in lines if line is not None)


def compose_transition_alert(
    profile: Profile, transition: Transition, reports: Sequence[ReportRow], active: Sequence[str]
) -> AlertRecord:
    """Return the alert for an escalation or de-escalation, with its evidence."""
    stories = stories_of(reports)
    label = event_label(transition.kind, transition.space)
    event = stories[0]["title"] if stories else ""
    outlets = len({o for s in stories for o in s["outlets"]}) or len(set(transition.outlets))
    facts = TransitionFacts(
        kind=transition.kind,
        space=transition.space,
        label=label,
        event=event,
        episode=transition.episode,
        severity=transition.severity,
        at=transition.at.isoformat(),
        active=list(active),
        outlets=list(transition.outlets),
        reason=_reason(reports),
        monitor=one_line(profile.monitor.title or profile.monitor.name, 120),
        stories=stories,
    )
    tags = (transition.kind, transition.space, transition.severity)
    return AlertRecord(
        key=transition.key,
        kind=transition.kind,
        title=transition_subject(label, event, outlets),
        body=transition_text(facts),
        space=transition.space,
        severity=transition.severity,
        tags=tags,
        payload=dict(facts),
    )


def compose_backfill_summary(
    profile: Profile, start: date, end: date, sources: Sequence[str], transitions: Sequence[Any]
) -> AlertRecord:
    """Return the one alert a backfill sends: the transitions its window holds."""
    subject = profile.monitor.title or profile.monitor.name
    count = f"{len(transitions)} transition{'s' if len(transitions) != 1 else ''}"
    title = cut_at_word(f"Backfill {start} to {end}: {count} — {subject}", SUBJECT_LIMIT)
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
    # The key names what the summary says: a rerun that finds the same transitions is the
    # same summary (not sent again), one that finds others is news and goes out.
    found = hashlib.sha256("\n".join(sorted(t.key for t in transitions)).encode()).hexdigest()
    return AlertRecord(
        key=f"backfill:{start}:{end}:{','.join(sources)}:{found[:12]}",
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
        title=cut_at_word(f"{headline[0].upper()}{headline[1:]} — {subject}", SUBJECT_LIMIT),
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


def compose_health_alerts(
    profile: Profile, changes: Sequence[tuple[HealthChange, str]], all_failing: int = 0
) -> list[AlertRecord]:
    """Return the health notices of one run: one per kind of change, not one per source.

    Several sources failing at once give one notice that lists them; every source failing
    gives one that says the network or DNS is the likely cause. Recoveries roll up alike.
    ``changes`` pairs each change with its source's address; ``all_failing`` is the
    number of configured sources when every one of them is failing now, else 0.
    """
    notices = []
    for kind in ("health", "recovered"):
        group = sorted((c for c in changes if c[0].kind == kind), key=lambda c: c[0].source)
        if len(group) == 1:
            notices.append(compose_health_alert(profile, *group[0]))
        elif group:
            total = all_failing if kind == "health" else 0
            notices.append(_health_rollup(profile, kind, group, total))
    return notices


def _health_rollup(
    profile: Profile, kind: str, group: Sequence[tuple[HealthChange, str]], everything: int
) -> AlertRecord:
    subject = profile.monitor.title or profile.monitor.name
    count = len(group)
    if kind == "recovered":
        headline = f"{count} sources recovered"
        lead = f"{subject}: {count} sources work again."
        severity = "info"
    elif everything:
        headline = f"All {everything} sources are failing: check the network or DNS"
        lead = (
            f"{subject}: every source failed in the same runs, so the cause is most likely "
            "this machine's network, DNS or proxy, not the outlets. Nothing is lost: the "
            "next run that reaches them catches up, and `straitwatch backfill --force` "
            "rebuilds a longer gap."
        )
        severity = "high"
    else:
        headline = f"{count} sources failing: " + ", ".join(c.source for c, _ in group)
        lead = f"{subject}: {count} sources have problems at once."
        severity = "high"
    lines = [lead, ""]
    for change, url in group:
        state = "works again" if kind == "recovered" else f"is {change.problem}: {change.detail}"
        lines.append(f"- {change.source} {one_line(state, 300)}")
        lines.append(f"  {one_line(url, 300)}")
    if kind == "health":
        lines += ["", "One notice per episode; another comes when they recover."]
    keys = sorted(change.key for change, _ in group)
    digest = hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:16]
    return AlertRecord(
        key=f"{kind}:sources:{digest}",
        kind=kind,
        title=cut_at_word(f"{headline} — {subject}", SUBJECT_LIMIT),
        body="\n".join(lines),
        severity=severity,
        tags=("health", kind, severity),
        payload={"changes": keys, "all_failing": bool(everything)},
    )
