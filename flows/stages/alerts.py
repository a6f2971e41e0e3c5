"""Outbox delivery through Apprise: after commit, per channel, with retries and a record.

Each configured Apprise URL (or each entry of an Apprise config file) is one channel.
A channel without tags receives every alert; a tagged channel receives alerts sharing a
tag (the alert's kind, space and severity: e.g. ``critical`` or ``security``). One run
sends at most one message per channel: a digest when several alerts are due, which also
keeps clear of Apprise's per-plugin throttle. A delivery is recorded per (alert, channel)
right after the send, so a later run sends only what is still missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apprise

from flows.stages.channels import Channel, explain, scrub, wanted_by
from flows.stages.render import Message, render, render_text_html
from storage import outbox
from storage.db import make_engine, write_session

log = logging.getLogger("straitwatch.alerts")

_NOTIFY_TYPES = {
    "critical": apprise.NotifyType.FAILURE,
    "high": apprise.NotifyType.WARNING,
    "medium": apprise.NotifyType.WARNING,
    "low": apprise.NotifyType.INFO,
    "info": apprise.NotifyType.INFO,
}


# How long a claimed send may take before its outcome counts as unknown.
CLAIM_LEASE = timedelta(minutes=10)

# A failure that proves nothing was handed over: safe to retry whatever else it says.
_REFUSED = re.compile(
    r"refused|name or service not known|nodename nor servname|getaddrinfo|no route to host|"
    r"network is unreachable|connect ?timeout|authenticat",
    re.IGNORECASE,
)
# A failure after the message may have been handed over: retrying could send it twice.
_UNSURE = re.compile(
    r"timed out|timeout|unexpectedly closed|connection reset|broken pipe|disconnected|"
    r"remote end closed|connection aborted|incomplete ?read|server disconnected",
    re.IGNORECASE,
)


def _refused(error: str | None) -> bool:
    """True unless the failure may have delivered (a timeout, a hang-up mid-send)."""
    return bool(_REFUSED.search(error or "")) or not _UNSURE.search(error or "")


def _failure_of(log_text: str) -> str:
    """The failure's one-line account from a plugin's log: its warning and socket error."""
    lines = [line.split(" ", 1) for line in log_text.splitlines() if " " in line]
    warnings = [m for level, m in lines if level in ("WARNING", "ERROR", "CRITICAL")]
    causes = [m.split(":", 1)[1].strip() for _, m in lines if m.startswith("Socket Exception:")]
    parts = [*warnings[-1:], *(f"({cause})" for cause in causes[-1:])]
    return " ".join(parts) or "delivery failed"


def _claim_alive(token: str | None) -> bool:
    """False when the claim's sender ran on this host and its process is gone."""
    host, _, rest = (token or "").partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's sender: its lease decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextmanager
def _plugin_log() -> Iterator[io.StringIO]:
    """Capture a plugin's log, DEBUG included, without passing it on to any other handler.

    Its DEBUG lines name the socket error behind a failure, and also carry URLs with
    tokens: they are read here, reduced to one redacted line, and go nowhere else.
    """
    logger = logging.getLogger("apprise")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _delivery_key(alerts: Sequence[outbox.PendingAlert]) -> str:
    """A stable key of one delivery (the alerts it carries), the same on every attempt."""
    keys = "\n".join(sorted(a.key for a in alerts))
    return hashlib.sha256(keys.encode("utf-8")).hexdigest()[:32]


@contextmanager
def _slack_blocks(plugin: Any, attachment: dict[str, Any]) -> Iterator[bool]:
    """Have Apprise's Slack plugin post this Block Kit attachment; yield whether it will.

    The plugin posts a Block Kit template file when it has one: the attachment is written
    to a private temporary file as that template. Web text inside it cannot form one of the
    template's ``{{token}}`` slots: every "{{" is written with a JSON escape.
    """
    if not (hasattr(plugin, "template") and hasattr(plugin, "use_blocks")):
        yield False
        return
    text = json.dumps(attachment, ensure_ascii=False).replace("{{", "{\\u007b")
    with tempfile.TemporaryDirectory(prefix="straitwatch-slack-") as folder:
        path = Path(folder) / "blocks.json"
        path.write_text(text, encoding="utf-8")
        template = apprise.AppriseAttachment(asset=plugin.asset)
        if not template.add(str(path)):
            yield False
            return
        saved = plugin.template, plugin.use_blocks
        plugin.template, plugin.use_blocks = template, True
        try:
            yield True
        finally:
            plugin.template, plugin.use_blocks = saved


def _notify(channel: Channel, message: Message, notify_type: str) -> bool:
    """Hand the message to the channel in the form it takes best."""
    plugin = channel.plugin
    if _is_slack(plugin):
        with _slack_blocks(plugin, message.slack) as blocks:
            if blocks:
                return bool(
                    plugin.notify(
                        body=message.text,
                        title=message.subject,
                        notify_type=notify_type,
                        body_format=apprise.NotifyFormat.TEXT,
                    )
                )
    if _takes_html(plugin):
        body, body_format = message.html, apprise.NotifyFormat.HTML
    else:
        body, body_format = message.text, apprise.NotifyFormat.TEXT
    return bool(
        plugin.notify(
            body=body, title=message.subject, notify_type=notify_type, body_format=body_format
        )
    )


def _is_slack(plugin: Any) -> bool:
    return type(plugin).__name__ == "NotifySlack"


def _takes_html(plugin: Any) -> bool:
    """Whether the channel renders HTML by default (email, unless ``?format=text``)."""
    try:
        return bool(plugin.resolve_format(None) == apprise.NotifyFormat.HTML)
    except Exception:  # noqa: BLE001 - a plugin without the format API takes text
        return False


def _send(
    channel: Channel,
    message: Message,
    tries: int = 2,
    backoff: float = 1.0,
    key: str | None = None,
    handing_over: Callable[[], bool] | None = None,
) -> tuple[bool, str | None]:
    """Send once (or ``tries`` times); return whether it went and the failure's account.

    With ``key``, an email carries it as ``X-Straitwatch-Alert`` (Apprise sets its own
    Message-ID), so a mail filter can drop a copy a server took twice.
    """
    headers = getattr(channel.plugin, "headers", None)
    if key and isinstance(headers, dict):
        headers = {**headers, "X-Straitwatch-Alert": key}
        channel.plugin.headers, original = headers, channel.plugin.headers
        try:
            return _send(channel, message, tries, backoff, None, handing_over)
        finally:
            channel.plugin.headers = original
    notify_type = _NOTIFY_TYPES.get(message.severity, apprise.NotifyType.INFO)
    error: str | None = None
    for attempt in range(tries):
        if handing_over is not None and not handing_over():
            return False, "the claim was taken back before sending (nothing sent)"
        # From here on, the outcome may be unknown.
        with _plugin_log() as captured:
            captured_error: str | None = None
            try:
                ok = _notify(channel, message, notify_type)
            except Exception as exc:  # noqa: BLE001 - a plugin's crash is that channel's failure
                ok, captured_error = False, f"{type(exc).__name__}: {exc}"
            text = captured.getvalue()
        if ok:
            return True, None
        error = explain(scrub(captured_error or _failure_of(text), channel.secrets))
        if attempt + 1 < tries:
            time.sleep(backoff * (2**attempt))
    return False, error


@dataclass(frozen=True)
class DeliveryReport:
    sent: tuple[tuple[str, str], ...] = ()  # (alert key, channel)
    failed: tuple[tuple[str, str, str], ...] = ()  # (alert key, channel, error)
    pending_after: int = 0


def deliver_alerts(
    db_url: str,
    monitor: str,
    channels: Sequence[Channel],
    max_attempts: int,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    monitor_title: str = "",
) -> DeliveryReport:
    """Deliver every pending alert to every channel that wants it and lacks it, at most once.

    Each channel's alerts are claimed in the database before anything is sent, so two
    senders at once never both send one. Each is sent once: a send that was refused
    (connection refused, authentication, an HTTP error answer) is retried by a later run,
    but one whose outcome is unknown (a timeout, a hang-up after the message was handed
    over, a sender killed mid-send) is marked ``unknown`` and never sent again.
    """
    engine = make_engine(db_url)
    with write_session(engine) as session:
        outbox.expire_claims(session, now(), _claim_alive)
        pending = outbox.pending_alerts(session, monitor)
    if not pending:
        return DeliveryReport()
    token = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex}"
    sent: list[tuple[str, str]] = []
    failed: list[tuple[str, str, str]] = []
    for channel in channels:
        due = {
            a.id: a
            for a in pending
            if channel in wanted_by(channels, a.tags)
            and channel.name not in a.sent_channels
            and channel.name not in a.held_channels
            and channel.name not in a.unknown_channels
            and a.attempts.get(channel.name, 0) < max_attempts
        }
        if not due:
            continue
        with write_session(engine) as session:
            held = outbox.claim_deliveries(
                session, list(due), channel.name, token, now(), CLAIM_LEASE, max_attempts
            )
        mine = [due[i] for i in held if i in due]
        if not mine:
            continue
        message = render(mine, monitor_title)
        ids = [a.id for a in mine]

        def handing_over(ids: list[int] = ids, name: str = channel.name) -> bool:
            with write_session(engine) as session:
                return outbox.mark_sending(session, ids, name, token)

        ok, error = _send(
            channel,
            message,
            tries=1,
            key=_delivery_key(mine),
            handing_over=handing_over,
        )
        status = "sent" if ok else "failed" if _refused(error) else "unknown"
        with write_session(engine) as session:
            outbox.finish_deliveries(
                session, [a.id for a in mine], channel.name, token, status, error, now()
            )
        if ok:
            sent += [(a.key, channel.name) for a in mine]
            log.info("delivered %d alert(s) to %s", len(mine), channel.name)
        else:
            failed += [(a.key, channel.name, error or "failed") for a in mine]
            log.warning(
                "delivery to %s %s: %s",
                channel.name,
                "failed (retried next run)"
                if status == "failed"
                else "may or may not have arrived (not sent again)",
                error,
            )
    return DeliveryReport(
        tuple(sent), tuple(failed), _close_finished(engine, monitor, channels, max_attempts, now())
    )


def _close_finished(
    engine: Any, monitor: str, channels: Sequence[Channel], max_attempts: int, now: datetime
) -> int:
    with write_session(engine) as session:
        pending = outbox.pending_alerts(session, monitor)
        done: list[int] = []
        unsure: list[int] = []
        given_up: list[int] = []
        left = 0
        for alert in pending:
            wanted = [c.name for c in wanted_by(channels, alert.tags)]
            settled = (*alert.sent_channels, *alert.unknown_channels)
            missing = [c for c in wanted if c not in settled]
            if any(c in alert.held_channels for c in wanted):
                left += 1  # another sender holds it right now
                continue
            if not wanted:
                # No usable channel wants it (none configured, or all invalid): it waits
                # for one, visible as pending in `status`, rather than counting as sent.
                left += 1
            elif not missing:
                (unsure if any(c in alert.unknown_channels for c in wanted) else done).append(
                    alert.id
                )
            elif all(alert.attempts.get(c, 0) >= max_attempts for c in missing):
                given_up.append(alert.id)
            else:
                left += 1
        outbox.close_alerts(session, done, "sent", now)
        outbox.close_alerts(session, unsure, "unconfirmed", now)
        outbox.close_alerts(session, given_up, "failed", now)
    return left


def send_test(channels: Sequence[Channel], monitor_title: str) -> list[tuple[str, bool, str]]:
    """Send a test notification to each channel; return (channel, ok, error) for each."""
    results = []
    for channel in channels:
        text = "This is a test from straitwatch: this channel receives alerts."
        message = Message(
            subject=f"Test notification — {monitor_title}",
            text=text,
            html=render_text_html(f"Test notification — {monitor_title}", text),
        )
        ok, error = _send(channel, message, tries=1)
        results.append((channel.name, ok, error or ""))
    return results
