"""Turns per host, shared by every process that fetches: Prefect global concurrency limits.

One limit per host with one slot (``straitwatch-host-<host>``): whichever process holds it
fetches from that host, with the profile's own per-host concurrency and delay, and the others
wait their turn. A batch takes the turns of its hosts before its fetch and gives them back
after it, so a monitor and a backfill reading the same site alternate batch by batch.

A turn is a lease that this process renews while it fetches. A process killed while
fetching (SIGKILL frees nothing) loses its turns when the lease runs out, and its slots
decay within seconds, so no host stays blocked for ever.

Prefect's own ``concurrency()`` does the same, but opens a new API client, with a new TLS
context, for every release and every renewal: about 80 ms of CPU per batch, taken from the
extraction workers. Here one client per process (and API address) serves every turn.
"""

from __future__ import annotations

import atexit
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID

import httpx
from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.context import TaskRunContext
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import PREFECT_API_URL

from extractors.redaction import redact_text

log = logging.getLogger("straitwatch.host_slots")

PREFIX = "straitwatch-host-"
SLOT_DECAY = 0.1  # per second: a leaked slot is free again within ten seconds
LEASE_SECONDS = 120.0  # the server's shortest lease is 60 s
RENEW_EVERY = LEASE_SECONDS / 3
LOCKED = 423  # the server's answer while another holder has the slot


def limit_name(host: str) -> str:
    """Return the Prefect global concurrency limit that guards one host."""
    return PREFIX + re.sub(r"[^A-Za-z0-9._-]", "-", host.lower())


class HostTurns:
    """Takes and gives back host turns through one Prefect client of its own."""

    def __init__(self, renew_every: float = RENEW_EVERY) -> None:
        self.renew_every = renew_every
        self.renewals = 0  # leases renewed so far (the turns outlived ``renew_every``)
        self._lock = threading.Lock()
        self._clients: dict[str, SyncPrefectClient] = {}
        self._known: set[tuple[str, str]] = set()

    def _client(self) -> tuple[str, SyncPrefectClient]:
        address = str(PREFECT_API_URL.value() or "")
        with self._lock:
            client = self._clients.get(address)
            if client is None:
                client = get_client(sync_client=True)
                client.__enter__()
                self._clients[address] = client
            return address, client

    def close(self) -> None:
        """Close the clients (at exit; a later turn opens a new one)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.__exit__(None, None, None)

    def _ensure_limits(self, address: str, client: SyncPrefectClient, names: list[str]) -> None:
        for name in names:
            if (address, name) in self._known:
                continue
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                try:
                    client.create_global_concurrency_limit(
                        GlobalConcurrencyLimitCreate(
                            name=name, limit=1, slot_decay_per_second=SLOT_DECAY
                        )
                    )
                except ObjectAlreadyExists:
                    pass  # another process created it first
            self._known.add((address, name))

    @contextmanager
    def hold(self, hosts: Sequence[str]) -> Iterator[None]:
        """Hold the turns of these hosts (all at once, waiting for them) inside the block."""
        names = sorted({limit_name(h) for h in hosts if h})
        if not names:
            yield
            return
        address, client = self._client()
        self._ensure_limits(address, client, names)
        lease = self._acquire(client, names)
        if lease is None:
            # A limit this process knew was deleted meanwhile (``prefect gcl delete``): a
            # lease on no limit guards nothing, so the limits are made again.
            self._known.difference_update((address, name) for name in names)
            self._ensure_limits(address, client, names)
            lease = self._acquire(client, names)
        if lease is None:
            raise RuntimeError(f"the host limits {names} vanish as soon as they are made")
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(client, lease, stop), name="straitwatch-host-turns"
        )
        renewer.daemon = True
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            try:
                client.release_concurrency_slots_with_lease(lease)
            except Exception as exc:  # noqa: BLE001 - the lease runs out on its own
                log.warning(
                    "could not give back the host turns %s: %s", names, redact_text(str(exc))
                )

    def _acquire(self, client: SyncPrefectClient, names: list[str]) -> UUID | None:
        """Wait for the slots of every name; return the lease, or None (and no slot taken)
        if a limit does not exist."""
        task = TaskRunContext.get()
        holder = (
            ConcurrencyLeaseHolder(type="task_run", id=task.task_run.id)
            if task is not None
            else None
        )
        while True:
            try:
                answer = client.increment_concurrency_slots_with_lease(
                    names=names,
                    slots=1,
                    mode="concurrency",
                    lease_duration=LEASE_SECONDS,
                    holder=holder,
                )
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != LOCKED:
                    raise
                time.sleep(float(exc.response.headers.get("Retry-After", 1)))
                continue
            granted = answer.json()
            if len(granted.get("limits") or ()) < len(names):
                if granted.get("lease_id"):
                    client.release_concurrency_slots_with_lease(UUID(granted["lease_id"]))
                return None
            return UUID(granted["lease_id"])

    def _renew(self, client: SyncPrefectClient, lease: UUID, stop: threading.Event) -> None:
        while not stop.wait(self.renew_every):
            try:
                client.renew_concurrency_lease(lease, LEASE_SECONDS)
                self.renewals += 1
            except Exception as exc:  # noqa: BLE001 - retried at the next beat
                log.warning("could not renew the host turns' lease: %s", redact_text(str(exc)))


turns = HostTurns()
atexit.register(turns.close)
