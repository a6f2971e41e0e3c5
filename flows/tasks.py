"""Thin Prefect task wrappers: one per pipeline stage, each taking a whole batch.

A failed URL is a field on its stage's result, never a failed task, so tasks carry no
retries of their own; the outbox retries deliveries across runs. Inputs are pages and
values that need no caching, so hashing them is switched off (NO_CACHE).
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows import alerts, pipeline, sources, tracking

prepare_database = task(pipeline.prepare_database, name="prepare-database", cache_policy=NO_CACHE)
collect_candidates = task(
    sources.collect_candidates, name="collect-candidates", cache_policy=NO_CACHE
)
select_new = task(sources.select_new, name="select-new", cache_policy=NO_CACHE)
fetch_batch = task(pipeline.fetch_batch, name="fetch-batch", cache_policy=NO_CACHE)
extract_batch = task(pipeline.extract_batch, name="extract-batch", cache_policy=NO_CACHE)
score_batch = task(pipeline.score_batch, name="score-batch", cache_policy=NO_CACHE)
store_batch = task(pipeline.store_batch, name="store-batch", cache_policy=NO_CACHE)
update_escalation = task(
    tracking.update_escalation, name="update-escalation", cache_policy=NO_CACHE
)
deliver_alerts = task(alerts.deliver_alerts, name="deliver-alerts", cache_policy=NO_CACHE)
rebuild_escalation = task(
    tracking.rebuild_escalation, name="rebuild-escalation", cache_policy=NO_CACHE
)
