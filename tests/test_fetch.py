"""The fetcher: its logic over httpx.MockTransport and a fake resolver, then its caps and
timeouts against a real server on 127.0.0.1. No packet goes anywhere else.
"""

import asyncio
import gzip
import socket
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from extractors.fetch import (
    Backoff,
    Fetcher,
    FetchPolicy,
    FetchRequest,
    FetchResult,
    fetch_pages,
    make_client,
    parse_retry_after,
)
from tests.support.net import free_port
from tests.support.wire import (
    Handler,
    HostileServer,
    drip,
    endless,
    hang,
    reply,
    serve_hostile,
    wait_until,
)

UA = "straitwatch/0.1 (news monitor; respects robots.txt)"
PUBLIC = {
    "news.example": ["93.184.216.34"],
    "other.example": ["93.184.216.35"],
    "third.example": ["93.184.216.36"],
    # Public-looking names that point inside: the guard must see through them.
    "sneaky.example": ["10.1.2.3"],
    "half.example": ["93.184.216.40", "127.0.0.1"],
}


async def fake_resolve(host: str) -> list[str]:
    if host not in PUBLIC:
        raise socket.gaierror(socket.EAI_NONAME, "unknown name")
    return PUBLIC[host]


def policy(**overrides) -> FetchPolicy:
    base = {"per_host_delay": 0.0, "respect_robots": False, "timeout": 2.0}
    return FetchPolicy(**{**base, **overrides})


def fetch(handler, url_or_request, **overrides) -> FetchResult:
    async def go() -> FetchResult:
        transport = httpx.MockTransport(handler)
        async with Fetcher(policy(**overrides), transport=transport, resolver=fake_resolve) as f:
            return await f.fetch(url_or_request)

    return asyncio.run(go())


def refusing(*hosts: str):
    """A handler that fails the test if it is ever asked for one of the hosts."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        assert request.url.host not in hosts, f"connected to refused {request.url.host}"
        return httpx.Response(200, text="fine")

    return handler, calls


# --- URLs and schemes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>hi</b>",
        "file:///etc/passwd",
        "ftp://news.example/",
    ],
)
def test_non_http_schemes_are_refused_before_any_request(url):
    def handler(request):
        raise AssertionError("no request may be sent")

    result = fetch(handler, url)
    assert result.error == "bad_scheme"
    assert not result.ok and not result.retryable
    assert result.status is None and result.content == b""


@pytest.mark.parametrize(
    "url", ["", "news.example/page", "http://", "http://[::1", "http://news.example:99999/"]
)
def test_malformed_urls_are_bad_url(url):
    def handler(request):
        raise AssertionError("no request may be sent")

    assert fetch(handler, url).error == "bad_url"


def test_make_client_never_follows_redirects_and_sends_the_user_agent():
    client = make_client(FetchPolicy(user_agent="agent/9"))
    try:
        assert client.follow_redirects is False
        assert client.headers["User-Agent"] == "agent/9"
    finally:
        asyncio.run(client.aclose())


# --- responses ----------------------------------------------------------------------------


def test_a_page_comes_back_with_its_metadata():
    def handler(request):
        assert request.headers["User-Agent"] == UA
        assert "If-None-Match" not in request.headers
        headers = {
            "Content-Type": 'Text/HTML; Charset="Shift_JIS"',
            "ETag": '"v1"',
            "Last-Modified": "Wed, 21 Aug 2019 07:00:00 GMT",
        }
        return httpx.Response(200, headers=headers, content=b"<p>hello</p>")

    result = fetch(handler, "https://news.example/story#section")
    assert result.ok and result.error is None
    assert result.status == 200
    assert result.content == b"<p>hello</p>"
    assert result.content_type == "text/html"
    assert result.charset == "shift_jis"
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 21 Aug 2019 07:00:00 GMT"
    assert result.url == "https://news.example/story#section"
    assert result.final_url == "https://news.example/story"
    assert result.elapsed_ms > 0


def test_conditional_get_sends_validators_and_reads_304_as_not_modified():
    seen = {}

    def handler(request):
        seen.update(request.headers)
        return httpx.Response(304, headers={"ETag": '"v2"'})

    request = FetchRequest(
        "https://news.example/feed.xml", etag='"v1"', last_modified="Tue, 20 Aug 2019 00:00:00 GMT"
    )
    result = fetch(handler, request)
    assert seen["if-none-match"] == '"v1"'
    assert seen["if-modified-since"] == "Tue, 20 Aug 2019 00:00:00 GMT"
    assert result.not_modified and result.ok
    assert result.status == 304 and result.content == b""
    assert result.etag == '"v2"'


def test_validators_that_cannot_be_headers_are_dropped():
    seen = {}

    def handler(request):
        seen.update(request.headers)
        return httpx.Response(200, text="full page")

    request = FetchRequest("https://news.example/", etag='"caf\u00e9"', last_modified="a\r\nX: y")
    result = fetch(handler, request)
    assert result.ok and result.content == b"full page"
    assert "if-none-match" not in seen and "if-modified-since" not in seen


def test_a_304_to_a_plain_get_is_an_error():
    result = fetch(lambda request: httpx.Response(304), "https://news.example/")
    assert result.error == "http_304"
    assert not result.not_modified


@pytest.mark.parametrize(
    ("status", "retryable"), [(404, False), (410, False), (500, True), (503, True), (429, True)]
)
def test_http_errors_are_codes(status, retryable):
    result = fetch(lambda request: httpx.Response(status, text="no"), "https://news.example/x")
    assert result.error == f"http_{status}"
    assert result.status == status
    assert result.retryable is retryable
    assert result.content == b""
    assert "news.example" in result.detail


def test_content_length_over_the_cap_is_refused_without_reading():
    def handler(request):
        return httpx.Response(200, headers={"Content-Length": "5000"}, content=b"x" * 5000)

    result = fetch(handler, "https://news.example/big", max_bytes=1000)
    assert result.error == "too_large"
    assert result.content == b""


async def streamed(*chunks: bytes):
    """A body httpx has not read yet, as from a real connection."""
    for chunk in chunks:
        yield chunk


def test_a_streamed_body_is_decoded_and_capped_on_its_decoded_size():
    packed = gzip.compress(b"a" * 4000)

    def handler(request):
        headers = {"Content-Encoding": "gzip"}
        return httpx.Response(200, headers=headers, content=streamed(packed[:50], packed[50:]))

    assert fetch(handler, "https://news.example/").content == b"a" * 4000
    capped = fetch(handler, "https://news.example/", max_bytes=3999)
    assert capped.error == "too_large" and capped.status == 200


@pytest.mark.parametrize(
    ("encoding", "body"),
    [("gzip", b"not gzip at all"), ("deflate", b"\x00\x01broken"), ("br", b"\x0b\x02\x80")],
)
def test_an_undecodable_body_is_a_decode_error(encoding, body):
    def handler(request):
        return httpx.Response(200, headers={"Content-Encoding": encoding}, content=streamed(body))

    assert fetch(handler, "https://news.example/").error == "decode_error"


def test_transport_failures_are_values():
    def connect_fails(request):
        raise httpx.ConnectError("refused", request=request)

    def read_times_out(request):
        raise httpx.ReadTimeout("slow", request=request)

    assert fetch(connect_fails, "https://news.example/").error == "connect_error"
    timed_out = fetch(read_times_out, "https://news.example/")
    assert timed_out.error == "timeout" and timed_out.retryable


# --- redirects and the address guard ------------------------------------------------------


def redirecting(chain: dict[str, str]):
    calls: list[str] = []

    def handler(request):
        calls.append(str(request.url))
        target = chain.get(str(request.url))
        if target is None:
            return httpx.Response(200, text="arrived")
        return httpx.Response(302, headers={"Location": target})

    return handler, calls


def test_redirects_are_followed_by_hand_including_relative_ones():
    handler, calls = redirecting(
        {
            "http://news.example/a": "https://news.example/b",
            "https://news.example/b": "/c?x=1",
            "https://news.example/c?x=1": "https://other.example/d",
        }
    )
    result = fetch(handler, "http://news.example/a")
    assert result.ok
    assert result.final_url == "https://other.example/d"
    assert result.url == "http://news.example/a"
    assert len(calls) == 4


def test_a_chain_longer_than_the_cap_stops():
    chain = {f"https://news.example/{i}": f"https://news.example/{i + 1}" for i in range(10)}
    handler, calls = redirecting(chain)
    result = fetch(handler, "https://news.example/0", max_redirects=3)
    assert result.error == "too_many_redirects"
    assert len(calls) == 4  # the first request and three redirects


def test_a_redirect_loop_is_detected():
    handler, calls = redirecting(
        {
            "https://news.example/a": "https://news.example/b",
            "https://news.example/b": "https://news.example/a",
        }
    )
    result = fetch(handler, "https://news.example/a", max_redirects=20)
    assert result.error == "redirect_loop"
    assert len(calls) == 2


def test_a_redirect_to_a_non_http_scheme_is_refused():
    handler, calls = redirecting({"https://news.example/a": "file:///etc/passwd"})
    assert fetch(handler, "https://news.example/a").error == "bad_scheme"
    assert len(calls) == 1


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://sneaky.example/",
        "http://half.example/",
    ],
)
def test_redirects_into_private_space_are_refused_before_connecting(target):
    guarded = ("127.0.0.1", "169.254.169.254", "10.0.0.1", "::1", "::ffff:127.0.0.1")
    inner, calls = refusing(*guarded, "sneaky.example", "half.example")

    def handler(request):
        if request.url.host == "news.example":
            return httpx.Response(301, headers={"Location": target})
        return inner(request)

    result = fetch(handler, "https://news.example/start")
    assert result.error == "private_address"
    assert result.final_url.startswith(target.rstrip("/"))
    assert calls == []  # the refused host was never asked


@pytest.mark.parametrize(
    "url", ["http://sneaky.example/", "http://10.0.0.1/", "http://169.254.169.254/"]
)
def test_private_destinations_are_refused_on_the_first_hop(url):
    handler, calls = refusing("sneaky.example", "10.0.0.1", "169.254.169.254")
    result = fetch(handler, url)
    assert result.error == "private_address"
    assert not result.retryable
    assert calls == []


def test_allowed_networks_open_a_private_range():
    handler, calls = refusing()
    result = fetch(handler, "http://sneaky.example/", allowed_networks=("10.0.0.0/8",))
    assert result.ok
    assert calls == ["http://sneaky.example/"]


def test_an_unresolvable_name_is_a_dns_error():
    handler, calls = refusing("nowhere.example")
    result = fetch(handler, "https://nowhere.example/")
    assert result.error == "dns_error"
    assert calls == []


# --- robots.txt ------------------------------------------------------------------------------

ROBOTS = """
User-agent: *
Disallow: /

User-agent: straitwatch
Disallow: /private/
"""


def robots_site(robots_status: int = 200, robots_text: str = ROBOTS):
    calls: list[httpx.Request] = []

    def handler(request):
        calls.append(request)
        if request.url.path == "/robots.txt":
            if robots_status == 599:
                raise httpx.ConnectError("down", request=request)
            return httpx.Response(robots_status, text=robots_text)
        return httpx.Response(200, text="page")

    return handler, calls


def fetch_all(handler, urls, **overrides) -> list[FetchResult]:
    async def go():
        transport = httpx.MockTransport(handler)
        async with Fetcher(policy(**overrides), transport=transport, resolver=fake_resolve) as f:
            return await fetch_pages(f, urls)

    return asyncio.run(go())


def test_robots_rules_for_our_token_are_obeyed_and_fetched_once_per_origin():
    handler, calls = robots_site()
    urls = [
        "https://news.example/private/memo",
        "https://news.example/world/story",
        "https://news.example/world/other",
    ]
    results = fetch_all(handler, urls, respect_robots=True)
    assert [r.error for r in results] == ["robots_disallowed", None, None]
    paths = [c.url.path for c in calls]
    assert paths.count("/robots.txt") == 1
    assert "/private/memo" not in paths
    assert all(c.headers["User-Agent"] == UA for c in calls)


def test_a_wildcard_block_applies_when_no_group_names_us():
    handler, calls = robots_site(robots_text="User-agent: *\nDisallow: /\n")
    result = fetch_all(handler, ["https://news.example/a"], respect_robots=True)[0]
    assert result.error == "robots_disallowed"
    assert [c.url.path for c in calls] == ["/robots.txt"]


@pytest.mark.parametrize("robots_status", [404, 403, 500, 599])
def test_missing_or_unreachable_robots_allows_everything(robots_status):
    handler, calls = robots_site(robots_status=robots_status)
    result = fetch_all(handler, ["https://news.example/private/memo"], respect_robots=True)[0]
    assert result.ok
    assert [c.url.path for c in calls] == ["/robots.txt", "/private/memo"]


def test_robots_can_be_switched_off():
    handler, calls = robots_site()
    result = fetch_all(handler, ["https://news.example/private/memo"], respect_robots=False)[0]
    assert result.ok
    assert [c.url.path for c in calls] == ["/private/memo"]


def test_robots_of_a_redirect_target_is_checked_too():
    def handler(request):
        if request.url.host == "news.example":
            if request.url.path == "/robots.txt":
                return httpx.Response(404)
            return httpx.Response(302, headers={"Location": "https://other.example/private/x"})
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text=ROBOTS)
        raise AssertionError("the disallowed target was fetched")

    result = fetch_all(handler, ["https://news.example/go"], respect_robots=True)[0]
    assert result.error == "robots_disallowed"


# --- Retry-After -----------------------------------------------------------------------------


def flaky(status: int, retry_after: str, failures: int = 1):
    calls: list[float] = []

    def handler(request):
        calls.append(time.monotonic())
        if len(calls) <= failures:
            return httpx.Response(status, headers={"Retry-After": retry_after})
        return httpx.Response(200, text="back")

    return handler, calls


def test_a_short_retry_after_is_waited_for_and_retried_once():
    handler, calls = flaky(429, "1")
    result = fetch(handler, "https://news.example/")
    assert result.ok and result.content == b"back"
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.95


def test_a_second_refusal_is_returned_not_retried_again():
    handler, calls = flaky(503, "0", failures=5)
    result = fetch(handler, "https://news.example/")
    assert result.error == "http_503"
    assert result.retry_after == 0.0
    assert len(calls) == 2


def test_a_long_retry_after_is_returned_with_the_error():
    handler, calls = flaky(429, "120")
    result = fetch(handler, "https://news.example/", max_retry_after=30.0)
    assert result.error == "http_429"
    assert result.retry_after == 120.0
    assert len(calls) == 1


def test_a_patient_backoff_retries_without_retry_after_and_doubles_its_pause():
    calls: list[float] = []

    def handler(request):
        calls.append(time.monotonic())
        return httpx.Response(429) if len(calls) <= 2 else httpx.Response(200, text="back")

    patient = Backoff(tries=4, pause=0.2, cap=5.0, patient=True)
    result = fetch(handler, FetchRequest("https://news.example/", backoff=patient))
    assert result.ok and len(calls) == 3
    assert calls[1] - calls[0] >= 0.19 and calls[2] - calls[1] >= 0.39


def test_a_patient_backoff_gives_up_after_its_tries_with_the_last_answer():
    handler, calls = flaky(503, "0", failures=10)
    patient = Backoff(tries=4, pause=0.0, cap=5.0, patient=True)
    result = fetch(handler, FetchRequest("https://news.example/", backoff=patient))
    assert result.error == "http_503" and len(calls) == 4


def test_a_refusal_without_retry_after_is_not_retried_by_default():
    calls: list[float] = []

    def handler(request):
        calls.append(time.monotonic())
        return httpx.Response(429)

    result = fetch(handler, "https://news.example/")
    assert result.error == "http_429" and result.retry_after is None and len(calls) == 1


def test_a_retry_after_holds_the_whole_host():
    starts: dict[str, float] = {}

    def handler(request):
        path = request.url.path
        if path == "/busy" and "/busy" not in starts:
            starts[path] = time.monotonic()
            return httpx.Response(429, headers={"Retry-After": "1"})
        starts.setdefault(path + "#ok", time.monotonic())
        return httpx.Response(200, text="ok")

    async def go() -> list[FetchResult]:
        transport = httpx.MockTransport(handler)
        async with Fetcher(
            policy(per_host_delay=0.0), transport=transport, resolver=fake_resolve
        ) as f:
            first = asyncio.ensure_future(f.fetch("https://news.example/busy"))
            await asyncio.sleep(0.2)  # the 429 has come back: the host is held
            return [await f.fetch("https://news.example/other"), await first]

    other, busy = asyncio.run(go())
    assert other.ok and busy.ok
    assert starts["/other#ok"] - starts["/busy"] >= 0.95


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2019, 8, 22, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after(None, now) is None


# --- concurrency and pacing -------------------------------------------------------------------


def counting(delay: float = 0.03):
    state = {"now": {}, "peak": {}, "total": 0, "peak_total": 0, "starts": []}

    async def handler(request):
        host = request.url.host
        state["now"][host] = state["now"].get(host, 0) + 1
        state["total"] += 1
        state["peak"][host] = max(state["peak"].get(host, 0), state["now"][host])
        state["peak_total"] = max(state["peak_total"], state["total"])
        state["starts"].append((host, time.monotonic()))
        await asyncio.sleep(delay)
        state["now"][host] -= 1
        state["total"] -= 1
        return httpx.Response(200, text=str(request.url))

    return handler, state


def test_per_host_concurrency_is_never_exceeded():
    handler, state = counting()
    urls = [f"https://news.example/{i}" for i in range(12)]
    results = fetch_all(handler, urls, per_host_concurrency=2, concurrency=16)
    assert all(r.ok for r in results)
    assert state["peak"]["news.example"] == 2


def test_global_concurrency_bounds_all_hosts_together():
    handler, state = counting()
    hosts = ["news.example", "other.example", "third.example"]
    urls = [f"https://{host}/{i}" for host in hosts for i in range(6)]
    results = fetch_all(handler, urls, per_host_concurrency=3, concurrency=4)
    assert all(r.ok for r in results)
    assert state["peak_total"] == 4
    assert max(state["peak"].values()) <= 3


def test_requests_to_one_host_start_at_least_the_delay_apart():
    handler, state = counting(delay=0.0)
    urls = [f"https://news.example/{i}" for i in range(4)] + ["https://other.example/x"]
    fetch_all(handler, urls, per_host_delay=0.15, per_host_concurrency=4)
    starts = [t for host, t in state["starts"] if host == "news.example"]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) == 4
    assert min(gaps) >= 0.14
    other = next(t for host, t in state["starts"] if host == "other.example")
    assert other - starts[0] < 0.1  # another host does not wait for this one


def test_fetch_pages_keeps_request_order():
    handler, _ = counting()
    urls = [f"https://news.example/{i}" for i in range(5)] + ["javascript:void(0)"]
    results = fetch_all(handler, urls)
    assert [r.url for r in results] == urls
    assert [r.content.decode() for r in results[:5]] == urls[:5]
    assert results[5].error == "bad_scheme"


def test_fetches_at_once_return_every_result_and_never_raise_for_bad_urls():
    handler, state = counting()
    urls = [
        "https://news.example/1",
        "ftp://x/",
        "",
        "https://sneaky.example/",
        "https://other.example/2",
    ]

    async def go():
        transport = httpx.MockTransport(handler)
        async with Fetcher(policy(concurrency=2), transport=transport, resolver=fake_resolve) as f:
            return await asyncio.gather(*(f.fetch(url) for url in urls))

    results = asyncio.run(go())
    assert sorted(r.url for r in results) == sorted(urls)
    errors = {r.url: r.error for r in results}
    assert errors == {
        "https://news.example/1": None,
        "ftp://x/": "bad_scheme",
        "": "bad_url",
        "https://sneaky.example/": "private_address",
        "https://other.example/2": None,
    }
    assert state["peak_total"] <= 2


# --- real sockets on 127.0.0.1 -------------------------------------------------------------

LOOPBACK = ("127.0.0.0/8",)


def loopback_policy(**overrides) -> FetchPolicy:
    base = {
        "per_host_delay": 0.0,
        "respect_robots": False,
        "allowed_networks": LOOPBACK,
        "timeout": 2.0,
        "connect_timeout": 1.0,
    }
    return FetchPolicy(**{**base, **overrides})


def fetch_from(
    routes: dict[str, Handler], path: str = "/", **overrides
) -> tuple[FetchResult, HostileServer]:
    with serve_hostile(routes) as server:
        result = asyncio.run(fetch_loopback(server.url(path), **overrides))
    return result, server


async def fetch_loopback(url: str, **overrides) -> FetchResult:
    async with Fetcher(loopback_policy(**overrides)) as fetcher:
        return await fetcher.fetch(url)


def test_a_page_over_loopback_with_robots_missing():
    routes = {
        "/robots.txt": reply(b"", 404, "text/plain"),
        "/story": reply(b"hello", content_type="text/html; charset=utf-8"),
    }
    result, server = fetch_from(routes, "/story", respect_robots=True)
    assert result.ok and result.content == b"hello"
    assert result.charset == "utf-8"
    assert [r.path for r in server.requests] == ["/robots.txt", "/story"]
    assert all(
        r.headers["user-agent"].lower().startswith("straitwatch/0.1") for r in server.requests
    )


def test_loopback_is_refused_unless_allowed():
    result, server = fetch_from({}, allowed_networks=())
    assert result.error == "private_address"
    assert server.requests == []  # not even a connection reached it


def test_a_body_past_the_cap_is_cut_off_while_streaming():
    with serve_hostile({"/": endless(100 * 2**20, 65536)}) as server:  # 100 MiB, no length
        result = asyncio.run(fetch_loopback(server.url("/"), max_bytes=200_000))
        client_left = wait_until(lambda: server.cut_off["/"] == 1, 2.0)
    assert result.error == "too_large" and result.content == b""
    assert client_left
    # Socket buffers hold a few MiB at most; the server never got near its 100 MiB.
    assert server.sent["/"] < 16 * 2**20


def test_a_gzip_bomb_is_capped_on_its_decoded_size():
    bomb = gzip.compress(b"\0" * (64 * 2**20), compresslevel=9)  # 64 MiB in about 64 KB

    async def go(url: str) -> tuple[FetchResult, int]:
        async with Fetcher(loopback_policy(max_bytes=1_000_000)) as fetcher:
            tracemalloc.start()
            try:
                result = await fetcher.fetch(url)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        return result, peak

    routes = {"/": reply(bomb, content_type="text/html", Content_Encoding="gzip")}
    with serve_hostile(routes) as server:
        result, peak = asyncio.run(go(server.url("/")))
    assert len(bomb) < 100_000
    assert result.error == "too_large"
    # Decoding in bounded steps keeps memory near the cap; httpx's own decoder would inflate
    # a whole 64 KB read at once, to about 64 MiB.
    assert peak < 4 * 2**20


def test_a_dripping_server_ends_as_timeout_within_the_policy_time():
    started = time.monotonic()
    # A byte every 0.2 s: each well inside any read timeout, the whole never within 1 s.
    result, _ = fetch_from({"/": drip(0.2, 1000)}, timeout=1.0)
    took = time.monotonic() - started
    assert result.error == "timeout" and result.retryable
    assert 0.9 <= took < 2.0


def test_a_server_that_never_answers_ends_as_timeout():
    started = time.monotonic()
    result, server = fetch_from({"/": hang()}, timeout=0.5)
    assert result.error == "timeout"
    assert time.monotonic() - started < 1.5
    assert len(server.requests) == 1


def test_a_closed_port_is_a_connect_error():
    port = free_port()  # nothing listens there

    async def go():
        async with Fetcher(loopback_policy()) as fetcher:
            return await fetcher.fetch(f"http://127.0.0.1:{port}/")

    result = asyncio.run(go())
    assert result.error == "connect_error" and result.retryable


# --- credentials ------------------------------------------------------------------------


def test_credentials_never_follow_a_redirect_to_another_origin():
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get("authorization", "")))
        if request.url.host == "news.example":
            return httpx.Response(302, headers={"location": "https://op:pw@other.example/x"})
        return httpx.Response(200, text="fine")

    result = fetch(handler, "https://reader:secret@news.example/feed.xml")
    assert result.ok
    assert seen[0][0] == "news.example" and seen[0][1].startswith("Basic ")  # the operator's
    assert seen[1] == ("other.example", "")  # neither the operator's nor the server's
