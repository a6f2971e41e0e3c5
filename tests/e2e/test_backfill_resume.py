"""`straitwatch backfill` by hand: killed midway it resumes to the same rows as an
uninterrupted run; Ctrl-C stops after the slice in progress and says how to resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.history_site import DAY_OF_STEP, history_profile, serve_history
from tests.support.cli import cli_env, run_cli, straitwatch_command
from tests.support.db import rows
from tests.support.paths import REPO

pytestmark = pytest.mark.e2e
WINDOW = ["--from", "2019-08-18", "--to", "2019-08-23"]  # six day slices


def _snapshot(url: str) -> dict[str, object]:
    return {
        "articles": sorted(rows(url, "SELECT canonical_url, relevant, space FROM article")),
        "slices": rows(url, "SELECT count(*) FROM backfill_slice")[0][0],
        "transitions": rows(url, "SELECT key FROM stage_transition"),
        "alerts": sorted(rows(url, "SELECT kind, status FROM alert_outbox")),
    }


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [straitwatch_command(), *args],
        env=env,
        cwd=REPO,
        text=True,  # noqa: S603
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_slices(url: str, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if rows(url, "SELECT count(*) FROM backfill_slice")[0][0] >= count:
                return
        except Exception:  # noqa: BLE001, S110 - the schema may not exist yet
            pass
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError("the backfill did not reach the slice in time")


@contextmanager
def six_days(tmp_path: Path) -> Iterator[Path]:
    """Serve a six-day history slow enough to kill a backfill mid-way; yield its profile."""
    with serve_history(
        DAY_OF_STEP.replace(day=18), gdelt_articles=60, days=6, throttle_every=0, delay=0.05
    ) as site:
        profile = tmp_path / "history.toml"
        profile.write_text(history_profile(site, str(REPO / "seeds" / "monitor.toml")))
        yield profile


def test_killed_backfill_resumes_to_the_same_rows(
    tmp_path: Path, prefect_api: str, smtp_server
) -> None:
    with six_days(tmp_path) as profile:
        urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("whole", "killed")}

        def env(name: str) -> dict[str, str]:
            return cli_env(
                tmp_path,
                prefect_api,
                STRAITWATCH_DATABASE_URL=urls[name],
                STRAITWATCH_APPRISE_URLS=smtp_server.url(),
                STRAITWATCH_PROFILE=str(profile),
            )

        whole = run_cli(["backfill", *WINDOW, "--json"], env("whole"))
        assert whole.returncode == 0, whole.stderr[-3000:]
        assert json.loads(whole.stdout.strip().splitlines()[-1])["processed"] == 6

        process = _start(["backfill", *WINDOW, "--json"], env("killed"))
        _wait_for_slices(urls["killed"], 2, process)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
        done_before = _snapshot(urls["killed"])["slices"]
        assert 2 <= done_before < 6  # killed midway

        resumed = run_cli(["backfill", *WINDOW, "--json"], env("killed"))
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        summary = json.loads(resumed.stdout.strip().splitlines()[-1])
        assert summary["skipped"] == done_before and summary["processed"] == 6 - done_before

    assert _snapshot(urls["killed"]) == _snapshot(urls["whole"])
    assert _snapshot(urls["whole"])["slices"] == 6
    assert len(smtp_server.messages) == 2  # one summary per database, none twice


def test_ctrl_c_stops_after_the_slice_and_says_how_to_resume(
    tmp_path: Path, prefect_api: str
) -> None:
    with six_days(tmp_path) as profile:
        url = f"sqlite:///{tmp_path / 'ctrlc.db'}"
        env = cli_env(
            tmp_path,
            prefect_api,
            STRAITWATCH_DATABASE_URL=url,
            STRAITWATCH_PROFILE=str(profile),
            STRAITWATCH_CONSOLE_ALERTS="false",
        )
        process = _start(["backfill", *WINDOW], env)
        _wait_for_slices(url, 1, process)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    flat = " ".join(out.split())
    assert "Stopping after the slice in progress" in flat
    assert "Resume with: straitwatch backfill --from 2019-08-18 --to 2019-08-23" in flat
    done = rows(url, "SELECT count(*) FROM backfill_slice")[0][0]
    assert 1 <= done < 6
    assert rows(url, "SELECT count(*) FROM stage_transition") == [(0,)]  # not rebuilt yet


def test_a_backfill_in_an_outage_fails_and_names_the_days(tmp_path: Path, prefect_api: str) -> None:
    import httpx

    with six_days(tmp_path) as profile:
        pass  # the server is closed again: every source is refused on 127.0.0.1
    url = f"sqlite:///{tmp_path / 'outage.db'}"
    env = cli_env(
        tmp_path,
        prefect_api,
        STRAITWATCH_DATABASE_URL=url,
        STRAITWATCH_PROFILE=str(profile),
        STRAITWATCH_CONSOLE_ALERTS="false",
    )
    done = run_cli(["backfill", "--from", "2019-08-22", "--to", "2019-08-23"], env)
    assert done.returncode == 3, done.stderr[-3000:]
    flat = " ".join(done.stdout.split())
    assert "2019-08-22: no answer from" in flat and "2019-08-23: no answer from" in flat
    assert "2 day(s) unfinished" in flat and "No summary was sent" in flat
    assert rows(url, "SELECT count(*) FROM backfill_slice") == [(0,)]
    latest = {"limit": 1, "sort": "EXPECTED_START_TIME_DESC"}
    runs = httpx.post(f"{prefect_api}/flow_runs/filter", json=latest).json()
    assert [run["state_type"] for run in runs] == ["FAILED"]
