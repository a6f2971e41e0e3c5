"""What a run did, found and sent: the typed summaries a monitor run and a backfill return.

The CLI prints them, the demo shows them, the run's logs and Prefect artifacts are written
from them, and ``--json`` is their JSON form (``model_dump_json``), so every reader sees the
same fields with the same types. The run record keeps their counts (``counts``).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict


class BatchCounts(BaseModel):
    """What storing a run's batches did; a run adds each batch's counts to its own."""

    fetched: int = 0
    stored: int = 0
    matches: int = 0
    failed: int = 0
    no_body: int = 0
    duplicates: int = 0

    def add(self, other: BatchCounts) -> None:
        for name in BatchCounts.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Counts(BatchCounts):
    """How many candidates a run saw and what became of them."""

    model_config = ConfigDict(frozen=True)

    candidates: int = 0
    new: int = 0

    @classmethod
    def of(cls, candidates: int, new: int, batches: BatchCounts) -> Counts:
        """Return the counts of a run that listed candidates, found new ones, stored batches."""
        return cls(candidates=candidates, new=new, **batches.model_dump())

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            **{name: getattr(self, name) + getattr(other, name) for name in Counts.model_fields}
        )

    def counts(self) -> dict[str, int]:
        """Return the whole-number fields, as the run record keeps them."""
        return {
            name: value
            for name, value in self.model_dump().items()
            if isinstance(value, int) and not isinstance(value, bool) and name != "run_id"
        }


class MonitorSummary(Counts):
    """One monitor run: what each source answered, the counts, the tracker, the delivery."""

    run_id: int
    # name: "12 entries", "not modified", or the reason the source failed
    sources: dict[str, str]
    transitions: tuple[str, ...] = ()
    source_health: tuple[str, ...] = ()
    digest: str | None = None
    active: tuple[str, ...] = ()
    alerts_sent: int = 0
    alerts_failed: int = 0
    alerts_pending: int = 0
    channel_problems: tuple[str, ...] = ()
    # Every source due this run failed: an outage of ours, not a quiet news day.
    no_source_answered: bool = False


class Transition(NamedTuple):
    """A transition a backfill decided: its key, kind, conflict space and day."""

    key: str
    kind: str
    space: str
    day: str


class UnfinishedDay(BaseModel):
    """A backfill day read while some sources did not answer (name: reason)."""

    model_config = ConfigDict(frozen=True)

    day: date
    failed: dict[str, str]


class BackfillSummary(Counts):
    """One backfill: its window and slices, the counts, what it decided and sent."""

    run_id: int | None
    window: tuple[date, date]
    sources: tuple[str, ...]
    dry_run: bool = False
    slices: int = 0
    skipped: int = 0
    processed: int = 0
    stopped_before: date | None = None
    incomplete: tuple[UnfinishedDay, ...] = ()
    transitions: tuple[Transition, ...] = ()
    active: tuple[str, ...] = ()
    alerts_sent: int = 0
