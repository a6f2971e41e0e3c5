"""The reliability suite's harness: the tally's records, test profiles, database reads, and
a workspace to run the monitor in. The pytest hooks and fixtures stay in ``conftest.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flows.demo.server import DEMO_FEEDS, SiteServer
from flows.stages.summaries import MonitorSummary
from tests.reliability.pages import Item, plain_story, rss
from tests.support.paths import REPO
from tests.support.wire import HostileServer, reply

PARENT_PROFILE = REPO / "seeds" / "monitor.toml"


# ---------------------------------------------------------------- the tally


@dataclass
class Tally:
    records: list[dict[str, Any]]
    test: str

    def bad_input(self, kind: str, *, survived: bool, lost: int) -> None:
        """Record one bad input tried: did the run survive it, how many items went missing."""
        self.records.append(
            {"type": "bad", "kind": kind, "survived": survived, "lost": lost, "test": self.test}
        )

    def fault(self, kind: str, *, survived: bool, duplicates: int, lost: int) -> None:
        """Record one fault tried: did the system recover, alerts sent twice or never."""
        self.records.append(
            {
                "type": "fault",
                "kind": kind,
                "survived": survived,
                "duplicates": duplicates,
                "lost": lost,
                "test": self.test,
            }
        )


def tally_line(records: Sequence[dict[str, Any]]) -> str:
    """Return the one-line summary of the records."""
    bad = [r for r in records if r["type"] == "bad"]
    faults = [r for r in records if r["type"] == "fault"]
    return (
        f"bad inputs tried {len(bad)}, survived {sum(r['survived'] for r in bad)}, "
        f"items lost {sum(r['lost'] for r in bad)}; faults tried {len(faults)}, "
        f"survived {sum(r['survived'] for r in faults)}, "
        f"duplicate alerts {sum(r['duplicates'] for r in faults)}, "
        f"lost alerts {sum(r['lost'] for r in faults)}"
    )


# ---------------------------------------------------------------- profiles and runs


@dataclass(frozen=True)
class SourceSpec:
    name: str
    url: str
    kind: str = "feed"
    outlet: str = ""
    query: str = ""


def profile_text(
    sources: Sequence[SourceSpec],
    *,
    allowed: Sequence[str] = ("127.0.0.0/8",),
    timeout: float = 3.0,
    extra_fetch: str = "",
) -> str:
    """Return a test profile extending the shipped one, with these sources and loopback allowed."""
    lines = [
        f'extends = "{PARENT_PROFILE}"',
        "[fetch]",
        f"allowed_networks = {list(allowed)!r}".replace("'", '"'),
        "per_host_delay_seconds = 0.0",
        "per_host_concurrency = 8",
        f"timeout_seconds = {timeout}",
        "connect_timeout_seconds = 2",
        extra_fetch,
    ]
    for s in sources:
        lines += ["[[sources]]", f'name = "{s.name}"', f'kind = "{s.kind}"', f'url = "{s.url}"']
        if s.outlet:
            lines.append(f'outlet = "{s.outlet}"')
        if s.query:
            lines.append(f'query = "{s.query}"')
    return "\n".join(lines) + "\n"


def demo_sources(site: SiteServer) -> list[SourceSpec]:
    """Return the demo site's feeds as sources."""
    return [SourceSpec(f.name, site.url(f.path), outlet=f.outlet) for f in DEMO_FEEDS]


def articles(db: Path) -> dict[int, tuple[str, str, str]]:
    """Return every stored article: id -> (canonical URL, title, text)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, canonical_url, title, text FROM article").fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Return the rows of one read-only query on a SQLite file."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def missing_rows(before: dict[int, Any], after: dict[int, Any]) -> int:
    """Return how many rows of before are gone or changed in after."""
    return sum(1 for key, row in before.items() if after.get(key) != row)


@dataclass
class Workspace:
    """A database (a copy of the baseline) and a profile, ready to run the monitor."""

    root: Path
    db: Path
    baseline: dict[int, tuple[str, str, str]]
    site: SiteServer
    profiles: list[Path] = field(default_factory=list)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db}"

    def profile(self, sources: Sequence[SourceSpec], **options: Any) -> Path:
        path = self.root / f"profile-{len(self.profiles)}.toml"
        path.write_text(
            profile_text([*demo_sources(self.site), *sources], **options), encoding="utf-8"
        )
        self.profiles.append(path)
        return path

    def run(self, profile: Path, now: datetime | None = None, **alert: Any) -> MonitorSummary:
        """Run the monitor in this process, as the plain stage table; return its summary."""
        from flows.monitor import AlertConfig, Steps, run_monitor
        from flows.stages.context import RunConfig

        config = RunConfig(db_url=self.db_url, profile_path=profile, extract_workers=1)
        alert.setdefault("console_fallback", False)
        return run_monitor(config, AlertConfig(**alert), Steps(), now=now)

    def status(self, profile: Path) -> dict[str, Any]:
        """Return what ``straitwatch status --json`` would print, read in this process."""
        from flows.cli.status import status_data
        from flows.settings import Settings

        settings = Settings(database_url=self.db_url, profile=profile, data_dir=self.root)
        return status_data(settings, limit=500)

    def lost(self) -> int:
        return missing_rows(self.baseline, articles(self.db))


def fresh_routes(server: HostileServer, prefix: str) -> tuple[SourceSpec, str]:
    """Add a good feed with one new story under prefix; return its source and story path."""
    story = f"{prefix}/fresh-story"
    server.routes[f"{prefix}/fresh.xml"] = reply(
        rss([Item(f"Fresh story {prefix}", server.url(story), guid=f"{prefix}-fresh")]),
        content_type="application/rss+xml",
    )
    server.routes[story] = reply(plain_story(prefix))
    return SourceSpec("fresh", server.url(f"{prefix}/fresh.xml"), outlet="Fresh Wire"), story
