"""URL keys: which addresses name the same article, which outlet publishes it.

courlan does the first normalisation (case, default ports, query order, most tracking
parameters); this module adds what an article key needs on top: one scheme, hosts in their
IDNA form, mobile and AMP variants folded, percent-encodings of unreserved characters
decoded and dot segments removed (RFC 3986, section 6.2.2), fragments dropped. An outlet is
a publisher: the registrable domain, from the public-suffix list shipped with tldextract.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import courlan
import idna
import tldextract

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
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# RFC 3986 unreserved characters: their percent-encoded and plain forms are one URL.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# A key longer than this (UTF-8 bytes) is indexed as its digest: PostgreSQL refuses btree
# entries over 2704 bytes, and one overlong feed link must not stop a batch.
MAX_KEY_BYTES = 1000


def idna_host(host: str) -> str:
    """Return host lower-cased in its ASCII (punycode) form; Unicode and punycode agree.

    A host IDNA cannot encode (underscores, a bad label) is returned lower-cased as it is.
    """
    host = host.strip().lower().rstrip(".")
    if not host or host.isascii() and "xn--" not in host:
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return host


def _fold_host(host: str) -> str:
    host = idna_host(host)
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            return host[len(prefix) :]
    # Hyphenated mobile hosts (m-en.yna.co.kr) keep a subdomain after folding; requiring two
    # dots spares registrable names that merely start with "m-" (m-net.de).
    if host.startswith("m-") and host.count(".") >= 3:
        return host[2:]
    return host


@lru_cache(maxsize=1)
def _suffixes() -> tldextract.TLDExtract:
    # The list shipped inside the package, never fetched: no URL to try, no cache on disk.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def registrable_domain(host: str) -> str:
    """Return the part of host a publisher registers (news.evil.test -> evil.test).

    IP addresses and single labels are their own domain. A host under no listed suffix
    follows the list's default rule: its last label is the suffix (evil.test -> evil.test).
    """
    host = idna_host(host).strip("[]")
    if not host:
        return ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) < 2:
        return host
    parts = _suffixes().extract_str(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    if parts.suffix:  # the host is itself a public suffix (co.uk)
        return host
    return ".".join(labels[-2:])


def outlet_of(url: str) -> str:
    """Return the publisher of url: its registrable domain in IDNA form ("" if none).

    news.evil.test, www2.evil.test and blog.evil.test are one outlet, as are the Unicode and
    punycode forms of one host; the port is dropped: an outlet is a publisher, not a server.
    """
    try:
        host = urlsplit(_URL_IGNORED.sub("", url).strip()).hostname or ""
    except ValueError:
        return ""
    return registrable_domain(host)


def outlet_names(sources: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return registrable domain -> outlet name, from the profile's (source URL, outlet) pairs.

    A domain that carries several outlet names (a syndication platform, the demo site on
    127.0.0.1) names none of them: only a host that is one outlet is mapped to it.
    """
    names: dict[str, set[str]] = {}
    for url, name in sources:
        domain = outlet_of(url)
        if domain and name:
            names.setdefault(domain, set()).add(name)
    return {domain: next(iter(found)) for domain, found in names.items() if len(found) == 1}


def url_key(key: str) -> str:
    """Return key itself when it fits an index, else ``sha256:`` and its digest.

    Keys are compared, never shown or fetched: the URL itself is kept in full beside them.
    """
    raw = key.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_KEY_BYTES:
        return key
    return "sha256:" + hashlib.sha256(raw).hexdigest()


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
    path = _remove_dot_segments(_PERCENT_ESCAPE.sub(_normal_escape, path))
    # "/story" and "/story/" are one article; the key keeps the shorter form.
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path or "/"


def _normal_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(0)[1:], 16))
    return char if char in _UNRESERVED else match.group(0).upper()


def _remove_dot_segments(path: str) -> str:
    """Return path without "." and ".." segments (RFC 3986, section 5.2.4)."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    result = "/".join(out)
    return result if result.startswith("/") or not path.startswith("/") else "/" + result


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
    file:, ...) gives None, as does a relative link without an http(s) base. Userinfo is
    dropped: an article link never carries credentials (httpx would send them as Basic
    auth), not even those of the feed it was resolved against.
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
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=netloc))


def without_userinfo(url: str) -> str:
    """Return url without its userinfo (an article link is never fetched with credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def reader_link(url: str) -> str:
    """Return url as a link to show a reader: no userinfo, tracking parameters or fragment.

    Unlike ``canonical_url`` it keeps the scheme, host and path as published, so the link
    opens the page the outlet serves; anything that is not an http(s) URL gives "".
    """
    try:
        parts = urlsplit(without_userinfo(_URL_IGNORED.sub("", url).strip()))
    except ValueError:
        return ""
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.hostname:
        return ""
    cleaned = urlsplit(courlan.clean_url(urlunsplit(parts)) or urlunsplit(parts))
    return urlunsplit(cleaned._replace(query=_fold_query(cleaned.query), fragment=""))
