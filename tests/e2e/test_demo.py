"""`straitwatch demo` shows the whole product offline: matches, one alert, then silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.mail import decoded_subject

pytestmark = pytest.mark.e2e


def test_demo_prints_the_alert_and_a_silent_second_run(tmp_path: Path) -> None:
    done = run_cli(["demo"], cli_env(tmp_path), timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = " ".join(done.stdout.replace("│", " ").split())  # Rich wraps at 80 columns
    assert "Security escalation" in out and "Stories:" in out
    assert "robots_disallowed" in out and "no_body" in out
    first, second = out.split("Second run", 1)
    assert "alerts sent 1" in first
    assert "alerts sent 0" in second


def test_demo_send_delivers_to_the_configured_channel(tmp_path: Path, smtp_server) -> None:  # type: ignore[no-untyped-def]
    env = cli_env(tmp_path, STRAITWATCH_APPRISE_URLS=smtp_server.url())
    done = run_cli(["demo", "--send"], env, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(smtp_server.messages) == 1  # the escalation, once; the second run sends nothing
    assert decoded_subject(smtp_server.messages[0]).startswith("Security escalation: ")
    assert "Stories:" not in done.stdout  # not printed to the terminal instead
