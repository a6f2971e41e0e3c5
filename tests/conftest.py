"""Shared fixtures: real servers on 127.0.0.1 (SMTP, HTTP, Prefect) and the corpus path."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
VENV_BIN = Path(sys.executable).parent

# No Prefect process started by the tests may try to reach its telemetry host.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared evaluation corpus; tests using it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"evaluation corpus not found at {CORPUS} (a checkout without ../shared)")
    return CORPUS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def url(self, to: str = "desk@example.org") -> str:
        return (
            f"mailto://alerts:s3cretpass@{self.host}:{self.port}"
            f"?from=straitwatch@example.org&to={to}"
        )


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.sink.messages.append(message_from_bytes(envelope.original_content))
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"alerts",
        b"s3cretpass",
    )
    return AuthResult(success=ok)


def rows(url: str, sql: str) -> list[tuple]:
    """Return the rows of one SQL query against the database at an SQLAlchemy URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


@contextmanager
def smtp_at(port: int) -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1:port that checks the login and keeps mail.

    The port may be chosen beforehand, so a test can bring the server up late.
    """
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", port)
    controller = Controller(
        _Handler(sink),
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_required=False,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """A real SMTP server on a free port of 127.0.0.1 (see ``smtp_at``)."""
    with smtp_at(free_port()) as sink:
        yield sink


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


def cli_env(tmp_path: Path, prefect_api: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for running the straitwatch command in a test: no user settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRAITWATCH_")}
    env.update(
        {
            "STRAITWATCH_DATA_DIR": str(tmp_path / "data"),
            "STRAITWATCH_EXTRACT_WORKERS": "1",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "HOME": str(tmp_path),
        }
    )
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the installed straitwatch command; return the finished process."""
    exe = shutil.which("straitwatch", path=str(VENV_BIN)) or "straitwatch"
    return subprocess.run(  # noqa: S603 - our own command
        [exe, *args], env=env, cwd=cwd or REPO, capture_output=True, text=True, timeout=timeout
    )


POSTGRES_ENV = "STRAITWATCH_TEST_POSTGRES_URL"


def _postgres_database(base_url: str) -> str:
    """Create a fresh, empty database on the test server; return its URL."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"sw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(base_url: str, url: str) -> None:
    """Drop a test database, ending the sessions a killed test process left open."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


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
    url = _postgres_database(base)
    yield url
    _drop_postgres_database(base, url)


def decoded_subject(message: Message) -> str:
    """Return an email's Subject with RFC 2047 encoded words decoded."""
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))
