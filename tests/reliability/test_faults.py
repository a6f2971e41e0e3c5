"""Faults: a killed process, a channel down, a busy database, a full disk.

After each, the next run completes, no article row is duplicated or missing, and every
alert is delivered exactly once per channel. The SIGKILL faults run the real ``straitwatch
run`` command (with a stage rigged by tests/reliability/killer.py) against a real Prefect
server; the others run the monitor in this process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest

from flows.demo.server import SiteServer
from flows.stages.summaries import MonitorSummary
from tests.reliability.harness import (
    Tally,
    Workspace,
    articles,
    demo_sources,
    profile_text,
    query,
)
from tests.support.cli import cli_env, run_cli
from tests.support.mail import SmtpSink, smtp_at
from tests.support.net import free_port
from tests.support.paths import REPO
from tests.support.wire import HostileServer, reply

KILLER = Path(__file__).resolve().parent / "killer.py"


def mail_url(port: int) -> str:
    return f"mailto://alerts:s3cretpass@127.0.0.1:{port}?from=straitwatch@example.org&to=desk@example.org"


def outbox(db: Path) -> list[tuple[str, str]]:
    """Return (key, status) of every alert in the outbox."""
    return [(r[0], r[1]) for r in query(db, "SELECT key, status FROM alert_outbox")]


def mails_per_alert(db: Path, sink: SmtpSink) -> Counter[str]:
    """Return how many emails carried each alert (matched by its title)."""
    titles = dict(query(db, "SELECT key, title FROM alert_outbox"))
    counts: Counter[str] = Counter({key: 0 for key in titles})
    for message in sink.messages:
        subject = str(make_header(decode_header(message["Subject"])))
        for key, title in titles.items():
            if title in subject:
                counts[key] += 1
    return counts


def duplicates_and_lost(counts: Counter[str]) -> tuple[int, int]:
    return sum(max(0, n - 1) for n in counts.values()), sum(1 for n in counts.values() if n == 0)


@pytest.fixture
def empty_workspace(tmp_path: Path, demo_site: SiteServer) -> Workspace:
    """An empty database: the demo site's escalation is still to come."""
    return Workspace(tmp_path, tmp_path / "monitor.db", {}, demo_site)


# ---------------------------------------------------------------- SIGKILL, with the real CLI


def _cli_setup(
    tmp_path: Path, prefect_api: str, site: SiteServer, port: int
) -> tuple[Path, Path, dict[str, str]]:
    db = tmp_path / "monitor.db"
    profile = tmp_path / "profile.toml"
    profile.write_text(profile_text(demo_sources(site)), encoding="utf-8")
    env = cli_env(
        tmp_path,
        prefect_api,
        STRAITWATCH_DATABASE_URL=f"sqlite:///{db}",
        STRAITWATCH_APPRISE_URLS=mail_url(port),
        STRAITWATCH_BATCH_SIZE="2",
    )
    return db, profile, env


def killed(
    stage: str, after: int, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run the straitwatch command with the stage rigged to SIGKILL it."""
    return subprocess.run(
        [sys.executable, str(KILLER), stage, str(after), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.e2e
def test_sigkill_after_some_articles_are_stored(
    tmp_path: Path,
    prefect_api: str,
    demo_site: SiteServer,
    baseline_db: tuple[Path, dict[int, Any]],
    tally: Tally,
) -> None:
    port = free_port()
    db, profile, env = _cli_setup(tmp_path, prefect_api, demo_site, port)
    args = ["run", "--profile", str(profile), "--json"]
    expected = sorted(row[0] for row in baseline_db[1].values())
    with smtp_at(port) as sink:
        first = killed("store_batch", 2, args, env)  # two batches of two committed, then the kill
        partial = sorted(row[0] for row in articles(db).values())
        done = run_cli(args, env)
        final = sorted(row[0] for row in articles(db).values())
        counts = mails_per_alert(db, sink)
    dupes, lost = duplicates_and_lost(counts)
    missing = len(set(expected) - set(final)) + (len(final) - len(set(final)))
    tally.fault(
        "SIGKILL after some articles are stored",
        survived=first.returncode == -9
        and 0 < len(partial) < len(expected)
        and done.returncode == 0
        and not missing
        and not dupes
        and not lost,
        duplicates=dupes,
        lost=lost,
    )
    assert first.returncode == -9, first.stderr[-2000:]
    assert 0 < len(partial) < len(expected), partial
    assert done.returncode == 0, done.stderr[-3000:]
    assert final == expected  # nothing duplicated, nothing missing
    assert list(counts.values()) == [1], counts


@pytest.mark.e2e
def test_sigkill_between_the_outbox_commit_and_the_send(
    tmp_path: Path,
    prefect_api: str,
    demo_site: SiteServer,
    baseline_db: tuple[Path, dict[int, Any]],
    tally: Tally,
) -> None:
    port = free_port()
    db, profile, env = _cli_setup(tmp_path, prefect_api, demo_site, port)
    args = ["run", "--profile", str(profile), "--json"]
    expected = sorted(row[0] for row in baseline_db[1].values())
    with smtp_at(port) as sink:
        first = killed("send", 1, args, env)  # everything stored, the alert committed, killed
        queued = outbox(db)
        mails_before_recovery = len(sink.messages)
        done = run_cli(args, env)
        again = run_cli(args, env)
        final = sorted(row[0] for row in articles(db).values())
        counts = mails_per_alert(db, sink)
        status = json.loads(run_cli(["status", "--profile", str(profile), "--json"], env).stdout)
    dupes, lost = duplicates_and_lost(counts)
    tally.fault(
        "SIGKILL between the outbox commit and the send",
        survived=first.returncode == -9
        and mails_before_recovery == 0
        and done.returncode == 0
        and again.returncode == 0
        and final == expected
        and not dupes
        and not lost,
        duplicates=dupes,
        lost=lost,
    )
    assert first.returncode == -9, first.stderr[-2000:]
    assert [state for _, state in queued] == ["pending"]
    assert mails_before_recovery == 0
    assert done.returncode == 0, done.stderr[-3000:]
    assert again.returncode == 0, again.stderr[-3000:]
    assert final == expected
    assert list(counts.values()) == [1], counts
    assert [a["status"] for a in status["alerts"]] == ["sent"]


# ---------------------------------------------------------------- channels down


def test_smtp_down_keeps_the_alert_until_the_server_is_back(
    empty_workspace: Workspace, tally: Tally
) -> None:
    port = free_port()
    profile = empty_workspace.profile([])
    down = empty_workspace.run(profile, urls=(mail_url(port),))
    deliveries = query(
        empty_workspace.db, "SELECT status, attempts, last_error FROM alert_delivery"
    )
    shown = empty_workspace.status(profile)["alerts"]
    with smtp_at(port) as sink:
        back = empty_workspace.run(profile, urls=(mail_url(port),))
        after = empty_workspace.run(profile, urls=(mail_url(port),))
        counts = mails_per_alert(empty_workspace.db, sink)
    dupes, lost = duplicates_and_lost(counts)
    tally.fault(
        "SMTP server down during a run",
        survived=down.alerts_failed == 1 and back.alerts_sent == 1 and not dupes and not lost,
        duplicates=dupes,
        lost=lost,
    )

    assert down.alerts_sent == 0 and down.alerts_failed == 1 and down.alerts_pending == 1
    assert [(s, n) for s, n, _ in deliveries] == [("failed", 1)]
    assert deliveries[0][2], "the delivery error is recorded"
    assert shown[0]["status"] == "pending" and "failed" in shown[0]["deliveries"][0]
    assert back.alerts_sent == 1 and after.alerts_sent == 0
    assert list(counts.values()) == [1]
    assert outbox(empty_workspace.db)[0][1] == "sent"


def test_a_webhook_answering_500_is_retried_and_blocks_no_other_channel(
    empty_workspace: Workspace, hostile: HostileServer, smtp_server: SmtpSink, tally: Tally
) -> None:
    hostile.routes["/hooks/broken"] = reply("boom\n", 500, "text/plain")
    hostile.routes["/hooks/fine"] = reply("{}", 200, "application/json")
    broken = f"json://127.0.0.1:{hostile.port}/hooks/broken"
    fine = f"json://127.0.0.1:{hostile.port}/hooks/fine"
    urls = (broken, fine, smtp_server.url())
    profile = empty_workspace.profile([])

    first = empty_workspace.run(profile, urls=urls)
    per_channel = dict(
        query(empty_workspace.db, "SELECT channel, status || ':' || attempts FROM alert_delivery")
    )
    tries_in_first_run = hostile.hits["/hooks/broken"]
    hostile.routes["/hooks/broken"] = reply("{}", 200, "application/json")
    second = empty_workspace.run(profile, urls=urls)
    third = empty_workspace.run(profile, urls=urls)
    posts = {path: hostile.hits[path] for path in ("/hooks/broken", "/hooks/fine")}
    mails = len(smtp_server.messages)
    # Each path's successful posts: the broken hook's failed tries are not deliveries.
    delivered = {
        "/hooks/broken": posts["/hooks/broken"] - tries_in_first_run,
        "/hooks/fine": posts["/hooks/fine"],
        "mail": mails,
    }
    dupes = sum(max(0, n - 1) for n in delivered.values())
    lost = sum(1 for n in delivered.values() if n == 0)
    tally.fault(
        "webhook answering 500",
        survived=tries_in_first_run == 1 and second.alerts_sent == 1 and not dupes and not lost,
        duplicates=dupes,
        lost=lost,
    )

    assert first.alerts_sent == 2 and first.alerts_failed == 1  # the others went out
    assert sorted(per_channel.values()) == ["failed:1", "sent:1", "sent:1"]
    assert tries_in_first_run == 1  # sent once per claim; the next run retries
    assert second.alerts_sent == 1 and third.alerts_sent == 0
    assert delivered == {"/hooks/broken": 1, "/hooks/fine": 1, "mail": 1}
    assert outbox(empty_workspace.db)[0][1] == "sent"


def test_an_alert_waits_while_no_configured_channel_is_usable(
    empty_workspace: Workspace, smtp_server: SmtpSink, tally: Tally
) -> None:
    profile = empty_workspace.profile([])
    typo = "mailtoo://alerts:s3cretpass@127.0.0.1:1?to=desk@example.org"
    broken = empty_workspace.run(profile, urls=(typo,))
    fixed = empty_workspace.run(profile, urls=(smtp_server.url(),))
    counts = mails_per_alert(empty_workspace.db, smtp_server)
    dupes, lost = duplicates_and_lost(counts)
    tally.fault(
        "every channel URL invalid, then fixed",
        survived=not dupes and not lost,
        duplicates=dupes,
        lost=lost,
    )
    assert broken.channel_problems, "the bad URL is reported"
    assert fixed.alerts_sent == 1, outbox(empty_workspace.db)
    assert list(counts.values()) == [1]


# ---------------------------------------------------------------- the database


def test_a_busy_database_makes_the_run_wait_then_succeed(
    empty_workspace: Workspace, tally: Tally
) -> None:
    profile = empty_workspace.profile([])
    empty_workspace.run(profile)  # the schema exists; the next run has work to do after
    hold = 4.0
    locked = threading.Event()

    def other_writer() -> None:
        conn = sqlite3.connect(empty_workspace.db, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE source SET error_streak = error_streak WHERE 0")
        locked.set()
        time.sleep(hold)
        conn.execute("COMMIT")
        conn.close()

    before = articles(empty_workspace.db)
    # Forget what was seen, so the run must write articles again under the held lock.
    with sqlite3.connect(empty_workspace.db) as conn:
        conn.execute("DELETE FROM seen_url")
    writer = threading.Thread(target=other_writer)
    writer.start()
    assert locked.wait(5)
    started = time.monotonic()
    try:
        summary: MonitorSummary | None = empty_workspace.run(profile)
    except Exception:  # noqa: BLE001 - observed, then reported
        summary = None
    waited = time.monotonic() - started
    writer.join()
    after = articles(empty_workspace.db)
    lost = sum(1 for key, row in before.items() if after.get(key) != row)
    tally.fault(
        "database busy (another writer holds BEGIN IMMEDIATE)",
        survived=summary is not None and waited >= hold * 0.8 and lost == 0,
        duplicates=0,
        lost=0,
    )
    assert summary is not None
    assert waited >= hold * 0.8, f"the run did not wait for the lock ({waited:.1f} s)"
    assert lost == 0 and len(after) == len(before)


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/proc/mounts").exists()


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.skipif(not _can_mount(), reason="a small tmpfs needs root (mount -t tmpfs)")
def test_a_full_disk_fails_the_run_cleanly_and_the_next_run_recovers(
    tmp_path: Path,
    demo_site: SiteServer,
    hostile: HostileServer,
    baseline_db: tuple[Path, dict[int, Any]],
    tally: Tally,
) -> None:
    source, rows = baseline_db
    with small_disk(tmp_path / "disk", "1m") as disk:
        db = disk / "monitor.db"
        db.write_bytes(source.read_bytes())
        space = Workspace(tmp_path, db, rows, demo_site)
        # Many large pages: far more than the room left on the disk.
        big = (
            "<p>"
            + "Seoul and Tokyo officials met again to discuss the radar dispute. " * 400
            + "</p>"
        )
        items = []
        for n in range(30):
            hostile.routes[f"/disk/{n}"] = reply(
                f"<html><body><article><h1>Story {n}</h1>{big}<p>{n}</p></article></body></html>"
            )
            items.append(f"<item><title>{n}</title><link>{hostile.url(f'/disk/{n}')}</link></item>")
        hostile.routes["/disk/feed.xml"] = reply(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>d</title>'
            + "".join(items)
            + "</channel></rss>",
            content_type="application/rss+xml",
        )
        from tests.reliability.harness import SourceSpec

        profile = space.profile([SourceSpec("big", hostile.url("/disk/feed.xml"))])
        filler = disk / "filler"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler.write_bytes(b"\0" * max(0, free - 96_000))
        error = ""
        try:
            space.run(profile)
        except Exception as exc:  # noqa: BLE001 - the failure is the observation
            error = f"{type(exc).__name__}: {exc}"
        integrity = query(db, "PRAGMA integrity_check")[0][0]
        kept = space.lost() == 0
        filler.unlink()
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        recovered = space.run(profile)
        stored = query(
            db, "SELECT count(*) FROM article WHERE url LIKE ?", hostile.url("/disk/") + "%"
        )[0][0]
        still_kept = space.lost() == 0
    survived = bool(error) and integrity == "ok" and kept and still_kept and stored == 30
    tally.fault("disk full on write", survived=survived, duplicates=0, lost=0)
    assert "full" in error.lower() or "disk" in error.lower(), error
    assert integrity == "ok"
    assert kept and still_kept
    assert recovered.new >= 30 - stored or stored == 30
    assert stored == 30
