"""One alert, or several due at once, rendered for each kind of channel.

- Email: HTML from a Jinja2 template with autoescape, so a headline carrying ``<img>`` or
  ``<a href>`` arrives as text. Apprise derives the plain-text part from the same HTML,
  which is laid out (paragraphs, breaks, each story's link written out) so that part
  keeps its lines and its links.
- Slack: Block Kit: a header, the facts as fields, a section per story with a button to
  its link. Web text is escaped for Slack's mrkdwn (``&``, ``<``, ``>``).
- Any other channel: the plain text, declared as text, so a channel that shows HTML or
  Markdown escapes it.

Alerts queued without structured facts (an older outbox row) are rendered from their
stored text, escaped the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2

from flows.stages.messages import both_clocks, cut_at_word, event_label, one_line, why
from storage.outbox import PendingAlert

SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")
COLOURS = {
    "critical": "#c62828",
    "high": "#e65100",
    "medium": "#f9a825",
    "low": "#3f7fbf",
    "info": "#2e8b57",
}
# Slack's limits: 150 characters in a header, 3000 in a section, 50 blocks a message.
_SLACK_HEADER = 150
_SLACK_SECTION = 2900
_SLACK_BLOCKS = 48


@dataclass(frozen=True)
class Message:
    """What one channel receives: a subject, and the body in the forms channels take."""

    subject: str
    text: str
    html: str
    slack: dict[str, Any] = field(default_factory=dict)  # a Block Kit attachment
    severity: str = "info"


def top_severity(severities: Sequence[str]) -> str:
    known = [s for s in severities if s in SEVERITY_ORDER] or ["info"]
    return max(known, key=SEVERITY_ORDER.index)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("flows.stages", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _story(story: dict[str, Any]) -> dict[str, Any]:
    link = str(story.get("link") or "")
    return {
        "title": one_line(str(story.get("title") or ""), 300),
        "link": link if link.startswith(("https://", "http://")) else "",
        "outlets": [one_line(str(o), 80) for o in story.get("outlets") or ()],
        "day": str(story.get("at") or "")[:10],
        "quote": one_line(str(story.get("quote") or ""), 400),
    }


def _card(alert: PendingAlert) -> dict[str, Any]:
    """Return what the template and Slack need of one alert."""
    facts = alert.payload or {}
    colour = COLOURS.get(alert.severity, COLOURS["info"])
    card: dict[str, Any] = {
        "label": str(facts.get("label") or event_label(alert.kind, alert.space) or "Alert"),
        "space": one_line(alert.space, 40),
        "severity": alert.severity,
        "colour": colour,
        "event": one_line(str(facts.get("event") or ""), 300),
        "facts": [],
        "sections": [],
        "lines": [],
        "fields": [],
    }
    if "sections" in facts:  # a digest: stories by space
        card["facts"] = [one_line(str(line), 300) for line in facts.get("facts") or ()]
        card["sections"] = [
            {
                "heading": one_line(str(section.get("heading") or ""), 80),
                "stories": [_story(s) for s in section.get("stories") or ()],
            }
            for section in facts["sections"]
        ]
        return card
    if "stories" not in facts:
        card["event"] = one_line(alert.title, 300)
        card["lines"] = [line.rstrip() for line in (alert.body or "").splitlines()]
        return card
    stories = [_story(s) for s in facts["stories"]]
    outlets = len({o for s in stories for o in s["outlets"]})
    active = [one_line(str(a), 40) for a in facts.get("active") or ()]
    confirmed = both_clocks(datetime.fromisoformat(str(facts["at"])))
    card["facts"] = [
        f"Confirmed {confirmed} by {outlets} outlet{'s' if outlets != 1 else ''} in "
        f"{len(stories)} stor{'ies' if len(stories) != 1 else 'y'}.",
        f"Active conflict spaces: {', '.join(active) if active else 'none'}.",
    ]
    if facts.get("reason"):
        card["facts"].append(f"Why: {why(one_line(str(facts['reason']), 200))}.")
    card["sections"] = [{"heading": "Stories", "stories": stories}]
    card["fields"] = [
        ("Space", card["space"]),
        ("Severity", alert.severity),
        ("Active spaces", ", ".join(active) or "none"),
        ("Confirmed", confirmed),
    ]
    return card


def _subject(alerts: Sequence[PendingAlert]) -> str:
    if len(alerts) == 1:
        return one_line(alerts[0].title, 200)
    lead = max(alerts, key=lambda a: SEVERITY_ORDER.index(top_severity([a.severity])))
    return cut_at_word(f"{len(alerts)} alerts — {one_line(lead.title, 200)}", 90)


def _mrkdwn(text: str) -> str:
    """Escape web text for Slack mrkdwn: only &, < and > have a meaning to undo."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_blocks(
    subject: str, cards: Sequence[dict[str, Any]], footer: str
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": cut_at_word(subject, _SLACK_HEADER)},
        }
    ]
    for card in cards:
        if len(cards) > 1 or not card["event"]:
            head = f"*{_mrkdwn(card['label'])}* · {_mrkdwn(card['severity'])}"
            if card["event"]:
                head += f"\n{_mrkdwn(card['event'])}"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": head}})
        if card["fields"]:
            blocks.append(
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*{name}*\n{_mrkdwn(value)}"}
                        for name, value in card["fields"]
                    ],
                }
            )
        if card["facts"]:
            facts = [line for line in card["facts"] if not line.startswith("Active")]
            blocks.append(
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": _mrkdwn(" ".join(facts))}],
                }
            )
        for section in card["sections"]:
            if len(card["sections"]) > 1 or section["heading"] != "Stories":
                heading = f"*{_mrkdwn(section['heading'])}*"
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": heading}})
            blocks += [_story_block(story) for story in section["stories"]]
        if card["lines"]:
            text = _mrkdwn("\n".join(card["lines"]))
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": text[:_SLACK_SECTION]}}
            )
        blocks.append({"type": "divider"})
    if len(blocks) > _SLACK_BLOCKS:
        hidden = len(blocks) - _SLACK_BLOCKS + 1
        blocks = blocks[: _SLACK_BLOCKS - 1]
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"{hidden} more block(s): see `straitwatch status`"}
                ],
            }
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(footer)}]})
    return blocks


def _story_block(story: dict[str, Any]) -> dict[str, Any]:
    text = f"*{_mrkdwn(story['title'])}*\n{_mrkdwn(', '.join(story['outlets']))} · {story['day']}"
    if story["quote"]:
        text += f"\n> {_mrkdwn(story['quote'])}"
    block: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": text[:_SLACK_SECTION]},
    }
    if story["link"]:
        block["accessory"] = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Read"},
            "url": story["link"][:3000],
        }
    return block


def _text(alerts: Sequence[PendingAlert]) -> str:
    if len(alerts) == 1:
        return alerts[0].body
    return "\n\n────────\n\n".join(f"{a.title}\n\n{a.body}" for a in alerts)


def render(alerts: Sequence[PendingAlert], monitor_title: str = "") -> Message:
    """Return the message that carries these alerts (one, or a digest of several)."""
    cards = [_card(a) for a in alerts]
    subject = _subject(alerts)
    severity = top_severity([a.severity for a in alerts])
    footer = one_line(monitor_title, 120) or "straitwatch"
    html = (
        _environment()
        .get_template("alert_email.html")
        .render(subject=subject, cards=cards, footer=footer)
    )
    attachment = {
        "color": COLOURS.get(severity, COLOURS["info"]),
        "blocks": _slack_blocks(subject, cards, footer),
    }
    return Message(subject, _text(alerts), html, attachment, severity)


def render_text_html(subject: str, text: str, severity: str = "info") -> str:
    """Return the email HTML for a plain message (a test notification, a notice)."""
    card = {
        "label": "Notice",
        "severity": severity,
        "colour": COLOURS.get(severity, COLOURS["info"]),
        "event": one_line(subject, 300),
        "facts": [],
        "sections": [],
        "fields": [],
        "lines": text.splitlines(),
    }
    return (
        _environment()
        .get_template("alert_email.html")
        .render(subject=one_line(subject, 200), cards=[card], footer="straitwatch")
    )
