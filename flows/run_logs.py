"""The product's own log lines in the Prefect run logs.

``PREFECT_LOGGING_EXTRA_LOGGERS=straitwatch`` would attach Prefect's API handler to our
loggers, but only in processes that had it in their environment before importing Prefect
(a worker's flow process, ``serve``, ``run`` each start Prefect their own way), at
``PREFECT_LOGGING_LEVEL`` (which we keep at WARNING for a quiet console), and it warns for
every record logged outside a run. So each flow run attaches the handler itself, for its own
duration: every ``straitwatch`` record of INFO and above, from any thread of the process,
goes to that run's logs with its secrets masked. The console still shows only what it
showed before (WARNING and above, through the root logger's handlers).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from extractors.redaction import RedactingFilter
from flows.stages.summaries import BackfillSummary, MonitorSummary

ROOT = "straitwatch"
log = logging.getLogger("straitwatch.run")


class _ToRootHandlers(logging.Handler):
    """Hand records at or above the root logger's level to its handlers, as propagation did."""

    def emit(self, record: logging.LogRecord) -> None:
        root = logging.getLogger()
        if record.levelno < root.getEffectiveLevel():
            return
        for handler in root.handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


@contextmanager
def straitwatch_logs_to_run(level: int = logging.INFO) -> Iterator[None]:
    """Send the ``straitwatch`` loggers' records to the current flow run's logs."""
    from prefect.context import FlowRunContext
    from prefect.logging.handlers import APILogHandler

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        yield
        return
    run_id = context.flow_run.id

    def stamp(record: logging.LogRecord) -> bool:
        # Records from threads outside the run's context still belong to this run.
        if getattr(record, "flow_run_id", None) is None:
            record.flow_run_id = run_id
        return True

    to_api = APILogHandler(level=level)
    to_api.addFilter(RedactingFilter())
    to_api.addFilter(stamp)
    to_console = _ToRootHandlers()
    to_console.addFilter(RedactingFilter())
    logger = logging.getLogger(ROOT)
    saved = (logger.level, logger.propagate)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    logger.propagate = False
    logger.addHandler(to_api)
    logger.addHandler(to_console)
    try:
        yield
    finally:
        logger.removeHandler(to_api)
        logger.removeHandler(to_console)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def log_monitor_results(summary: MonitorSummary) -> None:
    """Log one line per source result and the run's summary line."""
    for name, result in summary.sources.items():
        log.info("source %s: %s", name, result)
    log.info(
        "summary: candidates %s, new %s, fetched %s, stored %s, matches %s, failed %s; "
        "transitions: %s; active: %s; alerts sent %s, failed %s, pending %s",
        summary.candidates,
        summary.new,
        summary.fetched,
        summary.stored,
        summary.matches,
        summary.failed,
        ", ".join(summary.transitions) or "none",
        ", ".join(summary.active) or "none",
        summary.alerts_sent,
        summary.alerts_failed,
        summary.alerts_pending,
    )


def log_backfill_results(summary: BackfillSummary) -> None:
    """Log one line per source (the days it did not answer, if any) and the summary line."""
    failed: dict[str, list[str]] = {}
    for item in summary.incomplete:
        for name, reason in item.failed.items():
            failed.setdefault(name, []).append(f"{item.day} {reason}")
    for name in summary.sources:
        if name in failed:
            log.info("source %s: no answer on %s", name, "; ".join(failed[name]))
        else:
            log.info("source %s: answered for every slice read", name)
    log.info(
        "summary: %s to %s, slices %s processed, %s already done; candidates %s, new %s, "
        "stored %s, matches %s, failed %s; transitions %s; alerts sent %s",
        *summary.window,
        summary.processed,
        summary.skipped,
        summary.candidates,
        summary.new,
        summary.stored,
        summary.matches,
        summary.failed,
        len(summary.transitions),
        summary.alerts_sent,
    )
