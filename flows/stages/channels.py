"""Channels: where alerts go, read from Apprise URLs or an Apprise config file.

Each configured URL (or each entry of a config file) is one channel, named by its URL with
the secrets masked, so no name, log line or delivery record shows a token. A channel
without tags receives every alert; a tagged one receives the alerts sharing a tag. With
nothing configured, alerts go to the console. ``explain`` leads a failure with its cause.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import apprise
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from extractors.redaction import guard_library_logs, redact_text, redact_url

CONSOLE_SCHEME = "swconsole"
# Apprise schemes whose URL path is the secret (a webhook's token, an ntfy topic).
_PATH_IS_SECRET = frozenset({"json", "jsons", "xml", "xmls", "form", "forms", "ntfy", "ntfys"})
_console_registered = False


@dataclass(frozen=True)
class Channel:
    """One place alerts go; ``name`` is its URL with secrets masked."""

    name: str
    tags: frozenset[str]
    plugin: Any
    secrets: tuple[str, ...] = ()  # what the masked name hides: never in an error either

    def wants(self, alert_tags: Sequence[str]) -> bool:
        return not self.tags or "always" in self.tags or bool(self.tags & set(alert_tags))


def wanted_by(channels: Sequence[Channel], alert_tags: Sequence[str]) -> list[Channel]:
    """Return the channels an alert goes to: a digest goes to the channels tagged
    ``digest`` when there are any (and to every channel when none is tagged so)."""
    if "digest" in alert_tags and any("digest" in c.tags for c in channels):
        return [c for c in channels if "digest" in c.tags]
    return [c for c in channels if c.wants(alert_tags)]


@dataclass(frozen=True)
class ChannelProblem:
    name: str
    reason: str


def _register_console() -> None:
    global _console_registered
    if _console_registered:
        return

    def to_console(body: str, title: str, notify_type: str, *args: Any, **kwargs: Any) -> bool:
        # Web text is shown as text: a headline holding "[/bold]" is not Rich markup.
        Console().print(Panel(Text(body), title=Text(title), title_align="left", expand=False))
        return True

    apprise.decorators.notify(on=CONSOLE_SCHEME, name="straitwatch console")(to_console)
    _console_registered = True


_URL_PARTS = re.compile(r"[/:@?&=#,;+]+")


def channel_secrets(server: Any) -> tuple[str, ...]:
    """Return the secrets in a channel's URL: what Apprise's private form has and its
    public form hides, and the path of schemes whose path is the secret; longest first."""
    try:
        private, public = server.url(privacy=False), server.url(privacy=True)
    except Exception:  # noqa: BLE001 - a plugin that cannot print itself has nothing to hide
        return ()
    shown = set(_URL_PARTS.split(unquote(public)))
    found = {p for p in _URL_PARTS.split(unquote(private)) if len(p) >= 4 and p not in shown}
    if private.split("://", 1)[0].lower() in _PATH_IS_SECRET:
        found |= {p for p in urlsplit(private).path.split("/") if len(p) >= 4}
    return tuple(sorted(found, key=len, reverse=True))


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Return text with each of a channel's secrets, plain or URL-quoted, masked."""
    for secret in secrets:
        text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return redact_text(text)


# A failure's cause in a few words, for `alerts test` and the delivery record.
_CAUSES = (
    (re.compile(r"connection refused", re.I), "connection refused"),
    (
        re.compile(r"name or service not known|getaddrinfo|nodename nor servname|"
                   r"name resolution", re.I),
        "DNS: host not found",
    ),
    (re.compile(r"authenticat|\b535\b|password not accepted|unauthori[sz]ed|\b401\b", re.I),
     "authentication failed"),
    (re.compile(r"ssl|tls|certificate", re.I), "TLS problem"),
    (re.compile(r"timed out|timeout", re.I), "timed out"),
    (re.compile(r"unexpectedly closed|connection reset|broken pipe|disconnected", re.I),
     "connection dropped"),
)  # fmt: skip
_HTTP_STATUS = re.compile(r"(?:HTTP(?: error)?|response|status(?: code)?)[ :=]*([1-5]\d\d)\b", re.I)


def explain(error: str) -> str:
    """Return a failure led by its cause: ``connection refused: <the plugin's account>``."""
    if not error:
        return error
    status = _HTTP_STATUS.search(error)
    for pattern, cause in _CAUSES:
        if pattern.search(error):
            return f"{cause}: {error}"
    return f"HTTP {status.group(1)}: {error}" if status else error


def _channel_name(server: Any, origin: str) -> str:
    # Masked URLs can coincide (only the secrets differ, or a custom scheme hides its
    # host): a short digest of where the channel came from keeps each name distinct and
    # stable across runs without revealing anything.
    digest = hashlib.sha256(origin.encode()).hexdigest()[:8]
    return f"{mask_channel_url(server.url(privacy=True).split('?', 1)[0])}#{digest}"


def mask_channel_url(url: str) -> str:
    """Return an Apprise URL (already through Apprise's privacy mode) fit to show.

    Apprise masks the tokens of the services it knows, but shows the path of a generic
    webhook (json://, xml://, form://) and an ntfy topic as they are, and those are the
    credential: every path segment is masked the way Apprise masks tokens (first and last
    character).
    """
    url = redact_url(url)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _PATH_IS_SECRET:
        return url
    authority, slash, path = rest.partition("/")
    if not slash:
        return url
    segments = [_mask_segment(s) for s in path.split("/")]
    return f"{scheme}://{authority}/{'/'.join(segments)}"


def _mask_segment(segment: str) -> str:
    if not segment:
        return segment
    return f"{segment[0]}...{segment[-1]}" if len(segment) > 4 else "***"


def _asset() -> apprise.AppriseAsset:
    return apprise.AppriseAsset(secure_logging=True)


def load_channels(
    urls: Sequence[str], config_file: Path | None, console_fallback: bool
) -> tuple[list[Channel], list[ChannelProblem]]:
    """Return the usable channels, and the configured ones Apprise could not understand."""
    guard_library_logs()  # Apprise logs the endpoints it posts to
    problems: list[ChannelProblem] = []
    channels: list[Channel] = []
    for url in urls:
        notifier = apprise.Apprise(asset=_asset())
        if not notifier.add(url):
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            problems.append(ChannelProblem(f"{scheme}://…", "not a valid Apprise URL"))
        channels += [
            Channel(_channel_name(server, url), frozenset(), server, channel_secrets(server))
            for server in notifier
        ]
    if config_file is not None:
        config = apprise.AppriseConfig(asset=_asset())
        notifier = apprise.Apprise(asset=_asset())
        if not config.add(str(config_file)) or not notifier.add(config):
            problems.append(ChannelProblem(str(config_file), "unreadable Apprise config"))
        servers = list(notifier)
        if config_file.exists() and not servers:
            problems.append(ChannelProblem(str(config_file), "no usable URL in Apprise config"))
        channels += [
            Channel(
                _channel_name(server, f"{config_file}#{index}:{server.url(privacy=False)}"),
                frozenset(str(t) for t in server.tags),
                server,
                channel_secrets(server),
            )
            for index, server in enumerate(servers)
        ]
    if not channels and not problems and console_fallback:
        _register_console()
        console = apprise.Apprise()
        console.add(f"{CONSOLE_SCHEME}://local")
        channels = [Channel("console", frozenset(), server) for server in console]
    return channels, problems
