"""Run the straitwatch command with one stage rigged to SIGKILL this very process.

    python killer.py store_batch 2 run --profile P --json   # killed after the 2nd stored batch
    python killer.py send 1 run --profile P --json          # killed at the 1st alert send

``store_batch``: the kill comes right after the batch's transaction committed, so some
articles are stored and the rest are not. ``send``: the alert is committed in the outbox and
the process dies before any channel is contacted. A harness for tests, nothing more.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def rig(stage: str, after: int) -> None:
    """Patch the stage so that its call number ``after`` ends the process."""
    calls = [0]

    def count() -> None:
        calls[0] += 1
        if calls[0] >= after:
            _die()

    if stage == "store_batch":
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        from flows import tasks
        from flows.stages import pipeline

        def store_then_die(*args: Any, **kwargs: Any) -> Any:
            result = pipeline.store_batch(*args, **kwargs)
            count()
            return result

        tasks.store_batch = task(store_then_die, name="store-batch", cache_policy=NO_CACHE)
    elif stage == "send":
        from flows.stages import alerts

        original = alerts._send

        def die_then_send(*args: Any, **kwargs: Any) -> Any:
            count()
            return original(*args, **kwargs)

        alerts._send = die_then_send
    else:
        raise SystemExit(f"unknown stage {stage!r}")


if __name__ == "__main__":
    rig(sys.argv[1], int(sys.argv[2]))
    from flows.cli.app import main

    sys.argv = ["straitwatch", *sys.argv[3:]]
    main()
