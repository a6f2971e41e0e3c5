"""The Prefect UI's view of a run, without Prefect: escaping, rows, and the overlap warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.artifacts import escape_markdown, match_rows, monitor_markdown, publish_monitor
from flows.settings import Settings
from flows.stages.summaries import MonitorSummary
from storage.report_queries import RunMatchRow
from tests.support.http import Response, serve

HOSTILE = "Talks [click](http://evil.example/x) <img src=x onerror=alert(1)> | `a` *b* _c_ #d !e"


def test_web_text_cannot_become_markdown_or_html() -> None:
    escaped = escape_markdown(HOSTILE + "\n# heading")
    assert "](http" not in escaped and "<img" not in escaped and "\n" not in escaped
    assert escaped.startswith(r"Talks \[click\]\(http\://evil.example/x\) &lt;img src=x")
    for char in "|`*_#!":
        assert f"\\{char}" in escaped


def test_summary_masks_source_secrets_and_escapes_titles() -> None:
    match = RunMatchRow(HOSTILE, "http://127.0.0.1:1/a(b)", "Wire", "security", "step", "rule: x")
    summary = MonitorSummary(
        run_id=1,
        sources={
            "wire": "12 entries",
            "private": "http_401 at https://user:hunter2@feeds.example/rss?token=abc",
        },
        candidates=12,
        transitions=("escalation:security:2026-12-05",),
        active=("security",),
    )
    text = monitor_markdown(summary, "japan-korea", [match])
    assert "hunter2" not in text and "token=abc" not in text
    assert "1 of 2 sources answered" in text and "| candidates | 12 |" in text
    assert "](http://127.0.0.1:1/a%28b%29)" in text and "<img" not in text
    (row,) = match_rows([match])
    assert row["stage"] == "security/step" and row["link"] == "http://127.0.0.1:1/a(b)"


def test_no_artifact_outside_a_flow_run(tmp_path: Path) -> None:
    # No flow run, no Prefect server: nothing is published, nothing fails or is written.
    settings = Settings(data_dir=tmp_path)
    publish_monitor(
        settings, "japan-korea", "sqlite:///nowhere.db", MonitorSummary(run_id=1, sources={})
    )
    assert list(tmp_path.iterdir()) == []


def test_run_warns_when_a_monitor_run_is_running(capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli.app import _warn_if_monitor_running

    # Prefect's API as far as the warning reads it: the running monitor flow runs.
    running = Response.of_json([{"name": "monitor-2026-12-05T14:00Z"}])
    with serve(lambda request: running) as api:
        _warn_if_monitor_running(Settings(PREFECT_API_URL=api.url("/api")))
    err = " ".join(capsys.readouterr().err.split())
    assert "monitor-2026-12-05T14:00Z running now" in err
    assert "cancelled by the deployment's concurrency limit" in err
