"""The Prefect UI's view of a run, without Prefect: escaping, rows, and the overlap warning."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from flows.artifacts import escape_markdown, match_rows, monitor_markdown, publish_monitor
from flows.settings import Settings
from flows.stages.summaries import MonitorSummary
from storage.report_queries import RunMatchRow

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


class _Runs(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps([{"name": "monitor-2026-12-05T14:00Z"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_run_warns_when_a_monitor_run_is_running(capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli.app import _warn_if_monitor_running

    server = HTTPServer(("127.0.0.1", 0), _Runs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = f"http://127.0.0.1:{server.server_port}/api"
        _warn_if_monitor_running(Settings(PREFECT_API_URL=api))
    finally:
        server.shutdown()
    err = " ".join(capsys.readouterr().err.split())
    assert "monitor-2026-12-05T14:00Z running now" in err
    assert "cancelled by the deployment's concurrency limit" in err
