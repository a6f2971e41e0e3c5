"""An alert leaves at most once per channel: claimed in the database before it is sent, sent
once, and never resent when its outcome is unknown. Real SMTP and HTTP servers on 127.0.0.1
that are slow, hang up after the message, or never answer; two processes at once."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from flows.stages.alerts import deliver_alerts
from flows.stages.channels import load_channels
from storage import outbox
from storage.db import make_engine, migrate, read_session, write_session
from storage.models import AlertDelivery, AlertOutbox
from tests.reliability.harness import Tally
from tests.support.net import free_port
from tests.support.wire import hang, serve_hostile

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class RawSmtp:
    """An SMTP server on 127.0.0.1 that waits ``delay`` before each reply and, with
    ``hang_up``, closes the connection once the message's final dot has arrived."""

    delay: float = 0.0
    hang_up: bool = False
    messages: list[bytes] = field(default_factory=list)
    port: int = 0

    def url(self) -> str:
        return (
            f"mailto://127.0.0.1:{self.port}?from=monitor@example.test"
            "&to=desk@example.test&mode=insecure"
        )

    def session(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")

        def say(line: bytes) -> None:
            time.sleep(self.delay)
            conn.sendall(line + b"\r\n")

        say(b"220 slow.example.test ESMTP")
        while line := reader.readline():
            verb = line.strip().upper()
            if verb.startswith(b"DATA"):
                say(b"354 go on")
                body = []
                while (part := reader.readline()) not in (b".\r\n", b""):
                    body.append(part)
                self.messages.append(b"".join(body))
                if self.hang_up:
                    conn.close()
                    return
                say(b"250 queued")
            elif verb.startswith(b"QUIT"):
                say(b"221 bye")
                break
            else:
                say(b"250 ok")
        conn.close()


@contextmanager
def raw_smtp(**options: object) -> Iterator[RawSmtp]:
    server = RawSmtp(**options)  # type: ignore[arg-type]
    listener = socket.create_server(("127.0.0.1", server.port))
    server.port = listener.getsockname()[1]

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=server.session, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server
    finally:
        listener.close()


def _queue(url: str, *keys: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    with write_session(engine) as session:
        outbox.add_alerts(
            session,
            "m",
            [
                outbox.AlertRecord(
                    key=key,
                    kind="escalation",
                    title=f"Security escalation {key}",
                    body=f"body {key}",
                    space="security",
                    severity="critical",
                    tags=("escalation", "security", "critical"),
                )
                for key in keys
            ],
            NOW,
        )


def _deliveries(url: str) -> list[tuple[str, int]]:
    with read_session(make_engine(url)) as session:
        return [(d.status, d.attempts) for d in session.exec(select(AlertDelivery)).all()]


def _outbox(url: str) -> list[str]:
    with read_session(make_engine(url)) as session:
        return [a.status for a in session.exec(select(AlertOutbox)).all()]


def _claim_for(db_url: str, channel: str, token: str, at: datetime) -> list[int]:
    """Claim the one queued alert for ``token`` as another sender would; return what it holds."""
    engine = make_engine(db_url)
    with read_session(engine) as session:
        (alert,) = outbox.pending_alerts(session, "m")
    with write_session(engine) as session:
        return outbox.claim_deliveries(
            session, [alert.id], channel, token, at, timedelta(minutes=10), 3
        )


def _deliver(db_url: str, channel_url: str) -> None:
    channels, problems = load_channels([channel_url], None, False)
    assert problems == []
    deliver_alerts(db_url, "m", channels, max_attempts=3)


def test_a_hang_up_after_the_message_is_sent_once_and_never_again(
    database_url: str, tally: Tally
) -> None:
    _queue(database_url, "a")
    with raw_smtp(hang_up=True) as smtp:
        for _ in range(3):
            _deliver(database_url, smtp.url())
    tally.fault(
        "SMTP hangs up after the message",
        survived=True,
        duplicates=max(0, len(smtp.messages) - 1),
        lost=0 if smtp.messages else 1,
    )
    assert len(smtp.messages) == 1
    assert _deliveries(database_url) == [("unknown", 1)]
    assert _outbox(database_url) == ["unconfirmed"]


def test_a_hanging_webhook_gets_one_post(database_url: str, tally: Tally) -> None:
    _queue(database_url, "a")
    with serve_hostile({"/hook": hang()}) as server:  # reads each request, never answers
        url = f"json://127.0.0.1:{server.port}/hook?rto=1&cto=1"
        _deliver(database_url, url)
        _deliver(database_url, url)
        time.sleep(0.3)
    posts = server.requests
    tally.fault(
        "webhook never answers",
        survived=True,
        duplicates=max(0, len(posts) - 1),
        lost=0 if posts else 1,
    )
    assert [(r.method, r.path) for r in posts] == [("POST", "/hook")]
    assert _deliveries(database_url) == [("unknown", 1)]


def test_a_refused_connection_is_retried_and_then_sent(database_url: str) -> None:
    _queue(database_url, "a")
    closed = RawSmtp(port=free_port())
    _deliver(database_url, closed.url())  # nothing listens: refused before anything left
    assert _deliveries(database_url) == [("failed", 1)]
    assert _outbox(database_url) == ["pending"]
    with raw_smtp(port=closed.port) as smtp:  # the same address, now answering
        _deliver(database_url, closed.url())
    assert len(smtp.messages) == 1
    assert _deliveries(database_url) == [("sent", 2)]
    assert _outbox(database_url) == ["sent"]


def _deliver_in_process(db_url: str, channel_url: str, start: float) -> None:
    time.sleep(max(0.0, start - time.time()))
    _deliver(db_url, channel_url)


def test_two_processes_at_once_against_a_slow_server_send_once(
    database_url: str, tally: Tally
) -> None:
    _queue(database_url, "a", "b")
    with raw_smtp(delay=0.5) as smtp:
        spawn = multiprocessing.get_context("spawn")
        start = time.time() + 3
        workers = [
            spawn.Process(target=_deliver_in_process, args=(database_url, smtp.url(), start))
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        exits = [w.exitcode for w in workers]
    tally.fault(
        "two senders at once, slow SMTP",
        survived=exits == [0, 0],
        duplicates=max(0, len(smtp.messages) - 1),
        lost=0 if smtp.messages else 1,
    )
    assert exits == [0, 0]
    assert len(smtp.messages) == 1  # one digest carrying both alerts
    assert b"body a" in smtp.messages[0] and b"body b" in smtp.messages[0]
    assert b"X-Straitwatch-Alert: " in smtp.messages[0]
    assert _deliveries(database_url) == [("sent", 1), ("sent", 1)]


def test_a_sender_killed_mid_send_leaves_it_unknown_not_resent(
    database_url: str, tally: Tally
) -> None:
    _queue(database_url, "a")
    with raw_smtp() as smtp:
        channels, _ = load_channels([smtp.url()], None, False)
        # A sender claimed it an hour ago, handed it over, and died before the outcome.
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        held = _claim_for(database_url, channels[0].name, "dead-sender", an_hour_ago)
        assert len(held) == 1
        with write_session(make_engine(database_url)) as session:
            outbox.mark_sending(session, held, channels[0].name, "dead-sender")
        deliver_alerts(database_url, "m", channels, max_attempts=3)
        deliver_alerts(database_url, "m", channels, max_attempts=3)
    # The dead sender's copy may have arrived: any copy from here would be a second one.
    tally.fault(
        "sender killed between send and record",
        survived=True,
        duplicates=len(smtp.messages),
        lost=0,
    )
    assert smtp.messages == []
    assert _deliveries(database_url) == [("unknown", 1)]
    assert _outbox(database_url) == ["unconfirmed"]


def test_a_claim_still_within_its_lease_is_left_to_its_sender(database_url: str) -> None:
    _queue(database_url, "a")
    with raw_smtp() as smtp:
        channels, _ = load_channels([smtp.url()], None, False)
        assert _claim_for(database_url, channels[0].name, "busy-sender", datetime.now(UTC))
        report = deliver_alerts(database_url, "m", channels, max_attempts=3)
    assert smtp.messages == [] and report.sent == ()
    assert _deliveries(database_url) == [("claimed", 1)]
    assert _outbox(database_url) == ["pending"]


def test_a_claim_whose_process_died_before_sending_is_sent_by_the_next_run(
    database_url: str, tally: Tally
) -> None:
    _queue(database_url, "a")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    token = f"{socket.gethostname()}/{dead.stdout.strip()}/gone"
    assert int(dead.stdout) != os.getpid()
    with raw_smtp() as smtp:
        channels, _ = load_channels([smtp.url()], None, False)
        assert _claim_for(database_url, channels[0].name, token, datetime.now(UTC))
        deliver_alerts(database_url, "m", channels, max_attempts=3)
        deliver_alerts(database_url, "m", channels, max_attempts=3)
    tally.fault(
        "sender killed after the claim, before the send",
        survived=True,
        duplicates=max(0, len(smtp.messages) - 1),
        lost=0 if smtp.messages else 1,
    )
    assert len(smtp.messages) == 1
    assert _deliveries(database_url) == [("sent", 2)]
    assert _outbox(database_url) == ["sent"]


def test_a_claim_taken_back_cannot_be_handed_over(database_url: str) -> None:
    _queue(database_url, "a")
    engine = make_engine(database_url)
    with read_session(engine) as session:
        (alert,) = outbox.pending_alerts(session, "m")
    lease = timedelta(minutes=10)
    with write_session(engine) as session:
        assert outbox.claim_deliveries(session, [alert.id], "mail", "slow", NOW, lease, 3)
    # Another sender judged "slow" gone (its lease over) and settled its claim.
    with write_session(engine) as session:
        assert outbox.expire_claims(session, NOW + 2 * lease) == 1
    with write_session(engine) as session:
        assert outbox.mark_sending(session, [alert.id], "mail", "slow") is False
        assert outbox.claim_deliveries(session, [alert.id], "mail", "next", NOW, lease, 3)
        assert outbox.mark_sending(session, [alert.id], "mail", "next") is True
