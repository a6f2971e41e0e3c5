"""Sample alerts of every kind, composed and rendered as the channels would get them.

``straitwatch alerts preview`` shows them, so a desk can see (and style) what it will
receive before anything happens. The stories are fictional, from the demo's outlets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from extractors.digest import due_period
from extractors.escalation import Transition
from extractors.health import HealthChange
from extractors.profile import DigestSettings, Profile
from flows.stages.digest import compose_digest
from flows.stages.messages import compose_health_alerts, compose_transition_alert
from flows.stages.render import Message, render
from storage.outbox import AlertRecord, PendingAlert
from storage.tracker import ReportRow

KINDS = ("escalation", "de-escalation", "health", "digest")
_AT = datetime(2026, 3, 2, 6, 40, tzinfo=UTC)


def _report(
    n: int,
    outlet: str,
    space: str,
    title: str,
    quote: str,
    cluster_id: int | None = None,
    reason: str = "",
    action: str = "step",
) -> ReportRow:
    host = outlet.lower().replace(" ", "-")
    return ReportRow(
        article_id=n,
        canonical_url=f"https://{host}.example/news/{n}",
        cluster_id=cluster_id,
        outlet=outlet,
        at=_AT - timedelta(hours=4 - n),
        space=space,
        action=action,
        title=title,
        url=f"https://{host}.example/news/{n}?utm_source=rss",
        evidence=(title, quote),
        reason=reason,
    )


def _transition(kind: str, space: str, severity: str, reports: list[ReportRow]) -> Transition:
    return Transition(
        kind=kind,
        space=space,
        at=_AT,
        episode=1,
        evidence=tuple(r.canonical_url for r in reports),
        outlets=tuple(sorted({r.outlet for r in reports})),
        severity=severity,
        evidence_at=(_AT,),
    )


def _escalation(profile: Profile) -> AlertRecord:
    lead = "Seoul suspends military intelligence sharing with Tokyo"
    reports = [
        _report(1, "Harbor Daily", "security", lead, "The pact lapses at midnight.", cluster_id=1,
                reason="rule: security: terminates intelligence-sharing pact"),
        _report(2, "Capital Ledger", "security", lead, "Officials confirmed the notice.",
                cluster_id=1),
        _report(3, "East Sea Wire", "security", "Tokyo protests end of defence data pact",
                "The foreign ministry summoned the ambassador."),
    ]  # fmt: skip
    transition = _transition("escalation", "security", "critical", reports)
    return compose_transition_alert(profile, transition, reports, ["economic", "security"])


def _de_escalation(profile: Profile) -> AlertRecord:
    reports = [
        _report(1, "Harbor Daily", "cooperation", "Tokyo returns Seoul to its trade white list",
                "Export licences are approved again.",
                reason="rule: cooperation: removes export controls"),
        _report(2, "East Sea Wire", "cooperation", "Trade curbs eased as ministers meet",
                "Both sides called it a first step."),
    ]  # fmt: skip
    transition = _transition("de-escalation", "cooperation", "info", reports)
    return compose_transition_alert(profile, transition, reports, ["history"])


def _health(profile: Profile) -> AlertRecord:
    detail = "3 failed attempts in a row (dns: name resolution failed)"
    changes = [
        (HealthChange(name, "health", "failing", 1, detail), f"https://{name}.example/rss.xml")
        for name in ("harbor-daily", "east-sea-wire", "capital-ledger")
    ]
    return compose_health_alerts(profile, changes, all_failing=3)[0]


def _digest(profile: Profile) -> AlertRecord:
    reports = [
        _report(1, "Harbor Daily", "diplomatic", "Foreign ministers to meet next month",
                "No date is set.", action="talk"),
        _report(2, "Capital Ledger", "economic", "Chip makers weigh supply options",
                "Analysts expect little change.", action="talk"),
        _report(3, "East Sea Wire", "", "Student exchange resumes after four years",
                "Forty students arrive in Busan.", action="talk"),
    ]  # fmt: skip
    send = _AT + timedelta(hours=2)  # the morning after the stories
    period = due_period(send, DigestSettings(enabled=True), profile.monitor.timezone)
    return compose_digest(profile, period, reports)


def sample(profile: Profile, kind: str) -> AlertRecord:
    """Return a sample alert of this kind, composed by the production code."""
    makers = {
        "escalation": _escalation,
        "de-escalation": _de_escalation,
        "health": _health,
        "digest": _digest,
    }
    return makers[kind](profile)


def preview(profile: Profile, kind: str) -> Message:
    """Return the sample alert of this kind as channels would receive it."""
    record = sample(profile, kind)
    pending = PendingAlert.unsent(record, _AT)
    return render([pending], profile.monitor.title or profile.monitor.name)
