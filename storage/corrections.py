"""Analysts' corrections of articles' decisions: recorded, never overwritten.

Each correction is a new row; the latest one of an article (by time, then id) is the one in
force, the earlier ones stay as the record of who said what when.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from extractors.urls import canonical_url
from storage.models import Article, Correction
from storage.tracker import ReportRow, report_row


def find_article(session: Session, monitor: str, url_or_id: str) -> Article | None:
    """Return the monitor's article by its id or by any URL form that canonicalises to it."""
    text = url_or_id.strip()
    if text.isdigit():
        row = session.get(Article, int(text))
        return row if row is not None and row.monitor == monitor else None
    keys = [key for key in (canonical_url(text), text) if key]
    for key in keys:
        row = session.exec(
            select(Article).where(Article.monitor == monitor, Article.canonical_url == key)
        ).first()
        if row is not None:
            return row
    return session.exec(
        select(Article).where(Article.monitor == monitor, Article.url == text)
    ).first()


def record_correction(
    session: Session,
    monitor: str,
    article_id: int,
    *,
    relevant: bool,
    space: str | None,
    action: str | None,
    by: str,
    at: datetime,
) -> Correction:
    """Add a correction (in the caller's transaction) and return it."""
    row = Correction(
        monitor=monitor,
        article_id=article_id,
        relevant=relevant,
        space=space if relevant else None,
        action=action if relevant else None,
        by=by,
        at=at,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class CorrectionView:
    correction: Correction
    article: Article
    superseded: bool


def corrections(session: Session, monitor: str) -> list[CorrectionView]:
    """Return every correction of the monitor, newest first, each marked if superseded."""
    rows = session.exec(
        select(Correction, Article)
        .join(Article, col(Correction.article_id) == col(Article.id))
        .where(Correction.monitor == monitor)
        .order_by(col(Correction.at).desc(), col(Correction.id).desc())
    ).all()
    seen: set[int] = set()
    views = []
    for correction, article in rows:
        views.append(CorrectionView(correction, article, correction.article_id in seen))
        seen.add(correction.article_id)
    return views


def current_corrections(session: Session, monitor: str) -> list[CorrectionView]:
    """Return the correction in force for each corrected article, newest first."""
    return [view for view in corrections(session, monitor) if not view.superseded]


def corrected_reports(rows: list[ReportRow], views: list[CorrectionView]) -> list[ReportRow]:
    """Return the stage reports with the corrections in force applied (in memory only).

    An article corrected to not relevant drops out; one corrected to a space and action is
    reported with them, whether or not it was a staged match before.
    """
    by_article = {view.article.id: view for view in views}
    out = []
    for row in rows:
        view = by_article.pop(row.article_id, None)
        if view is None:
            out.append(row)
        elif view.correction.relevant and view.correction.space:
            c = view.correction
            out.append(replace(row, space=c.space or "", action=c.action or "step"))
    for view in by_article.values():
        c = view.correction
        if c.relevant and c.space:
            out.append(replace(report_row(view.article), space=c.space, action=c.action or "step"))
    return sorted(out, key=lambda r: (r.at, r.article_id))
