"""The dispute over a window as one self-contained HTML file (``straitwatch report``).

The page is drawn from the monitor's database, or (``straitwatch eval replay --report``)
from a replay of dated, labelled items: both build the same plain ``ReportData``.
Matplotlib and Jinja2 are imported when a report is drawn, not when the command loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.settings import Settings

if TYPE_CHECKING:
    from extractors.escalation import EscalationRules
    from extractors.evaluation.replay import ReplayAlert
    from flows.stages.report_page import ReportData, StoryLink
    from storage.report_queries import MatchRow

Classify = Callable[[Any], tuple[bool, str | None, str | None]]


def write_report(data: ReportData, out: Path, charts: Path | None = None) -> int:
    """Render ``data`` to ``out``; return the file's size in bytes.

    ``charts``: where to keep drawn charts for the next report (see ``render_report``)."""
    from flows.stages.report_page import render_report

    out.parent.mkdir(parents=True, exist_ok=True)
    html = render_report(data, charts)
    out.write_text(html, encoding="utf-8")
    return out.stat().st_size


def report_from_database(settings: Settings, first: date, last: date, now: datetime) -> ReportData:
    """Return the report of the profile's monitor for days ``first`` to ``last``."""
    from extractors.escalation import EscalationRules
    from extractors.profile import load_profile
    from extractors.timeline import active_windows
    from flows.stages.report_page import ReportData, SourceTrouble, TransitionEntry
    from flows.stages.tracking import as_report
    from storage import report_queries as rq
    from storage.db import make_engine, migrate, read_session

    loaded = load_profile(settings.profile)
    rules = EscalationRules.from_profile(loaded)
    monitor = loaded.monitor.name
    since, until = _midnight(first), _midnight(last + timedelta(days=1))
    # Fronts opened before the window still shade its first days.
    lookback = since - rules.active_window - rules.confirm_window
    engine = make_engine(settings.db_url)
    migrate(engine)
    with read_session(engine) as session:
        matches = rq.matches_between(session, monitor, lookback, until)
        transitions = rq.transitions_in(session, monitor, since, until)
        evidence = rq.matches_by_keys(
            session, monitor, [key for t in transitions for key in t.evidence]
        )
        errors = rq.source_errors_between(session, monitor, since, until)
        runs = rq.run_times_between(session, monitor, since, until)
        sources = rq.sources_now(session, monitor)

    known = {*rules.ladder, "cooperation"}
    reports = [as_report(m) for m in matches if m.space in known and m.action in ("step", "talk")]
    troubles: dict[tuple[str, date], list[str]] = {}
    for error in errors:
        troubles.setdefault((error.source, error.at.date()), []).append(error.reason)
    return ReportData(
        title=loaded.monitor.title or monitor,
        start=first,
        end=last,
        generated_at=now,
        ladder=rules.ladder,
        windows=tuple(active_windows(reports, rules, first, last)),
        transitions=tuple(
            TransitionEntry(
                kind=t.kind,
                space=t.space,
                severity=t.severity,
                day=t.at.date(),
                outlets=t.outlets,
                stories=_stories_of_matches(t.evidence, evidence),
            )
            for t in transitions
        ),
        daily=_daily((m.at.date(), m.space) for m in matches if m.at >= since),
        origin=f"the monitor '{monitor}'",
        troubles=tuple(
            SourceTrouble(source=s, day=d, failures=len(r), reason=r[-1])
            for (s, d), r in sorted(troubles.items())
        ),
        sources=tuple(sources),
        run_days=tuple(sorted({at.date() for at in runs})),
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _daily(days_and_spaces: Iterable[tuple[date, str]]) -> tuple[Any, ...]:
    from collections import Counter

    from flows.stages.report_page import DailyCount

    counts = Counter(days_and_spaces)
    return tuple(
        DailyCount(day=day, space=space, count=n) for (day, space), n in sorted(counts.items())
    )


def _stories_of_matches(keys: Sequence[str], found: dict[str, MatchRow]) -> tuple[StoryLink, ...]:
    """Return one story per cluster among the evidence, its outlets together, oldest first."""
    from flows.stages.report_page import StoryLink

    stories: dict[str, list[MatchRow]] = {}
    missing: list[str] = []
    for key in keys:
        match = found.get(key)
        if match is None:
            missing.append(key)
            continue
        stories.setdefault(str(match.cluster_id or match.canonical_url), []).append(match)
    links = [
        StoryLink(
            title=rows[0].title,
            outlets=tuple(sorted({row.outlet for row in rows if row.outlet})),
            url=rows[0].url,
        )
        for rows in sorted(stories.values(), key=lambda rows: rows[0].at)
    ]
    return (*links, *(StoryLink(title="", outlets=(), url=key) for key in missing))


def report_from_replay(
    items: Sequence[Any],
    classify: Classify,
    rules: EscalationRules,
    alerts: Sequence[ReplayAlert],
    title: str,
    origin: str,
    now: datetime,
) -> ReportData:
    """Return the report of a replay: the alerts it raised, over the items' days.

    ``classify`` is the replay's own (called once more per item here), so lanes, counts and
    alerts agree. Each item is its own story, as the replay counts them.
    """
    from extractors.escalation import Report
    from extractors.evaluation.replay import outlet_host
    from extractors.timeline import active_windows
    from flows.stages.report_page import ReportData, StoryLink, TransitionEntry

    dated = [(day, item) for item in items if (day := _item_day(item.published)) is not None]
    if not dated:
        raise ValueError("the replay has no dated items")
    by_id = {item.id: item for _, item in dated}
    staged: list[tuple[date, Any, str, str]] = []
    for day, item in dated:
        relevant, space, action = classify(item)
        if relevant and space is not None and action is not None:
            staged.append((day, item, space, action))
    reports = [
        Report(
            key=item.id,
            cluster=item.id,
            outlet=outlet_host(item.outlet, item.url),
            at=_midnight(day),
            space=space,
            action=action,
        )
        for day, item, space, action in staged
    ]
    # The page starts at the first match: stray old items would only add empty years.
    days = [day for day, *_ in staged] or [day for day, _ in dated]
    first, last = min(days), max(days)
    return ReportData(
        title=title,
        start=first,
        end=last,
        generated_at=now,
        ladder=rules.ladder,
        windows=tuple(active_windows(reports, rules, first, last, clock=timedelta(0))),
        transitions=tuple(
            TransitionEntry(
                kind=alert.kind,
                space=alert.space,
                severity=rules.severity(alert.kind, alert.space),
                day=alert.date,
                outlets=tuple(
                    sorted(
                        {
                            outlet_host(by_id[key].outlet, by_id[key].url)
                            for key in alert.evidence
                            if key in by_id
                        }
                    )
                ),
                stories=tuple(
                    StoryLink(
                        title=by_id[key].title,
                        outlets=(outlet_host(by_id[key].outlet, by_id[key].url),),
                        url=by_id[key].url,
                    )
                    for key in alert.evidence
                    if key in by_id
                ),
            )
            for alert in alerts
        ),
        daily=_daily((day, space) for day, _, space, _ in staged),
        origin=origin,
        notes=("A replay feeds dated items to the tracker: there is no source health to show.",),
    )


def _item_day(published: str) -> date | None:
    try:
        return date.fromisoformat(published.strip()[:10])
    except ValueError:
        return None
