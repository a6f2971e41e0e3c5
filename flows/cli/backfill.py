"""``straitwatch backfill``: the backfill flow with a progress bar and a gentle Ctrl-C.

The first Ctrl-C asks the flow to stop after the slice in progress (finished slices are
recorded, so the same command resumes); a second one stops at once.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from flows.settings import Settings

if TYPE_CHECKING:
    from flows.stages.summaries import BackfillSummary

log = logging.getLogger("straitwatch")


def _watch(stop: threading.Event, run: Any, plan: Any, progress: Progress, task: Any) -> None:
    from flows.backfill import progress_of

    while not stop.wait(0.5):
        try:
            done = progress_of(run, plan)
        except Exception as exc:  # noqa: BLE001 - a busy or new database: try again
            log.debug("progress not readable yet: %s", exc)
            continue
        progress.update(
            task,
            completed=done["slices"],
            description=f"stored {done['stored']} · matches {done['matches']}",
        )


def run_backfill_command(
    console: Console,
    settings: Settings,
    start: str,
    end: str,
    sources: list[str] | None,
    alerts: str,
    dry_run: bool,
    as_json: bool,
    force: bool = False,
) -> int:
    """Run the backfill flow for the CLI; return the exit code."""
    from flows import backfill as bf
    from flows.monitor import configs_from
    from flows.stages.context import RunContext, prepare_database

    first, last = date.fromisoformat(start), date.fromisoformat(end)
    config, _ = configs_from(settings)
    run = RunContext.build(config)
    prepare_database(run)
    mode = bf.alert_mode(alerts)
    plan = bf.plan_backfill(run.profile, first, last, sources)

    def ask_to_stop(signum: int, frame: Any) -> None:
        if bf.STOP.is_set():
            raise KeyboardInterrupt
        bf.STOP.set()
        console.print(
            "[yellow]Stopping after the slice in progress (Ctrl-C again to stop now)…[/yellow]"
        )

    previous = signal.signal(signal.SIGINT, ask_to_stop)
    watching = threading.Event()
    columns = (
        TextColumn("slices"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, disable=as_json or dry_run) as progress:
            task = progress.add_task("", total=len(plan.slices))
            watcher = threading.Thread(
                target=_watch, args=(watching, run, plan, progress, task), daemon=True
            )
            watcher.start()
            try:
                summary = bf.backfill(
                    start=first,
                    end=last,
                    sources=sources,
                    alerts=mode,
                    dry_run=dry_run,
                    profile=str(settings.profile),
                    force=force,
                )
            except bf.BackfillIncomplete as failed:
                summary = failed.summary
            watching.set()
            progress.update(task, completed=bf.progress_of(run, plan)["slices"])
    finally:
        watching.set()
        signal.signal(signal.SIGINT, previous)
        bf.STOP.clear()
    _report(console, summary, start, end, sources, as_json)
    return 3 if summary.incomplete else 0


def _report(
    console: Console,
    summary: BackfillSummary,
    start: str,
    end: str,
    sources: list[str] | None,
    as_json: bool,
) -> None:
    if as_json:
        sys.stdout.write(summary.model_dump_json() + "\n")
        return
    console.print(
        f"slices {summary.processed} processed, {summary.skipped} already done · "
        f"candidates {summary.candidates} · stored {summary.stored} · "
        f"matches {summary.matches}" + (" · dry run: nothing stored" if summary.dry_run else "")
    )
    for key, kind, space, day in summary.transitions:
        console.print(Text(f"  {day} {kind} {space} ({key})"))
    if summary.stopped_before:
        again = escape(" ".join(f"--source {s}" for s in sources or []))
        console.print(
            f"[yellow]Stopped before {summary.stopped_before}.[/yellow] Resume "
            f"with: straitwatch backfill --from {start} --to {end} {again}".rstrip()
            + " (finished slices are skipped)"
        )
    elif summary.incomplete:
        for item in summary.incomplete:
            failed = ", ".join(f"{name} ({reason})" for name, reason in item.failed.items())
            console.print(Text(f"  {item.day}: no answer from {failed}"))
        again = escape(" ".join(f"--source {s}" for s in sources or []))
        console.print(
            f"[red]{len(summary.incomplete)} day(s) unfinished: sources did not answer.[/red] "
            "No summary was sent. Run again when they answer: "
            f"straitwatch backfill --from {start} --to {end} {again}".rstrip()
        )
    else:
        console.print(f"alerts sent {summary.alerts_sent}")
