"""``straitwatch demo``: the whole product on a bundled news site, offline, in seconds.

Three invented outlets on 127.0.0.1 carry a security step reported by two of them (and
reprinted by the third), a talk piece, hard negatives, a page drowned in reader comments,
a page with no article and a robots-disallowed page. The monitor runs twice into a
temporary database: the first run stores the matches and raises one escalation alert, the
second finds nothing new and sends nothing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from flows.demo.server import DEMO_FEEDS, serve_site
from flows.settings import DEFAULT_PROFILE

if TYPE_CHECKING:
    from flows.monitor import AlertConfig
    from flows.stages.summaries import MonitorSummary

DEMO_SITE = Path(__file__).resolve().parent / "site"


def demo_profile_text(
    base_url: str, parent: Path = DEFAULT_PROFILE, feeds: Sequence[str] | None = None
) -> str:
    """Return a profile that extends ``parent`` with the demo site's feeds as its sources.

    Loopback is allowed explicitly here, and only here: the shipped profile fetches public
    addresses only.
    """
    lines = [
        f"extends = {json.dumps(str(parent))}",
        "",
        "[fetch]",
        'allowed_networks = ["127.0.0.0/8"]',
        "per_host_delay_seconds = 0.0",
        "per_host_concurrency = 8",
        "timeout_seconds = 10",
        "",
    ]
    for feed in DEMO_FEEDS:
        if feeds is not None and feed.name not in feeds:
            continue
        lines += [
            "[[sources]]",
            f'name = "{feed.name}"',
            'kind = "feed"',
            f'url = "{base_url}{feed.path}"',
            f'outlet = "{feed.outlet}"',
            "",
        ]
    return "\n".join(lines)


def run_demo(
    console: Console,
    *,
    keep: bool = False,
    with_prefect: bool = False,
    alerts: AlertConfig | None = None,
) -> int:
    """Run the demo; return the process exit code.

    ``alerts`` sends the demo's alerts to configured channels (``demo --send``); by default
    they are printed here.
    """
    from flows.monitor import AlertConfig, Steps, prefect_steps, run_monitor

    alert_config = alerts or AlertConfig()
    from flows.stages.context import RunConfig

    workdir = Path(tempfile.mkdtemp(prefix="straitwatch-demo-"))
    with serve_site(DEMO_SITE) as site:
        profile = workdir / "demo.toml"
        profile.write_text(demo_profile_text(site.base_url), encoding="utf-8")
        config = RunConfig(
            db_url=f"sqlite:///{workdir / 'demo.db'}",
            profile_path=profile,
            batch_size=50,
            extract_workers=1,
        )
        steps = prefect_steps() if with_prefect else Steps()
        console.print(
            f"[bold]Demo site[/bold] at {site.base_url} (3 invented outlets); "
            f"database {workdir / 'demo.db'}"
        )
        console.rule("First run")
        first = run_monitor(config, alert_config, steps)
        _show_run(console, first)
        _show_matches(console, config.db_url, profile)
        console.rule("Second run, same site")
        second = run_monitor(config, alert_config, steps)
        _show_run(console, second)
    console.print("The second run found nothing new and sent nothing: no alert is sent twice.")
    if keep:
        console.print(
            f"Kept: {workdir} (STRAITWATCH_DATABASE_URL=sqlite:///"
            f"{workdir / 'demo.db'} straitwatch status --profile {profile})"
        )
    else:
        for path in sorted(workdir.iterdir(), reverse=True):
            path.unlink()
        workdir.rmdir()
    return 0 if first.alerts_sent >= 1 and second.alerts_sent == 0 else 1


def _show_run(console: Console, summary: MonitorSummary) -> None:
    console.print(
        f"new articles {summary.new} · stored {summary.stored} · matches "
        f"{summary.matches} · no body {summary.no_body} · failed {summary.failed} · "
        f"transitions {escape(', '.join(summary.transitions) or 'none')} · alerts sent "
        f"{summary.alerts_sent}"
    )


def _show_matches(console: Console, db_url: str, profile: Path) -> None:
    from extractors.profile import load_profile
    from storage import status as storage_status
    from storage.db import make_engine, read_session

    monitor = load_profile(profile).monitor.name
    with read_session(make_engine(db_url)) as session:
        summary = storage_status.status_summary(session, monitor, limit=20)
    table = Table(title="Matches (reprints share a story cluster)", title_justify="left")
    for column in ("outlet", "title", "stage", "cluster", "topics"):
        table.add_column(column, overflow="fold")
    for a in summary.matches:
        table.add_row(
            Text(a.outlet),
            Text(a.title[:70]),
            Text(f"{a.space}/{a.action}"),
            str(a.cluster_id),
            Text(", ".join(a.matched_topics[:4])),
        )
    console.print(table)
    reasons = Table(
        title="Recorded reasons (bad or empty pages never stop a run)", title_justify="left"
    )
    for column in ("stage", "reason", "url"):
        reasons.add_column(column, overflow="fold")
    for e in summary.errors:
        reasons.add_row(Text(e.stage), Text(e.reason), Text(e.url))
    console.print(reasons)
