"""The storage layer on SQLite and on PostgreSQL: migrations, idempotent writes, clusters,
the tracker's state row, the outbox, and two writers at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from extractors.feeds import CandidateEntry
from extractors.records import SourceOutcome
from extractors.urls import canonical_url, url_key
from flows.stages.context import RunConfig, RunContext
from flows.stages.sources import Collected, select_new
from storage import fetch_state, outbox, tracker
from storage import queries as q
from storage.db import make_engine, migrate, read_session, write_session
from storage.models import AlertOutbox, Article, SeenUrl, StoryCluster
from tests.support.paths import REPO

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _engine(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    migrate(engine)
    return engine


def _record(
    key: str, fingerprint: str = "", relevant: bool = True, **extra: object
) -> q.ArticleRecord:
    values = dict(
        canonical_url=key,
        url=key + "?utm_source=x",
        source="wire",
        outlet="Wire",
        title=f"Title {key}",
        text=f"Body of {key}",
        published_at=NOW,
        author="",
        sitename="",
        language="en",
        fingerprint=fingerprint,
        relevant=relevant,
        relevance_score=0.9,
        relevance_reason="test",
        matched_topics=("gsomia",),
        space="security",
        action="step",
        stage_evidence=("Seoul suspends the pact.",),
    )
    values.update(extra)
    return q.ArticleRecord(**values)  # type: ignore[arg-type]


def _same(a: str, b: str) -> bool:
    return a == b


def test_migrations_run_twice(database_url: str) -> None:
    engine = _engine(database_url)
    migrate(engine)
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(Article)).one() == 0


def test_articles_are_stored_once_and_reprints_share_a_cluster(database_url: str) -> None:
    engine = _engine(database_url)
    records = [
        _record("https://a.example/1", "f1"),
        _record("https://b.example/1", "f1"),
        _record("https://c.example/2", "f2"),
        _record("https://d.example/3", "f3", relevant=False),
    ]
    with write_session(engine) as session:
        first = q.store_articles(session, "m", records, NOW, _same)
    with write_session(engine) as session:
        again = q.store_articles(session, "m", records, NOW + timedelta(hours=1), _same)
    assert [s.created for s in first] == [True] * 4
    assert [s.created for s in again] == [False] * 4
    assert [s.article_id for s in first] == [s.article_id for s in again]
    assert first[0].cluster_id == first[1].cluster_id != first[2].cluster_id
    assert first[3].cluster_id is None  # only matches are clustered
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(Article)).one() == 4
        assert session.exec(select(func.count()).select_from(StoryCluster)).one() == 2
        texts = dict(session.exec(select(Article.canonical_url, Article.text)).all())
    assert texts["https://d.example/3"] == ""  # not a match: its text is not kept


def test_failed_urls_are_retried_until_the_attempts_run_out(database_url: str) -> None:
    engine = _engine(database_url)
    keys = ["k-ok", "k-gone", "k-flaky"]
    with write_session(engine) as session:
        assert q.unseen_keys(session, "m", keys, 2) == set(keys)
        q.record_seen(
            session,
            "m",
            [
                q.SeenRecord("k-ok", "u1", "s", "stored"),
                q.SeenRecord("k-gone", "u2", "s", "failed", "http_404", retryable=False),
                q.SeenRecord("k-flaky", "u3", "s", "failed", "timeout", retryable=True),
            ],
            NOW,
        )
    with write_session(engine) as session:
        assert q.unseen_keys(session, "m", keys, 2) == {"k-flaky"}
        q.record_seen(
            session,
            "m",
            [q.SeenRecord("k-flaky", "u3", "s", "failed", "timeout", retryable=True)],
            NOW,
        )
    with read_session(engine) as session:
        assert q.unseen_keys(session, "m", keys, 2) == set()
        attempts = session.exec(select(SeenUrl.attempts).where(SeenUrl.url_key == "k-flaky")).one()
    assert attempts == 2


def test_source_state_follows_outcomes(database_url: str) -> None:
    engine = _engine(database_url)
    with write_session(engine) as session:
        fetch_state.sync_sources(session, "m", [("wire", "feed", "https://wire.example/rss")])
        fetch_state.record_source_outcome(
            session, "m", SourceOutcome("wire", ok=False, error="http_503", retry_after=120), NOW
        )
        fetch_state.record_source_outcome(
            session, "m", SourceOutcome("wire", ok=False, error="timeout"), NOW
        )
    with read_session(engine) as session:
        state = fetch_state.source_states(session, "m")["wire"]
    assert (state.health, state.error_streak, state.last_error) == ("failing", 2, "timeout")
    assert state.retry_not_before == NOW + timedelta(seconds=120)
    with write_session(engine) as session:
        fetch_state.record_source_outcome(
            session,
            "m",
            SourceOutcome("wire", ok=True, etag='"v2"', entries=5, new_entries=2),
            NOW,
        )
    with read_session(engine) as session:
        state = fetch_state.source_states(session, "m")["wire"]
    assert (state.health, state.error_streak, state.etag, state.last_new_at) == (
        "ok",
        0,
        '"v2"',
        NOW,
    )


def _alert(key: str) -> outbox.AlertRecord:
    return outbox.AlertRecord(
        key=key,
        kind="escalation",
        title="t",
        body="b",
        space="security",
        severity="critical",
        tags=("critical",),
    )


def test_tracker_state_transitions_and_alerts_commit_together(database_url: str) -> None:
    engine = _engine(database_url)
    with write_session(engine) as session:
        ids = [
            s.article_id
            for s in q.store_articles(session, "m", [_record("https://a/1")], NOW, _same)
        ]
    transition = tracker.TransitionRecord(
        key="escalation:security:2026-03-01",
        kind="escalation",
        space="security",
        episode=1,
        severity="critical",
        at=NOW,
        evidence=("https://a/1",),
        outlets=("Wire",),
        active_after=("security",),
        mode="live",
    )
    for _ in range(2):  # the same decision saved twice is one transition and one alert
        with write_session(engine) as session:
            tracker.lock_dispute_state(session, "m", NOW)
            pending = tracker.pending_reports(session, "m")
            tracker.save_escalation(
                session,
                "m",
                {"v": 1},
                [transition],
                [_alert(transition.key)],
                [r.article_id for r in pending],
                NOW,
            )
    with read_session(engine) as session:
        assert tracker.pending_reports(session, "m") == []
        assert tracker.lock_dispute_state(session, "m", NOW) == {"v": 1}
        alerts = outbox.pending_alerts(session, "m")
    assert [a.key for a in alerts] == [transition.key]
    assert pending == [] and ids


def test_deliveries_are_recorded_per_channel(database_url: str) -> None:
    engine = _engine(database_url)
    with write_session(engine) as session:
        outbox.add_alerts(session, "m", [_alert("a"), _alert("b")], NOW)
        ids = [a.id for a in outbox.pending_alerts(session, "m")]
        lease = timedelta(minutes=10)
        assert outbox.claim_deliveries(session, ids, "mail#1", "t1", NOW, lease, 3) == ids
        outbox.finish_deliveries(session, ids, "mail#1", "t1", "sent", None, NOW)
        for token in ("t2", "t3"):
            held = outbox.claim_deliveries(session, ids[:1], "slack#2", token, NOW, lease, 3)
            assert held == ids[:1]
            outbox.finish_deliveries(session, held, "slack#2", token, "failed", "HTTP 500", NOW)
        # a sent delivery is never claimed again, nor one out of attempts
        assert outbox.claim_deliveries(session, ids, "mail#1", "t4", NOW, lease, 3) == []
        assert outbox.claim_deliveries(session, ids[:1], "slack#2", "t5", NOW, lease, 2) == []
    with read_session(engine) as session:
        first = outbox.pending_alerts(session, "m")[0]
    assert first.sent_channels == ("mail#1",)
    assert first.attempts == {"mail#1": 1, "slack#2": 2}
    with write_session(engine) as session:
        outbox.close_alerts(session, ids, "sent", NOW)
    with read_session(engine) as session:
        assert outbox.pending_alerts(session, "m") == []


def test_two_writers_queue_one_alert(database_url: str) -> None:
    """Concurrent runs deciding the same transition: the unique key keeps one row."""
    engine = _engine(database_url)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                with write_session(engine) as session:
                    tracker.lock_dispute_state(session, "m", NOW)
                    outbox.add_alerts(session, "m", [_alert("same-key")], NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(AlertOutbox)).one() == 1


def test_one_refused_row_does_not_cost_the_batch(database_url: str) -> None:
    # A key past PostgreSQL's btree limit (2704 bytes), of characters it cannot compress.
    noise = "".join(f"{n:04x}{(n * 7919) % 65521:05x}" for n in range(400))
    too_long = "https://a.example/" + noise
    records = [_record(too_long, "f1"), _record("https://a.example/good", "f2")]
    engine = _engine(database_url)
    with write_session(engine) as session:
        stored = q.store_articles(session, "m", records, NOW, _same)
    with read_session(engine) as session:
        kept = set(session.exec(select(Article.canonical_url)).all())
    assert "https://a.example/good" in kept
    assert stored[1].created and stored[1].article_id is not None
    if database_url.startswith("postgresql"):
        assert stored[0].article_id is None and "index row size" in stored[0].error
        assert kept == {"https://a.example/good"}
    else:  # SQLite has no such limit
        assert stored[0].created and kept == {too_long, "https://a.example/good"}


def test_a_key_twice_in_one_batch_is_created_once(database_url: str) -> None:
    engine = _engine(database_url)
    records = [_record("https://a.example/1", "f1"), _record("https://a.example/1", "f1")]
    with write_session(engine) as session:
        stored = q.store_articles(session, "m", records, NOW, _same)
    assert [s.created for s in stored] == [True, False]
    assert stored[0].article_id == stored[1].article_id


def test_the_profiles_attempt_limit_decides_retries(tmp_path: Path, database_url: str) -> None:
    _engine(database_url)
    link = "https://news.example.org/2026/03/01/flaky-story"
    key = url_key(canonical_url(link))
    with write_session(make_engine(database_url)) as session:
        failed = q.SeenRecord(key, link, "wire", "failed", "timeout", retryable=True)
        q.record_seen(session, "japan-korea", [failed], NOW)
    entry = CandidateEntry(link, "A flaky story", NOW, "", None, "wire")
    collected = Collected(entries=(entry,), outcomes=(), errors=())
    found = {}
    for limit in (1, 3):
        profile = tmp_path / f"attempts-{limit}.toml"
        profile.write_text(
            f'extends = "{REPO / "seeds" / "monitor.toml"}"\n[fetch]\nmax_attempts = {limit}\n',
            encoding="utf-8",
        )
        run = RunContext.build(RunConfig(db_url=database_url, profile_path=profile))
        found[limit] = [c.url for c in select_new(run, collected, NOW, record=False)]
    assert found == {1: [], 3: [link]}
