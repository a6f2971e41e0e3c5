"""The type checker's verdict: extractors/, storage/ and flows/ are strict (pyproject)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.support.paths import REPO

CHECKED = ["extractors", "storage", "flows"]


def test_every_checked_package_is_strict() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    strict: set[str] = set()
    for override in config.get("overrides", []):
        modules = override["module"]
        modules = [modules] if isinstance(modules, str) else modules
        ours = [m for m in modules if m.split(".")[0] in CHECKED]
        relaxed = [k for k, v in override.items() if k != "module" and v is False]
        assert not (ours and relaxed), f"{ours} relaxed by {relaxed}"
        if override.get("strict") is True:
            strict |= {m.removesuffix(".*") for m in ours}
    assert strict == set(CHECKED)


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
