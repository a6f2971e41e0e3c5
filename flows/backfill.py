"""Backfill: the monitor's stages over a past window, cut into resumable day slices.

Each finished slice is recorded, so an interrupted backfill started again skips what is
done, and the same backfill run twice changes nothing. After the last slice the tracker's
history is rebuilt in time order from every stored report, so the next live run starts
from the right state. By default nobody is woken for the past: transitions found are
recorded silently and one summary alert lists them (``alerts="summary"``); ``"none"``
sends nothing; ``"live"`` alerts each transition as if it were new.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from prefect import flow

from extractors.article import quiet_libraries
from extractors.profile import Profile, load_profile
from flows.allocator import limit_heap_growth
from flows.monitor import (
    AlertConfig,
    Steps,
    configs_from,
    deliver,
    extraction_pool,
    prefect_steps,
    process_batches,
)
from flows.settings import Settings
from flows.stages import context
from flows.stages.context import RunConfig, RunContext
from flows.stages.messages import compose_backfill_summary
from flows.stages.pipeline import Scored
from flows.stages.summaries import (
    BackfillSummary,
    BatchCounts,
    Counts,
    Transition,
    UnfinishedDay,
)
from storage import outbox, slices
from storage.db import read_session, write_session
from storage.status import transitions_between

AlertMode = Literal["summary", "none", "live"]
_MODES: dict[str, AlertMode] = {"summary": "summary", "none": "none", "live": "live"}
ALERT_MODES = tuple(_MODES)


def alert_mode(value: str) -> AlertMode:
    """Return ``value`` as an alert mode; raise ValueError naming the valid ones if it is not."""
    try:
        return _MODES[value]
    except KeyError:
        raise ValueError(f"alerts must be one of {ALERT_MODES}, not {value!r}") from None


# Set (by the CLI on Ctrl-C) to stop after the slice in progress.
STOP = threading.Event()


@dataclass(frozen=True)
class BackfillPlan:
    """The window cut into slices, and the sources it reads."""

    start: date
    end: date
    sources: tuple[str, ...]
    slices: tuple[tuple[datetime, datetime], ...]

    @property
    def key(self) -> str:
        return ",".join(self.sources)


def plan_backfill(
    profile: Profile, start: date, end: date, sources: list[str] | None = None, slice_days: int = 1
) -> BackfillPlan:
    """Return the slices of [start, end] (whole UTC days, end included) and the sources."""
    if end < start:
        raise ValueError(f"the window ends ({end}) before it starts ({start})")
    known = {s.name: s for s in profile.sources if s.enabled}
    if sources:
        unknown = sorted(set(sources) - set(known))
        if unknown:
            raise ValueError(
                f"unknown source(s) {unknown}; valid sources of this profile: {sorted(known)}"
            )
        names = tuple(sorted(set(sources)))
    else:
        names = tuple(sorted(n for n, s in known.items() if s.can_look_back))
    if not names:
        raise ValueError(
            "no source of the profile can look back (gdelt, sitemap, urls): "
            "name feeds with --source to backfill what they still list"
        )
    slices, day = [], start
    while day <= end:
        until = min(day + timedelta(days=slice_days), end + timedelta(days=1))
        slices.append(
            (
                datetime.combine(day, time(0), tzinfo=UTC),
                datetime.combine(until, time(0), tzinfo=UTC),
            )
        )
        day = until
    return BackfillPlan(start, end, names, tuple(slices))


def progress_of(run: RunContext, plan: BackfillPlan) -> dict[str, int]:
    """Return how far a backfill is: slices done, articles stored, matches (for progress bars)."""
    with read_session(run.engine) as session:
        rows = slices.slices_of(
            session, run.monitor, plan.key, plan.slices[0][0], plan.slices[-1][1]
        )
    return {
        "slices": len(rows),
        "stored": sum(r.stored for r in rows),
        "matches": sum(r.matches for r in rows),
    }


def _run_slice(
    run: RunContext,
    steps: Steps,
    plan: BackfillPlan,
    window: tuple[datetime, datetime],
    now: datetime,
    run_id: int | None,
    dry_run: bool,
    pool: Executor | None,
) -> tuple[Counts, dict[str, str]]:
    """Run one slice; return its counts and the sources that did not answer (name: reason).

    The slice is recorded as finished only when every source answered: a slice read during
    an outage is not a day on which nothing happened, and a rerun reads it again.
    """
    collected = steps.collect_candidates(run, min(window[1], now), list(plan.sources), window)
    unanswered = {o.name: o.error or "no answer" for o in collected.outcomes if not o.ok}
    # A past window says nothing of a source's live health: keep its fetch state as it is.
    past = replace(collected, outcomes=())
    candidates = steps.select_new(run, past, now, record=not dry_run)
    counts = BatchCounts()

    def keep(scored: Scored) -> None:
        if dry_run:
            counts.fetched += len(scored.records)
            counts.matches += sum(1 for _, record in scored.records if record.relevant)
        else:
            counts.add(steps.store_batch(run, scored, now, run_id))

    process_batches(run, steps, candidates, pool, keep)
    result = Counts.of(len(collected.entries), len(candidates), counts)
    if not dry_run and not unanswered:
        with write_session(run.engine) as session:
            slices.record_slice(
                session,
                run.monitor,
                plan.key,
                window[0],
                window[1],
                result.counts(),
                now,
            )
    return result, unanswered


def run_backfill(
    config: RunConfig,
    alert_config: AlertConfig,
    start: date,
    end: date,
    sources: list[str] | None = None,
    alerts: AlertMode = "summary",
    dry_run: bool = False,
    steps: Steps | None = None,
    now: datetime | None = None,
    force: bool = False,
) -> BackfillSummary:
    """Backfill [start, end]; return what it did, found and sent.

    Slices finished before are skipped unless ``force``. A slice whose sources did not all
    answer stays unfinished and is listed under ``incomplete``; then no summary is sent (it
    would report an outage as a quiet day) and the history is rebuilt by the rerun.
    """
    alerts = alert_mode(alerts)
    now = now or datetime.now(UTC)
    steps = steps or Steps()
    quiet_libraries()
    limit_heap_growth()
    run = RunContext.build(config)
    steps.prepare_database(run)
    plan = plan_backfill(run.profile, start, end, sources)
    with read_session(run.engine) as session:
        done = (
            slices.done_slices(session, run.monitor, plan.key) if not (dry_run or force) else set()
        )
    run_id = None if dry_run else context.start_run(run, "backfill", now)
    totals, skipped, processed = Counts(), 0, 0
    stopped_at: datetime | None = None
    incomplete: list[UnfinishedDay] = []
    with extraction_pool(config.extract_workers) as pool:
        for window in plan.slices:
            if window in done:
                skipped += 1
                continue
            if STOP.is_set():
                stopped_at = window[0]
                break
            counts, unanswered = _run_slice(run, steps, plan, window, now, run_id, dry_run, pool)
            totals += counts
            if unanswered:
                incomplete.append(UnfinishedDay(day=window[0].date(), failed=unanswered))
            processed += 1
    summary = BackfillSummary(
        run_id=run_id,
        window=(start, end),
        sources=plan.sources,
        dry_run=dry_run,
        **totals.model_dump(),
        slices=len(plan.slices),
        skipped=skipped,
        processed=processed,
        stopped_before=stopped_at.date() if stopped_at else None,
        incomplete=tuple(incomplete),
    )
    if not dry_run and stopped_at is None and not incomplete:
        summary = _finish(run, alert_config, steps, plan, alerts, now, summary)
    if run_id is not None:
        context.finish_run(
            run,
            run_id,
            "stopped" if stopped_at else "incomplete" if incomplete else "ok",
            summary.counts(),
            datetime.now(UTC),
        )
    return summary


def _finish(
    run: RunContext,
    alert_config: AlertConfig,
    steps: Steps,
    plan: BackfillPlan,
    alerts: AlertMode,
    now: datetime,
    summary: BackfillSummary,
) -> BackfillSummary:
    """Rebuild the tracker's history, queue the summary, deliver; return the summary with
    what was decided and sent."""
    escalation = steps.rebuild_escalation(run, now, silent=alerts != "live")
    if alerts == "summary":
        with write_session(run.engine) as session:
            found = transitions_between(session, run.monitor, plan.slices[0][0], plan.slices[-1][1])
            text = compose_backfill_summary(run.profile, plan.start, plan.end, plan.sources, found)
            outbox.add_alerts(session, run.monitor, [text], now)
    delivery = deliver(run, alert_config, steps)[0] if alerts != "none" else None
    return summary.model_copy(
        update={
            "transitions": tuple(Transition(*d) for d in escalation.decided),
            "active": escalation.active,
            "alerts_sent": len(delivery.sent) if delivery else 0,
        }
    )


class BackfillIncomplete(RuntimeError):
    """Some slices were read while their sources did not answer; the run is a failure."""

    def __init__(self, summary: BackfillSummary) -> None:
        days = ", ".join(item.day.isoformat() for item in summary.incomplete)
        super().__init__(
            f"sources did not answer for {days}: those days stay unfinished and no summary "
            "was sent; run the same backfill again to read them"
        )
        self.summary = summary


def _shipped_sources() -> str:
    """Describe the shipped profile's sources for the ``sources`` parameter (read cheaply)."""
    import tomllib

    from flows.settings import DEFAULT_PROFILE

    try:
        found = tomllib.loads(DEFAULT_PROFILE.read_text(encoding="utf-8")).get("sources", [])
    except (OSError, tomllib.TOMLDecodeError):
        return "the profile's source names"
    back = [s["name"] for s in found if s.get("kind") in ("gdelt", "sitemap", "urls")]
    feeds = [s["name"] for s in found if s.get("kind") == "feed"]
    return (
        f"in the shipped profile, those that look back: {', '.join(back)}; feeds (only what "
        f"they still list): {', '.join(feeds)}"
    )


def backfill(
    start: date,
    end: date,
    sources: list[str] | None = None,
    alerts: AlertMode = "summary",
    dry_run: bool = False,
    profile: str | None = None,
    force: bool = False,
) -> BackfillSummary:
    """Rebuild a past window by hand: [start, end] in day slices, resumable, silent by default.

    The run fails (and says which days) when a slice's sources did not all answer.

    Args:
        start: First day of the window, YYYY-MM-DD (UTC).
        end: Last day of the window, YYYY-MM-DD (UTC, included).
        sources: Names of the sources to read; default: every source that can look back
            (gdelt, sitemap, urls). Valid names: {shipped}. An unknown name stops the run at
            once with the list of valid ones.
        alerts: summary (one alert at the end), none, or live (each transition as if new).
        dry_run: Score and report only; store nothing.
        profile: Path of the monitor profile (TOML). Default: STRAITWATCH_PROFILE, else the
            shipped seeds/monitor.toml.
        force: Read again the days a previous backfill finished.
    """
    from flows.artifacts import publish_backfill
    from flows.run_logs import log_backfill_results, straitwatch_logs_to_run

    settings = Settings()
    run_config, alert_config = configs_from(settings, profile)
    with straitwatch_logs_to_run():
        summary = run_backfill(
            run_config,
            alert_config,
            start,
            end,
            sources,
            alerts,
            dry_run,
            prefect_steps(),
            force=force,
        )
        log_backfill_results(summary)
        publish_backfill(
            settings.model_copy(update={"profile": run_config.profile_path}),
            load_profile(run_config.profile_path).monitor.name,
            run_config.db_url,
            summary,
        )
    if summary.incomplete:
        raise BackfillIncomplete(summary)
    return summary


# The docstring names the shipped sources, and Prefect reads it when the flow is made.
backfill.__doc__ = (backfill.__doc__ or "").replace("{shipped}", _shipped_sources())
backfill = flow(name="backfill", log_prints=True, flow_run_name="backfill-{start}..{end}")(backfill)
