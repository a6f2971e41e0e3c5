"""The reliability suite's hooks and fixtures: the tally, the servers, a baseline database.

Every test records what it tried and what it observed through the ``tally`` fixture; the
terminal summary adds those records up into one line. Nothing in that line is written by
hand: a test that does not record is not counted, and a test that records a failure is
counted as one.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.demo.run import DEMO_SITE
from flows.demo.server import SiteServer, serve_site
from tests.reliability.harness import Tally, Workspace, articles, tally_line
from tests.support.wire import HostileServer, reply, serve_hostile

_RECORDS = pytest.StashKey[list[dict[str, Any]]]()


# ---------------------------------------------------------------- the tally


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RECORDS] = []


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Tally:
    """The recorder each test reports its observations to."""
    return Tally(request.config.stash[_RECORDS], request.node.nodeid)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    records = config.stash.get(_RECORDS, [])
    if not records:
        return
    terminalreporter.section("reliability tally")
    for record in records:
        if not record["survived"]:
            terminalreporter.write_line(f"not survived: {record['kind']} ({record['test']})")
    terminalreporter.write_line(tally_line(records))


# ---------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def demo_site() -> Iterator[SiteServer]:
    """The bundled demo news site: the good sources every run also reads."""
    with serve_site(DEMO_SITE) as site:
        yield site


@pytest.fixture(scope="session")
def hostile() -> Iterator[HostileServer]:
    """The hostile server; tests add routes under their own path prefix."""
    with serve_hostile(
        {"/robots.txt": reply("User-agent: *\nDisallow: /blocked/\n", 200, "text/plain")}
    ) as server:
        yield server


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def baseline_db(
    demo_site: SiteServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[int, tuple[str, str, str]]]:
    """A database after one clean run over the demo site: the rows no bad input may touch."""
    root = tmp_path_factory.mktemp("baseline")
    space = Workspace(root, root / "baseline.db", {}, demo_site)
    summary = space.run(space.profile([]))
    assert summary.stored >= 5, summary
    stored = articles(space.db)
    assert stored
    # The copies are of the file alone: fold the write-ahead log into it first.
    with sqlite3.connect(space.db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return space.db, stored


@pytest.fixture
def workspace(
    tmp_path: Path, demo_site: SiteServer, baseline_db: tuple[Path, dict[int, Any]]
) -> Workspace:
    """A fresh copy of the baseline database in this test's directory."""
    source, rows = baseline_db
    db = tmp_path / "monitor.db"
    shutil.copyfile(source, db)
    return Workspace(tmp_path, db, rows, demo_site)
