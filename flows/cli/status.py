"""What ``straitwatch status`` shows: the dispute's state and everything behind it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape
from rich.style import Style
from rich.table import Table
from rich.text import Text

from extractors.escalation import DisputeState
from extractors.profile import load_profile
from extractors.redaction import redacted
from flows.settings import Settings
from flows.stages.corrections import corrections_status, describe
from storage import status as storage_status
from storage.db import make_engine, migrate, read_session, redact_url

_PART = re.compile(r"([a-z]+) ([+-]\d+(?:\.\d+)?)")
# What an alert's or a delivery's status means, for the people reading `status`.
STATUS_MEANING = {
    "pending": "waiting for its next send (or for a channel that wants it)",
    "sent": "delivered to every channel that wants it",
    "unconfirmed": "settled, but at least one channel's outcome is unknown: check it there",
    "failed": "gave up after the attempt limit: `straitwatch alerts test` names the cause",
    "silenced": "recorded, not sent (history rebuilt by a backfill, or past the live horizon)",
    "unknown": "the send may or may not have arrived (a timeout, a hang-up, a killed sender); "
    "never sent again, so a duplicate cannot happen",
}


def strength(reason: str, score: float) -> float:
    """Return the relevance evidence before the score's 0..1 clip (the sum of its parts).

    Every clear match scores 1.00; the sum tells a headline story from a passing mention.
    """
    parts = reason.rpartition("[")[2]
    found = _PART.findall(parts)
    return round(sum(float(value) for _, value in found), 2) if found else score


def _why_relevant(reason: str) -> str:
    """Return the relevance reason without its verdict and parts: pairs and topics."""
    middle = reason.split(": ", 1)[-1].rpartition("; [")[0]
    return middle.split("; ", 1)[-1] if "; " in middle else middle


def status_data(settings: Settings, limit: int = 10) -> dict[str, Any]:
    """Return the status of the profile's monitor as plain, JSON-ready data.

    Every string is redacted on the way out: rows written before URLs were masked at
    storage may still hold a secret.
    """
    profile = load_profile(settings.profile)
    engine = make_engine(settings.db_url)
    migrate(engine)
    with read_session(engine) as session:
        s = storage_status.status_summary(session, profile.monitor.name, limit)
        corrections = corrections_status(session, profile, limit, datetime.now(UTC))
    deliveries: dict[int, list[str]] = {}
    states: dict[int, set[str]] = {}
    for d in s.deliveries:
        states.setdefault(d.alert_id, set()).add(d.status)
        deliveries.setdefault(d.alert_id, []).append(
            f"{d.channel}: {d.status}" + (f" ({d.last_error})" if d.last_error else "")
        )
    data = {
        "monitor": profile.monitor.name,
        "database": redact_url(settings.db_url),
        "relevance_threshold": float(profile.relevance.get("threshold", 0.5)),
        "active": list(DisputeState.from_json(s.state).active) if s.state else [],
        "counts": s.counts,
        "transitions": [
            {
                "at": t.at,
                "kind": t.kind,
                "space": t.space,
                "severity": t.severity,
                "outlets": t.outlets,
                "mode": t.mode,
            }
            for t in s.transitions
        ],
        "matches": [
            {
                "seen": a.first_seen_at,
                "published": a.published_at,
                "outlet": a.outlet,
                "title": a.title,
                "space": a.space,
                "action": a.action,
                "stage_reason": a.stage_reason,
                "stage_confidence": a.stage_confidence,
                "score": round(a.relevance_score, 3),
                "strength": strength(a.relevance_reason, a.relevance_score),
                "why_relevant": _why_relevant(a.relevance_reason),
                "topics": a.matched_topics[:5],
                "cluster": a.cluster_id,
                "url": a.url,
            }
            for a in s.matches
        ],
        "sources": [
            {
                "name": src.name,
                "kind": src.kind,
                "health": src.health,
                "last_success": src.last_success_at,
                "error_streak": src.error_streak,
                "last_error": src.last_error,
                "detail": src.last_error_detail,
            }
            for src in s.sources
        ],
        "errors": [
            {
                "at": e.at,
                "stage": e.stage,
                "reason": e.reason,
                "url": e.url,
                "source": e.source,
                "detail": e.detail,
            }
            for e in s.errors
        ],
        "alerts": [
            {
                "created": a.created_at,
                "key": a.key,
                "status": a.status,
                "meaning": STATUS_MEANING.get(a.status, ""),
                "title": a.title,
                "deliveries": deliveries.get(a.id or 0, []),
                "delivery_states": sorted(states.get(a.id or 0, ())),
            }
            for a in s.alerts
        ],
        "runs": [
            {
                "id": r.id,
                "flow": r.flow,
                "started": r.started_at,
                "status": r.status,
                "counts": r.counts,
            }
            for r in s.runs
        ],
        "corrections": corrections,
    }
    shown: dict[str, Any] = redacted(data)
    return shown


def linked(text: str, url: str) -> Text:
    """Return web text as a terminal hyperlink to url, when url is http(s); never markup."""
    cell = Text(text)
    if urlsplit(url).scheme.lower() in ("http", "https"):
        cell.stylize(Style(link=url))
    return cell


def _cell(value: Any) -> Text:
    return value if isinstance(value, Text) else Text("" if value is None else str(value))


def _table(
    title: str, columns: list[str], rows: list[list[Any]], caption: str | None = None
) -> Table:
    table = Table(title=title, title_justify="left", expand=False, caption=caption)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        # Text, not str: a cell holds web text (headlines, URLs, reasons), never markup.
        table.add_row(
            *[v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in row]
        )
    if not rows:
        table.add_row(*(["(none)"] + [""] * (len(columns) - 1)))
    return table


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else str(value or "")


def print_status(console: Console, data: dict[str, Any]) -> None:
    """Print the status as Rich tables."""
    active = ", ".join(data["active"]) or "none"
    console.print(f"[bold]{escape(data['monitor'])}[/bold] · database {escape(data['database'])}")
    console.print(
        f"Active conflict spaces: [bold]{escape(active)}[/bold] · "
        + escape(" · ".join(f"{k} {v}" for k, v in data["counts"].items()))
    )
    console.print(
        _table(
            "Last transitions",
            ["at", "kind", "space", "severity", "outlets", "mode"],
            [
                [
                    _when(t["at"]),
                    t["kind"],
                    t["space"],
                    t["severity"],
                    ", ".join(t["outlets"]),
                    t["mode"],
                ]
                for t in data["transitions"]
            ],
        )
    )
    console.print(
        _table(
            "Recent matches (titles link to the articles)",
            ["seen", "outlet", "title", "stage", "why this stage", "strength", "why relevant"],
            [
                [
                    _when(m["seen"]),
                    m["outlet"],
                    linked(m["title"][:90], m["url"]),
                    f"{m['space']}/{m['action']}" if m["space"] else "—",
                    m["stage_reason"][:60],
                    f"{m['strength']:.2f}",
                    m["why_relevant"][:70],
                ]
                for m in data["matches"]
            ],
            caption="strength: the relevance evidence summed before its 0–1 clip; a match "
            f"needs {data['relevance_threshold']:.2f}, and more means the two countries are "
            "more central to the piece",
        )
    )
    shown = {a["status"] for a in data["alerts"]}
    shown |= {
        d.rsplit(": ", 1)[-1].split(" ", 1)[0] for a in data["alerts"] for d in a["deliveries"]
    }
    legend = [f"{name}: {STATUS_MEANING[name]}" for name in STATUS_MEANING if name in shown]
    console.print(
        _table(
            "Alerts",
            ["created", "title", "status", "deliveries"],
            [
                [_when(a["created"]), a["title"], a["status"], "; ".join(a["deliveries"])]
                for a in data["alerts"]
            ],
            caption="\n".join(legend) or None,
        )
    )
    console.print(
        _table(
            "Sources",
            ["source", "health", "last success", "errors", "last error"],
            [
                [
                    s["name"],
                    s["health"],
                    _when(s["last_success"]),
                    s["error_streak"],
                    f"{s['last_error'] or ''} {s['detail'] or ''}".strip(),
                ]
                for s in data["sources"]
            ],
        )
    )
    console.print(
        _table(
            "Recent recorded reasons",
            ["at", "stage", "reason", "source", "url"],
            [
                [_when(e["at"]), e["stage"], e["reason"], e["source"], e["url"][:80]]
                for e in data["errors"]
            ],
        )
    )
    console.print(
        _table(
            "Latest corrections",
            ["at", "by", "article", "title", "was", "now", "without the decision"],
            [
                [
                    _when(c["at"]),
                    c["by"],
                    c["article_id"],
                    c["title"][:60] + (" (superseded)" if c["superseded"] else ""),
                    f"{c['was']['space']}/{c['was']['action']}"
                    if c["was"]["relevant"]
                    else "not relevant",
                    f"{c['space']}/{c['action']}" if c["relevant"] else "not relevant",
                    describe(c["what_if"]),
                ]
                for c in data["corrections"]
            ],
        )
    )
