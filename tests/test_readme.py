"""The README tells the truth: its two commands are the ones CI and a newcomer use,
every CLI command is documented, and the run command works (on a local fixture site)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    block = README.split("<!-- commands -->", 1)[1].split("<!-- /commands -->", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", block)


def test_exactly_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    run_command, test_command = commands
    assert run_command.endswith("straitwatch run")
    assert test_command.endswith("python -m pytest")
    # both install the same way from the project's own files
    assert (
        run_command.split("&& .venv/bin/pip install -q -e")[0]
        == test_command.split("&& .venv/bin/pip install -q -e")[0]
    )


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme_commands()[1] in ci


def test_every_cli_command_is_in_the_readme() -> None:
    from typer.main import get_command

    from flows.cli.app import app

    group = get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    missing = [n for n in names if f"straitwatch {n}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


@pytest.mark.e2e
def test_readme_run_command_runs_the_monitor(tmp_path: Path, prefect_api: str) -> None:
    """The run command's last step, as the README writes it, on a local site."""
    from flows.demo.run import DEMO_SITE, demo_profile_text
    from flows.demo.server import serve_site

    executable = readme_commands()[0].rsplit("&& ", 1)[1].split()
    assert executable == [".venv/bin/straitwatch", "run"]
    with serve_site(DEMO_SITE) as site:
        profile = tmp_path / "profile.toml"
        profile.write_text(demo_profile_text(site.base_url), encoding="utf-8")
        env = cli_env(tmp_path, prefect_api, STRAITWATCH_PROFILE=str(profile))
        done = run_cli(["run", "--json"], env)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["matches"] >= 1 and summary["alerts_sent"] == 1
