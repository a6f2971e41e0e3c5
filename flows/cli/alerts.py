"""``straitwatch alerts preview``: every kind of alert, as its channels would get it."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from flows.settings import Settings

console = Console()


class Kind(StrEnum):
    escalation = "escalation"
    de_escalation = "de-escalation"
    health = "health"
    digest = "digest"


def alerts_preview(
    kind: Annotated[Kind, typer.Option(help="Which alert to show.")] = Kind.escalation,
    html: Annotated[
        Path | None, typer.Option(help="Also write the email's HTML part to this file.")
    ] = None,
    slack: Annotated[
        Path | None, typer.Option(help="Also write the Slack Block Kit message (JSON) here.")
    ] = None,
    profile: Annotated[
        Path | None, typer.Option(help="Profile TOML (default: the shipped one).")
    ] = None,
) -> None:
    """Show a sample alert of one kind: its subject and text, and optionally its HTML."""
    from extractors.profile import load_profile
    from flows.cli.preview import preview

    settings = Settings() if profile is None else Settings(profile=profile)
    message = preview(load_profile(settings.profile), kind.value)
    console.print(Text("Subject: ", style="bold") + Text(message.subject))
    console.print(Panel(Text(message.text), title=Text(f"{kind.value} · text"), expand=False))
    if html is not None:
        html.write_text(message.html, encoding="utf-8")
        console.print(Text(f"HTML part written to {html}"))
    if slack is not None:
        slack.write_text(json.dumps(message.slack, ensure_ascii=False, indent=2), "utf-8")
        console.print(Text(f"Slack message written to {slack}"))
