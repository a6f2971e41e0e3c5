"""The first stages of a run: fetch every due source and keep the candidates not seen yet.

How a source is gathered lives in extractors/gather.py; here are the run's stages around it.
Every source's outcome (entries, not modified, or a recorded reason) updates its fetch
state, so `status` shows which sources are failing. A live run takes a limited number of
new candidates per source (flows/stages/backlog.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from extractors.feeds import CandidateEntry
from extractors.fetch import Fetcher, FetchPolicy
from extractors.gather import Gathered, Remembered, Window, gather
from extractors.health import HealthChange, SourceHealth, health_change
from extractors.profile import Source
from extractors.records import ErrorRecord, SourceOutcome
from extractors.urls import canonical_url, url_key, without_userinfo
from flows.stages.backlog import oldest_first, waiting_reasons
from flows.stages.context import RunContext
from flows.stages.messages import compose_health_alerts
from flows.stages.pipeline import Candidate, log_reasons
from storage import fetch_state
from storage import queries as q
from storage.db import read_session, write_session
from storage.outbox import add_alerts


@dataclass(frozen=True)
class Collected:
    entries: tuple[CandidateEntry, ...]
    outcomes: tuple[SourceOutcome, ...]
    errors: tuple[ErrorRecord, ...]


def collect_candidates(
    run: RunContext,
    now: datetime,
    sources: Sequence[str] | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> Collected:
    """Fetch every due source and parse its candidate entries (extractors/gather.py).

    Live (no window): feeds with conditional GET, GDELT since the source's last success.
    With a window (backfills): GDELT split until under its cap, sitemaps by lastmod, feeds
    for what they still list in the window.
    """
    profile = run.profile
    with read_session(run.engine) as session:
        states = fetch_state.source_states(session, run.monitor)
    due = [s for s in profile.sources if s.enabled and (sources is None or s.name in sources)]
    due = [s for s in due if not _backing_off(states.get(s.name), now)]
    remembered = {
        name: Remembered(state.etag, state.last_modified, state.cursor_at)
        for name, state in states.items()
    }
    gathered = asyncio.run(_gather_all(run.fetch_policy, due, remembered, now, window))
    return Collected(
        entries=tuple(e for g in gathered for e in g.entries),
        outcomes=tuple(g.outcome for g in gathered),
        errors=tuple(e for g in gathered for e in g.errors),
    )


async def _gather_all(
    policy: FetchPolicy,
    due: Sequence[Source],
    remembered: dict[str, Remembered],
    now: datetime,
    window: Window | None,
) -> list[Gathered]:
    """Gather the due sources at once, through one fetcher (its politeness is per run)."""
    async with Fetcher(policy) as fetcher:
        return list(
            await asyncio.gather(
                *(gather(fetcher, s, remembered.get(s.name), now, window) for s in due)
            )
        )


def _backing_off(state: fetch_state.SourceState | None, now: datetime) -> bool:
    return bool(state and state.retry_not_before and state.retry_not_before > now)


def select_new(
    run: RunContext,
    collected: Collected,
    now: datetime,
    record: bool = True,
    limit_per_source: int | None = None,
) -> list[Candidate]:
    """Return candidates never seen (or failed and worth a retry), one per canonical URL.

    With ``record`` (the default) the sources' outcomes and recorded reasons are saved in
    the same transaction; without it nothing is written (dry runs). With
    ``limit_per_source`` (live runs) at most that many are taken from each source, oldest
    first (see ``oldest_first``); backfills take every one, since a finished slice is
    never read again.
    """
    profile = run.profile
    by_key: dict[str, Candidate] = {}
    new_per_source: dict[str, int] = {}
    for entry in collected.entries:
        canonical = canonical_url(entry.url)
        if canonical is None:
            continue
        key = url_key(canonical)
        if key in by_key:
            continue
        by_key[key] = Candidate(
            without_userinfo(entry.url), key, entry.source, entry.title, entry.published
        )
    engine = run.engine
    if not record:
        with read_session(engine) as session:
            fresh = q.unseen_keys(
                session, profile.monitor.name, list(by_key), profile.fetch.max_attempts
            )
        return [c for key, c in by_key.items() if key in fresh]
    with write_session(engine) as session:
        fresh = q.unseen_keys(
            session, profile.monitor.name, list(by_key), profile.fetch.max_attempts
        )
        for candidate in by_key.values():
            if candidate.url_key in fresh:
                new_per_source[candidate.source] = new_per_source.get(candidate.source, 0) + 1
        taken, waiting = oldest_first(
            [c for key, c in by_key.items() if key in fresh], limit_per_source
        )
        errors = [*collected.errors, *waiting_reasons(profile, waiting, limit_per_source)]
        for outcome in collected.outcomes:
            outcome = _with_new(outcome, new_per_source.get(outcome.name, 0))
            fetch_state.record_source_outcome(
                session, profile.monitor.name, outcome, now, validators=False
            )
        q.record_errors(session, profile.monitor.name, errors, now)
    log_reasons(errors)
    return taken


def save_validators(run: RunContext, collected: Collected, now: datetime) -> None:
    """Keep each source's ETag, Last-Modified and window cursor: its candidates are stored."""
    monitor = run.monitor
    with write_session(run.engine) as session:
        for outcome in collected.outcomes:
            if outcome.ok:
                fetch_state.save_validators(session, monitor, outcome, now)


def _with_new(outcome: SourceOutcome, count: int) -> SourceOutcome:
    return replace(outcome, new_entries=count)


def check_health(run: RunContext, now: datetime) -> list[str]:
    """Open or close source-health episodes; queue one alert per change. Return their keys."""
    profile = run.profile
    rules = run.health
    monitor = profile.monitor.name
    configured = {s.name: s for s in profile.sources if s.enabled}
    changes: list[tuple[HealthChange, str]] = []
    with write_session(run.engine) as session:
        states = fetch_state.source_states(session, monitor)
        failing_now = {name for name, state in states.items() if state.health_problem == "failing"}
        for state in states.values():
            source = configured.get(state.name)
            if source is None:
                continue
            change = health_change(
                SourceHealth(
                    name=state.name,
                    error_streak=state.error_streak,
                    last_error=state.last_error,
                    last_new_at=state.last_new_at,
                    expected_interval=timedelta(minutes=source.expected_interval_minutes),
                    open_problem=state.health_problem,
                    episode=state.health_episode,
                ),
                now,
                rules,
            )
            if change is None:
                continue
            fetch_state.set_health_episode(
                session,
                monitor,
                state.name,
                change.problem if change.kind == "health" else None,
                change.episode,
            )
            failing_now.discard(state.name)
            if change.kind == "health" and change.problem == "failing":
                failing_now.add(state.name)
            changes.append((change, source.url))
        every = len(configured) if len(configured) > 1 and set(configured) <= failing_now else 0
        add_alerts(session, monitor, compose_health_alerts(profile, changes, every), now)
    return [change.key for change, _ in changes]
