import asyncio
import socket

import pytest

from extractors.netguard import check_host, is_allowed_address, parse_networks

LOOPBACK = parse_networks(["127.0.0.0/8"])


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
