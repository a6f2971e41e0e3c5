"""The shared HTTP fetcher: polite, bounded, and returning errors as values.

One ``Fetcher`` holds one httpx client and the politeness state of a run: a semaphore and
a start-time gap per host, a global bound on requests in flight, and robots.txt rules cached
per origin. Every hop, redirects included, passes the address guard (extractors.netguard)
before any request, and every connection passes it again where it is opened. Bodies are
streamed and decoded here, in bounded steps, so a compressed bomb stops at the byte cap of
its *decoded* size.

Its length is one fetcher: the address guard, robots.txt, per-host pacing, retries and
bounded reading act on every hop together, and the helpers below serve it alone.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.robotparser import RobotFileParser

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from extractors.netguard import (
    AddressRefused,
    GuardedTransport,
    Resolver,
    check_host,
    parse_networks,
    system_resolver,
)
from extractors.redaction import guard_library_logs

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_BUSY = frozenset({"http_429", "http_503"})
_ROBOTS_TIMEOUT = 10.0
_ROBOTS_MAX_BYTES = 512_000  # the size RFC 9309 says crawlers must read at least
_SECONDS = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str = "straitwatch/0.1 (news monitor; respects robots.txt)"
    connect_timeout: float = 10.0
    timeout: float = 30.0  # total wall time for one request, body included
    max_bytes: int = 5_000_000  # decoded body cap, enforced while streaming
    max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0  # min seconds between request starts to one host
    concurrency: int = 16  # requests in flight overall
    respect_robots: bool = True
    allowed_networks: tuple[str, ...] = ()  # CIDRs fetchable although not public
    max_retry_after: float = 30.0  # Retry-After up to this is honoured in-run (one retry)


@dataclass(frozen=True)
class Backoff:
    """How a request that meets 429 or 503 is tried again within the run.

    ``tries`` counts the first request. A retry waits the server's Retry-After, at least
    ``pause`` doubled at each retry, never more than ``cap``. An impatient backoff (the
    default for pages) retries only when the server said how long to wait and that fits
    under ``cap``; anything else is returned, and a later run tries again. A patient one
    (rate-limited APIs) retries whatever the server said, waiting at most ``cap``.
    The wait holds the whole host, so other requests to it back off too.
    """

    tries: int = 2
    pause: float = 0.0
    cap: float = 30.0
    patient: bool = False

    def wants_retry(self, result: FetchResult) -> bool:
        if result.error not in _RETRY_AFTER_BUSY:
            return False
        wait = result.retry_after
        return self.patient or (wait is not None and wait <= self.cap)

    def wait(self, retry: int, result: FetchResult) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        asked = max(result.retry_after or 0.0, self.pause * 2.0 ** (retry - 1))
        return min(asked, self.cap)


def _last_result(state: RetryCallState) -> FetchResult:
    assert state.outcome is not None  # tenacity calls after an attempt has ended
    result: FetchResult = state.outcome.result()
    return result


async def _no_sleep(seconds: float) -> None:
    """Tenacity's sleep: none here, the host's pacing gate holds the next hop instead."""


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    backoff: Backoff | None = None  # None: the fetcher's (policy.max_retry_after)


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int | None
    # Not in repr: asyncio and tracebacks print a finished gather's results, and the repr
    # of a page's bytes costs milliseconds each.
    content: bytes = field(repr=False)
    content_type: str  # media type, lower-case, no params; "" if absent
    charset: str | None  # from Content-Type
    etag: str | None
    last_modified: str | None
    not_modified: bool  # 304 to a conditional GET
    error: str | None  # short stable reason code, None when fine (304 is fine)
    detail: str = ""  # one human sentence, safe to log (no secrets)
    retry_after: float | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the page (or a 304 to a conditional GET) came back without error."""
        return self.error is None

    @property
    def retryable(self) -> bool:
        """True for failures a later run may not see: timeouts, connection errors, 5xx, 429."""
        if self.error in ("timeout", "connect_error", "dns_error", "http_429"):
            return True
        return self.error is not None and self.error.startswith("http_5")


@dataclass(frozen=True)
class _Failure:
    error: str
    detail: str
    status: int | None = None


@dataclass(frozen=True)
class _Hop:
    url: httpx.URL
    status: int
    headers: httpx.Headers
    content: bytes


class _HostState:
    """Politeness for one host: how many requests at once, and when the next may start."""

    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.next_start = 0.0

    def defer(self, seconds: float) -> None:
        now = asyncio.get_running_loop().time()
        self.next_start = max(self.next_start, now + seconds)


def make_client(
    policy: FetchPolicy,
    transport: httpx.AsyncBaseTransport | None = None,
    resolver: Resolver = system_resolver,
) -> httpx.AsyncClient:
    """Return an httpx client set up for the policy; it never follows redirects itself.

    Without a transport of the caller's, connections go through ``GuardedTransport``.
    Proxy and netrc settings from the environment are ignored (``trust_env=False``): a proxy
    would resolve and connect on our behalf, past the address guard.
    """
    guard_library_logs()  # httpx logs every request's URL, userinfo included
    limit = max(policy.concurrency, 1)
    limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
    if transport is None:
        transport = GuardedTransport(limits, resolver, policy.allowed_networks)
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(policy.timeout, connect=policy.connect_timeout),
        limits=limits,
        # Only what _read_body can decode in bounded steps.
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
    )


class Fetcher:
    """Fetches pages politely within a policy; use as an async context manager."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy
        self._resolver = resolver or system_resolver
        self._client = make_client(policy, transport, self._resolver)
        self._networks = parse_networks(policy.allowed_networks)
        self._agent = policy.user_agent.split("/")[0].split()[0] if policy.user_agent else "*"
        self._slots = asyncio.Semaphore(max(policy.concurrency, 1))
        self._hosts: dict[str, _HostState] = {}
        self._robots: dict[str, asyncio.Task[RobotFileParser]] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and drop any robots.txt fetch still running."""
        for task in self._robots.values():
            task.cancel()
        await self._client.aclose()

    async def fetch(self, request: FetchRequest | str) -> FetchResult:
        """Return the result of fetching one URL; network trouble is an error code, not raised."""
        req = request if isinstance(request, FetchRequest) else FetchRequest(request)
        started = time.perf_counter()
        result = await self._fetch(req)
        return replace(result, elapsed_ms=round((time.perf_counter() - started) * 1000, 1))

    async def _fetch(self, req: FetchRequest) -> FetchResult:
        url = _parse_url(req.url)
        if isinstance(url, _Failure):
            return _failed(req.url, req.url, url)
        # Validators come back from servers; one that cannot travel as a header is dropped.
        validators = {"If-None-Match": req.etag, "If-Modified-Since": req.last_modified}
        headers = {
            name: value
            for name, value in validators.items()
            if value and value.isascii() and value.isprintable()
        }
        backoff = req.backoff or Backoff(cap=self.policy.max_retry_after)

        def hold_the_host(state: RetryCallState) -> None:
            # The wait is the host's: this request's next hop and every other request to
            # the host start after it (the host's pacing gate does the waiting).
            result = _last_result(state)
            wait = backoff.wait(state.attempt_number, result)
            self._host(httpx.URL(result.final_url).host).defer(wait)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(backoff.tries, 1)),
            retry=retry_if_result(backoff.wants_retry),
            before_sleep=hold_the_host,
            sleep=_no_sleep,
            retry_error_callback=_last_result,  # out of tries: the last answer, not an error
        )
        last: FetchResult = await retrying(self._follow, req.url, url, headers)
        return last

    async def _follow(
        self, original: str, url: httpx.URL, headers: dict[str, str], *, polite: bool = True
    ) -> FetchResult:
        seen = {str(url)}
        for _ in range(self.policy.max_redirects + 1):
            outcome = await self._hop(url, headers, polite=polite)
            if isinstance(outcome, _Failure):
                return _failed(original, str(url), outcome)
            location = outcome.headers.get("location")
            if outcome.status not in _REDIRECTS or not location:
                return _result(original, outcome, conditional=bool(headers))
            target = _parse_url(location, base=url)
            if isinstance(target, _Failure):
                return _failed(original, str(url), target)
            target = _credentials_stay_home(url, target)
            if str(target) in seen:
                loop = _Failure("redirect_loop", f"redirects from {url.host} come back to a page")
                return _failed(original, str(target), loop)
            seen.add(str(target))
            url = target
        too_many = _Failure(
            "too_many_redirects", f"more than {self.policy.max_redirects} redirects"
        )
        return _failed(original, str(url), too_many)

    async def _hop(
        self, url: httpx.URL, headers: dict[str, str], *, polite: bool
    ) -> _Hop | _Failure:
        reason = await check_host(
            url.raw_host.decode("ascii"),
            self._resolver,
            self._networks,
            timeout=self.policy.connect_timeout,
        )
        if reason is not None:
            return _Failure(reason, _GUARD_DETAIL[reason].format(host=url.host))
        if not polite:  # robots.txt: its page already holds the host's turn and a slot
            timeout = min(_ROBOTS_TIMEOUT, self.policy.timeout)
            return await self._exchange(url, headers, _ROBOTS_MAX_BYTES, timeout)
        host = self._host(url.host)
        async with host.slots:
            if self.policy.respect_robots and not await self._robots_allow(url, host):
                return _Failure("robots_disallowed", f"robots.txt of {url.host} disallows it")
            async with self._turn(host):
                return await self._exchange(
                    url, headers, self.policy.max_bytes, self.policy.timeout
                )

    @asynccontextmanager
    async def _turn(self, host: _HostState) -> AsyncIterator[None]:
        """Hold a global slot, entered once the host's gap since its last start has passed.

        The gap is claimed only with the slot in hand: claiming first and then queueing for
        a slot would let two starts to one host bunch up behind a busy queue.
        """
        loop = asyncio.get_running_loop()
        while True:
            wait = host.next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            await self._slots.acquire()
            if host.next_start <= loop.time():
                break
            self._slots.release()
        host.next_start = loop.time() + self.policy.per_host_delay
        try:
            yield
        finally:
            self._slots.release()

    def _host(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(max(self.policy.per_host_concurrency, 1))
        return state

    async def _robots_allow(self, url: httpx.URL, host: _HostState) -> bool:
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        task = self._robots.get(origin)
        if task is None:
            task = self._robots[origin] = asyncio.ensure_future(self._load_robots(url, host))
        # Shielded: one waiter being cancelled must not cancel the fetch the others share.
        rules = await asyncio.shield(task)
        return rules.can_fetch(self._agent, str(url))

    async def _load_robots(self, url: httpx.URL, host: _HostState) -> RobotFileParser:
        """Return the origin's robots.txt rules.

        A 4xx means no rules (RFC 9309). Unreachable or 5xx also counts as no rules, unlike
        RFC 9309's "assume disallowed": a news monitor that reads a few pages per outlet per
        run is better off fetching through an outage than going blind for it.
        """
        rules = RobotFileParser()
        target = url.copy_with(path="/robots.txt", query=None)
        async with self._turn(host):
            result = await self._follow(str(target), target, {}, polite=False)
        if result.ok and result.status is not None and 200 <= result.status < 300:
            rules.parse(result.content.decode("utf-8", errors="replace").splitlines())
        else:
            # typeshed's RobotFileParser stub omits allow_all, which CPython sets in __init__
            # and can_fetch reads first: a stub gap, not a wrong type.
            rules.allow_all = True  # type: ignore[attr-defined]
        return rules

    async def _exchange(
        self, url: httpx.URL, headers: dict[str, str], max_bytes: int, timeout: float
    ) -> _Hop | _Failure:
        try:
            async with asyncio.timeout(timeout):
                async with self._client.stream("GET", url, headers=headers) as response:
                    content = b""
                    if 200 <= response.status_code < 300:
                        body = await _read_body(response, max_bytes)
                        if isinstance(body, _Failure):
                            return replace(body, status=response.status_code)
                        content = body
                    return _Hop(url, response.status_code, response.headers, content)
        except (TimeoutError, httpx.TimeoutException):
            return _Failure("timeout", f"{url.host} took longer than {timeout:g} s")
        except httpx.ConnectError as exc:
            refused = _refusal(exc)
            if refused is not None:
                return _Failure(refused, _GUARD_DETAIL[refused].format(host=url.host))
            if _caused_by_tls(exc):
                return _Failure("tls_error", f"TLS handshake with {url.host} failed")
            return _Failure("connect_error", f"could not connect to {url.host}")
        except httpx.DecodingError:
            return _Failure("decode_error", f"the body from {url.host} could not be decoded")
        except httpx.UnsupportedProtocol:
            return _Failure("bad_scheme", "only http and https are fetched")
        except httpx.TransportError as exc:
            name = type(exc).__name__
            return _Failure("connect_error", f"connection to {url.host} broke ({name})")


async def fetch_pages(
    fetcher: Fetcher, requests: Iterable[FetchRequest | str]
) -> list[FetchResult]:
    """Return the results of fetching all requests, in request order."""
    return list(await asyncio.gather(*(fetcher.fetch(request) for request in requests)))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Return the seconds a Retry-After header asks to wait, or None when absent or unreadable.

    A date in the past means 0 seconds.
    """
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_GUARD_DETAIL = {
    "dns_error": "the name {host} did not resolve",
    "private_address": "{host} is not a public address and is not in the allowed networks",
}


def _credentials_stay_home(origin: httpx.URL, target: httpx.URL) -> httpx.URL:
    """Return the redirect target without userinfo unless it stays on the origin.

    httpx sends a URL's userinfo as Basic auth: the operator's credentials go to the host
    they were written for, and a server cannot have any sent by naming them in a Location.
    """
    if not target.userinfo:
        return target
    same = (origin.scheme, origin.host, origin.port) == (target.scheme, target.host, target.port)
    if same and target.userinfo == origin.userinfo:
        return target
    return target.copy_with(userinfo=b"")


def _parse_url(raw: str, base: httpx.URL | None = None) -> httpx.URL | _Failure:
    try:
        url = base.join(raw.strip()) if base is not None else httpx.URL(raw.strip())
    except (httpx.InvalidURL, ValueError):
        return _Failure("bad_url", "the address could not be parsed")
    if url.scheme and url.scheme not in ("http", "https"):
        return _Failure("bad_scheme", f"scheme {url.scheme[:20]!r} is not http or https")
    if not url.scheme or not url.host:
        return _Failure("bad_url", "the address is not an absolute http(s) URL")
    if url.port is not None and not 0 < url.port < 65536:
        return _Failure("bad_url", "the port is out of range")
    return url.copy_with(fragment=None)


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes | _Failure:
    """Return the decoded body, or too_large / decode_error, reading no more than needed."""
    too_large = _Failure("too_large", f"the body is larger than {max_bytes} bytes")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        return too_large
    if response.is_stream_consumed:  # built in memory by its transport, already decoded
        return response.content if len(response.content) <= max_bytes else too_large
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
        return _Failure("decode_error", "the body uses an unsupported content encoding")
    # MAX_WBITS | 32 reads both gzip and zlib framing; servers mix up the two names.
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32) if codings else None
    chunks: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            # max_length bounds each step's output, so one small chunk cannot expand unbounded.
            piece = inflater.decompress(raw, max_bytes - size + 1) if inflater else raw
            size += len(piece)
            if size > max_bytes:
                return too_large
            chunks.append(piece)
        if inflater is not None:
            chunks.append(inflater.flush())
            if size + len(chunks[-1]) > max_bytes:
                return too_large
    except zlib.error:
        return _Failure("decode_error", "the compressed body is corrupt")
    return b"".join(chunks)


def _result(original: str, hop: _Hop, *, conditional: bool) -> FetchResult:
    media, _, params = hop.headers.get("content-type", "").partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    not_modified = hop.status == 304 and conditional
    fine = 200 <= hop.status < 300 or not_modified
    return FetchResult(
        url=original,
        final_url=str(hop.url),
        status=hop.status,
        content=hop.content,
        content_type=media.strip().lower(),
        charset=charset,
        etag=hop.headers.get("etag"),
        last_modified=hop.headers.get("last-modified"),
        not_modified=not_modified,
        error=None if fine else f"http_{hop.status}",
        detail="" if fine else f"{hop.url.host} answered HTTP {hop.status}",
        retry_after=None if fine else parse_retry_after(hop.headers.get("retry-after")),
    )


def _failed(original: str, final_url: str, failure: _Failure) -> FetchResult:
    return FetchResult(
        url=original,
        final_url=final_url,
        status=failure.status,
        content=b"",
        content_type="",
        charset=None,
        etag=None,
        last_modified=None,
        not_modified=False,
        error=failure.error,
        detail=failure.detail,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    link: BaseException | None = exc
    for _ in range(10):  # httpx wraps httpcore wraps ssl: a short chain, never a cycle here
        if link is None:
            return
        yield link
        link = link.__cause__ or link.__context__


def _caused_by_tls(exc: BaseException) -> bool:
    return any(isinstance(link, ssl.SSLError) for link in _causes(exc))


def _refusal(exc: BaseException) -> str | None:
    """Return the guard's reason when it refused the connection behind exc, else None."""
    refused = next((link for link in _causes(exc) if isinstance(link, AddressRefused)), None)
    return refused.reason if refused is not None else None
