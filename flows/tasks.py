"""Thin Prefect task wrappers: one per pipeline stage, each taking a whole batch.

A failed URL is a field on its stage's result, never a failed task, so tasks carry no
retries of their own; the outbox retries deliveries across runs. Inputs are pages and
values that need no caching, so hashing them is switched off (NO_CACHE).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from prefect import get_client, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from flows.stages import alerts, context, digest, pipeline, sources, tracking
from flows.stages.context import RunContext
from flows.stages.pipeline import Candidate, Fetched

HOST_LIMIT_PREFIX = "straitwatch-host-"
_limits_known: set[str] = set()


HOST_SLOT_DECAY = 0.1  # a leaked slot is free again within ten seconds


def host_limit_name(host: str) -> str:
    """Return the Prefect global concurrency limit that guards one host."""
    return HOST_LIMIT_PREFIX + re.sub(r"[^A-Za-z0-9._-]", "-", host.lower())


def _ensure_host_limits(names: Sequence[str]) -> None:
    # One slot per host: whichever worker holds it fetches from that host (with the
    # profile's own per-host concurrency and delay); the others wait their turn.
    missing = [n for n in names if n not in _limits_known]
    if not missing:
        return
    with get_client(sync_client=True) as client:
        for name in missing:
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                try:
                    # Slots decay, so a worker killed while fetching (SIGKILL frees
                    # nothing) does not hold its host for ever.
                    client.create_global_concurrency_limit(
                        GlobalConcurrencyLimitCreate(
                            name=name, limit=1, slot_decay_per_second=HOST_SLOT_DECAY
                        )
                    )
                except ObjectAlreadyExists:
                    pass  # another worker created it first
    _limits_known.update(missing)


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_batch(run: RunContext, batch: Sequence[Candidate]) -> Fetched:
    """Fetch a batch while holding the hosts' global slots, shared by all workers."""
    hosts = sorted({urlsplit(c.url).hostname or "" for c in batch} - {""})
    names = [host_limit_name(h) for h in hosts]
    if not names:
        return pipeline.fetch_batch(run, batch)
    _ensure_host_limits(names)
    with concurrency(names, occupy=1, strict=True):
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
