"""`straitwatch demo` shows the whole product offline: matches, one alert, then silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import cli_env, run_cli

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
