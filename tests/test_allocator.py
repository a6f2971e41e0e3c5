"""The allocator tuning that keeps a long run's memory flat (glibc on Linux only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from flows import allocator, backfill, monitor
from flows.monitor import AlertConfig, Steps
from flows.stages.context import RunConfig, RunContext
from tests.support.paths import REPO

needs_glibc = pytest.mark.skipif(
    allocator.glibc() is None, reason="the tuning applies to glibc on Linux only"
)

# Frees one 300 KB buffer, then reports how much of the next one glibc served by mmap
# (handed back to the system when freed) rather than from a heap (kept, and fragmenting).
PROBE = """
import ctypes, json, sys
from flows.allocator import limit_heap_growth

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
applied = limit_heap_growth() if sys.argv[1] == "tune" else {}
first = bytearray(300_000)
del first
before = libc.mallinfo2().hblkhd
second = bytearray(300_000)
print(json.dumps({"applied": applied, "mmapped": libc.mallinfo2().hblkhd - before}))
"""


def probe(mode: str, **env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE, mode],
        cwd=REPO,
        env=clean | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout))


@needs_glibc
def test_untuned_glibc_serves_the_next_big_buffer_from_a_heap() -> None:
    # Why the tuning exists: after one big buffer is freed, the next is not mmapped.
    assert probe("plain")["mmapped"] == 0


@needs_glibc
def test_tuned_glibc_keeps_big_buffers_mmapped() -> None:
    result = probe("tune")
    assert result["applied"] == {"MALLOC_MMAP_THRESHOLD_": 131072, "MALLOC_ARENA_MAX": 2}
    assert result["mmapped"] >= 300_000


@needs_glibc
def test_the_operators_own_glibc_settings_win() -> None:
    result = probe("tune", MALLOC_MMAP_THRESHOLD_="1000000", MALLOC_ARENA_MAX="4")
    assert result["applied"] == {}
    assert result["mmapped"] == 0  # 300 KB is under the operator's 1 MB threshold


def test_runs_tune_the_allocator_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Stop(Exception):
        pass

    def first_stage(run: RunContext) -> None:
        calls.append("prepare-database")
        raise Stop

    monkeypatch.setattr(monitor, "limit_heap_growth", lambda: calls.append("monitor") or {})
    monkeypatch.setattr(backfill, "limit_heap_growth", lambda: calls.append("backfill") or {})
    config = RunConfig(db_url="sqlite://", profile_path=REPO / "seeds" / "monitor.toml")
    steps = Steps(prepare_database=first_stage)
    with pytest.raises(Stop):
        monitor.run_monitor(config, AlertConfig(), steps)
    with pytest.raises(Stop):
        backfill.run_backfill(
            config, AlertConfig(), date(2019, 8, 22), date(2019, 8, 22), steps=steps
        )
    assert calls == ["monitor", "prepare-database", "backfill", "prepare-database"]


# Frees 100 MB of 50 KB buffers, each followed by a small live object that pins its place,
# then reports the resident size while held, once freed, and after release_free_memory.
TRIM_PROBE = """
import json
from flows.allocator import release_free_memory

def resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20

held, pins = [], []
for _ in range(2000):
    held.append(bytes(50_000) + b"x")
    pins.append(bytes(1000) + b"y")
sizes = {"held": resident_mb()}
del held
sizes["freed"] = resident_mb()
sizes["released"] = release_free_memory()
sizes["after"] = resident_mb()
print(json.dumps(sizes))
"""


@needs_glibc
def test_free_pages_between_live_objects_go_back_to_the_system() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", TRIM_PROBE],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    sizes = json.loads(done.stdout)
    assert sizes["freed"] > sizes["held"] - 20  # glibc alone keeps the freed pages
    assert sizes["released"] is True
    assert sizes["after"] < sizes["freed"] - 60  # most of the 100 MB is given back


def test_memory_is_released_after_every_stored_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    monkeypatch.setattr(monitor, "release_free_memory", lambda: events.append("release"))
    steps = Steps(
        fetch_batch=lambda config, batch: list(batch),
        extract_batch=lambda fetched, pool: fetched,
        score_batch=lambda config, extracted: extracted,
    )
    run = RunContext.build(
        RunConfig(db_url="sqlite://", profile_path=REPO / "seeds" / "monitor.toml", batch_size=2)
    )
    monitor.process_batches(
        run, steps, list(range(5)), None, lambda scored: events.append(f"store {scored}")
    )
    assert events == [
        "store [0, 1]",
        "release",
        "store [2, 3]",
        "release",
        "store [4]",
        "release",
    ]
