"""The type checker's verdict: extractors/ and storage/ strict, flows/ checked (pyproject)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.paths import REPO

CHECKED = ["extractors", "storage", "flows"]


def test_mypy_accepts_the_checked_packages() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", *CHECKED],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout
