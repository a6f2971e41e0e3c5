"""The digest goes out once per period: not twice after a rerun, not lost or doubled by a
SIGKILL between its outbox commit and the send. Real CLI runs, a real SMTP server."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from storage.db import make_engine, write_session
from storage.models import Article
from tests.reliability.harness import Tally, demo_sources, profile_text, query
from tests.reliability.test_faults import killed, mail_url
from tests.support.cli import cli_env, run_cli
from tests.support.mail import smtp_at
from tests.support.net import free_port


def _text(message: Message) -> str:
    parts = [p.get_payload(decode=True) for p in message.walk() if not p.is_multipart()]
    return "\n".join(p.decode("utf-8", "replace") for p in parts if isinstance(p, bytes))


@pytest.mark.e2e
def test_the_digest_is_sent_once_through_a_crash_and_reruns(
    tmp_path: Path,
    prefect_api: str,
    demo_site: Any,
    baseline_db: tuple[Path, dict[int, Any]],
    tally: Tally,
) -> None:
    db = tmp_path / "monitor.db"
    shutil.copyfile(baseline_db[0], db)
    # The baseline's articles were first seen before today's send time: today's digest.
    send = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    engine = make_engine(f"sqlite:///{db}")
    with write_session(engine) as session:
        session.execute(update(Article).values(first_seen_at=send - timedelta(hours=2)))
    engine.dispose()
    profile = tmp_path / "profile.toml"
    profile.write_text(
        profile_text(demo_sources(demo_site)) + f"[digest]\nenabled = true\nhour = {send.hour}\n",
        encoding="utf-8",
    )
    port = free_port()
    env = cli_env(
        tmp_path,
        prefect_api,
        STRAITWATCH_DATABASE_URL=f"sqlite:///{db}",
        STRAITWATCH_APPRISE_URLS=mail_url(port),
    )
    args = ["run", "--profile", str(profile), "--json"]
    with smtp_at(port) as sink:
        first = killed("send", 1, args, env)  # the digest is queued, then the process dies
        queued = query(db, "SELECT status FROM alert_outbox WHERE kind = 'digest'")
        before = len(sink.messages)
        done = run_cli(args, env)
        again = run_cli(args, env)
        digests = [m for m in sink.messages if "Daily digest" in _text(m)]
    final = query(db, "SELECT key, status FROM alert_outbox WHERE kind = 'digest'")
    tally.fault(
        "SIGKILL between the digest's outbox commit and its send",
        survived=first.returncode == -9 and len(digests) == 1,
        duplicates=max(0, len(digests) - 1),
        lost=0 if digests else 1,
    )
    assert first.returncode == -9, first.stderr[-2000:]
    assert queued == [("pending",)] and before == 0
    assert done.returncode == 0 and again.returncode == 0, done.stderr[-2000:]
    assert len(digests) == 1
    assert final == [(f"digest:day:{send.date().isoformat()}", "sent")]
    body = _text(digests[0])
    # the relevant articles that confirmed no transition are in it; the escalation's are not
    evidence = {
        url
        for (keys,) in query(db, "SELECT evidence FROM stage_transition")
        for url in json.loads(keys)
    }
    relevant = dict(query(db, "SELECT canonical_url, title FROM article WHERE relevant"))
    quiet = [title for url, title in relevant.items() if url not in evidence]
    loud = [title for url, title in relevant.items() if url in evidence]
    assert quiet and loud
    assert all(title in body for title in quiet)
    ((stored,),) = query(db, "SELECT body FROM alert_outbox WHERE kind = 'digest'")
    assert all(title in stored for title in quiet)
    assert not any(title in stored for title in loud)  # the same email carries the escalation
