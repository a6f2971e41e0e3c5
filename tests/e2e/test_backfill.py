"""Backfills against a GDELT look-alike and two outlets' sitemaps on 127.0.0.1, on SQLite and
on PostgreSQL: window splitting past the 250 cap, 429s, one summary, resumable slices."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flows.backfill import run_backfill
from flows.monitor import AlertConfig
from flows.stages.context import RunConfig
from flows.stages.summaries import BackfillSummary
from tests.e2e.history_site import history_profile, serve_history
from tests.support.db import rows
from tests.support.mail import decoded_subject
from tests.support.paths import REPO

pytestmark = pytest.mark.e2e
DAY = datetime(2019, 8, 22, tzinfo=UTC)
PARENT = str(REPO / "seeds" / "monitor.toml")


def _config(tmp_path: Path, site, database_url: str) -> RunConfig:  # type: ignore[no-untyped-def]
    profile = tmp_path / "history.toml"
    profile.write_text(history_profile(site, PARENT), encoding="utf-8")
    return RunConfig(db_url=database_url, profile_path=profile, batch_size=100, extract_workers=1)


def test_backfill_gets_every_article_once_and_sends_one_summary(
    tmp_path: Path, database_url: str, smtp_server
) -> None:
    with serve_history(DAY, gdelt_articles=600, throttle_every=4) as site:
        config = _config(tmp_path, site, database_url)
        alerts = AlertConfig(urls=(smtp_server.url(),))
        first = run_backfill(config, alerts, date(2019, 8, 21), date(2019, 8, 23))
        api_calls = [r for r in site.requests if r.path.startswith("/api/")]
        second = run_backfill(config, alerts, date(2019, 8, 21), date(2019, 8, 23))

    assert first.processed == 3 and first.stopped_before is None
    assert site.throttled >= 1  # 429s were met, waited out and retried
    assert len(api_calls) > 3 + site.throttled  # the busy day was split under the cap
    stored = {
        u.split(str(site.base_url))[1] for (u,) in rows(database_url, "SELECT url FROM article")
    }
    assert stored == site.all_paths()  # every article of the window, once
    assert first.transitions and first.transitions[0][1:3] == ("escalation", "security")
    assert first.alerts_sent == 1 and len(smtp_server.messages) == 1
    subject = decoded_subject(smtp_server.messages[0])
    assert subject.startswith("Backfill 2019-08-21 to 2019-08-23: 1 transition"), subject

    assert second.processed == 0 and second.skipped == 3
    assert second.alerts_sent == 0 and len(smtp_server.messages) == 1
    assert rows(database_url, "SELECT count(*) FROM article") == [(len(stored),)]
    history = rows(database_url, "SELECT key, mode FROM stage_transition")
    assert history == [(f"escalation:security:{DAY.date()}", "backfill")]
    statuses = dict(rows(database_url, "SELECT kind, status FROM alert_outbox"))
    assert statuses == {"escalation": "silenced", "summary": "sent"}


def test_dry_run_stores_nothing(tmp_path: Path, database_url: str) -> None:
    with serve_history(DAY, gdelt_articles=20, throttle_every=0) as site:
        config = _config(tmp_path, site, database_url)
        summary = run_backfill(
            config,
            AlertConfig(console_fallback=False),
            date(2019, 8, 22),
            date(2019, 8, 22),
            dry_run=True,
        )
    assert summary.fetched == 22 and summary.matches == 2
    assert rows(database_url, "SELECT count(*) FROM article") == [(0,)]
    assert rows(database_url, "SELECT count(*) FROM backfill_slice") == [(0,)]


def test_live_mode_alerts_each_transition(tmp_path: Path, smtp_server) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with serve_history(DAY, gdelt_articles=5, throttle_every=0) as site:
        config = _config(tmp_path, site, url)
        summary = run_backfill(
            config,
            AlertConfig(urls=(smtp_server.url(),)),
            date(2019, 8, 22),
            date(2019, 8, 22),
            alerts="live",
        )
    assert summary.alerts_sent == 1
    assert decoded_subject(smtp_server.messages[0]).startswith("Security escalation: ")
    assert dict(rows(url, "SELECT kind, status FROM alert_outbox")) == {"escalation": "sent"}


def test_json_summary_round_trips(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    with serve_history(DAY, gdelt_articles=3, throttle_every=0) as site:
        summary = run_backfill(
            _config(tmp_path, site, url),
            AlertConfig(console_fallback=False),
            date(2019, 8, 22),
            date(2019, 8, 22),
            alerts="none",
        )
    data = json.loads(summary.model_dump_json())
    assert data["processed"] == 1 and data["window"] == ["2019-08-22", "2019-08-22"]
    assert BackfillSummary.model_validate(data) == summary  # the JSON form reads back whole
    assert summary.alerts_sent == 0


def test_days_read_in_an_outage_stay_unfinished_and_send_no_summary(
    tmp_path: Path, smtp_server
) -> None:
    url = f"sqlite:///{tmp_path / 'outage.db'}"
    alerts = AlertConfig(urls=(smtp_server.url(),))
    down = tmp_path / "down"
    down.mkdir()
    with serve_history(DAY, gdelt_articles=5, throttle_every=0) as gone:
        config = _config(down, gone, url)
    # The server is closed: every source is refused, on 127.0.0.1.
    outage = run_backfill(config, alerts, date(2019, 8, 21), date(2019, 8, 23))
    assert [item.day.isoformat() for item in outage.incomplete] == [
        "2019-08-21",
        "2019-08-22",
        "2019-08-23",
    ]
    assert all(item.failed for item in outage.incomplete)
    assert outage.alerts_sent == 0 and smtp_server.messages == []
    assert rows(url, "SELECT count(*) FROM backfill_slice") == [(0,)]
    assert rows(url, "SELECT count(*) FROM alert_outbox") == [(0,)]
    assert rows(url, "SELECT status FROM run_record") == [("incomplete",)]

    up = tmp_path / "up"
    up.mkdir()
    with serve_history(DAY, gdelt_articles=5, throttle_every=0) as site:
        config = _config(up, site, url)
        rerun = run_backfill(config, alerts, date(2019, 8, 21), date(2019, 8, 23))
        forced = run_backfill(
            config, alerts, date(2019, 8, 21), date(2019, 8, 23), alerts="none", force=True
        )
    assert rerun.incomplete == () and rerun.skipped == 0 and rerun.processed == 3
    assert [t[1:3] for t in rerun.transitions] == [("escalation", "security")]
    assert len(smtp_server.messages) == 1
    assert "1 transition" in decoded_subject(smtp_server.messages[0])
    assert forced.skipped == 0 and forced.processed == 3
