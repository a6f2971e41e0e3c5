"""The escalation step of a run: feed newly staged matches to the tracker and queue alerts.

The tracker's state, its transitions and their alerts are written in one transaction, under
the state row's lock, so two runs at once cannot decide the same transition twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from extractors.escalation import DisputeState, EscalationRules, Report, advance
from flows.messages import compose_transition_alert
from flows.pipeline import RunConfig, profile_of
from storage import tracker
from storage.db import make_engine, write_session
from storage.outbox import AlertRecord


@dataclass(frozen=True)
class EscalationOutcome:
    transitions: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    queued_alerts: int = 0
    reports: int = 0


def update_escalation(
    config: RunConfig, now: datetime, *, silent: bool = False, mode: str = "live"
) -> EscalationOutcome:
    """Feed newly staged matches to the tracker; persist state, history and alerts together."""
    profile = profile_of(config)
    monitor = profile.monitor.name
    rules = EscalationRules.from_profile(profile)
    with write_session(make_engine(config.db_url)) as session:
        state = DisputeState.from_json(tracker.lock_dispute_state(session, monitor, now))
        rows = tracker.pending_reports(session, monitor)
        reports = [
            Report(
                key=r.canonical_url,
                cluster=str(r.cluster_id or r.canonical_url),
                outlet=r.outlet,
                at=r.at,
                space=r.space,
                action=r.action,
            )
            for r in rows
        ]
        new_state, transitions = advance(state, reports, now, rules)
        keys = [k for t in transitions for k in t.evidence]
        evidence = tracker.reports_by_keys(session, monitor, keys)
        records, alerts = [], []
        for t in transitions:
            records.append(
                tracker.TransitionRecord(
                    key=t.key,
                    kind=t.kind,
                    space=t.space,
                    episode=t.episode,
                    severity=t.severity,
                    at=t.at,
                    evidence=t.evidence,
                    outlets=t.outlets,
                    active_after=new_state.active,
                    mode=mode,
                )
            )
            alert = compose_transition_alert(
                profile, t, [evidence[k] for k in t.evidence if k in evidence], new_state.active
            )
            alerts.append(
                AlertRecord(**{**alert.__dict__, "status": "silenced" if silent else "pending"})
            )
        tracker.save_escalation(
            session,
            monitor,
            new_state.to_json(),
            records,
            alerts,
            [r.article_id for r in rows],
            now,
        )
    return EscalationOutcome(
        tuple(t.key for t in transitions), new_state.active, 0 if silent else len(alerts), len(rows)
    )
