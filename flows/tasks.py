"""Thin Prefect task wrappers: one per pipeline stage, each taking a whole batch.

A failed URL is a field on its stage's result, never a failed task, so tasks carry no
retries of their own; the outbox retries deliveries across runs. Inputs are pages and
values that need no caching, so hashing them is switched off (NO_CACHE).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows import host_slots
from flows.stages import alerts, context, digest, pipeline, sources, tracking
from flows.stages.context import RunContext
from flows.stages.pipeline import Candidate, Fetched


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_batch(run: RunContext, batch: Sequence[Candidate]) -> Fetched:
    """Fetch a batch while holding its hosts' turns, shared by every process that fetches."""
    with host_slots.turns.hold([urlsplit(c.url).hostname or "" for c in batch]):
        return pipeline.fetch_batch(run, batch)


prepare_database = task(name="prepare-database", cache_policy=NO_CACHE)(context.prepare_database)
collect_candidates = task(name="collect-candidates", cache_policy=NO_CACHE)(
    sources.collect_candidates
)
select_new = task(name="select-new", cache_policy=NO_CACHE)(sources.select_new)
extract_batch = task(name="extract-batch", cache_policy=NO_CACHE)(pipeline.extract_batch)
score_batch = task(name="score-batch", cache_policy=NO_CACHE)(pipeline.score_batch)
store_batch = task(name="store-batch", cache_policy=NO_CACHE)(pipeline.store_batch)
update_escalation = task(name="update-escalation", cache_policy=NO_CACHE)(
    tracking.update_escalation
)
deliver_alerts = task(name="deliver-alerts", cache_policy=NO_CACHE)(alerts.deliver_alerts)
rebuild_escalation = task(name="rebuild-escalation", cache_policy=NO_CACHE)(
    tracking.rebuild_escalation
)
check_health = task(name="check-source-health", cache_policy=NO_CACHE)(sources.check_health)
queue_digest = task(name="queue-digest", cache_policy=NO_CACHE)(digest.queue_digest)
