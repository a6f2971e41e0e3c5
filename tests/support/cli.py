"""Running the installed straitwatch command the way a test needs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.paths import REPO, VENV_BIN


def cli_env(tmp_path: Path, prefect_api: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for running the straitwatch command in a test: no user settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRAITWATCH_")}
    env.update(
        {
            "STRAITWATCH_DATA_DIR": str(tmp_path / "data"),
            "STRAITWATCH_EXTRACT_WORKERS": "1",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "HOME": str(tmp_path),
        }
    )
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    env.update(extra)
    return env


def straitwatch_command() -> str:
    """The installed straitwatch command of this virtualenv (else whichever is on PATH)."""
    return shutil.which("straitwatch", path=str(VENV_BIN)) or "straitwatch"


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the installed straitwatch command; return the finished process."""
    return subprocess.run(  # noqa: S603 - our own command
        [straitwatch_command(), *args],
        env=env,
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
