"""Source health episodes: when a problem opens, when it closes, and never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from extractors.health import HealthRules, SourceHealth, assess, health_change

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
RULES = HealthRules(failing_runs=3, silence_factor=2.0)


def state(
    streak: int = 0, quiet_h: float | None = 1.0, open_problem: str | None = None, episode: int = 0
) -> SourceHealth:
    return SourceHealth(
        name="wire",
        error_streak=streak,
        last_error="timeout" if streak else None,
        last_new_at=None if quiet_h is None else NOW - timedelta(hours=quiet_h),
        expected_interval=timedelta(hours=2),
        open_problem=open_problem,
        episode=episode,
    )


def test_failing_opens_only_at_the_threshold() -> None:
    assert health_change(state(streak=2), NOW, RULES) is None
    change = health_change(state(streak=3), NOW, RULES)
    assert change is not None and (change.kind, change.problem, change.key) == (
        "health",
        "failing",
        "health:wire:1",
    )
    assert "3 failed attempts in a row (timeout)" in change.detail


def test_an_open_episode_is_not_alerted_again() -> None:
    assert health_change(state(streak=9, open_problem="failing", episode=1), NOW, RULES) is None
    # a failing source that also went quiet is still the same episode
    assert (
        health_change(state(streak=9, quiet_h=100, open_problem="failing", episode=1), NOW, RULES)
        is None
    )


def test_recovery_closes_the_episode_with_its_number() -> None:
    change = health_change(state(open_problem="silent", episode=4), NOW, RULES)
    assert change is not None and change.key == "recovered:wire:4"


def test_silence_is_measured_against_the_expected_interval() -> None:
    assert assess(state(quiet_h=3.9), NOW, RULES)[0] is None  # under 2 × 2 h
    problem, why = assess(state(quiet_h=4.5), NOW, RULES)
    assert problem == "silent" and "expected every 2.0 h" in why
    assert assess(state(quiet_h=None), NOW, RULES)[0] is None  # never seen anything new yet
    second = health_change(state(quiet_h=5, episode=4), NOW, RULES)
    assert second is not None and second.key == "health:wire:5"
