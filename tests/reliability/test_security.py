"""Security: no secret in logs or status, no request to a private address, no code from data;
and the command-line pass over bad input, whose reasons must show in `status --json`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from extractors.fetch import Fetcher, FetchPolicy
from storage.db import redact_url
from tests.reliability.harness import SourceSpec, Tally, Workspace, demo_sources, profile_text
from tests.reliability.pages import Item, article, rss, security_story
from tests.support.cli import cli_env, run_cli
from tests.support.mail import SmtpSink, decoded_subject
from tests.support.net import free_port
from tests.support.paths import REPO
from tests.support.wire import HostileServer, redirect, reply

SECOND_REPORT = [
    "South Korea's defence ministry announced on Monday that it has suspended GSOMIA, the "
    "military intelligence pact with Japan, in protest at repeated low flights by Japanese "
    "patrol aircraft near its warships.",
    "A ministry spokesman told reporters in Seoul that no intelligence on missile launches "
    "would be passed to Tokyo until further notice, and that the decision took effect at once.",
    "Japan's chief cabinet secretary called the suspension deeply regrettable and said Tokyo "
    "had lodged a formal protest through diplomatic channels with the South Korean government.",
]

SECRET = "s3cretpass"


class LoopbackOnly(httpx.AsyncBaseTransport):
    """A transport that connects to 127.0.0.1 only and fails loudly for anything else."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.hosts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        if request.url.host != "127.0.0.1":
            raise AssertionError(f"a connection to {request.url.host} was attempted")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::ffff:a00:1]/"],
)
def test_a_redirect_into_private_space_is_refused_before_any_connection(
    hostile: HostileServer, target: str, tally: Tally
) -> None:
    hostile.routes["/ssrf/start"] = redirect(target)
    transport = LoopbackOnly()
    policy = FetchPolicy(allowed_networks=("127.0.0.0/8",), connect_timeout=5, per_host_delay=0)

    async def go() -> Any:
        async with Fetcher(policy, transport=transport) as fetcher:
            return await fetcher.fetch(hostile.url("/ssrf/start"))

    started = time.monotonic()
    result = asyncio.run(go())
    elapsed = time.monotonic() - started
    survived = result.error == "private_address" and set(transport.hosts) == {"127.0.0.1"}
    tally.bad_input(f"SSRF redirect to {target} (fetcher)", survived=survived, lost=0)
    assert result.error == "private_address"
    assert set(transport.hosts) == {"127.0.0.1"}  # robots.txt and the first hop only
    assert elapsed < 1.0  # refused well under the 5 s connect timeout


def test_without_allowed_networks_loopback_itself_is_refused(hostile: HostileServer) -> None:
    hostile.routes["/ssrf/direct"] = reply("never served")
    transport = LoopbackOnly()

    async def go() -> Any:
        async with Fetcher(FetchPolicy(), transport=transport) as fetcher:
            return [
                await fetcher.fetch(u)
                for u in (hostile.url("/ssrf/direct"), "file:///etc/passwd", "ftp://127.0.0.1/x")
            ]

    results = asyncio.run(go())
    assert [r.error for r in results] == ["private_address", "bad_scheme", "bad_scheme"]
    assert transport.hosts == [] and hostile.hits["/ssrf/direct"] == 0


def test_no_eval_exec_pickle_or_shell_in_the_product() -> None:
    pattern = re.compile(
        r"(?<![.\w])eval\(|(?<![.\w])exec\(|\bpickle\b|shell\s*=\s*True|os\.system\(|marshal\.loads|yaml\.load\("
    )
    hits = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for folder in ("flows", "extractors", "storage")
        for path in sorted((REPO / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert hits == []


def test_database_passwords_are_masked() -> None:
    shown = redact_url("postgresql+psycopg://monitor:hunter2pw@127.0.0.1:5432/straitwatch")
    assert "hunter2pw" not in shown and "monitor" in shown


def test_secrets_stay_out_of_logs_and_status(
    workspace: Workspace, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = free_port()
    urls = (
        f"mailto://alerts:{SECRET}@127.0.0.1:{dead}?from=a@example.org&to=b@example.org",
        f"json://hookuser:{SECRET}@127.0.0.1:{dead}/hook",
    )
    # The baseline's alert is closed; a fresh database raises it again for these channels.
    workspace.db.unlink()
    profile = workspace.profile([])
    summary = workspace.run(profile, urls=urls)
    from rich.console import Console

    from flows.cli.status import print_status

    data = workspace.status(profile)
    console = Console(record=True, width=200)
    print_status(console, data)
    out = capsys.readouterr()
    assert summary.alerts_failed >= 1  # the channels were tried, and failed
    assert SECRET not in caplog.text
    assert SECRET not in out.out + out.err
    assert SECRET not in json.dumps(data, default=str)
    assert SECRET not in console.export_text()


def test_each_recorded_reason_is_in_the_run_log(
    workspace: Workspace, hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    hostile.routes["/logged/feed.xml"] = reply(
        rss([Item("Gone", hostile.url("/logged/gone"))]), content_type="application/rss+xml"
    )
    hostile.routes["/logged/gone"] = reply("gone\n", 410, "text/plain")
    profile = workspace.profile([SourceSpec("logged", hostile.url("/logged/feed.xml"))])
    workspace.run(profile)
    assert "http_410" in caplog.text and hostile.url("/logged/gone") in caplog.text


def test_a_hostile_title_never_reaches_the_mail_headers(
    tmp_path: Path, demo_site: Any, hostile: HostileServer, smtp_server: SmtpSink, tally: Tally
) -> None:
    evil = "Seoul ends pact&#13;&#10;Bcc: victim@evil.example&#13;&#10;X-Injected: yes <b>bold</b>"
    sources = []
    for n, outlet in enumerate(("Alpha Post", "Beta Times")):
        page = f"/inject/{n}/story"
        story = (
            security_story(evil, f"Reported by the {outlet} desk.")
            if n == 0
            else article(evil, SECOND_REPORT)
        )
        hostile.routes[page] = reply(story)
        title = "Seoul ends pact\r\nBcc: victim@evil.example\r\nX-Injected: yes"
        hostile.routes[f"/inject/{n}/feed.xml"] = reply(
            rss([Item(title, hostile.url(page), f"inject-{n}")]), content_type="application/rss+xml"
        )
        sources.append(
            SourceSpec(f"inject{n}", hostile.url(f"/inject/{n}/feed.xml"), outlet=outlet)
        )
    space = Workspace(tmp_path, tmp_path / "monitor.db", {}, demo_site)
    profile = tmp_path / "inject.toml"
    profile.write_text(profile_text(sources), encoding="utf-8")
    summary = space.run(profile, urls=(smtp_server.url(),))
    messages = smtp_server.messages
    headers = [(name.lower(), str(value)) for m in messages for name, value in m.items()]
    injected = [h for h in headers if h[0] in ("bcc", "x-injected") or "evil.example" in h[1]]
    recipients = {r for _, rcpts in smtp_server.envelopes for r in rcpts}
    body = "\n".join(
        part.get_payload(decode=True).decode("utf-8", "replace")
        for m in messages
        for part in m.walk()
        if not part.is_multipart()
    )
    survived = bool(messages) and not injected and recipients == {"desk@example.org"}
    tally.bad_input("title with HTML, CRLF and a Bcc: header injection", survived=survived, lost=0)
    assert summary.alerts_sent == 1, summary
    assert not injected, injected
    assert recipients == {"desk@example.org"}
    assert all("\n" not in decoded_subject(m) and "\r" not in decoded_subject(m) for m in messages)
    assert "victim" in body or "Seoul ends pact" in body  # the title is there, as text


@pytest.mark.e2e
def test_bad_input_through_the_command_line(
    tmp_path: Path, prefect_api: str, demo_site: Any, hostile: HostileServer, tally: Tally
) -> None:
    hostile.routes["/cli/gone.xml"] = reply("gone\n", 410, "text/plain")
    hostile.routes["/cli/doc"] = reply("Please limit requests.", 200, "text/plain")
    hostile.routes["/cli/meta.xml"] = redirect("http://169.254.169.254/latest/meta-data/")
    hostile.routes["/cli/feed.xml"] = reply(
        rss([Item("Bad", hostile.url("/cli/page")), Item("JS", "javascript:alert(1)")]),
        content_type="application/rss+xml",
    )
    hostile.routes["/cli/page"] = reply(b"%PDF-1.4 not a page", 200, "application/pdf")
    sources = [
        *demo_sources(demo_site),
        SourceSpec("gone", hostile.url("/cli/gone.xml")),
        SourceSpec("gdelt", hostile.url("/cli/doc"), kind="gdelt", query="Japan Korea"),
        SourceSpec("meta", hostile.url("/cli/meta.xml")),
        SourceSpec("pages", hostile.url("/cli/feed.xml")),
    ]
    profile = tmp_path / "cli.toml"
    profile.write_text(profile_text(sources), encoding="utf-8")
    db = tmp_path / "monitor.db"
    mail = f"mailto://alerts:{SECRET}@127.0.0.1:{free_port()}?from=a@example.org&to=b@example.org"
    env = cli_env(
        tmp_path,
        prefect_api,
        STRAITWATCH_DATABASE_URL=f"sqlite:///{db}",
        STRAITWATCH_APPRISE_URLS=mail,
    )
    done = run_cli(["run", "--profile", str(profile), "--json"], env)
    status = run_cli(["status", "--profile", str(profile), "--json"], env)
    table = run_cli(["status", "--profile", str(profile)], env)
    data = json.loads(status.stdout) if status.returncode == 0 else {}
    reasons = {e["reason"] for e in data.get("errors", [])}
    expected = {"http_410", "not_json", "private_address", "not_html", "bad_link"}
    leaked = SECRET in done.stdout + done.stderr + status.stdout + table.stdout
    survived = done.returncode == 0 and expected <= reasons and data["counts"]["articles"] >= 5
    for kind in (
        "410 feed",
        "GDELT not JSON",
        "redirect to metadata",
        "PDF page",
        "javascript: link",
    ):
        tally.bad_input(f"{kind} (command line)", survived=survived, lost=0)
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected <= reasons, reasons
    assert not leaked
    assert data["counts"]["articles"] >= 5
