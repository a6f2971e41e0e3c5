"""With no network, `straitwatch run` says per source why it could not fetch, says that no
source answered, and fails (exit 3, a Failed flow run) instead of reporting a quiet day."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.net import free_port
from tests.support.paths import REPO

pytestmark = pytest.mark.e2e


def test_unreachable_sources_are_reported_and_the_run_fails(
    tmp_path: Path, prefect_api: str
) -> None:
    dead = free_port()  # nothing listens here: a connection is refused at once
    profile = tmp_path / "offline.toml"
    profile.write_text(
        f'extends = "{REPO / "seeds" / "monitor.toml"}"\n'
        '[fetch]\nallowed_networks = ["127.0.0.0/8"]\n'
        f'[[sources]]\nname = "wire"\nkind = "feed"\nurl = "http://127.0.0.1:{dead}/rss.xml"\n'
        f'[[sources]]\nname = "gdelt"\nkind = "gdelt"\nurl = "http://127.0.0.1:{dead}/doc"\n'
        'query = "Japan Korea"\n',
        encoding="utf-8",
    )
    env = cli_env(tmp_path, prefect_api)
    done = run_cli(["run", "--profile", str(profile), "--json"], env)
    assert done.returncode == 3, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["sources"] == {"wire": "connect_error", "gdelt": "connect_error"}
    assert summary["new"] == 0 and summary["alerts_sent"] == 0
    assert summary["no_source_answered"] is True
    latest = {"limit": 1, "sort": "EXPECTED_START_TIME_DESC"}
    runs = httpx.post(f"{prefect_api}/flow_runs/filter", json=latest).json()
    assert [(run["flow_id"] is not None, run["state_type"]) for run in runs] == [(True, "FAILED")]

    table = run_cli(["run", "--profile", str(profile)], env)
    assert table.returncode == 3
    assert "wire" in table.stdout and "connect_error" in table.stdout
    assert "No source answered: check this machine's network" in " ".join(table.stdout.split())

    status = json.loads(run_cli(["status", "--profile", str(profile), "--json"], env).stdout)
    health = {s["name"]: (s["health"], s["error_streak"]) for s in status["sources"]}
    assert health == {"wire": ("failing", 2), "gdelt": ("failing", 2)}
