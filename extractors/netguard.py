"""The address guard: which hosts the fetcher may connect to.

A host is fetchable when every address it resolves to is public, or lies inside one of the
networks the profile allows explicitly (tests and the demo allow loopback). The check runs
before any connection, on the first request and on every redirect hop.

Not covered: DNS rebinding. The guard resolves the name, then the HTTP client resolves it
again to connect; a name whose answer changes between the two lookups (a short TTL flipping
from a public to a private address) can slip through. Closing that gap needs a transport
that connects to the very address that was checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

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


async def check_host(
    host: str,
    resolver: Resolver = system_resolver,
    allowed: Iterable[str | Network] = (),
    *,
    timeout: float = 10.0,
) -> str | None:
    """Return None when the host may be fetched, else a reason: dns_error or private_address.

    IP literals are checked as they are; names are resolved, and one refused address
    refuses the host, since the client may connect to any of them.
    """
    networks = parse_networks(allowed)
    if not host:
        return "dns_error"
    literal = _ip_literal(host)
    if literal is not None:
        return None if is_allowed_address(literal, networks) else "private_address"
    try:
        async with asyncio.timeout(timeout):
            addresses = await resolver(host)
    except (OSError, UnicodeError, TimeoutError):
        return "dns_error"
    if not addresses:
        return "dns_error"
    if all(is_allowed_address(address, networks) for address in addresses):
        return None
    return "private_address"
