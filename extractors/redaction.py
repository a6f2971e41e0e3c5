"""Secrets out of every string we log, store or send: URLs, free text, log records.

A URL's password and its credential parameters (``token``, ``api_key``, ``X-Amz-Signature``
and their kin) are masked wherever they appear: in a URL, inside free text such as a
server's error message, or in a log record, before any handler formats it. The libraries
that log whole URLs (httpx, Apprise) are filtered the same way.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

MASK = "***"
# Parameter names whose values are credentials; names containing one of the stems are too
# (X-Amz-Signature, private_token, client_secret, -X-Api-Key ...).
_SECRET_PARAMS = frozenset(
    {"key", "pass", "pwd", "sig", "auth", "code", "session", "sid", "hmac", "jwt", "otp"}
)
_SECRET_STEMS = (
    "token",
    "secret",
    "passw",
    "apikey",
    "api_key",
    "signature",
    "credential",
    "authoriz",
    "auth_",
    "_auth",
    "access_key",
    "private_key",
    "session_id",
)
# A URL inside free text: a scheme, "://", then anything up to white space or quotes.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s<>\"'`]+")
# name=value pairs outside a URL ("GET /feed?token=..." in a server's error message).
_PAIR_IN_TEXT = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]{0,40})=([^\s&;,\"'<>]+)")
_USERINFO_IN_TEXT = re.compile(r"(//[^/\s@:]*):([^/\s@]+)@")


def is_secret_param(name: str) -> bool:
    """Return True if a query or form parameter of this name carries a credential."""
    name = name.strip().lower().replace("-", "_").strip("_")
    return name in _SECRET_PARAMS or any(stem in name for stem in _SECRET_STEMS)


def _mask_pairs(text: str, separator: str) -> str:
    pieces = []
    for piece in text.split(separator):
        name, equals, value = piece.partition("=")
        if equals and value and is_secret_param(_unquote(name)):
            piece = f"{name}={MASK}"
        pieces.append(piece)
    return separator.join(pieces)


def _unquote(text: str) -> str:
    return unquote_plus(text, encoding="latin-1")


def redact_url(url: str) -> str:
    """Return url with its secrets masked: the userinfo's password, secret query parameters.

    Fit for logs, tables people read, ``status`` and alerts. The rest of the URL stays as
    it was, so a reader still sees which address it is. A user name without a password is
    masked too: it is then usually a token (``https://TOKEN@host/``).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO_IN_TEXT.sub(rf"\1:{MASK}@", _mask_pairs(url, "&"))
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hostport}" if colon and user else f"{MASK}@{hostport}"
    query = _mask_pairs(parts.query, "&") if parts.query else ""
    fragment = _mask_pairs(parts.fragment, "&") if "=" in parts.fragment else parts.fragment
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=fragment))


def redact_text(text: str) -> str:
    """Return free text with every URL in it redacted, and secret name=value pairs masked."""
    if not text:
        return text
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    return _PAIR_IN_TEXT.sub(
        lambda m: (
            f"{m.group(1)}={MASK}"
            if is_secret_param(m.group(1)) and m.group(2) != MASK
            else m.group(0)
        ),
        text,
    )


def redacted(value: Any) -> Any:
    """Return value (JSON-like: dicts, lists, strings) with every string through redact_text."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redacted(item) for item in value)
    return value


class RedactingFilter(logging.Filter):
    """Mask secrets in a log record's message before any handler formats or ships it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


# Libraries that log whole URLs: httpx logs each request's URL (with its userinfo) at INFO.
_URL_LOGGERS = ("httpx", "httpcore", "apprise", "urllib3.connectionpool")
# Libraries whose DEBUG lines carry endpoints a generic redaction cannot recognise (a
# webhook's token in its path): they log from INFO up.
_ENDPOINT_LOGGERS = ("apprise", "urllib3.connectionpool")


def guard_library_logs() -> None:
    """Make the libraries that log URLs mask their secrets (idempotent, process-wide)."""
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    for name in _ENDPOINT_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET too: a DEBUG root must not reach them
            logger.setLevel(logging.INFO)
