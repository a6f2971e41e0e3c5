"""Shared fixtures: real servers on 127.0.0.1 (SMTP, a webhook, Prefect), databases and the corpus.

The helpers behind them, and the ones tests import directly, live in ``tests.support``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.db import POSTGRES_ENV, create_postgres_database, drop_postgres_database
from tests.support.http import FixtureServer, Response, serve
from tests.support.mail import SmtpSink, smtp_at
from tests.support.net import free_port
from tests.support.paths import CORPUS

# No Prefect process started by the tests may try to reach its telemetry host.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared evaluation corpus; tests using it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"evaluation corpus not found at {CORPUS} (a checkout without ../shared)")
    return CORPUS


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """A real SMTP server on a free port of 127.0.0.1 (see ``tests.support.mail.smtp_at``)."""
    with smtp_at(free_port()) as sink:
        yield sink


@pytest.fixture
def webhook() -> Iterator[FixtureServer]:
    """A webhook endpoint on 127.0.0.1: answers every request ``ok`` (as Slack does), keeps it."""
    with serve(lambda request: Response(body=b"ok")) as server:
        yield server


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server on 127.0.0.1 for the whole test session; yields its API URL."""
    from flows.local_server import local_prefect_server

    home = tmp_path_factory.mktemp("prefect-home")
    env = {
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    with local_prefect_server(home / "server.log", ui=False, env=env) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind: a SQLite file, and a new database on PostgreSQL,
    dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'straitwatch.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: .ci/run must start PostgreSQL")
        pytest.skip(f"no PostgreSQL for tests ({POSTGRES_ENV} unset); .ci/run starts one")
    url = create_postgres_database(base)
    yield url
    drop_postgres_database(base, url)
