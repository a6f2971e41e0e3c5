"""The monitor: one run over all sources, from feeds to delivered alerts.

``run_monitor`` is the whole run as plain function calls through a ``Steps`` table; the
``monitor`` flow runs it with every stage as a Prefect task. ``straitwatch demo`` runs
the plain table, so a first look needs no Prefect server at all.
"""

from __future__ import annotations

import contextvars
import logging
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from prefect import flow

from extractors.article import quiet_libraries
from extractors.profile import load_profile
from flows.allocator import limit_heap_growth, release_free_memory
from flows.settings import Settings
from flows.stages import alerts, channels, context, digest, pipeline, sources, tracking
from flows.stages.channels import Channel
from flows.stages.context import RunConfig, RunContext
from flows.stages.pipeline import Candidate, Extracted, Fetched, Scored
from flows.stages.sources import Collected
from flows.stages.summaries import BatchCounts, Counts, MonitorSummary
from storage.queries import chunks

log = logging.getLogger("straitwatch")


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go: Apprise URLs and config file, values from Settings."""

    urls: tuple[str, ...] = ()
    config_file: Path | None = None
    console_fallback: bool = True
    max_attempts: int = 5


class CollectCandidates(Protocol):
    def __call__(
        self,
        run: RunContext,
        now: datetime,
        sources: Sequence[str] | None = None,
        window: tuple[datetime, datetime] | None = None,
    ) -> Collected: ...


class SelectNew(Protocol):
    def __call__(
        self,
        run: RunContext,
        collected: Collected,
        now: datetime,
        record: bool = True,
        limit_per_source: int | None = None,
    ) -> list[Candidate]: ...


class StoreBatch(Protocol):
    def __call__(
        self, run: RunContext, scored: Scored, now: datetime, run_id: int | None = None
    ) -> BatchCounts: ...


class UpdateEscalation(Protocol):
    def __call__(
        self, run: RunContext, now: datetime, *, mode: str = "live"
    ) -> tracking.EscalationOutcome: ...


class RebuildEscalation(Protocol):
    def __call__(
        self, run: RunContext, now: datetime, *, silent: bool = True, mode: str = "backfill"
    ) -> tracking.EscalationOutcome: ...


class DeliverAlerts(Protocol):
    def __call__(
        self,
        db_url: str,
        monitor: str,
        channels: Sequence[Channel],
        max_attempts: int,
        now: Callable[[], datetime] = ...,
        monitor_title: str = "",
    ) -> alerts.DeliveryReport: ...


@dataclass(frozen=True)
class Steps:
    """The stage functions a run calls: plain ones (``Steps()``), or the same wrapped as
    Prefect tasks (``prefect_steps()``). Each takes the run's context and values; a stage
    with optional arguments has a callback Protocol, so the type checker holds the plain
    function and its task to the same signature."""

    prepare_database: Callable[[RunContext], None] = context.prepare_database
    collect_candidates: CollectCandidates = sources.collect_candidates
    select_new: SelectNew = sources.select_new
    check_health: Callable[[RunContext, datetime], list[str]] = sources.check_health
    fetch_batch: Callable[[RunContext, Sequence[Candidate]], Fetched] = pipeline.fetch_batch
    extract_batch: Callable[[Fetched, Executor | None], Extracted] = pipeline.extract_batch
    score_batch: Callable[[RunContext, Extracted], Scored] = pipeline.score_batch
    store_batch: StoreBatch = pipeline.store_batch
    update_escalation: UpdateEscalation = tracking.update_escalation
    rebuild_escalation: RebuildEscalation = tracking.rebuild_escalation
    queue_digest: Callable[[RunContext, datetime], str | None] = digest.queue_digest
    deliver_alerts: DeliverAlerts = alerts.deliver_alerts


def prefect_steps() -> Steps:
    """Return the stage table with every stage as a Prefect task."""
    from flows import tasks

    return Steps(
        prepare_database=tasks.prepare_database,
        collect_candidates=tasks.collect_candidates,
        select_new=tasks.select_new,
        check_health=tasks.check_health,
        fetch_batch=tasks.fetch_batch,
        extract_batch=tasks.extract_batch,
        score_batch=tasks.score_batch,
        store_batch=tasks.store_batch,
        update_escalation=tasks.update_escalation,
        rebuild_escalation=tasks.rebuild_escalation,
        queue_digest=tasks.queue_digest,
        deliver_alerts=tasks.deliver_alerts,
    )


def configs_from(
    settings: Settings, profile: str | None = None, extra_networks: Sequence[str] = ()
) -> tuple[RunConfig, AlertConfig]:
    """Return the run and alert configuration values for these settings."""
    run = RunConfig(
        db_url=settings.db_url,
        profile_path=Path(profile or settings.profile).resolve(),
        batch_size=settings.batch_size,
        extract_workers=settings.extract_workers,
        extra_allowed_networks=tuple(extra_networks),
    )
    alert = AlertConfig(
        tuple(settings.apprise_urls),
        settings.apprise_config,
        settings.console_alerts,
        settings.delivery_attempts,
    )
    return run, alert


@contextmanager
def extraction_pool(workers: int) -> Iterator[Executor | None]:
    """Yield a process pool for extraction (None: extract in this process)."""
    if workers <= 1:
        yield None
        return
    # spawn, not fork: forking a process that runs Prefect's threads can deadlock.
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=quiet_libraries
    )
    try:
        # Start every worker now: each imports the extractors (a second or so), while the
        # first batch is being fetched instead of after it.
        for _ in range(workers):
            pool.submit(quiet_libraries)
        yield pool
    finally:
        # The workers wind down (a quarter of a second) while the run tracks and delivers;
        # the process still waits for them before it exits.
        pool.shutdown(wait=False, cancel_futures=True)


def process_batches(
    run: RunContext,
    steps: Steps,
    candidates: Sequence[Candidate],
    pool: Executor | None,
    keep: Callable[[Scored], None],
) -> None:
    """Fetch, extract and score the candidates batch by batch, handing each to ``keep``.

    One batch ahead: the next batch is fetched, and the current one extracted, while the
    previous one is scored and stored, so the extraction workers never wait for the
    database. At most three batches of pages are in memory at once, and the memory of each
    batch goes back to the system once it is stored.
    """
    batches = list(chunks(candidates, run.config.batch_size))
    if not batches:
        return

    def store(scored: Scored) -> None:
        keep(scored)
        release_free_memory()

    def submit(ahead: ThreadPoolExecutor, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        # Each stage runs in the run's context, so a Prefect task stays in its flow run.
        return ahead.submit(contextvars.copy_context().run, fn, *args)

    with ThreadPoolExecutor(3, thread_name_prefix="straitwatch-stage") as ahead:
        fetching = submit(ahead, steps.fetch_batch, run, batches[0])
        extracting: Future[Extracted] | None = None
        for index in range(len(batches)):
            fetched = fetching.result()
            if index + 1 < len(batches):
                fetching = submit(ahead, steps.fetch_batch, run, batches[index + 1])
            current = submit(ahead, steps.extract_batch, fetched, pool)
            if extracting is not None:
                store(steps.score_batch(run, extracting.result()))
            extracting = current
        assert extracting is not None
        store(steps.score_batch(run, extracting.result()))


def run_monitor(
    config: RunConfig,
    alert_config: AlertConfig,
    steps: Steps = Steps(),
    now: datetime | None = None,
) -> MonitorSummary:
    """Run the monitor once; return what it counted, found and sent.

    The pipeline: sources → new → fetch → extract → score → store → track → deliver.
    """
    now = now or datetime.now(UTC)
    quiet_libraries()
    limit_heap_growth()
    run = RunContext.build(config)
    steps.prepare_database(run)
    run_id = context.start_run(run, "monitor", now)
    status, counts, summary = "failed", BatchCounts(), None
    try:
        collected = steps.collect_candidates(run, now)
        candidates = steps.select_new(
            run, collected, now, limit_per_source=run.profile.fetch.max_candidates_per_source
        )
        health = steps.check_health(run, now)
        with extraction_pool(min(config.extract_workers, len(candidates))) as pool:

            def store(scored: Scored) -> None:
                counts.add(steps.store_batch(run, scored, now, run_id))

            process_batches(run, steps, candidates, pool, store)
        # Only now, with every candidate stored, may the feeds answer 304 next time.
        sources.save_validators(run, collected, now)
        escalation = steps.update_escalation(run, now)
        queued_digest = steps.queue_digest(run, now)
        delivery, problems = deliver(run, alert_config, steps)
        summary = MonitorSummary(
            run_id=run_id,
            sources={
                o.name: (o.error or ("not modified" if o.not_modified else f"{o.entries} entries"))
                for o in collected.outcomes
            },
            **Counts.of(len(collected.entries), len(candidates), counts).model_dump(),
            transitions=escalation.transitions,
            source_health=tuple(health),
            digest=queued_digest,
            active=escalation.active,
            alerts_sent=len(delivery.sent),
            alerts_failed=len(delivery.failed),
            alerts_pending=delivery.pending_after,
            channel_problems=tuple(f"{p.name}: {p.reason}" for p in problems),
            no_source_answered=bool(collected.outcomes)
            and not any(o.ok for o in collected.outcomes),
        )
        status = "no source answered" if summary.no_source_answered else "ok"
        return summary
    finally:
        context.finish_run(
            run,
            run_id,
            status,
            (summary if summary is not None else Counts.of(0, 0, counts)).counts(),
            datetime.now(UTC),
        )


def deliver(
    run: RunContext, alert_config: AlertConfig, steps: Steps
) -> tuple[alerts.DeliveryReport, list[channels.ChannelProblem]]:
    """Send what the outbox holds to the configured channels; return what happened."""
    targets, problems = channels.load_channels(
        alert_config.urls, alert_config.config_file, alert_config.console_fallback
    )
    monitor = run.profile.monitor
    delivery = steps.deliver_alerts(
        run.config.db_url,
        monitor.name,
        targets,
        alert_config.max_attempts,
        monitor_title=monitor.title or monitor.name,
    )
    return delivery, problems


class NoSourceAnswered(RuntimeError):
    """Every source due this run failed; the run did its other work but is a failure."""

    def __init__(self, summary: MonitorSummary) -> None:
        reasons = ", ".join(f"{name}: {why}" for name, why in summary.sources.items())
        super().__init__(
            f"no source answered ({reasons}): check this machine's network, DNS or proxy"
        )
        self.summary = summary


def _monitor_run_name() -> str:
    """``monitor-2026-12-04T23:15Z``: the run's scheduled (or creation) time, in UTC."""
    from prefect.runtime import flow_run

    when = flow_run.scheduled_start_time or datetime.now(UTC)
    return "monitor-" + when.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@flow(name="monitor", log_prints=True, flow_run_name=_monitor_run_name)
def monitor(profile: str | None = None) -> MonitorSummary:
    """One monitor run over all sources of the profile (scheduled every 15 minutes).

    The run fails when no source answered, after storing, tracking and alerting as usual.

    Args:
        profile: Path of the monitor profile (TOML). Default: STRAITWATCH_PROFILE, else the
            shipped seeds/monitor.toml.
    """
    from flows.artifacts import publish_monitor
    from flows.run_logs import log_monitor_results, straitwatch_logs_to_run

    settings = Settings()
    run_config, alert_config = configs_from(settings, profile)
    with straitwatch_logs_to_run():
        summary = run_monitor(run_config, alert_config, prefect_steps())
        log_monitor_results(summary)
        publish_monitor(
            settings.model_copy(update={"profile": run_config.profile_path}),
            load_profile(run_config.profile_path).monitor.name,
            run_config.db_url,
            summary,
        )
    if summary.no_source_answered:
        raise NoSourceAnswered(summary)
    return summary
