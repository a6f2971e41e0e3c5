"""The tracker's clock and the history rebuild, on a real database: a run that started before
another one finished goes on, and a rebuild replays every report it marks as taken in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from flows.stages.context import RunConfig, RunContext
from flows.stages.tracking import rebuild_escalation, update_escalation
from storage import queries as q
from storage.db import make_engine, migrate, read_session, write_session
from storage.models import AlertOutbox, Article
from tests.reliability.harness import Tally
from tests.support.paths import REPO

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _config(database_url: str) -> RunContext:
    migrate(make_engine(database_url))
    return RunContext.build(
        RunConfig(db_url=database_url, profile_path=REPO / "seeds" / "monitor.toml")
    )


def _store(database_url: str, key: str, outlet: str, at: datetime) -> None:
    record = q.ArticleRecord(
        canonical_url=f"https://{outlet}.example/{key}",
        url=f"https://{outlet}.example/{key}",
        source="wire",
        outlet=outlet,
        title=f"Seoul suspends the intelligence pact ({key})",
        text="Seoul suspends the intelligence-sharing pact with Tokyo.",
        published_at=at,
        author="",
        sitename="",
        language="en",
        fingerprint=key,
        relevant=True,
        relevance_score=0.9,
        relevance_reason="test",
        matched_topics=("gsomia",),
        space="security",
        action="step",
        stage_evidence=("Seoul suspends the pact.",),
    )
    with write_session(make_engine(database_url)) as session:
        q.store_articles(session, "japan-korea", [record], at, lambda a, b: a == b)


def _unreplayed(database_url: str) -> int:
    with read_session(make_engine(database_url)) as session:
        return len(session.exec(select(Article).where(Article.escalated_at == None)).all())  # noqa: E711


def test_a_run_that_started_before_another_finished_goes_on(
    database_url: str, tally: Tally
) -> None:
    config = _config(database_url)
    _store(database_url, "a", "first", NOW - timedelta(hours=2))
    update_escalation(config, NOW)
    _store(database_url, "b", "second", NOW - timedelta(hours=1))
    # This run fixed its clock 25 s before the first one; it must not fail, and decides.
    outcome = update_escalation(config, NOW - timedelta(seconds=25))
    tally.fault(
        "run clock behind the state",
        survived=True,
        duplicates=0,
        lost=0 if outcome.transitions else 1,
    )
    assert [key.split(":")[1] for key in outcome.transitions] == ["security"]


def test_a_host_clock_stepped_back_two_hours_does_not_stop_runs(
    database_url: str, tally: Tally
) -> None:
    config = _config(database_url)
    update_escalation(config, NOW)
    _store(database_url, "a", "first", NOW - timedelta(hours=3))
    _store(database_url, "b", "second", NOW - timedelta(hours=3))
    outcome = update_escalation(config, NOW - timedelta(hours=2))
    tally.fault(
        "host clock stepped back 2 h",
        survived=True,
        duplicates=max(0, len(outcome.transitions) - 1),
        lost=0 if outcome.transitions else 1,
    )
    assert len(outcome.transitions) == 1
    assert _unreplayed(database_url) == 0


def test_a_rebuild_replays_reports_dated_after_it_began(database_url: str) -> None:
    config = _config(database_url)
    _store(database_url, "a", "first", NOW - timedelta(hours=5))
    # A KST time labelled UTC: nine hours ahead of the rebuild's clock.
    _store(database_url, "b", "second", NOW + timedelta(hours=9))
    outcome = rebuild_escalation(config, NOW, silent=True)
    assert outcome.reports == 2
    assert [key.split(":")[1] for key in outcome.transitions] == ["security"]
    assert _unreplayed(database_url) == 0


def test_a_report_left_out_of_a_rebuild_still_corroborates_later(database_url: str) -> None:
    config = _config(database_url)
    _store(database_url, "a", "first", NOW + timedelta(hours=1))
    rebuilt = rebuild_escalation(config, NOW, silent=True)
    assert rebuilt.transitions == ()
    _store(database_url, "b", "second", NOW + timedelta(hours=2))
    outcome = update_escalation(config, NOW + timedelta(hours=3))
    assert [key.split(":")[1] for key in outcome.transitions] == ["security"]


def test_a_live_run_records_late_news_silently_past_the_live_horizon(
    database_url: str, tmp_path: Path
) -> None:
    profile = tmp_path / "horizon.toml"
    profile.write_text(
        f'extends = "{REPO / "seeds" / "monitor.toml"}"\n[escalation]\nlive_horizon_hours = 2\n',
        encoding="utf-8",
    )
    migrate(make_engine(database_url))
    config = RunContext.build(RunConfig(db_url=database_url, profile_path=profile))
    _store(database_url, "a", "first", NOW - timedelta(hours=4))
    _store(database_url, "b", "second", NOW - timedelta(hours=3))
    outcome = update_escalation(config, NOW)
    assert len(outcome.transitions) == 1 and outcome.queued_alerts == 0
    with read_session(make_engine(database_url)) as session:
        statuses = session.exec(select(AlertOutbox.status)).all()
    assert statuses == ["silenced"]


def test_a_live_run_alerts_news_inside_the_live_horizon(database_url: str) -> None:
    config = _config(database_url)
    _store(database_url, "a", "first", NOW - timedelta(hours=4))
    _store(database_url, "b", "second", NOW - timedelta(hours=3))
    outcome = update_escalation(config, NOW)
    assert len(outcome.transitions) == 1 and outcome.queued_alerts == 1


def _statuses(database_url: str) -> list[str]:
    with read_session(make_engine(database_url)) as session:
        return list(session.exec(select(AlertOutbox.status)).all())


def test_a_silent_rebuild_still_alerts_what_a_live_run_had_just_stored(
    database_url: str, tally: Tally
) -> None:
    # A live run stored both reports a moment ago; a backfill's rebuild takes them in before
    # that run decides. The transition is today's news: silencing it would lose the alert.
    config = _config(database_url)
    _store(database_url, "a", "first", NOW - timedelta(hours=2))
    _store(database_url, "b", "second", NOW - timedelta(hours=1))
    rebuilt = rebuild_escalation(config, NOW, silent=True)
    live = update_escalation(config, NOW + timedelta(minutes=1))
    tally.fault(
        "backfill rebuild takes a live run's fresh reports",
        survived=True,
        duplicates=0,
        lost=0 if rebuilt.queued_alerts == 1 else 1,
    )
    assert len(rebuilt.transitions) == 1 and rebuilt.queued_alerts == 1
    assert live.transitions == () and _statuses(database_url) == ["pending"]


def test_a_silent_rebuild_silences_history_older_than_the_live_horizon(
    database_url: str,
) -> None:
    config = _config(database_url)
    _store(database_url, "a", "first", NOW - timedelta(days=30, hours=2))
    _store(database_url, "b", "second", NOW - timedelta(days=30, hours=1))
    rebuilt = rebuild_escalation(config, NOW, silent=True)
    assert len(rebuilt.transitions) == 1 and rebuilt.queued_alerts == 0
    assert _statuses(database_url) == ["silenced"]


def test_a_rebuild_asked_to_alert_alerts_history_too(database_url: str) -> None:
    config = _config(database_url)
    _store(database_url, "a", "first", NOW - timedelta(days=30, hours=2))
    _store(database_url, "b", "second", NOW - timedelta(days=30, hours=1))
    rebuilt = rebuild_escalation(config, NOW, silent=False)
    assert rebuilt.queued_alerts == 1 and _statuses(database_url) == ["pending"]
