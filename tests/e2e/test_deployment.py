"""The deployment end to end: `prefect deploy` from deploy/prefect.yaml on a real Prefect
server, a process worker, and a backfill triggered with `prefect deployment run -p …`."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import create_engine, text

from tests.e2e.history_site import DAY_OF_STEP, history_profile, serve_history
from tests.support.cli import cli_env
from tests.support.mail import decoded_subject
from tests.support.paths import REPO, VENV_BIN

pytestmark = pytest.mark.e2e
PREFECT = shutil.which("prefect", path=str(VENV_BIN)) or "prefect"


def _prefect(args: list[str], env: dict[str, str], timeout: float = 240) -> str:
    done = subprocess.run(
        [PREFECT, *args],
        env=env,
        cwd=REPO,
        capture_output=True,  # noqa: S603
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (
        f"prefect {' '.join(args)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    return done.stdout


def test_deploy_worker_and_a_manual_backfill(
    tmp_path: Path, prefect_api: str, smtp_server, database_url: str
) -> None:
    timings: dict[str, float] = {}
    with serve_history(DAY_OF_STEP, gdelt_articles=50, throttle_every=0) as site:
        profile = tmp_path / "history.toml"
        profile.write_text(history_profile(site, str(REPO / "seeds" / "monitor.toml")))
        env = cli_env(
            tmp_path,
            prefect_api,
            STRAITWATCH_DATABASE_URL=database_url,
            STRAITWATCH_APPRISE_URLS=smtp_server.url(),
            STRAITWATCH_PROFILE=str(profile),
            PWD=str(REPO),
        )
        started = time.monotonic()
        _prefect(["work-pool", "create", "straitwatch", "--type", "process", "--overwrite"], env)
        _prefect(["--no-prompt", "deploy", "--prefect-file", "deploy/prefect.yaml", "--all"], env)
        timings["deploy_s"] = time.monotonic() - started

        with (
            temporary_settings({PREFECT_API_URL: prefect_api}),
            get_client(sync_client=True) as client,
        ):
            monitor = client.read_deployment_by_name("monitor/japan-korea")
            # The schedule is checked, then paused, so no monitor run interleaves.
            client.pause_deployment(monitor.id)
        crons = [s.schedule.cron for s in monitor.schedules]  # type: ignore[union-attr]
        assert crons == ["*/15 * * * *"]
        assert monitor.global_concurrency_limit is not None
        assert monitor.global_concurrency_limit.limit == 1

        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(  # noqa: S603 - our own venv's prefect
            [PREFECT, "worker", "start", "--pool", "straitwatch", "--type", "process"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            started = time.monotonic()
            out = _prefect(
                [
                    "deployment",
                    "run",
                    "backfill/japan-korea-backfill",
                    "-p",
                    "start=2019-08-21",
                    "-p",
                    "end=2019-08-23",
                    "--watch",
                    "--watch-timeout",
                    "300",
                ],
                env,
                timeout=360,
            )
            timings["backfill_run_s"] = time.monotonic() - started
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
    worker_log = (tmp_path / "worker.log").read_text(errors="replace")
    assert "Completed" in out, out[-2000:] + worker_log[-3000:]
    print(f"deployment timings: {timings}")

    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM article")).scalar()
        slices = conn.execute(text("SELECT count(*) FROM backfill_slice")).scalar()
        kinds = dict(conn.execute(text("SELECT kind, status FROM alert_outbox")).all())
    engine.dispose()
    assert stored == len(site.all_paths()) and slices == 3
    assert kinds == {"escalation": "silenced", "summary": "sent"}
    assert len(smtp_server.messages) == 1
    assert decoded_subject(smtp_server.messages[0]).startswith("Backfill 2019-08-21 to 2019-08-23")
    assert "s3cretpass" not in worker_log
    _check_the_backfill_in_prefect(prefect_api)


def _post(prefect_api: str, path: str, body: dict) -> list[dict]:
    answer = httpx.post(f"{prefect_api}/{path}", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()


def _check_the_backfill_in_prefect(prefect_api: str) -> None:
    """The backfill's flow run as the Prefect UI shows it: its name, artifacts and logs."""
    named = {"flow_runs": {"name": {"any_": ["backfill-2019-08-21..2019-08-23"]}}}
    (run,) = _post(prefect_api, "flow_runs/filter", {**named, "sort": "START_TIME_DESC"})[:1]
    by_run = {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}
    artifacts = {a["key"]: a for a in _post(prefect_api, "artifacts/filter", by_run)}
    assert set(artifacts) == {"backfill-summary", "backfill-new-matches", "backfill-report"}
    markdown = artifacts["backfill-summary"]["data"]
    assert "| processed | 3 |" in markdown and "| matches | " in markdown
    rows = json.loads(artifacts["backfill-new-matches"]["data"])  # a table's rows, as JSON
    assert rows and all(r["link"].startswith("http://127.0.0.1:") for r in rows)
    assert any(r["stage"] == "security/step" for r in rows)
    assert "file:///" in artifacts["backfill-report"]["data"]
    by_run = {"logs": {"flow_run_id": {"any_": [run["id"]]}}}
    logs = " ".join(e["message"] for e in _post(prefect_api, "logs/filter", by_run))
    assert "source gdelt: answered for every slice read" in logs
    assert "summary: 2019-08-21 to 2019-08-23, slices 3 processed" in logs
    assert "s3cretpass" not in logs + markdown
