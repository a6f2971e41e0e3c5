"""The report page: web text escaped, nothing fetched, windows as the tracker sees them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from extractors.escalation import EscalationRules, Report
from extractors.evaluation.labelled import load_labelled
from extractors.evaluation.replay import oracle_classifier, replay
from extractors.timeline import ActiveWindow, active_windows
from flows.stages.report import report_from_replay
from flows.stages.report_page import (
    DailyCount,
    ReportData,
    StoryLink,
    TransitionEntry,
    render_report,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "replay"
HOSTILE_TITLE = '<script>alert(1)</script><img src=x onerror="alert(2)"> Seoul & Tokyo'
HOSTILE_OUTLET = '<a href="https://phish.example/">Wire</a>'


def _data(stories: tuple[StoryLink, ...]) -> ReportData:
    return ReportData(
        title="Japan–South Korea <b>relations</b>",
        start=date(2019, 8, 1),
        end=date(2019, 8, 31),
        generated_at=datetime(2019, 9, 1, tzinfo=UTC),
        ladder=("history", "diplomatic", "economic", "security"),
        windows=(ActiveWindow("security", date(2019, 8, 22), date(2019, 8, 31)),),
        transitions=(
            TransitionEntry(
                kind="escalation",
                space="security",
                severity="critical",
                day=date(2019, 8, 22),
                outlets=(HOSTILE_OUTLET, "wire.example"),
                stories=stories,
            ),
        ),
        daily=(DailyCount(date(2019, 8, 22), "security", 2),),
        origin="a test",
    )


def test_web_text_is_escaped_and_only_http_links_are_links() -> None:
    html = render_report(
        _data(
            (
                StoryLink(HOSTILE_TITLE, (HOSTILE_OUTLET,), "javascript:alert(3)"),
                StoryLink("GSOMIA ends", ("wire.example",), 'https://wire.example/a?b=1&c="><x'),
            )
        )
    )

    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;a href=" in html  # the outlet's markup shows as text
    assert "<b>relations</b>" not in html
    assert "javascript:" not in html.replace("&lt;", "")  # shown nowhere as a link
    anchors = re.findall(r"<a\b[^>]*>", html)
    internal = [anchor for anchor in anchors if 'href="#' in anchor]
    assert '<a xlink:href="#transition-1">' in internal  # the marker, to its entry
    assert [anchor for anchor in anchors if anchor not in internal] == [
        '<a href="https://wire.example/a?b=1&amp;c=&#34;&gt;&lt;x" '
        'rel="noopener noreferrer nofollow">'
    ]


def test_the_page_loads_nothing_of_its_own() -> None:
    html = render_report(_data((StoryLink("t", ("o",), "https://wire.example/a"),)))

    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"\ssrc\s*=", html, re.I)
    assert not re.search(r"<link\b|@import|url\(\s*['\"]?(?!#)", html, re.I)  # url(#clip) stays
    # Every http(s) address in the page is a story link in an anchor.
    addresses = re.findall(r"""(\w[\w:-]*)\s*=\s*["'](https?://[^"']*)""", html)
    addresses = [(name, value) for name, value in addresses if not name.startswith("xmlns")]
    assert addresses == [("href", "https://wire.example/a")]
    # The timeline is drawn inline, with its lanes and a numbered marker per transition.
    for space in ("cooperation", "history", "diplomatic", "economic", "security"):
        assert f'id="lane-{space}"' in html
    assert 'id="marker-1"' in html and 'id="transition-1"' in html
    assert 'xlink:href="#transition-1"' in html


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def test_a_front_stays_shaded_until_it_lapses() -> None:
    rules = EscalationRules()  # two outlets, 72 h to confirm, 30 days active
    d = date(2019, 8, 22)
    reports = [
        Report("a", "a", "one.example", _at(d), "security", "step"),
        Report("b", "b", "two.example", _at(d, 14), "security", "step"),
        # A single outlet's talk a week later confirms nothing: the front still lapses.
        Report("c", "c", "one.example", _at(d + timedelta(days=7)), "security", "talk"),
        # Confirmed again on day 20: the window runs on to 30 days after that.
        Report("d", "d", "one.example", _at(d + timedelta(days=20)), "economic", "step"),
        Report("e", "e", "two.example", _at(d + timedelta(days=21)), "economic", "step"),
        Report("f", "f", "one.example", _at(d + timedelta(days=40)), "economic", "step"),
        Report("g", "g", "three.example", _at(d + timedelta(days=41)), "economic", "step"),
    ]

    windows = active_windows(reports, rules, date(2019, 8, 1), date(2019, 12, 31))

    assert windows == [
        ActiveWindow("economic", d + timedelta(days=21), d + timedelta(days=41 + 29)),
        ActiveWindow("security", d, d + timedelta(days=29)),
    ]
    # A window that opened before the page starts is shaded from its first day.
    assert active_windows(reports, rules, d + timedelta(days=5), d + timedelta(days=10)) == [
        ActiveWindow("security", d + timedelta(days=5), d + timedelta(days=10))
    ]


def test_the_replay_report_agrees_with_the_replay() -> None:
    items = load_labelled(FIXTURES / "items.jsonl")
    rules = EscalationRules()
    alerts = replay(items, oracle_classifier, rules)

    data = report_from_replay(
        items,
        oracle_classifier,
        rules,
        alerts,
        title="fixture",
        origin="the fixture",
        now=datetime(2025, 1, 1, tzinfo=UTC),
    )

    assert [(t.day, t.kind, t.space) for t in data.transitions] == [
        (a.date, a.kind, a.space) for a in alerts
    ]
    # Each escalation opens a shaded window on its own day.
    escalations = {(a.space, a.date) for a in alerts if a.kind == "escalation"}
    assert escalations <= {(w.space, w.start) for w in data.windows}
    ids = {item.id: item for item in items}
    first = data.transitions[0]
    assert [s.url for s in first.stories] == [ids[key].url for key in alerts[0].evidence]
    relevant = [i for i in items if i.relevant and i.space and i.action and len(i.published) >= 10]
    assert sum(c.count for c in data.daily) == len(relevant)


def test_close_markers_share_a_label_that_claims_no_gap() -> None:
    def entry(space: str, day: int) -> TransitionEntry:
        return TransitionEntry("escalation", space, "high", date(2019, 8, day), (), ())

    data = _data(())
    html = render_report(
        ReportData(
            **{
                **data.__dict__,
                "start": date(2019, 1, 1),
                "end": date(2019, 12, 31),
                "transitions": (
                    entry("security", 2),
                    entry("history", 3),
                    entry("security", 4),
                    entry("history", 25),
                ),
            }
        )
    )

    labels = re.findall(r"<text[^>]*>([^<]*)</text>", html)
    assert "1, 3" in labels  # both security markers, not "1–3": 2 is in another lane
    assert "2" in labels and "4" in labels
    assert "1–3" not in labels


def test_charts_are_kept_and_drawn_again_only_when_what_they_show_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.stages import report_page

    drawn: list[str] = []
    real = report_page.timeline_svg

    def counting(data: ReportData) -> str:
        drawn.append("timeline")
        return real(data)

    monkeypatch.setattr(report_page, "timeline_svg", counting)
    charts = tmp_path / ".charts"
    data = _data(())
    first = render_report(data, charts=charts)
    assert drawn == ["timeline"]
    assert len(list(charts.glob("timeline-*.svg"))) == 1

    # A later run: another generation time, the same matches and transitions.
    again = render_report(replace(data, generated_at=datetime(2019, 9, 2, tzinfo=UTC)), charts)
    assert drawn == ["timeline"], "an unchanged chart was drawn again"
    assert _svg_of(again) == _svg_of(first)

    # A new match changes the chart: drawn again, and the new picture shows it.
    more = replace(data, daily=(*data.daily, DailyCount(date(2019, 8, 23), "economic", 1)))
    changed = render_report(more, charts)
    assert drawn == ["timeline", "timeline"]
    assert _svg_of(changed) != _svg_of(first)
    assert _svg_of(changed) == _svg_of(render_report(more))  # what a fresh drawing gives

    # A damaged kept chart is not shown: unreadable bytes are drawn again.
    before = len(drawn)
    for kept in charts.glob("timeline-*.svg"):
        kept.write_bytes(b"\xff\xfe broken")
    render_report(more, charts)
    assert len(drawn) == before + 1


def test_the_kept_charts_stay_few(tmp_path: Path) -> None:
    from flows.stages.kept_charts import KEPT as CHARTS_KEPT

    charts = tmp_path / ".charts"
    data = _data(())
    for day in range(CHARTS_KEPT + 3):
        point = DailyCount(date(2019, 8, 1) + timedelta(days=day), "security", 1)
        render_report(replace(data, daily=(point,)), charts)
    assert len(list(charts.glob("timeline-*.svg"))) == CHARTS_KEPT
    assert not list(charts.glob("*.part"))


def _svg_of(html: str) -> str:
    return html[html.index("<svg") : html.index("</svg>")]
