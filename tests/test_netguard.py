import asyncio
import socket

import httpcore
import httpx
import pytest

from extractors.fetch import Fetcher, FetchPolicy, FetchResult
from extractors.netguard import (
    AddressRefused,
    GuardedBackend,
    GuardedTransport,
    check_host,
    is_allowed_address,
    parse_networks,
)
from tests.support.wire import reply, serve_hostile

LOOPBACK = parse_networks(["127.0.0.0/8"])
OK = reply(b"ok", content_type="text/plain")


def resolver_for(table: dict[str, list[str]]):
    async def resolve(host: str) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown name")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
        "not-an-address",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not is_allowed_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert is_allowed_address(address)


def test_allowed_networks_open_exactly_their_range():
    assert is_allowed_address("127.0.0.1", LOOPBACK)
    assert is_allowed_address("::ffff:127.0.0.5", LOOPBACK)
    assert not is_allowed_address("10.0.0.1", LOOPBACK)
    assert not is_allowed_address("::1", LOOPBACK)


def test_allowed_networks_may_be_given_as_cidr_strings():
    assert is_allowed_address("10.9.8.7", ["10.0.0.0/8"])
    assert asyncio.run(check_host("10.9.8.7", allowed=["10.0.0.0/8"])) is None


def test_malformed_network_raises():
    with pytest.raises(ValueError):
        parse_networks(["not/a/cidr"])


def test_ip_literals_are_judged_without_resolving():
    async def must_not_resolve(host: str) -> list[str]:
        raise AssertionError(f"resolver called for literal {host}")

    assert asyncio.run(check_host("10.0.0.1", must_not_resolve)) == "private_address"
    assert asyncio.run(check_host("[::1]", must_not_resolve)) == "private_address"
    assert asyncio.run(check_host("93.184.216.34", must_not_resolve)) is None
    assert asyncio.run(check_host("127.0.0.1", must_not_resolve, LOOPBACK)) is None


def test_a_name_is_refused_when_any_of_its_addresses_is_private():
    resolve = resolver_for(
        {
            "news.example": ["93.184.216.34"],
            "mixed.example": ["93.184.216.34", "10.0.0.7"],
            "inside.example": ["192.168.0.10"],
            "empty.example": [],
        }
    )
    assert asyncio.run(check_host("news.example", resolve)) is None
    assert asyncio.run(check_host("mixed.example", resolve)) == "private_address"
    assert asyncio.run(check_host("inside.example", resolve)) == "private_address"
    assert asyncio.run(check_host("empty.example", resolve)) == "dns_error"
    assert asyncio.run(check_host("missing.example", resolve)) == "dns_error"
    assert asyncio.run(check_host("", resolve)) == "dns_error"


def test_a_resolver_that_hangs_ends_as_dns_error():
    async def hang(host: str) -> list[str]:
        await asyncio.sleep(10)
        return ["93.184.216.34"]

    assert asyncio.run(check_host("slow.example", hang, timeout=0.05)) == "dns_error"


# --- where the connection is opened: the answer that was checked is the one connected to ---


class LoudBackend(httpcore.AsyncNetworkBackend):
    """A network backend that fails the test on any connection at all."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.attempts.append((host, port))
        raise AssertionError(f"a connection to {host}:{port} was attempted")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def rebinding(first: list[str], then: list[str]):
    """A resolver whose first answer is `first` and every later one `then`; counts calls."""
    calls: list[str] = []

    async def resolve(host: str) -> list[str]:
        calls.append(host)
        return first if len(calls) == 1 else then

    return resolve, calls


def fetch_once(url: str, resolver, transport=None, **policy) -> FetchResult:
    async def go() -> FetchResult:
        settings = FetchPolicy(respect_robots=False, per_host_delay=0.0, timeout=5.0, **policy)
        async with Fetcher(settings, transport=transport, resolver=resolver) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


def test_a_name_rebinding_to_a_private_address_is_refused_before_any_connection():
    resolve, calls = rebinding(["93.184.216.34"], ["10.0.0.1"])
    loud = LoudBackend()
    limits = httpx.Limits(max_connections=2)
    transport = GuardedTransport(limits, resolve, (), backend=loud)
    result = fetch_once("http://rebind.example/", resolve, transport)
    assert result.error == "private_address"
    assert calls == ["rebind.example", "rebind.example"]  # checked, then checked again
    assert loud.attempts == []


def test_the_default_fetcher_refuses_a_rebinding_name_where_it_connects():
    # localhost is where the client would connect if it resolved the name itself: the
    # server there must never see a request.
    with serve_hostile({"/": OK}) as server:
        resolve, _ = rebinding(["93.184.216.34"], ["10.0.0.1"])
        result = fetch_once(f"http://localhost:{server.port}/", resolve)
    assert result.error == "private_address"
    assert server.requests == []


def test_the_default_fetcher_connects_to_the_address_it_checked(monkeypatch):
    # The system resolver is switched off: the client must connect to the addresses the
    # guard checked, in order: ::1, where nothing listens, then 127.0.0.1, which answers.
    def no_system_resolver(*args, **kwargs):
        raise AssertionError("the system resolver was asked")

    monkeypatch.setattr(socket, "getaddrinfo", no_system_resolver)
    with serve_hostile({"/": OK}) as server:
        resolve = resolver_for({"localhost": ["::1", "127.0.0.1"]})
        result = fetch_once(
            f"http://localhost:{server.port}/",
            resolve,
            allowed_networks=("127.0.0.0/8", "::1/128"),
        )
    assert (result.error, result.status, result.content) == (None, 200, b"ok")
    assert server.requests[0].headers["host"].startswith("localhost:")  # ::1 refused


def test_unix_sockets_are_refused():
    backend = GuardedBackend(resolver_for({}), (), LoudBackend())
    with pytest.raises(AddressRefused):
        asyncio.run(backend.connect_unix_socket("/run/docker.sock"))
