"""Host turns against a real Prefect server: one holder per host at a time, given back always."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.host_slots import HostTurns, limit_name
from tests.support.paths import REPO

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(prefect_api: str) -> Iterator[str]:
    with temporary_settings({PREFECT_API_URL: prefect_api}):
        yield prefect_api


def _active(host: str) -> int:
    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(limit_name(host)).active_slots


def _hold_in_thread(
    turns: HostTurns, hosts: list[str], seconds: float, log: list[tuple[str, str, float]], who: str
) -> threading.Thread:
    settings = PREFECT_API_URL.value()

    def hold() -> None:
        with temporary_settings({PREFECT_API_URL: settings}), turns.hold(hosts):
            log.append((who, "in", time.monotonic()))
            time.sleep(seconds)
            log.append((who, "out", time.monotonic()))

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def test_two_holders_of_one_host_take_turns(api: str) -> None:
    first, second = HostTurns(), HostTurns()  # two processes' clients
    log: list[tuple[str, str, float]] = []
    try:
        a = _hold_in_thread(first, ["turns.example"], 1.5, log, "a")
        while not log:
            time.sleep(0.01)
        assert _active("turns.example") == 1
        b = _hold_in_thread(second, ["turns.example"], 0.1, log, "b")
        a.join(30)
        b.join(30)
    finally:
        first.close()
        second.close()
    assert [(who, what) for who, what, _ in log] == [
        ("a", "in"),
        ("a", "out"),
        ("b", "in"),
        ("b", "out"),
    ]
    assert _active("turns.example") == 0


def test_other_hosts_do_not_wait(api: str) -> None:
    turns = HostTurns()
    log: list[tuple[str, str, float]] = []
    try:
        a = _hold_in_thread(turns, ["one.example"], 3.0, log, "a")
        while not log:
            time.sleep(0.01)
        started = time.monotonic()
        with turns.hold(["two.example", ""]):
            waited = time.monotonic() - started
        a.join(30)
    finally:
        turns.close()
    assert waited < 2.5, f"a free host waited {waited:.1f} s for another host's turn"


def test_the_turn_is_given_back_when_the_fetch_fails(api: str) -> None:
    turns = HostTurns()
    try:
        with pytest.raises(RuntimeError, match="fetch broke"), turns.hold(["broken.example"]):
            assert _active("broken.example") == 1
            raise RuntimeError("fetch broke")
    finally:
        turns.close()
    assert _active("broken.example") == 0


def test_a_long_turn_renews_its_lease(api: str) -> None:
    turns = HostTurns(renew_every=0.2)
    try:
        with turns.hold(["slow.example"]):
            time.sleep(1.1)
            assert _active("slow.example") == 1
    finally:
        turns.close()
    assert turns.renewals >= 3
    assert _active("slow.example") == 0


def test_no_host_takes_no_turn(api: str) -> None:
    turns = HostTurns()
    with turns.hold(["", ""]):
        pass
    assert turns._clients == {}  # no client was even opened


def test_a_limit_deleted_meanwhile_is_made_again(api: str) -> None:
    turns = HostTurns()
    try:
        with turns.hold(["deleted.example"]):
            pass
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name(limit_name("deleted.example"))
        with turns.hold(["deleted.example"]):
            # The turn guards something again: the limit exists and its slot is held.
            assert _active("deleted.example") == 1
    finally:
        turns.close()
    assert _active("deleted.example") == 0


HOLD_AND_WAIT = """
import sys, time
from flows.host_slots import turns
with turns.hold(["killed.example"]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_holder_killed_mid_fetch_frees_its_host(api: str) -> None:
    env = {**os.environ, "PREFECT_API_URL": api}
    holder = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", HOLD_AND_WAIT],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert _active("killed.example") == 1
        holder.send_signal(signal.SIGKILL)  # nothing is given back
        holder.wait(30)
        started = time.monotonic()
        turns = HostTurns()
        try:
            with turns.hold(["killed.example"]):
                waited = time.monotonic() - started
        finally:
            turns.close()
    finally:
        holder.kill()
        holder.wait(30)
    assert waited < 30, f"the killed holder's host stayed blocked for {waited:.0f} s"
