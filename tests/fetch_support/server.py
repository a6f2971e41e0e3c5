"""A tiny HTTP/1.1 server on 127.0.0.1 whose behaviour each test writes by hand.

It speaks raw sockets on purpose: the fetcher's caps and timeouts are about what a server
does on the wire (dripping bytes, never answering, sending more than it should).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Wire"], Awaitable[None]]


@dataclass
class Wire:
    """What the server saw: requests, bytes it managed to send, whether the client left."""

    requests: list[bytes] = field(default_factory=list)
    sent: int = 0
    client_left: asyncio.Event = field(default_factory=asyncio.Event)


def head(status: str = "200 OK", **headers: str) -> bytes:
    """Return a status line and headers, ready to write."""
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


@asynccontextmanager
async def serve(handler: Handler, host: str = "127.0.0.1") -> AsyncIterator[tuple[str, Wire]]:
    """Run the handler for each connection; yield the base URL and the wire record.

    ``host`` is a loopback address (127.0.0.0/8) to listen on.
    """
    wire = Wire()
    handlers: set[asyncio.Task[None]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            wire.requests.append(await reader.readuntil(b"\r\n\r\n"))
            await handler(reader, writer, wire)
        except (ConnectionError, asyncio.IncompleteReadError):
            wire.client_left.set()
        except asyncio.CancelledError:
            pass  # the test is over; ending quietly keeps asyncio from logging the cancel
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}", wire
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
