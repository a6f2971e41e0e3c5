"""What a monitor or backfill flow run shows in the Prefect UI: its artifacts.

Each run publishes a Markdown summary (counts, transitions, active spaces, sources with
problems, the new matches), a table of its new matches and a link to the HTML report.
Artifacts are created only inside a flow run: the plain ``run_monitor`` (``straitwatch
demo``, tests) publishes nothing. Web text is escaped so a headline cannot put a link,
an image or HTML into the UI, and every URL-like text has its secrets masked.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from extractors.redaction import redact_text, redact_url
from flows.settings import Settings
from flows.stages.summaries import BackfillSummary, Counts, MonitorSummary

log = logging.getLogger("straitwatch.artifacts")

MONITOR_KEYS = ("monitor-summary", "monitor-new-matches", "monitor-report")
BACKFILL_KEYS = ("backfill-summary", "backfill-new-matches", "backfill-report")
COUNTS = tuple(Counts.model_fields)
MATCHES_IN_SUMMARY = 20
REPORT_DAYS = 90

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#!|:])")


def escape_markdown(text: object) -> str:
    """Return web text as literal Markdown: no link, image, emphasis, table cell or HTML."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def _link(title: str, url: str) -> str:
    """Return a Markdown link to an http(s) address, else the escaped title alone."""
    shown = escape_markdown(title or url)
    safe = redact_url(url)
    if not re.match(r"https?://", safe, re.I):
        return shown
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        safe = safe.replace(char, code)
    return f"[{shown}]({safe})"


def in_flow_run() -> bool:
    """Whether this code runs inside a Prefect flow run (without starting any server)."""
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def _counts_table(summary: Counts, names: tuple[str, ...]) -> list[str]:
    lines = ["| count | value |", "|---|---|"]
    lines += [f"| {name.replace('_', ' ')} | {getattr(summary, name)} |" for name in names]
    return lines


def _matches_section(matches: list[Any]) -> list[str]:
    lines = [f"## New matches ({len(matches)})", ""]
    if not matches:
        return [*lines, "none"]
    for m in matches[:MATCHES_IN_SUMMARY]:
        stage = escape_markdown("/".join(p for p in (m.space, m.action) if p) or "unstaged")
        lines.append(
            f"- {_link(m.title, m.url)} ({escape_markdown(m.outlet)}): {stage}"
            + (f", {escape_markdown(redact_text(m.stage_reason))}" if m.stage_reason else "")
        )
    if len(matches) > MATCHES_IN_SUMMARY:
        lines.append(f"- … and {len(matches) - MATCHES_IN_SUMMARY} more in the table")
    return lines


def _list(title: str, items: list[str]) -> list[str]:
    return (
        [f"## {title}", "", *(f"- {escape_markdown(i)}" for i in items)]
        if items
        else [
            f"## {title}",
            "",
            "none",
        ]
    )


def monitor_markdown(summary: MonitorSummary, monitor: str, matches: list[Any]) -> str:
    """Return the Markdown summary of a monitor run."""
    problems = [
        f"{name}: {redact_text(result)}"
        for name, result in summary.sources.items()
        if not (result.endswith(" entries") or result == "not modified")
    ]
    answered = len(summary.sources) - len(problems)
    counts = (*COUNTS, "alerts_sent", "alerts_failed", "alerts_pending")
    lines = [
        f"# Monitor run of {escape_markdown(monitor)}",
        "",
        f"{answered} of {len(summary.sources)} sources answered."
        + (
            " **No source answered**: check the network, DNS or proxy."
            if summary.no_source_answered
            else ""
        ),
        "",
        *_counts_table(summary, counts),
        "",
        *_list("Transitions decided", list(summary.transitions)),
        "",
        *_list("Active spaces", list(summary.active)),
        "",
        *_list("Sources with problems", problems),
        "",
        *_list("Source health changes", [redact_text(h) for h in summary.source_health]),
        "",
        *_list("Channel problems", [redact_text(p) for p in summary.channel_problems]),
        "",
        *_matches_section(matches),
    ]
    return "\n".join(lines) + "\n"


def backfill_markdown(summary: BackfillSummary, monitor: str, matches: list[Any]) -> str:
    """Return the Markdown summary of a backfill run."""
    first, last = summary.window
    problems = [
        f"{item.day}: {name}: {redact_text(reason)}"
        for item in summary.incomplete
        for name, reason in item.failed.items()
    ]
    stopped = summary.stopped_before
    lines = [
        f"# Backfill of {escape_markdown(monitor)}, {first} to {last}",
        "",
        f"Sources: {escape_markdown(', '.join(summary.sources))}."
        + (" Dry run: nothing stored." if summary.dry_run else "")
        + (f" Stopped before {stopped}." if stopped else ""),
        "",
        *_counts_table(summary, ("slices", "processed", "skipped", *COUNTS, "alerts_sent")),
        "",
        *_list("Transitions decided", [" ".join(t) for t in summary.transitions]),
        "",
        *_list("Active spaces", list(summary.active)),
        "",
        *_list("Sources with problems", problems),
        "",
        *_matches_section(matches),
    ]
    return "\n".join(lines) + "\n"


def match_rows(matches: list[Any]) -> list[dict[str, str]]:
    """Return the table artifact's rows: one per new match, with its link and stage."""
    return [
        {
            "title": " ".join(m.title.split()),
            "link": redact_url(m.url),
            "outlet": m.outlet,
            "stage": "/".join(p for p in (m.space, m.action) if p) or "unstaged",
            "reason": redact_text(m.stage_reason),
        }
        for m in matches
    ]


def run_matches(db_url: str, run_id: int | None) -> list[Any]:
    """Return the relevant articles a run stored (none for a dry run)."""
    if run_id is None:
        return []
    from storage.db import make_engine, read_session
    from storage.report_queries import matches_of_run

    with read_session(make_engine(db_url)) as session:
        return matches_of_run(session, run_id)


def refresh_report(settings: Settings, first: date, last: date, name: str) -> Path:
    """Write the HTML report of [first, last] into the data dir; return its path."""
    from flows.stages.report import report_from_database, write_report

    reports = settings.data_dir / "reports"
    data = report_from_database(settings, first, last, datetime.now(UTC))
    # Runs refresh their report every time: the charts they drew last time are kept.
    write_report(data, reports / name, charts=reports / ".charts")
    return reports / name


def _publish(
    keys: tuple[str, ...],
    markdown: str,
    matches: list[Any],
    report: Path | None,
    what: str,
) -> None:
    from prefect.artifacts import (
        create_link_artifact,
        create_markdown_artifact,
        create_table_artifact,
    )

    summary_key, table_key, report_key = keys
    create_markdown_artifact(markdown, key=summary_key, description=f"What this {what} did")
    create_table_artifact(
        match_rows(matches),
        key=table_key,
        description=f"The new matches of this {what} ({len(matches)}), with their stage",
    )
    if report is not None:
        create_link_artifact(
            report.resolve().as_uri(),
            link_text=f"HTML report ({report.name})",
            key=report_key,
            description="The dispute over time: `straitwatch report`, refreshed by this run",
        )


def publish_monitor(settings: Settings, monitor: str, db_url: str, summary: MonitorSummary) -> None:
    """Publish a monitor run's artifacts (inside a flow run only; never fails the run)."""
    if not in_flow_run():
        return
    try:
        matches = run_matches(db_url, summary.run_id)
        today = datetime.now(UTC).date()
        report = _try_report(
            settings, today - timedelta(days=REPORT_DAYS - 1), today, "report.html"
        )
        _publish(MONITOR_KEYS, monitor_markdown(summary, monitor, matches), matches, report, "run")
    except Exception as exc:  # noqa: BLE001 - the UI's view must never fail the run itself
        log.warning("could not publish the run's artifacts: %s", redact_text(str(exc)))


def publish_backfill(
    settings: Settings, monitor: str, db_url: str, summary: BackfillSummary
) -> None:
    """Publish a backfill run's artifacts (inside a flow run only; never fails the run)."""
    if not in_flow_run():
        return
    try:
        matches = run_matches(db_url, summary.run_id)
        first, last = summary.window
        report = _try_report(settings, first, last, f"backfill-{first}..{last}.html")
        markdown = backfill_markdown(summary, monitor, matches)
        _publish(BACKFILL_KEYS, markdown, matches, report, "backfill")
    except Exception as exc:  # noqa: BLE001 - the UI's view must never fail the run itself
        log.warning("could not publish the backfill's artifacts: %s", redact_text(str(exc)))


def _try_report(settings: Settings, first: date, last: date, name: str) -> Path | None:
    try:
        return refresh_report(settings, first, last, name)
    except Exception as exc:  # noqa: BLE001 - a report that cannot be written is no failure
        log.warning("could not write the report: %s", redact_text(str(exc)))
        return None
