"""The escalation step of a run: feed newly staged matches to the tracker and queue alerts.

The tracker's state, its transitions and their alerts are written in one transaction, under
the state row's lock, so two runs at once cannot decide the same transition twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Protocol

from sqlmodel import Session

from extractors.escalation import DisputeState, EscalationRules, Report, Transition, advance
from extractors.profile import Profile
from flows.stages.context import RunContext
from flows.stages.messages import compose_transition_alert
from storage import tracker
from storage.db import write_session


@dataclass(frozen=True)
class EscalationOutcome:
    transitions: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    queued_alerts: int = 0
    reports: int = 0
    # (key, kind, space, day) of each transition new to the history, for summaries
    decided: tuple[tuple[str, str, str, str], ...] = ()


class StoredReport(Protocol):
    """What a stored, staged article gives the state machine (a tracker or report row)."""

    @property
    def canonical_url(self) -> str: ...
    @property
    def cluster_id(self) -> int | None: ...
    @property
    def outlet(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def space(self) -> str: ...
    @property
    def action(self) -> str: ...


def as_report(row: StoredReport) -> Report:
    """Return a stored article as one report to the state machine (its story: its cluster)."""
    return Report(
        key=row.canonical_url,
        cluster=str(row.cluster_id or row.canonical_url),
        outlet=row.outlet,
        at=row.at,
        space=row.space,
        action=row.action,
    )


def _persist(
    session: Session,
    profile: Profile,
    state: DisputeState,
    decided: Sequence[tuple[Transition, tuple[str, ...]]],
    rows: Sequence[tracker.ReportRow],
    now: datetime,
    mode: str,
    quiet_before: datetime | None,
) -> EscalationOutcome:
    """Save the state and each decided transition with its alert, in the caller's transaction.

    One rule decides which alerts are silenced, whoever decided the transition: those whose
    corroboration was reached before ``quiet_before`` (old news, learnt of late or rebuilt
    by a backfill). ``None`` silences nothing.
    """
    monitor = profile.monitor.name
    known = tracker.transition_keys(session, monitor)
    fresh = [(t, active) for t, active in decided if t.key not in known]
    evidence = tracker.reports_by_keys(session, monitor, [k for t, _ in fresh for k in t.evidence])
    records, alerts = [], []
    for t, active in fresh:
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
                active_after=active,
                mode=mode,
            )
        )
        text = compose_transition_alert(
            profile, t, [evidence[k] for k in t.evidence if k in evidence], active
        )
        late = quiet_before is not None and _corroborated_at(t) < quiet_before
        alerts.append(replace(text, status="silenced" if late else "pending"))
    tracker.save_escalation(
        session, monitor, state.to_json(), records, alerts, [r.article_id for r in rows], now
    )
    return EscalationOutcome(
        transitions=tuple(t.key for t, _ in fresh),
        active=state.active,
        queued_alerts=sum(a.status == "pending" for a in alerts),
        reports=len(rows),
        decided=tuple((t.key, t.kind, t.space, t.confirmed_on.isoformat()) for t, _ in fresh),
    )


def update_escalation(run: RunContext, now: datetime, *, mode: str = "live") -> EscalationOutcome:
    """Feed newly staged matches to the tracker; persist state, history and alerts together."""
    profile, rules = run.profile, run.escalation
    with write_session(run.engine) as session:
        state = DisputeState.from_json(
            tracker.lock_dispute_state(session, profile.monitor.name, now)
        )
        rows = tracker.pending_reports(session, profile.monitor.name)
        state, transitions = advance(state, [as_report(r) for r in rows], now, rules)
        return _persist(
            session,
            profile,
            state,
            [(t, state.active) for t in transitions],
            rows,
            now,
            mode,
            quiet_before=now - rules.live_horizon,
        )


def _corroborated_at(transition: Transition) -> datetime:
    return max(transition.evidence_at) if transition.evidence_at else transition.at


def _end_of(day: date, now: datetime) -> datetime:
    return min(datetime.combine(day, time.max, tzinfo=UTC), now)


def rebuild_escalation(
    run: RunContext, now: datetime, *, silent: bool = True, mode: str = "backfill"
) -> EscalationOutcome:
    """Replay every stored stage report in time order, day by day, into a fresh state.

    Used after a backfill: history that arrived late is decided where it belongs, the
    transitions the history lacks are added (those older than the live horizon silenced
    unless asked otherwise, newer ones alerted as a live run would), and the
    state the next live run continues from is the one the whole history leads to.
    """
    profile, rules = run.profile, run.escalation
    with write_session(run.engine) as session:
        tracker.lock_dispute_state(session, profile.monitor.name, now)
        rows = tracker.pending_reports(session, profile.monitor.name, everything=True)
        state, decided = replay_reports(rows, now, rules)
        # Silent means silent about the past: a transition corroborated within the live
        # horizon is today's news, alerted as a live run would have (the rebuild may have
        # taken the reports a live run stored a moment ago and was about to decide on).
        quiet_before = now - rules.live_horizon if silent else None
        return _persist(
            session, profile, state, decided, rows, now, mode, quiet_before=quiet_before
        )


def replay_reports(
    rows: Sequence[tracker.ReportRow], now: datetime, rules: EscalationRules
) -> tuple[DisputeState, list[tuple[Transition, tuple[str, ...]]]]:
    """Replay stored stage reports day by day into a fresh state; pure, nothing is written.

    Return the final state and each transition decided with the spaces active after it.
    """
    by_day: dict[date, list[Report]] = {}
    for row in rows:
        # Every row read here is marked as taken into account, so every one is replayed:
        # a report dated after the rebuild began (published while it ran, or a local
        # time labelled UTC) counts at its own time like any other.
        by_day.setdefault(row.at.date(), []).append(as_report(row))
    state, decided = DisputeState(), []
    for day in sorted(by_day):
        state, transitions = advance(state, by_day[day], _end_of(day, now), rules)
        decided += [(t, state.active) for t in transitions]
    state, transitions = advance(state, [], now, rules)
    decided += [(t, state.active) for t in transitions]
    return state, decided
