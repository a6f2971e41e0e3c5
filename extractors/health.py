"""Source health: when a source has failed or gone quiet for long enough to tell someone.

A source is *failing* after ``failing_runs`` failed attempts in a row, and *silent* when
it has brought nothing new for longer than its expected interval times ``silence_factor``.
Each problem opens one episode: one alert when it starts and one "recovered" notice when
it ends, however many runs it lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from extractors.profile import Profile, read_table


class HealthRules(BaseModel):
    """The profile's ``[health]`` table (strict: numbers only, no unknown keys)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    failing_runs: int = Field(default=3, ge=1)
    silence_factor: float = Field(default=2.0, gt=0)

    @classmethod
    def from_profile(cls, profile: Profile) -> HealthRules:
        return read_table(cls, profile.health, "health", str(profile.path))


@dataclass(frozen=True)
class SourceHealth:
    """What the store knows of one source, as far as its health goes."""

    name: str
    error_streak: int
    last_error: str | None
    last_new_at: datetime | None
    expected_interval: timedelta
    open_problem: str | None  # the problem of the episode in progress, if any
    episode: int


@dataclass(frozen=True)
class HealthChange:
    source: str
    kind: str  # "health" (a problem starts) or "recovered" (it ends)
    problem: str  # "failing" | "silent"
    episode: int
    detail: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.source}:{self.episode}"


def assess(health: SourceHealth, now: datetime, rules: HealthRules) -> tuple[str | None, str]:
    """Return the source's problem now ("failing", "silent" or None) and why."""
    if health.error_streak >= rules.failing_runs:
        return "failing", f"{health.error_streak} failed attempts in a row ({health.last_error})"
    if health.last_new_at is not None:
        quiet = now - health.last_new_at
        if quiet > health.expected_interval * rules.silence_factor:
            hours = quiet.total_seconds() / 3600
            return (
                "silent",
                f"nothing new for {hours:.0f} h (expected every "
                f"{health.expected_interval.total_seconds() / 3600:.1f} h)",
            )
    return None, "ok"


def health_change(health: SourceHealth, now: datetime, rules: HealthRules) -> HealthChange | None:
    """Return the episode that opens or closes now, or None while nothing changes."""
    problem, detail = assess(health, now, rules)
    if problem is not None and health.open_problem is None:
        return HealthChange(health.name, "health", problem, health.episode + 1, detail)
    if problem is None and health.open_problem is not None:
        return HealthChange(
            health.name, "recovered", health.open_problem, health.episode, "back to normal"
        )
    return None
