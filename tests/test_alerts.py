"""Outbox delivery through Apprise: routing, exactly-once, failures, the real Slack plugin."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import apprise
import pytest

from flows.stages.alerts import deliver_alerts
from flows.stages.channels import Channel, load_channels
from flows.stages.messages import one_line
from storage import outbox
from storage import status as storage_status
from storage.db import make_engine, migrate, read_session, write_session
from tests.support.cli import cli_env, run_cli
from tests.support.http import FixtureServer
from tests.support.net import free_port

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
received: dict[str, list[tuple[str, str]]] = {}
behaviour: dict[str, bool] = {}


@apprise.decorators.notify(on="recorder")
def _recorder(body, title, notify_type, meta, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = meta["host"]
    received.setdefault(name, []).append((title, body))
    return behaviour.get(name, True)


@pytest.fixture(autouse=True)
def _reset() -> None:
    received.clear()
    behaviour.clear()


def _db(tmp_path: Path, alerts: list[outbox.AlertRecord]) -> str:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    engine = make_engine(url)
    migrate(engine)
    with write_session(engine) as session:
        outbox.add_alerts(session, "m", alerts, NOW)
    return url


def _alert(
    key: str, tags: tuple[str, ...] = ("escalation", "security", "critical")
) -> outbox.AlertRecord:
    return outbox.AlertRecord(
        key=key,
        kind="escalation",
        title=f"title {key}",
        body=f"body {key}",
        space="security",
        severity="critical",
        tags=tags,
    )


def _statuses(url: str) -> dict[str, str]:
    with read_session(make_engine(url)) as session:
        return {a.key: a.status for a in storage_status.status_summary(session, "m").alerts}


def test_each_alert_reaches_each_channel_once(tmp_path: Path) -> None:
    url = _db(tmp_path, [_alert("a"), _alert("b")])
    channels, problems = load_channels(["recorder://one", "recorder://two"], None, False)
    assert problems == [] and len(channels) == 2
    deliver_alerts(url, "m", channels, max_attempts=3)
    # one digest per channel per run, carrying both alerts
    assert [len(received["one"]), len(received["two"])] == [1, 1]
    assert "body a" in received["one"][0][1] and "body b" in received["one"][0][1]
    deliver_alerts(url, "m", channels, max_attempts=3)
    assert [len(received["one"]), len(received["two"])] == [1, 1]
    assert _statuses(url) == {"a": "sent", "b": "sent"}


def test_failing_channel_does_not_block_others_and_is_retried(tmp_path: Path) -> None:
    url = _db(tmp_path, [_alert("a")])
    channels, _ = load_channels(["recorder://good", "recorder://bad"], None, False)
    behaviour["bad"] = False
    report = deliver_alerts(url, "m", channels, max_attempts=3)
    assert report.sent == (("a", channels[0].name),)
    assert report.failed and report.failed[0][1] == channels[1].name
    assert _statuses(url) == {"a": "pending"}
    behaviour["bad"] = True  # the endpoint is back: the next run delivers to it alone
    deliver_alerts(url, "m", channels, max_attempts=3)
    assert len(received["good"]) == 1
    assert received["bad"][-1][0] == "title a"
    assert _statuses(url) == {"a": "sent"}


def test_gives_up_after_max_attempts(tmp_path: Path) -> None:
    url = _db(tmp_path, [_alert("a")])
    channels, _ = load_channels(["recorder://bad"], None, False)
    behaviour["bad"] = False
    for _ in range(2):
        deliver_alerts(url, "m", channels, max_attempts=2)
    assert _statuses(url) == {"a": "failed"}
    calls = len(received["bad"])
    deliver_alerts(url, "m", channels, max_attempts=2)
    assert len(received["bad"]) == calls


def test_tags_route_by_severity() -> None:
    tagged = Channel("x", frozenset({"critical"}), None)
    untagged = Channel("y", frozenset(), None)
    assert tagged.wants(("escalation", "security", "critical"))
    assert not tagged.wants(("de-escalation", "cooperation", "info"))
    assert untagged.wants(("de-escalation", "cooperation", "info"))


def test_config_file_tags_are_read(tmp_path: Path) -> None:
    config = tmp_path / "apprise.yml"
    config.write_text("urls:\n  - recorder://desk:\n      tag: critical\n  - recorder://all\n")
    channels, problems = load_channels([], config, False)
    assert problems == []
    assert sorted(sorted(c.tags) for c in channels) == [[], ["critical"]]


def test_invalid_url_is_reported_not_fatal() -> None:
    channels, problems = load_channels(["nonsense-scheme://x", "recorder://ok"], None, False)
    assert len(channels) == 1 and len(problems) == 1
    assert "nonsense" in problems[0].name


def test_one_line_blocks_header_injection() -> None:
    text = one_line("Seoul acts\r\nBcc: victim@example.org\x00 now")
    assert "\r" not in text and "\n" not in text and "\x00" not in text
    assert text == "Seoul acts Bcc: victim@example.org now"


def test_slack_plugin_delivers_to_its_webhook(
    tmp_path: Path, monkeypatch, webhook: FixtureServer
) -> None:
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", webhook.url("/services"))
    url = _db(tmp_path, [_alert("a")])
    slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#desk"
    channels, problems = load_channels([slack], None, False)
    assert problems == [] and "TIiajkdnlazkcOXrIdevi7FQ" not in channels[0].name
    report = deliver_alerts(url, "m", channels, max_attempts=3)
    assert len(report.sent) == 1
    assert len(webhook.requests) == 1
    post = webhook.requests[0]
    assert post.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    text = json.dumps(post.json())
    assert "title a" in text and "body a" in text and "#desk" in text
    deliver_alerts(url, "m", channels, max_attempts=3)
    assert len(webhook.requests) == 1


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("json://127.0.0.1:9/hooks/PATHSECRETTOKEN", "PATHSECRETTOKEN"),
        ("jsons://user:PWSECRET@hooks.example/api/TOKSECRET?-X-Api-Key=HDRSECRET", "SECRET"),
        ("form://hooks.example/FORMSECRET", "FORMSECRET"),
        ("ntfy://ntfy.example/TOPICSECRET", "TOPICSECRET"),
        ("mailto://alerts:MAILSECRET@127.0.0.1:25?from=a@example.org&to=b@example.org", "SECRET"),
    ],
)
def test_channel_names_mask_every_secret(url: str, secret: str) -> None:
    channels, problems = load_channels([url], None, console_fallback=False)
    assert not problems and len(channels) == 1
    name = channels[0].name
    assert secret not in name, name
    assert name.split("://")[0] == url.split("://")[0]  # masked, not cut


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        ("Connection error ([Errno 111] Connection refused)", "connection refused"),
        ("Socket Exception: [Errno -2] Name or service not known", "DNS: host not found"),
        ("(535, b'5.7.8 Username and Password not accepted')", "authentication failed"),
        ("STARTTLS extension not supported by server.", "TLS problem"),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "TLS problem"),
        ("Connection unexpectedly closed: timed out", "timed out"),
        ("Server disconnected", "connection dropped"),
        ("Failed to send JSON notification: Internal Server Error - error=500.", ""),
        ("HTTP error 503 from the hook", "HTTP 503"),
    ],
)
def test_a_failure_is_led_by_its_cause(error: str, cause: str) -> None:
    from flows.stages.channels import explain

    assert explain(error) == (f"{cause}: {error}" if cause else error)


def test_alerts_test_names_the_cause_and_never_the_secret(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    hook = f"json://127.0.0.1:{port}/hooks/PATHSECRETTOKEN"
    mail = f"mailto://alerts:MAILSECRET@127.0.0.1:{port}?from=a@example.org&to=b@example.org"
    env = cli_env(tmp_path, STRAITWATCH_APPRISE_URLS=f"{hook},{mail}")
    done = run_cli(["alerts", "test"], env, timeout=120)
    out = " ".join(done.stdout.replace("│", " ").split())
    assert done.returncode == 1
    assert out.count("connection refused") == 2, out
    assert "SECRET" not in done.stdout + done.stderr
    assert f"json://127.0.0.1:{port}/" in out  # masked, not cut
