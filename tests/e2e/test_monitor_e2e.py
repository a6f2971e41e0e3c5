"""The monitor end to end, with real parts: an HTTP site on 127.0.0.1, a real SMTP server,
a real SQLite file and a real Prefect server; `straitwatch run` as a user runs it."""

from __future__ import annotations

import json
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import create_engine, text

from flows.demo import DEMO_SITE, demo_profile_text
from flows.demo_server import serve_site
from flows.tasks import host_limit_name
from tests.conftest import cli_env, run_cli

pytestmark = pytest.mark.e2e


def _subject(message) -> str:  # type: ignore[no-untyped-def]
    return str(make_header(decode_header(message["Subject"])))


def _body(message) -> str:  # type: ignore[no-untyped-def]
    if message.is_multipart():
        parts = [p.get_payload(decode=True) for p in message.walk() if not p.is_multipart()]
        return "\n".join(p.decode("utf-8", "replace") for p in parts if p)
    return message.get_payload(decode=True).decode("utf-8", "replace")


def test_two_outlets_one_email_then_silence(
    tmp_path: Path, smtp_server, prefect_api, database_url: str
) -> None:
    with serve_site(DEMO_SITE) as site:
        profile = tmp_path / "profile.toml"
        profile.write_text(demo_profile_text(site.base_url), encoding="utf-8")
        env = cli_env(
            tmp_path,
            prefect_api,
            STRAITWATCH_DATABASE_URL=database_url,
            STRAITWATCH_APPRISE_URLS=smtp_server.url(),
        )

        first = run_cli(["run", "--profile", str(profile), "--json"], env)
        assert first.returncode == 0, first.stderr[-3000:]
        summary = json.loads(first.stdout.strip().splitlines()[-1])
        (key,) = summary["transitions"]  # one transition, keyed by its confirmation day
        assert key.startswith("escalation:security:20")
        assert summary["alerts_sent"] == 1, summary
        assert summary["matches"] >= 3  # two reports of the step, the reprint, the talk piece
        assert all("entries" in result for result in summary["sources"].values())

        assert len(smtp_server.messages) == 1
        message = smtp_server.messages[0]
        subject = _subject(message)
        assert subject.startswith("Security escalation: ") and len(subject) <= 90, subject
        body = _body(message)
        assert "Stories" in body and "Confirmed " in body
        assert site.base_url + "/harbor-daily/" in body
        assert (
            site.base_url + "/east-sea-wire/" in body or site.base_url + "/capital-ledger/" in body
        )
        assert "s3cretpass" not in first.stdout + first.stderr

        second = run_cli(["run", "--profile", str(profile), "--json"], env)
        assert second.returncode == 0, second.stderr[-3000:]
        again = json.loads(second.stdout.strip().splitlines()[-1])
        assert again["new"] == 0 and again["stored"] == 0
        assert again["transitions"] == [] and again["alerts_sent"] == 0
        assert len(smtp_server.messages) == 1  # nothing is sent twice

        status = run_cli(["status", "--profile", str(profile), "--json"], env)
        assert status.returncode == 0, status.stderr[-3000:]
        state = json.loads(status.stdout)
        assert state["active"] == ["security"]
        assert state["transitions"][0]["space"] == "security"
        assert state["alerts"][0]["status"] == "sent"
        assert "s3cretpass" not in status.stdout
        # Every staged match says what decided its space, and how sure that was.
        staged = [m for m in state["matches"] if m["space"]]
        assert staged and all(m["stage_reason"].startswith(("rule: ", "model: ")) for m in staged)
        assert all(0.0 < m["stage_confidence"] <= 1.0 for m in staged)

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT canonical_url, cluster_id FROM article WHERE relevant")
        ).fetchall()
        urls = [r[0] for r in rows]
        assert len(urls) == len(set(urls))
        assert not any("utm_" in u for u in urls)
        clusters = [r[1] for r in rows]
        assert len(set(clusters)) < len(clusters)  # the wire reprint joined its original
        reasons = {r[0] for r in conn.execute(text("SELECT reason FROM fetch_error"))}
        assert "robots_disallowed" in reasons
        assert "no_body" in reasons
    engine.dispose()

    # Fetching held the host's global concurrency slot, shared by every worker.
    with temporary_settings({PREFECT_API_URL: prefect_api}), get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(host_limit_name("127.0.0.1"))
    assert limit.limit == 1 and limit.active_slots == 0
