"""What corrections mean: their export as labelled items, and the tracker replayed with them.

The replay is in memory: the stored reports are read, the corrections in force applied, and
the state machine run over them from scratch, as a rebuild would; nothing is written and no
alert already sent is touched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from extractors.escalation import EscalationRules
from extractors.profile import Profile
from flows.stages.tracking import replay_reports
from storage import corrections as store
from storage import tracker


def labelled_item(view: store.CorrectionView) -> dict[str, Any]:
    """Return a correction as one labelled JSONL object (see extractors/evaluation/labelled.py)."""
    a, c = view.article, view.correction
    text = a.text or "\n".join(a.stage_evidence or a.relevance_evidence or [])
    published = a.published_at or a.first_seen_at
    return {
        "id": f"correction-{c.id}",
        "url": a.url,
        "outlet": a.outlet,
        "published": published.date().isoformat(),
        "lang": a.language,
        "title": a.title,
        "text": text,
        "relevant": c.relevant,
        "space": c.space if c.relevant else None,
        "action": c.action if c.relevant else None,
        "corrected_by": c.by,
        "corrected_at": c.at.isoformat(),
    }


def export_labelled(views: Sequence[store.CorrectionView], path: Path) -> int:
    """Write the corrections in force as labelled JSON Lines; return how many were written."""
    lines = [json.dumps(labelled_item(v), ensure_ascii=False) for v in views if not v.superseded]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def what_if(
    session: Session,
    profile: Profile,
    views: Sequence[store.CorrectionView],
    now: datetime,
) -> dict[int, list[dict[str, Any]]]:
    """For each corrected article that confirmed a stored transition, what a replay decides.

    Return, by correction id, one entry per such transition: its key, whether the replay with
    the corrections in force still decides it, and the transitions of the same space the
    replay decides that the history lacks.
    """
    monitor = profile.monitor.name
    current = [v for v in views if not v.superseded]
    stored = tracker.stored_transitions(session, monitor)
    by_evidence: dict[str, list[tracker.StoredTransition]] = {}
    for t in stored:
        for key in t.evidence:
            by_evidence.setdefault(key, []).append(t)
    affected = [v for v in current if v.article.canonical_url in by_evidence]
    if not affected:
        return {}
    rows = tracker.pending_reports(session, monitor, everything=True)
    rules = EscalationRules.from_profile(profile)
    _, decided = replay_reports(store.corrected_reports(rows, current), now, rules)
    replayed = {t.key for t, _ in decided}
    known = {t.key for t in stored}
    result: dict[int, list[dict[str, Any]]] = {}
    for view in affected:
        entries = []
        for t in by_evidence[view.article.canonical_url]:
            instead = sorted(k for k in replayed - known if k.split(":")[1] == t.space)
            entries.append(
                {"transition": t.key, "still_decided": t.key in replayed, "instead": instead}
            )
        result[view.correction.id or 0] = entries
    return result


def describe(entries: Sequence[dict[str, Any]]) -> str:
    """Return one line saying what the tracker would have decided without the decision."""
    parts = []
    for e in entries:
        if e["still_decided"]:
            parts.append(f"{e['transition']}: still decided")
        else:
            instead = ", ".join(e["instead"]) or "nothing"
            parts.append(f"{e['transition']}: not decided (instead: {instead})")
    return "; ".join(parts)


def corrections_status(
    session: Session, profile: Profile, limit: int, now: datetime
) -> list[dict[str, Any]]:
    """Return the latest corrections as JSON-ready rows for ``straitwatch status``."""
    views = store.corrections(session, profile.monitor.name)
    effects = what_if(session, profile, views, now)
    return [
        {
            "id": v.correction.id,
            "at": v.correction.at,
            "by": v.correction.by,
            "article_id": v.article.id,
            "title": v.article.title,
            "url": v.article.url,
            "was": {
                "relevant": v.article.relevant,
                "space": v.article.space,
                "action": v.article.action,
            },
            "relevant": v.correction.relevant,
            "space": v.correction.space,
            "action": v.correction.action,
            "superseded": v.superseded,
            "what_if": effects.get(v.correction.id or 0, []),
        }
        for v in views[:limit]
    ]
