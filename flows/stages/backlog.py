"""What waits for the next run: the candidates over a source's limit for one run.

A source may list far more new entries than one run should take: a feed of 100,000
entries is 3.4 MB, under the size cap, and taking them all once cost minutes and a row
per failed page. A live run takes at most the profile's ``[fetch]
max_candidates_per_source`` from each source; the others are not marked seen, so the
next runs take them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from extractors.profile import Profile
from extractors.records import ErrorRecord
from flows.stages.pipeline import Candidate

_UNDATED = datetime.max.replace(tzinfo=UTC)


def oldest_first(
    candidates: Sequence[Candidate], limit: int | None
) -> tuple[list[Candidate], dict[str, int]]:
    """Return at most ``limit`` candidates of each source, oldest first, and how many wait.

    Oldest first, because the candidates left over are taken by the next runs: taking the
    oldest drains a backlog in the order it was published, and every entry is reached
    within a bounded number of runs, whereas newest first would let a source that keeps
    adding more than the limit starve its older entries for ever. A news monitor does
    prefer the freshest, and it gets it in practice: the limit bites only on a flood (a
    first run over a long archive, a misbehaving feed), and a feed lists a few dozen
    entries a run. Undated entries come after the dated ones, in the source's own order.
    """
    if limit is None:
        return list(candidates), {}
    by_source: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_source.setdefault(candidate.source, []).append(candidate)
    taken: list[Candidate] = []
    waiting: dict[str, int] = {}
    for source, group in by_source.items():
        group.sort(key=lambda c: c.published or _UNDATED)  # stable: ties keep source order
        taken += group[:limit]
        if len(group) > limit:
            waiting[source] = len(group) - limit
    return taken, waiting


def waiting_reasons(
    profile: Profile, waiting: dict[str, int], limit: int | None
) -> list[ErrorRecord]:
    """Return one recorded reason per source with candidates left for the next runs."""
    urls = {s.name: s.url for s in profile.sources}
    return [
        ErrorRecord(
            "feed",
            "over_limit",
            f"{count:,} new entries wait for the next runs "
            f"(at most {limit} a source and run, oldest first)",
            source,
            urls.get(source, ""),
        )
        for source, count in waiting.items()
    ]
