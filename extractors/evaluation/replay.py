"""Timeline replay: feed dated, labelled items to the state machine on a simulated clock.

Each item's ``published`` day is "now" when it is fed; each item is its own story cluster
and its outlet is its host name. ``score_replay`` compares the alerts with a gold list of
real turning points: a required event is hit by an alert of the same kind and space inside
its tolerance window; an escalation alert that matches no event (required or allowed) is
false; de-escalation alerts are never false.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import Any, Protocol

from extractors.escalation import (
    ESCALATION,
    DisputeState,
    EscalationRules,
    Report,
    advance,
)
from extractors.urls import outlet_of, registrable_domain


class ReplayItem(Protocol):
    """What the replay reads of a labelled item (``evaluation.labelled.LabelledItem``)."""

    @property
    def id(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def outlet(self) -> str: ...
    @property
    def published(self) -> str: ...
    @property
    def relevant(self) -> bool | None: ...
    @property
    def space(self) -> str | None: ...
    @property
    def action(self) -> str | None: ...


Classify = Callable[[Any], tuple[bool, str | None, str | None]]


@dataclass(frozen=True)
class ReplayAlert:
    """An alert the monitor would have sent on simulated day ``date``."""

    date: date
    kind: str
    space: str
    evidence: tuple[str, ...]


def outlet_host(outlet: str, url: str = "") -> str:
    """Return the outlet as production counts it: a registrable domain (see ``outlet_of``).

    The outlet field is used when it looks like a host name, else the URL's host; a name
    that is neither stays as it is.
    """
    host = outlet.strip().lower()
    if host and " " not in host and "." in host:
        return registrable_domain(host) or host
    return outlet_of(url) or host


def oracle_classifier(item: Any) -> tuple[bool, str | None, str | None]:
    """Return the item's own labels as ``(relevant, space, action)``."""
    return bool(item.relevant), item.space or None, item.action or None


def replay(items: Sequence[Any], classify: Classify, rules: EscalationRules) -> list[ReplayAlert]:
    """Return the alerts emitted while feeding ``items`` day by day, in time order.

    Items without a full ``YYYY-MM-DD`` published day are skipped; so are items the
    classifier calls irrelevant or leaves without a space or action.
    """
    dated = sorted(
        ((day, item) for item in items if (day := _day(item.published)) is not None),
        key=lambda pair: pair[0],
    )
    state = DisputeState(ladder=rules.ladder)
    alerts: list[ReplayAlert] = []
    for day, group in groupby(dated, key=lambda pair: pair[0]):
        now = datetime.combine(day, time(), tzinfo=UTC)
        reports = [report for _, item in group if (report := _report(item, now, classify))]
        state, transitions = advance(state, reports, now, rules)
        alerts.extend(
            ReplayAlert(day, transition.kind, transition.space, transition.evidence)
            for transition in transitions
        )
    return alerts


def _day(published: str | date) -> date | None:
    if isinstance(published, date):
        return published
    try:
        return date.fromisoformat(published.strip()[:10]) if len(published) >= 10 else None
    except ValueError:
        return None


def _report(item: Any, at: datetime, classify: Classify) -> Report | None:
    relevant, space, action = classify(item)
    if not relevant or space is None or action is None:
        return None
    return Report(
        key=item.id,
        cluster=item.id,
        outlet=outlet_host(item.outlet, item.url),
        at=at,
        space=space,
        action=action,
    )


def score_replay(alerts: Sequence[ReplayAlert], gold: Mapping[str, Any]) -> dict[str, Any]:
    """Return the replay's figures against ``gold`` (the replay README's rule).

    Keys: ``required``, ``hit``, ``missed``, ``false_alerts``, ``alerts`` (counts), and
    ``hits`` (event, first matching alert day, ``delay_days``), ``misses`` (events) and
    ``false`` (alerts), with days as ISO strings so the result prints as JSON.
    """
    before = timedelta(days=gold.get("tolerance_days_before", 1))
    after = timedelta(days=gold.get("tolerance_days_after", 3))
    events = [{**event, "day": date.fromisoformat(event["date"])} for event in gold["events"]]

    def matching(event: Mapping[str, Any]) -> list[ReplayAlert]:
        return [
            alert
            for alert in alerts
            if alert.kind == event["kind"]
            and alert.space == event["space"]
            and event["day"] - before <= alert.date <= event["day"] + after
        ]

    hits, misses = [], []
    for event in (event for event in events if event.get("required")):
        found = matching(event)
        if not found:
            misses.append(_event_json(event))
            continue
        first = min(alert.date for alert in found)
        delay = (first - event["day"]).days
        hits.append({**_event_json(event), "first_alert": first.isoformat(), "delay_days": delay})
    matched = {id(alert) for event in events for alert in matching(event)}
    false = [
        _alert_json(alert)
        for alert in alerts
        if alert.kind == ESCALATION and id(alert) not in matched
    ]
    return {
        "required": len(hits) + len(misses),
        "hit": len(hits),
        "missed": len(misses),
        "false_alerts": len(false),
        "alerts": len(alerts),
        "hits": hits,
        "misses": misses,
        "false": false,
    }


def _event_json(event: Mapping[str, Any]) -> dict[str, Any]:
    return {key: event[key] for key in ("date", "kind", "space", "what") if key in event}


def _alert_json(alert: ReplayAlert) -> dict[str, Any]:
    return {
        "date": alert.date.isoformat(),
        "kind": alert.kind,
        "space": alert.space,
        "evidence": list(alert.evidence),
    }


def alerts_json(alerts: Iterable[ReplayAlert]) -> list[dict[str, Any]]:
    """Return the alerts as JSON-ready mappings, in order."""
    return [_alert_json(alert) for alert in alerts]
