"""The monitor end to end, with real parts: an HTTP site on 127.0.0.1, a real SMTP server,
a real SQLite file and a real Prefect server; `straitwatch run` as a user runs it."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import httpx
import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import create_engine, text

from flows.artifacts import escape_markdown
from flows.demo.run import DEMO_SITE, demo_profile_text
from flows.demo.server import serve_site
from flows.host_slots import limit_name
from tests.support.cli import cli_env, run_cli
from tests.support.mail import decoded_subject

pytestmark = pytest.mark.e2e
HOSTILE = "[click](http://evil.example/x) <img src=x onerror=alert(1)>"
TALK = "analysts-warn-korea-japan-thaw-could-unravel"


def _hostile_site(tmp_path: Path) -> Path:
    """The demo site, with web text in one matched headline that tries to be Markdown/HTML."""
    root = tmp_path / "site"
    shutil.copytree(DEMO_SITE, root)
    entity = HOSTILE.replace("<", "&lt;").replace(">", "&gt;")
    for page in (root / "harbor-daily" / f"{TALK}.html", root / "feeds" / "harbor-daily.xml"):
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace("without a safety net", f"net {entity}"), encoding="utf-8")
    return root


def _api(prefect_api: str, path: str, body: dict) -> list[dict]:
    answer = httpx.post(f"{prefect_api}/{path}", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()


def _check_the_run_in_prefect(prefect_api: str, summary: dict) -> None:
    """The monitor's flow run as the Prefect UI shows it: name, artifacts, logs."""
    (run,) = _api(
        prefect_api,
        "flow_runs/filter",
        {"flows": {"name": {"any_": ["monitor"]}}, "sort": "START_TIME_DESC", "limit": 1},
    )
    assert re.fullmatch(r"monitor-\d{4}-\d\d-\d\dT\d\d:\d\dZ", run["name"]), run["name"]
    by_run = {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}
    artifacts = {a["key"]: a for a in _api(prefect_api, "artifacts/filter", by_run)}
    assert set(artifacts) == {"monitor-summary", "monitor-new-matches", "monitor-report"}

    markdown = artifacts["monitor-summary"]["data"]
    assert artifacts["monitor-summary"]["type"] == "markdown"
    for name in ("candidates", "new", "stored", "matches", "failed"):
        assert f"| {name} | {summary[name]} |" in markdown
    assert escape_markdown(summary["transitions"][0]) in markdown, markdown
    # The hostile headline is there, as literal text: no link, no image, no HTML.
    assert "net \\[click\\]\\(http\\://evil.example/x\\) &lt;img" in markdown
    assert "](http://evil" not in markdown and "<img" not in markdown

    table = artifacts["monitor-new-matches"]
    rows = json.loads(table["data"])  # a table's rows, as JSON
    assert len(rows) == summary["matches"]
    assert all(r["link"].startswith("http://127.0.0.1:") for r in rows)
    staged = [r for r in rows if r["stage"] != "unstaged"]
    assert staged and all(r["reason"].startswith(("rule: ", "model: ")) for r in staged)
    assert any(r["stage"] == "security/step" for r in rows)

    report = artifacts["monitor-report"]
    # Prefect keeps a link artifact as a Markdown link: [text](file:///…/report.html)
    target = report["data"].rsplit("(", 1)[-1].rstrip(")")
    assert target.startswith("file:///") and target.endswith("/reports/report.html")
    assert Path(target.removeprefix("file://")).is_file()

    logs: list[str] = []
    for _ in range(20):  # the run's last lines may still be on their way
        logs = [
            entry["message"]
            for entry in _api(
                prefect_api, "logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}}
            )
        ]
        if any(line.startswith("summary: ") for line in logs):
            break
        time.sleep(0.5)
    for name, result in summary["sources"].items():
        assert f"source {name}: {result}" in logs
    assert f"summary: candidates {summary['candidates']}, new {summary['new']}," in " ".join(logs)
    assert "s3cretpass" not in " ".join(logs) + markdown


def _body(message) -> str:  # type: ignore[no-untyped-def]
    if message.is_multipart():
        parts = [p.get_payload(decode=True) for p in message.walk() if not p.is_multipart()]
        return "\n".join(p.decode("utf-8", "replace") for p in parts if p)
    return message.get_payload(decode=True).decode("utf-8", "replace")


def test_two_outlets_one_email_then_silence(
    tmp_path: Path, smtp_server, prefect_api, database_url: str
) -> None:
    with serve_site(_hostile_site(tmp_path)) as site:
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
        subject = decoded_subject(message)
        assert subject.startswith("Security escalation: ") and len(subject) <= 90, subject
        body = _body(message)
        assert "Stories" in body and "Confirmed " in body
        assert site.base_url + "/harbor-daily/" in body
        assert (
            site.base_url + "/east-sea-wire/" in body or site.base_url + "/capital-ledger/" in body
        )
        assert "s3cretpass" not in first.stdout + first.stderr
        _check_the_run_in_prefect(prefect_api, summary)

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
        limit = client.read_global_concurrency_limit_by_name(limit_name("127.0.0.1"))
    assert limit.limit == 1 and limit.active_slots == 0
