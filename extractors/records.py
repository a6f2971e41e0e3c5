"""What a run records: the reasons something was not fetched, parsed or stored, and each
source's outcome. Plain values, so the gathering (extractors/gather.py) can return them and
storage (storage/queries.py) can store them without either knowing the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorRecord:
    """One recorded reason: what failed or was skipped, where, and why."""

    stage: str  # source | feed | page | extract | store
    reason: str
    detail: str = ""
    source: str = ""
    url: str = ""
    status_code: int | None = None


@dataclass(frozen=True)
class SourceOutcome:
    """How one source's fetch went in a run; its fetch state is updated from it."""

    name: str
    ok: bool
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    detail: str = ""
    entries: int = 0
    new_entries: int = 0
    retry_after: float | None = None
