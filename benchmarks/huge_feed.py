"""Benchmark: one monitor run over a feed of 100,000 entries (3.4 MB, under the size cap).

Serves on 127.0.0.1 one RSS feed whose entries are minimal (``<item><link>/a/N</link>``),
with every listed page missing (404), as a misbehaving or hostile source would; then
times, in this process:

(a) parse: ``parse_feed`` on the document alone;
(b) run: one monitor run (the plain stage table, no Prefect) into a fresh SQLite file,
    with a profile that extends seeds/monitor.toml, lists only this feed, allows
    127.0.0.0/8 and lifts the per-host politeness limits for the benchmark host;

and counts the pages requested, the recorded reasons (``fetch_error`` rows) and the
database's growth. The last line printed is one JSON object::

    python benchmarks/huge_feed.py [--entries 100000] [--limit N]

``--limit`` sets ``[fetch] max_candidates_per_source``; without it the profile's own
value applies.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.http import FixtureServer, Response, serve  # noqa: E402 - REPO first


def feed_document(base: str, entries: int) -> bytes:
    """Return an RSS document of ``entries`` minimal items, each a relative link."""
    items = "".join(f"<item><link>/a/{i}</link></item>" for i in range(entries))
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


@contextmanager
def serve_feed(entries: int) -> Iterator[FixtureServer]:
    """Serve /feed.xml on a free port of 127.0.0.1; every other path is a 404."""
    routes: dict[str, Response] = {}
    with serve(routes) as server:
        document = feed_document(server.base_url, entries)
        routes["/feed.xml"] = Response(200, document, "application/rss+xml")
        yield server


def write_profile(directory: Path, feed_url: str, limit: int | None) -> Path:
    lines = [
        f'extends = "{REPO / "seeds" / "monitor.toml"}"',
        "[fetch]",
        'allowed_networks = ["127.0.0.0/8"]',
        "per_host_delay_seconds = 0.0",
        "per_host_concurrency = 8",
        *([f"max_candidates_per_source = {limit}"] if limit is not None else []),
        "[[sources]]",
        'name = "huge"',
        'kind = "feed"',
        f'url = "{feed_url}"',
    ]
    path = directory / "huge.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(entries: int, limit: int | None) -> dict[str, Any]:
    from extractors.article import quiet_libraries
    from extractors.feeds import parse_feed
    from flows.monitor import AlertConfig, Steps, run_monitor
    from flows.stages.context import RunConfig

    quiet_libraries()
    with serve_feed(entries) as server, tempfile.TemporaryDirectory() as tmp:
        base, work = server.base_url, Path(tmp)
        document = feed_document(base, entries)
        started = time.perf_counter()
        parsed = parse_feed(document, f"{base}/feed.xml", "huge")
        parse_seconds = time.perf_counter() - started

        db = work / "huge.db"
        config = RunConfig(
            db_url=f"sqlite:///{db}",
            profile_path=write_profile(work, f"{base}/feed.xml", limit),
            extract_workers=1,
        )
        started = time.perf_counter()
        summary = run_monitor(
            config, AlertConfig(console_fallback=False), Steps(), now=datetime.now(UTC)
        )
        run_seconds = time.perf_counter() - started
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            errors = conn.execute("SELECT COUNT(*) FROM fetch_error").fetchone()[0]
        return {
            "entries": entries,
            "feed_bytes": len(document),
            "parse_seconds": round(parse_seconds, 1),
            "parsed_entries": len(parsed.entries),
            "run_seconds": round(run_seconds, 1),
            "new": summary.new,
            "pages_requested": sum(r.path != "/feed.xml" for r in server.requests),
            "error_rows": errors,
            "database_mb": round(db.stat().st_size / 1e6, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(measure(args.entries, args.limit)))


if __name__ == "__main__":
    main()
