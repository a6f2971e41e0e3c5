"""The ``straitwatch`` command.

Prefect, SQLModel and trafilatura are imported inside the commands that need them, so
``straitwatch --help`` answers at once.

Every command that reads the profile checks all of it first (and the database, where it
uses one), so a mistake stops it before anything is fetched. A bad profile or a database
that cannot be opened is one line, ``error: <file>: <reason>``, and exit code 2; the
traceback is there with ``--debug``.

Its length is the commands' signatures and help; a command with logic of its own keeps
it in its own module under ``flows/cli/``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from flows.cli.alerts import alerts_preview
from flows.cli.evaluation import eval_app
from flows.cli.label import label, labels_app
from flows.cli.report import report
from flows.cli.training import train
from flows.settings import Settings, apply_prefect_defaults

if TYPE_CHECKING:
    from flows.stages.summaries import MonitorSummary

# The exit code of a run or backfill whose sources did not answer (an outage, not a quiet day).
SOURCES_SILENT = 3

app = typer.Typer(
    help="straitwatch: know when a dispute escalates, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    # A traceback's local variables hold settings, channel URLs and their secrets.
    pretty_exceptions_show_locals=False,
)
alerts_app = typer.Typer(help="Alert channels.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
alerts_app.command("preview")(alerts_preview)
app.add_typer(eval_app, name="eval")
app.command()(train)
app.command()(report)
app.command()(label)
app.add_typer(labels_app, name="labels")
console = Console()
USAGE_ERROR = 2  # the exit code of a command that cannot start (click's, for bad options)
_OPTIONS = {"debug": False}


@app.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when a command fails.")
    ] = False,
) -> None:
    _OPTIONS["debug"] = debug


ProfileOption = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="Monitor profile (TOML). Default: STRAITWATCH_PROFILE or seeds/monitor.toml.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _settings(profile: Path | None = None) -> Settings:
    settings = Settings()
    if profile is not None:
        settings = settings.model_copy(update={"profile": profile.resolve()})
    return settings


def _checked(profile: Path | None = None, *, database: bool = True) -> Settings:
    """Return the settings once the profile, all it builds, and the database check out."""
    from flows.stages.context import check_profile

    settings = _settings(profile)
    check_profile(settings.profile)
    if database:
        from storage.db import make_engine, migrate

        migrate(make_engine(settings.db_url))
    return settings


def _print_run(summary: MonitorSummary) -> None:
    table = Table(title="Sources", show_lines=False)
    table.add_column("source")
    table.add_column("result")
    for name, result in summary.sources.items():
        style = "green" if "entries" in result or result == "not modified" else "red"
        table.add_row(Text(name), Text(str(result), style=style))
    console.print(table)
    console.print(
        f"candidates {summary.candidates} · new {summary.new} · stored {summary.stored}"
        f" · matches {summary.matches} · failed {summary.failed}"
        f" · no body {summary.no_body} · duplicates {summary.duplicates}"
    )
    active = ", ".join(summary.active) or "none"
    console.print(
        Text(f"transitions: {', '.join(summary.transitions) or 'none'} · active: {active}")
    )
    console.print(
        f"alerts sent {summary.alerts_sent} · failed {summary.alerts_failed}"
        f" · still pending {summary.alerts_pending}"
    )
    for problem in summary.channel_problems:
        console.print(f"[red]channel problem:[/red] {escape(problem)}")
    if summary.no_source_answered:
        console.print(
            "[red]No source answered: check this machine's network, DNS or proxy.[/red] "
            "Nothing was read, so nothing is known about the news of this run."
        )


def _warn_if_monitor_running(settings: Settings) -> None:
    """Say so when a monitor run is RUNNING on the Prefect server (one request)."""
    if not settings.prefect_api_url:
        return  # a temporary local server: nothing else runs there
    from flows.local_server import running_flow_runs

    running = running_flow_runs(settings.prefect_api_url, "monitor")
    if running:
        Console(stderr=True).print(
            Text(
                f"warning: monitor run(s) {', '.join(running)} running now on the Prefect "
                "server. This run is not a deployment run, so it goes ahead beside it (each "
                "alert is still sent once); `prefect deployment run monitor/…` now would be "
                "cancelled by the deployment's concurrency limit.",
                style="yellow",
            )
        )


@app.command()
def run(profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Run the monitor once, now (a Prefect flow run). Exits 3 when no source answered."""
    apply_prefect_defaults()
    settings = _checked(profile)
    _warn_if_monitor_running(settings)
    from flows.monitor import NoSourceAnswered, monitor

    try:
        summary = monitor(profile=str(settings.profile))
    except NoSourceAnswered as failed:
        summary = failed.summary
    if as_json:
        sys.stdout.write(summary.model_dump_json() + "\n")
    else:
        _print_run(summary)
    if summary.no_source_answered:
        raise typer.Exit(SOURCES_SILENT)


@app.command()
def serve(profile: ProfileOption = None) -> None:
    """Run the monitor on its schedule in this process (Prefect serve; never overlapping)."""
    import os
    from contextlib import nullcontext

    from flows.local_server import local_prefect_server

    apply_prefect_defaults()
    settings = _checked(profile)
    from extractors.profile import load_profile

    loaded = load_profile(settings.profile)
    # Prefect's temporary in-process server has no scheduler: without an API URL, start a
    # real local server for the life of this command.
    server = (
        nullcontext(settings.prefect_api_url)
        if settings.prefect_api_url
        else local_prefect_server(settings.data_dir / "prefect-server.log")
    )
    with server as api_url:
        os.environ["PREFECT_API_URL"] = api_url
        from prefect.schedules import Cron

        from flows.monitor import monitor

        console.print(
            f"serving monitor '{loaded.monitor.name}' on cron "
            f"'{loaded.monitor.schedule_cron}' ({loaded.monitor.timezone}) with the "
            f"Prefect API at {api_url}; Ctrl-C stops"
        )
        monitor.serve(
            name=loaded.monitor.name,
            schedule=Cron(loaded.monitor.schedule_cron, timezone=loaded.monitor.timezone),
            parameters={"profile": str(settings.profile)},
            global_limit=1,
            limit=1,
            pause_on_shutdown=False,
        )


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (included).")],
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", help="A source to read (repeatable). Default: all that can look back."
        ),
    ] = None,
    alerts: Annotated[
        str, typer.Option(help="summary (one alert at the end), none, or live (each transition).")
    ] = "summary",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Score and report; store nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Read again the days a previous backfill finished.")
    ] = False,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rebuild a past window by hand, in resumable day slices (a Prefect flow run).

    Exits 3 when sources did not answer for some days: those stay unfinished for a rerun.
    """
    from flows.cli.backfill import run_backfill_command

    apply_prefect_defaults()
    raise typer.Exit(
        run_backfill_command(
            console, _checked(profile), start, end, source, alerts, dry_run, as_json, force
        )
    )


@app.command()
def status(
    profile: ProfileOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Rows per section.")] = 10,
) -> None:
    """Show the dispute's stage state, last transitions, recent matches, sources and errors."""
    from flows.cli.status import print_status, status_data

    settings = _checked(profile)
    data = status_data(settings, limit)
    if as_json:
        sys.stdout.write(json.dumps(data, default=str) + "\n")
    else:
        print_status(console, data)


@app.command()
def topics(
    profile: ProfileOption = None,
    top: Annotated[int, typer.Option(help="How many topics to show.")] = 40,
    as_json: JsonOption = False,
) -> None:
    """Print the topics derived from the seed article (and the profile's additions)."""
    from extractors.profile import load_profile
    from extractors.topics import derive_topics

    loaded = load_profile(_checked(profile, database=False).profile)
    derived = derive_topics(loaded.seed_text(), loaded)
    items = sorted(derived.items, key=lambda t: -t.weight)[:top]
    if as_json:
        sys.stdout.write(
            json.dumps(
                [
                    {
                        "phrase": t.phrase,
                        "weight": t.weight,
                        "kind": t.kind,
                        "aliases": list(t.aliases),
                    }
                    for t in items
                ]
            )
            + "\n"
        )
        return
    seed = loaded.seed
    about = f"“{seed.title}”" if seed.title else seed.file
    source = ", ".join(str(p) for p in (seed.outlet, seed.published) if p)
    heading = f"Topics of the seed article {about}" + (f" ({source})" if source else "")
    table = Table(
        title=Text(heading),
        caption=Text(
            f"{len(items)} of {len(derived.items)} topics. weight: how much a mention counts "
            "toward relevance (1.00 = strongest); kind: where the topic comes from (entity or "
            "phrase of the seed, or the profile's additions)."
        ),
    )
    for column in ("phrase", "weight", "kind", "aliases"):
        table.add_column(column)
    for t in items:
        table.add_row(Text(t.phrase), f"{t.weight:.2f}", t.kind, Text(", ".join(t.aliases)))
    console.print(table)


@alerts_app.command("test")
def alerts_test(profile: ProfileOption = None) -> None:
    """Send a test notification to every configured channel and report each result."""
    from extractors.profile import load_profile
    from flows.stages.alerts import send_test
    from flows.stages.channels import load_channels

    settings = _checked(profile, database=False)
    channels, problems = load_channels(
        settings.apprise_urls, settings.apprise_config, settings.console_alerts
    )
    loaded = load_profile(settings.profile)
    results = send_test(channels, loaded.monitor.title or loaded.monitor.name)
    table = Table(title="Alert channels")
    for column in ("channel", "tags", "result"):
        table.add_column(column)
    tags = {c.name: ", ".join(sorted(c.tags)) or "(all alerts)" for c in channels}
    for name, ok, error in results:
        table.add_row(
            Text(name),
            Text(tags[name]),
            Text("sent", style="green") if ok else Text(f"failed: {error}", style="red"),
        )
    for problem in problems:
        table.add_row(Text(problem.name), "", Text(str(problem.reason), style="red"))
    console.print(table)
    if problems or not all(ok for _, ok, _ in results):
        raise typer.Exit(1)


@app.command()
def demo(
    keep: Annotated[bool, typer.Option(help="Keep the demo database.")] = False,
    with_prefect: Annotated[
        bool,
        typer.Option("--prefect", help="Run as a Prefect flow (starts a local Prefect server)."),
    ] = False,
    send: Annotated[
        bool,
        typer.Option(
            "--send", help="Send the demo's alerts to the configured channels, not the terminal."
        ),
    ] = False,
) -> None:
    """Serve a bundled fixture news site on 127.0.0.1 and run the monitor on it, offline."""
    from flows.demo.run import run_demo
    from flows.monitor import configs_from
    from flows.settings import DEFAULT_PROFILE
    from flows.stages.context import check_profile

    apply_prefect_defaults()
    check_profile(DEFAULT_PROFILE)  # the demo's profile extends the shipped one
    alerts = configs_from(_settings())[1] if send else None
    raise typer.Exit(run_demo(console, keep=keep, with_prefect=with_prefect, alerts=alerts))


def main() -> None:
    """Entry point of the ``straitwatch`` command: a failure to start is one line, exit 2."""
    from extractors.profile import ProfileError
    from storage.db import DatabaseUnavailable

    try:
        app()
    except (ProfileError, DatabaseUnavailable) as exc:
        if _OPTIONS["debug"]:
            raise
        Console(stderr=True, soft_wrap=True).print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(USAGE_ERROR)


if __name__ == "__main__":
    main()
