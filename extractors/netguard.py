"""The address guard: which hosts the fetcher may connect to.

A host is fetchable when every address it resolves to is public, or lies inside one of the
networks the profile allows explicitly (tests and the demo allow loopback). The check runs
twice: before a request, on the first hop and on every redirect, so a refusal has a reason;
and again where the connection is opened (``GuardedBackend``), which resolves the name once,
checks the answer and connects to the very addresses it checked. A name whose answer flips
from public to private between two lookups (DNS rebinding) is refused there.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

Resolver = Callable[[str], Awaitable[list[str]]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def parse_networks(cidrs: Iterable[str | Network]) -> tuple[Network, ...]:
    """Return the networks named by CIDR strings; a malformed one raises ValueError."""
    return tuple(
        cidr if isinstance(cidr, Network) else ipaddress.ip_network(cidr, strict=False)
        for cidr in cidrs
    )


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_allowed_address(address: str, allowed: Iterable[str | Network] = ()) -> bool:
    """Return True when an IP address is public or inside one of the allowed networks.

    An IPv6 address that wraps an IPv4 one (mapped, 6to4, NAT64) is judged by the IPv4
    address it reaches. A string that is not an IP address is not allowed.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    networks = parse_networks(allowed)
    if any(ip.version == net.version and ip in net for net in networks):
        return True
    inner = _embedded_ipv4(ip)
    if inner is not None:
        return is_allowed_address(str(inner), networks)
    return ip.is_global and not ip.is_multicast


def _ip_literal(host: str) -> str | None:
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return None
    return candidate


async def system_resolver(host: str) -> list[str]:
    """Return the addresses the event loop's getaddrinfo gives for a host name."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def vet_host(
    host: str,
    resolver: Resolver = system_resolver,
    allowed: Iterable[str | Network] = (),
    *,
    timeout: float = 10.0,
) -> tuple[str | None, list[str]]:
    """Return (reason, addresses): no reason and the addresses to connect to, or a reason.

    The reason is dns_error or private_address. IP literals are checked as they are; names
    are resolved, and one refused address refuses the host.
    """
    networks = parse_networks(allowed)
    if not host:
        return "dns_error", []
    literal = _ip_literal(host)
    if literal is not None:
        allowed_literal = is_allowed_address(literal, networks)
        return (None, [literal]) if allowed_literal else ("private_address", [])
    try:
        async with asyncio.timeout(timeout):
            addresses = await resolver(host)
    except (OSError, UnicodeError, TimeoutError):
        return "dns_error", []
    if not addresses:
        return "dns_error", []
    if all(is_allowed_address(address, networks) for address in addresses):
        return None, addresses
    return "private_address", []


async def check_host(
    host: str,
    resolver: Resolver = system_resolver,
    allowed: Iterable[str | Network] = (),
    *,
    timeout: float = 10.0,
) -> str | None:
    """Return None when the host may be fetched, else a reason: dns_error or private_address."""
    reason, _ = await vet_host(host, resolver, allowed, timeout=timeout)
    return reason


class AddressRefused(httpcore.ConnectError):
    """The guard refused a connection; ``reason`` is dns_error or private_address."""

    def __init__(self, reason: str, host: str) -> None:
        super().__init__(f"{reason}: {host}")
        self.reason = reason


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the guard accepts.

    The host name is resolved here, once, and the connection goes to an address from that
    very answer (TLS still names the host). Unix sockets are refused.
    """

    def __init__(
        self,
        resolver: Resolver = system_resolver,
        allowed: Iterable[str | Network] = (),
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolver = resolver
        self._networks = parse_networks(allowed)
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        reason, addresses = await vet_host(
            host, self._resolver, self._networks, timeout=timeout or 10.0
        )
        if reason is not None:
            raise AddressRefused(reason, host)
        failure: Exception | None = None
        for address in addresses:  # in the resolver's order, like a plain connect
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # vet_host never accepts an empty answer
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("private_address", path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~16 ms; one context serves every client of the process.
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, opening its connections through the address guard."""

    def __init__(
        self,
        limits: httpx.Limits,
        resolver: Resolver = system_resolver,
        allowed: Iterable[str] = (),
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        super().__init__(verify=_tls_context(), limits=limits, trust_env=False)
        # httpx builds its connection pool without a way to pass a network backend, so
        # the pool is built again here with the same settings and the guard as backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(resolver, allowed, backend),
        )
