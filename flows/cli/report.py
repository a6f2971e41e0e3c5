"""``straitwatch report``: write the dispute over a window as one self-contained HTML file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from flows.settings import Settings


def report(
    start: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD. Default: 90 days back.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (included). Default: today.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Monitor profile (TOML).")
    ] = None,
) -> None:
    """Write the dispute over a window as one HTML file: fronts, transitions, matches, sources."""
    settings = Settings()
    if profile is not None:
        settings = settings.model_copy(update={"profile": profile.resolve()})
    last = _day(end, "--to") if end else datetime.now(UTC).date()
    first = _day(start, "--from") if start else last - timedelta(days=89)
    if first > last:
        raise typer.BadParameter("--from must not be after --to")
    from flows.stages.report import report_from_database, write_report

    data = report_from_database(settings, first, last, datetime.now(UTC))
    size = write_report(data, out)
    typer.echo(
        f"wrote {out} ({size // 1024} KB): {len(data.transitions)} transitions, "
        f"{sum(c.count for c in data.daily)} matches, {first} to {last}"
    )


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{option} must be YYYY-MM-DD, got {text!r}") from exc
