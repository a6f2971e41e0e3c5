"""Alerts as their readers get them: the subject, the email's two parts, Slack's blocks.

The end-to-end tests send through Apprise to a real SMTP server (aiosmtpd) and to a Slack
webhook served on 127.0.0.1, and read what arrived.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import pytest

from extractors.escalation import Transition
from extractors.profile import load_profile
from flows.stages.alerts import deliver_alerts
from flows.stages.channels import load_channels
from flows.stages.messages import (
    SUBJECT_LIMIT,
    compose_transition_alert,
    cut_at_word,
    transition_subject,
)
from flows.stages.render import render
from storage import outbox
from storage.db import make_engine, migrate, read_session, write_session
from storage.tracker import ReportRow
from tests.support.cli import cli_env, run_cli
from tests.support.http import FixtureServer
from tests.support.mail import SmtpSink, decoded_subject
from tests.support.paths import REPO

AT = datetime(2019, 8, 22, 9, 30, tzinfo=UTC)
HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="https://tracker.example/p.gif" onerror="alert(2)">',
    '<a href="https://phish.example/login">verify your account</a>',
]


def _report(n: int, outlet: str, cluster: int | None, title: str, **extra: object) -> ReportRow:
    values: dict[str, object] = {
        "article_id": n,
        "canonical_url": f"https://{outlet.lower()}.example/story/{n}",
        "cluster_id": cluster,
        "outlet": outlet,
        "at": AT.replace(hour=AT.hour - (3 - n % 3)),
        "space": "security",
        "action": "step",
        "title": title,
        "url": f"https://{outlet.lower()}.example/story/{n}?utm_source=rss&utm_medium=feed&id={n}",
        "evidence": (title, f"Officials said the decision takes effect at once ({n})."),
        "reason": "rule: security: terminates GSOMIA",
    }
    values.update(extra)
    return ReportRow(**values)  # type: ignore[arg-type]


def _transition(outlets: tuple[str, ...]) -> Transition:
    return Transition(
        kind="escalation",
        space="security",
        at=AT,
        episode=1,
        evidence=(),
        outlets=outlets,
        severity="critical",
        evidence_at=(AT,),
    )


def _alert(reports: list[ReportRow]) -> outbox.AlertRecord:
    profile = load_profile(REPO / "seeds" / "monitor.toml")
    outlets = tuple(sorted({r.outlet for r in reports}))
    return compose_transition_alert(profile, _transition(outlets), reports, ["security"])


def _pending(record: outbox.AlertRecord) -> outbox.PendingAlert:
    return outbox.PendingAlert.unsent(record, AT, id=1)


LEAD = "Seoul suspends military intelligence sharing with Tokyo"


def _reports() -> list[ReportRow]:
    return [
        _report(1, "Yonhap", 7, LEAD),
        _report(2, "KoreaHerald", 7, LEAD + " (reprint)"),  # the same story, reprinted
        _report(3, "Kyodo", None, "Japan protests Seoul's decision on the pact"),
    ]


def test_the_subject_leads_with_the_event_and_is_cut_at_a_word() -> None:
    alert = _alert(_reports())
    assert alert.title == f"Security escalation: {LEAD} — 3 outlets"
    assert len(alert.title) <= SUBJECT_LIMIT
    long = transition_subject("Security escalation", "word " * 40, 3)
    assert len(long) <= SUBJECT_LIMIT and long.endswith("… — 3 outlets")
    assert "wor…" not in long  # never a word cut in half
    assert cut_at_word("destroyer radar lock-on dispute", 20) == "destroyer radar…"


def test_the_body_has_one_line_per_story_clean_links_and_both_clocks() -> None:
    alert = _alert(_reports())
    body = alert.body
    lines = body.splitlines()
    assert lines[0] == "Security escalation (critical)" and lines[1] == LEAD
    assert "Confirmed 2019-08-22 09:30 UTC (18:30 KST/JST) by 3 outlets in 2 stories." in body
    assert "Why: the direction rule 'security: terminates GSOMIA' decided the stage." in body
    # two stories, not three reprints: the reprint's outlet joins the first story
    assert [line for line in lines if line[:3] in ("1. ", "2. ", "3. ")] == [
        f"1. {LEAD}",
        "2. Japan protests Seoul's decision on the pact",
    ]
    assert "   Yonhap, KoreaHerald · 2019-08-22" in lines
    assert "utm_" not in body and "https://yonhap.example/story/1?id=1" in body
    assert body.count("Officials said") == 2  # at most one quote per story


def test_web_text_is_escaped_in_every_channel() -> None:
    reports = [
        _report(1, "Yonhap", None, HOSTILE[0] + " Seoul ends the pact"),
        _report(2, "Kyodo", None, HOSTILE[1], evidence=(HOSTILE[2],)),
        _report(3, "Mainichi", None, "Tokyo <b>responds</b> & warns"),
    ]
    message = render([_pending(_alert(reports))], "Japan–South Korea relations")
    html = message.html.lower()
    for raw in ("<script", "<img", 'href="https://phish', "<b>"):
        assert raw not in html, raw
    assert "&lt;script&gt;" in html and "&lt;img" in html and "&lt;a href=" in html
    slack = json.dumps(message.slack)
    assert "<script" not in slack and "<img" not in slack and "<a href" not in slack
    assert "&lt;script&gt;" in slack and "&amp; warns" in slack
    assert message.text.count("\n") > 8  # the text keeps its lines


def test_slack_gets_a_header_fields_and_a_section_with_a_button_per_story() -> None:
    message = render([_pending(_alert(_reports()))], "Japan–South Korea relations")
    blocks = message.slack["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"].startswith("Security escalation: Seoul suspends")
    fields = [b for b in blocks if b["type"] == "section" and "fields" in b]
    assert len(fields) == 1
    assert [f["text"] for f in fields[0]["fields"]] == [
        "*Space*\nsecurity",
        "*Severity*\ncritical",
        "*Active spaces*\nsecurity",
        "*Confirmed*\n2019-08-22 09:30 UTC (18:30 KST/JST)",
    ]
    stories = [b for b in blocks if b.get("accessory", {}).get("type") == "button"]
    assert [b["accessory"]["url"] for b in stories] == [
        "https://yonhap.example/story/1?id=1",
        "https://kyodo.example/story/3?id=3",
    ]


def test_an_alert_without_facts_is_rendered_from_its_stored_text() -> None:
    record = outbox.AlertRecord(
        key="k", kind="health", title="Source x is failing", body="line one\nline <two>"
    )
    message = render([_pending(record)])
    assert "line one<br>" in message.html and "line &lt;two&gt;" in message.html
    assert message.text == "line one\nline <two>"


def _outbox(tmp_path: Path, records: list[outbox.AlertRecord]) -> str:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    engine = make_engine(url)
    migrate(engine)
    with write_session(engine) as session:
        outbox.add_alerts(session, "japan-korea", records, AT)
    return url


def _parts(message: Message) -> dict[str, str]:
    parts = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return parts


@pytest.mark.e2e
def test_the_email_arrives_with_a_text_part_and_an_escaped_html_part(
    tmp_path: Path, smtp_server: SmtpSink
) -> None:
    reports = [*_reports(), _report(4, "Asahi", None, HOSTILE[1] + " Tokyo answers")]
    url = _outbox(tmp_path, [_alert(reports)])
    channels, problems = load_channels([smtp_server.url()], None, False)
    assert not problems
    report = deliver_alerts(url, "japan-korea", channels, 3, monitor_title="Japan–South Korea")
    assert len(report.sent) == 1 and len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert decoded_subject(received) == f"Security escalation: {LEAD} — 4 outlets"
    assert received.get_content_type() == "multipart/alternative"
    parts = _parts(received)
    text, html = parts["text/plain"], parts["text/html"]
    # the text part keeps one fact per line, and every story's link
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert LEAD in lines
    assert "https://yonhap.example/story/1?id=1" in lines
    assert any(line.startswith("Confirmed 2019-08-22 09:30 UTC") for line in lines)
    assert len(lines) >= 12
    # the HTML part is the template's, with clickable links and the hostile title as text
    assert '<a href="https://yonhap.example/story/1?id=1"' in html
    assert "<img" not in html.lower() and "&lt;img" in html
    assert "X-Straitwatch-Alert" in received


@pytest.mark.e2e
def test_slack_receives_block_kit_through_its_webhook(
    tmp_path: Path, monkeypatch, webhook: FixtureServer
) -> None:
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", webhook.url("/services"))
    hostile = _report(4, "Asahi", None, "{{app_body}} " + HOSTILE[2])
    url = _outbox(tmp_path, [_alert([*_reports(), hostile])])
    slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#desk"
    channels, _ = load_channels([slack], None, False)
    report = deliver_alerts(url, "japan-korea", channels, 3)
    posts = [request.json() for request in webhook.requests]
    assert len(report.sent) == 1 and len(posts) == 1
    blocks = posts[0]["attachments"][0]["blocks"]
    assert blocks[0]["type"] == "header"
    buttons = [b["accessory"]["url"] for b in blocks if "accessory" in b]
    assert len(buttons) == 3 and all("utm_" not in b for b in buttons)
    text = json.dumps(posts[0])
    assert "<a href" not in text and "&lt;a href=" in text
    assert "{{app_body}}" in text  # web text is never taken for a template slot
    with read_session(make_engine(url)) as session:
        assert [a.status for a in outbox.pending_alerts(session, "japan-korea")] == []


def test_health_changes_roll_up_into_one_notice_per_kind_with_a_stable_key() -> None:
    from extractors.health import HealthChange
    from flows.stages.messages import compose_health_alerts

    profile = load_profile(REPO / "seeds" / "monitor.toml")

    def change(kind: str, n: int) -> tuple[HealthChange, str]:
        return HealthChange(
            f"s{n}", kind, "failing", 1, "3 failed attempts (dns)"
        ), f"https://s{n}.example/f"

    changes = [change("health", 1), change("recovered", 2), change("recovered", 3)]
    notices = compose_health_alerts(profile, changes)
    assert [n.kind for n in notices] == ["health", "recovered"]
    assert notices[0].key == "health:s1:1"  # one source: its own notice
    assert notices[1].title.startswith("2 sources recovered")
    again = compose_health_alerts(profile, list(reversed(changes)))
    assert [n.key for n in again] == [n.key for n in notices]  # the same changes, one key
    everything = compose_health_alerts(profile, [change("health", n) for n in range(4)], 4)
    assert len(everything) == 1 and "check the network or DNS" in everything[0].title


@pytest.mark.parametrize("kind", ["escalation", "de-escalation", "health", "digest"])
def test_alerts_preview_shows_each_kind_as_its_channels_get_it(tmp_path: Path, kind: str) -> None:
    html, slack = tmp_path / "alert.html", tmp_path / "slack.json"
    args = ["alerts", "preview", "--kind", kind, "--html", str(html), "--slack", str(slack)]
    done = run_cli(args, cli_env(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    subject = done.stdout.split("Subject: ", 1)[1].split("\n╭", 1)[0].replace("\n", "")
    assert 20 < len(subject) <= 90, subject
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "straitwatch" in page
    blocks = json.loads(slack.read_text(encoding="utf-8"))["blocks"]
    assert blocks[0]["type"] == "header" and blocks[-1]["type"] == "context"


@pytest.mark.e2e
def test_the_readme_alert_screenshot_script_draws_a_page(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from PIL import Image

    out = tmp_path / "alert.png"
    script = REPO / "scripts" / "alert_screenshot.py"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True, timeout=120)
    with Image.open(out) as image:
        colours = image.convert("RGB").getcolors(maxcolors=256) or []
    assert image.size == (720, 560)
    assert len(colours) > 8  # text, links and the severity bar: not a blank page


def test_a_backfill_summary_is_new_news_only_when_its_transitions_are() -> None:
    from datetime import date

    from flows.stages.messages import compose_backfill_summary

    profile = load_profile(REPO / "seeds" / "monitor.toml")
    window = (profile, date(2019, 8, 21), date(2019, 8, 23), ["gdelt"])
    one = _transition(("a.example", "b.example"))
    other = Transition(
        kind="escalation",
        space="economic",
        at=AT,
        episode=1,
        evidence=(),
        outlets=("c.example",),
        severity="high",
        evidence_at=(AT,),
    )
    first = compose_backfill_summary(*window, [one])
    assert compose_backfill_summary(*window, [one]).key == first.key  # a rerun: not resent
    assert compose_backfill_summary(*window, [one, other]).key != first.key
    assert compose_backfill_summary(*window, []).key != first.key
