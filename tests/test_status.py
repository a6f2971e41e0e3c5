"""`straitwatch status` for people: how strong a match is, links, what a status means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from extractors.relevance import _reason
from flows.cli.status import linked, print_status, status_data, strength
from flows.settings import Settings
from storage import outbox
from storage.db import make_engine, migrate, write_session
from tests.support.paths import REPO

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_strength_is_the_sum_of_the_reasons_parts_before_the_clip() -> None:
    parts = {"title": 0.4, "pairs": 0.9, "topics": 0.55, "untopical": -0.3}
    reason = _reason(True, 1.0, ("japan", "korea"), 3, ["GSOMIA"], parts)
    assert strength(reason, 1.0) == round(sum(parts.values()), 2)
    assert strength("a reason written before parts were recorded", 0.7) == 0.7


def test_status_explains_unknown_and_unconfirmed_and_links_titles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'status.db'}"
    engine = make_engine(url)
    migrate(engine)
    title = "Security escalation: x"
    record = outbox.AlertRecord(key="k", kind="escalation", title=title, body="b")
    with write_session(engine) as session:
        outbox.add_alerts(session, "japan-korea", [record], NOW)
        (alert,) = outbox.pending_alerts(session, "japan-korea")
    with write_session(engine) as session:
        lease = timedelta(minutes=10)
        outbox.claim_deliveries(session, [alert.id], "mail#1", "t", NOW, lease, 5)
        outbox.mark_sending(session, [alert.id], "mail#1", "t")
        outbox.finish_deliveries(session, [alert.id], "mail#1", "t", "unknown", "timed out", NOW)
        outbox.close_alerts(session, [alert.id], "unconfirmed", NOW)
    settings = Settings(database_url=url, profile=REPO / "seeds" / "monitor.toml")
    data = status_data(settings)
    (shown,) = data["alerts"]
    assert shown["status"] == "unconfirmed" and "unknown" in shown["meaning"]
    assert shown["delivery_states"] == ["unknown"]
    console = Console(record=True, width=200)
    print_status(console, data)
    text = console.export_text()
    assert "unconfirmed: settled, but at least one channel's outcome is unknown" in text
    assert "unknown: the send may or may not have arrived" in text
    assert "never sent again" in text


def test_a_title_links_to_its_article_only_over_http() -> None:
    good = linked("[/bold] Seoul acts", "https://news.example/a")
    assert good.plain == "[/bold] Seoul acts"  # web text, never markup
    assert [span.style.link for span in good.spans] == ["https://news.example/a"]
    assert linked("Seoul acts", "javascript:alert(1)").spans == []
