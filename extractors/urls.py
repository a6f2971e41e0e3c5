"""URL keys: which addresses name the same article, which outlet publishes it.

courlan does the normalisation (case, default ports, path dots, query order, most tracking
parameters); this module adds what an article key needs on top: one scheme, mobile and AMP
variants folded, fragments dropped.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import courlan

_WEB_SCHEMES = frozenset({"http", "https"})
# Host prefixes that serve the same article as the bare host.
_HOST_PREFIXES = ("www.", "mobile.", "amp.", "m.")
# Trackers courlan keeps (it already drops utm_*, fbclid, gclid, mc_*, ref, source, ...).
_EXTRA_TRACKERS = frozenset(
    {"ocid", "cmpid", "smid", "ito", "spm", "_hsenc", "_hsmi", "__twitter_impression", "wt.mc_id"}
)
_AMP_SUFFIXES = ("/amp/", "/amp", ".amp.html", ".amp")
# Browsers drop these anywhere in a URL before parsing it ("java\nscript:" is "javascript:").
_URL_IGNORED = re.compile(r"[\t\n\r]")
_PERCENT_ESCAPE = re.compile(r"%[0-9a-f]{2}")


def _fold_host(host: str) -> str:
    host = host.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            return host[len(prefix) :]
    # Hyphenated mobile hosts (m-en.yna.co.kr) keep a subdomain after folding; requiring two
    # dots spares registrable names that merely start with "m-" (m-net.de).
    if host.startswith("m-") and host.count(".") >= 3:
        return host[2:]
    return host


def outlet_of(url: str) -> str:
    """Return the host of url without a leading www./m./m-/amp./mobile. ("" if none).

    The port is dropped too: an outlet is a publisher, not a server.
    """
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return _fold_host(host)


def _is_amp_param(key: str, value: str) -> bool:
    key = key.lower()
    if key == "amp":
        return value.lower() in ("", "1", "true", "yes")
    return key == "outputtype" and value.lower() == "amp"


def _fold_query(query: str) -> str:
    pairs = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if key.lower() not in _EXTRA_TRACKERS and not _is_amp_param(key, value)
    ]
    return urlencode(pairs)


def _fold_path(path: str) -> str:
    for suffix in _AMP_SUFFIXES:
        if path.endswith(suffix) and len(path) > len(suffix):
            path = path[: -len(suffix)] + (".html" if suffix == ".amp.html" else "")
            break
    path = _PERCENT_ESCAPE.sub(lambda match: match.group(0).upper(), path)
    # "/story" and "/story/" are one article; the key keeps the shorter form.
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path or "/"


def canonical_url(url: str) -> str | None:
    """Return the key for "same article", or None if url is not an absolute http(s) URL.

    The key is for comparing, not fetching: "m." and "amp." hosts fold into the bare host,
    which may not itself serve the page.
    """
    url = _URL_IGNORED.sub("", url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.hostname:
        return None
    cleaned = courlan.clean_url(url)
    if cleaned is None:
        return None
    try:
        parts = urlsplit(cleaned)
        host = _fold_host(parts.hostname or "")
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    return urlunsplit(("https", netloc, _fold_path(parts.path), _fold_query(parts.query), ""))


def resolve_link(link: str | None, base_url: str) -> str | None:
    """Return link as an absolute http(s) URL, or None.

    Relative links resolve against base_url; any other scheme (javascript:, data:, mailto:,
    file:, ...) gives None, as does a relative link without an http(s) base.
    """
    if not link:
        return None
    link = _URL_IGNORED.sub("", link).strip()
    if not link:
        return None
    try:
        absolute = urljoin(base_url, link) if base_url else link
        parts = urlsplit(absolute)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.hostname:
        return None
    return urlunsplit(parts._replace(scheme=parts.scheme.lower()))
