"""The dispute's active spaces day by day, from staged reports: what the report shades.

Transitions are stored, but the days a space *stayed* active are not: a re-confirmed front
stays open without a new alert, and a quiet one lapses without one. This walks the same
state machine (``advance``) over the reports one day at a time, so the shaded windows agree
with the alerts the tracker sends under the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from extractors.escalation import DisputeState, EscalationRules, Report, advance


@dataclass(frozen=True)
class ActiveWindow:
    """Days ``start`` to ``end`` (both included) during which ``space`` was active."""

    space: str
    start: date
    end: date


def active_windows(
    reports: Iterable[Report],
    rules: EscalationRules,
    first: date,
    last: date,
    clock: timedelta = timedelta(days=1),
) -> list[ActiveWindow]:
    """Return each conflict space's active windows between ``first`` and ``last``.

    Each day's reports are fed at that day's midnight plus ``clock``: by default the end of
    the day, so a report counts on the day it carries; the replay, which stamps reports and
    its clock at midnight, passes zero. Reports before ``first`` still count: a front
    opened the week before the window is open on its first day.
    """
    by_day = sorted(reports, key=lambda report: report.at)
    start = min([first, *(report.at.date() for report in by_day[:1])])
    grouped = {day: list(group) for day, group in groupby(by_day, key=lambda r: r.at.date())}
    state = DisputeState(ladder=rules.ladder)
    opened: dict[str, date] = {}
    windows: list[ActiveWindow] = []
    day = start
    while day <= last:
        now = datetime.combine(day, time(), tzinfo=UTC) + clock
        state, _ = advance(state, grouped.get(day, []), now, rules)
        active = set(state.active)
        for space in active - set(opened):
            opened[space] = day
        for space in set(opened) - active:
            windows.append(_clipped(space, opened.pop(space), day - timedelta(days=1), first))
        day += timedelta(days=1)
    windows.extend(_clipped(space, since, last, first) for space, since in opened.items())
    return sorted(
        (w for w in windows if w.end >= first), key=lambda w: (rules.ladder.index(w.space), w.start)
    )


def _clipped(space: str, start: date, end: date, first: date) -> ActiveWindow:
    return ActiveWindow(space=space, start=max(start, first), end=end)
