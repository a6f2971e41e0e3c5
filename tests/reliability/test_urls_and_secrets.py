"""Links and secrets from outside: an overlong link, variants of one URL, one publisher on
many hosts, and credentials in source, article and channel URLs.

Each test runs the monitor as an operator would (the plain stage table, real HTTP servers
on 127.0.0.1, a real SQLite file or PostgreSQL database) and looks at what it left behind.
"""

from __future__ import annotations

import json
import logging
import random
import string
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

import extractors.fetch
from flows.monitor import AlertConfig, Steps, run_monitor
from flows.stages.context import RunConfig
from flows.stages.summaries import MonitorSummary
from tests.reliability.harness import SourceSpec, Tally, profile_text
from tests.reliability.pages import FILLER, Item, article, plain_story, rss, security_story
from tests.support.db import rows
from tests.support.mail import SmtpSink
from tests.support.wire import Conn, HostileServer, reply

SECOND_REPORT = [
    "South Korea's defence ministry announced on Monday that it has suspended GSOMIA, the "
    "military intelligence pact with Japan, in protest at repeated low flights by Japanese "
    "patrol aircraft near its warships.",
    "A ministry spokesman told reporters in Seoul that no intelligence on missile launches "
    "would be passed to Tokyo until further notice, and that the decision took effect at once.",
    "Japan's chief cabinet secretary called the suspension deeply regrettable and said Tokyo "
    "had lodged a formal protest through diplomatic channels with the South Korean government.",
]


def run(db_url: str, profile: Path, now: datetime | None = None, **alert: Any) -> MonitorSummary:
    """Run the monitor once in this process; return its summary."""
    config = RunConfig(db_url=db_url, profile_path=profile, extract_workers=1)
    alert.setdefault("console_fallback", False)
    return run_monitor(config, AlertConfig(**alert), Steps(), now=now)


def write_profile(root: Path, name: str, sources: Sequence[SourceSpec], **options: Any) -> Path:
    path = root / f"{name}.toml"
    path.write_text(profile_text(sources, **options), encoding="utf-8")
    return path


def feed(server: HostileServer, path: str, links: Sequence[str]) -> str:
    """Serve an RSS feed of these links at path; return its URL."""
    items = [Item(f"Story {n} of {path}", link, guid=f"{path}-{n}") for n, link in enumerate(links)]
    server.routes[path] = reply(rss(items), content_type="application/rss+xml")
    return server.url(path)


# ---------------------------------------------------------------- bounded keys (E)


def test_an_overlong_link_is_stored_beside_the_good_article(
    database_url: str, hostile: HostileServer, tmp_path: Path, tally: Tally
) -> None:
    prefix = f"/long{abs(hash(database_url)) % 10_000}"
    # A 3.5 KB link of mixed characters, as some CMS feeds carry (PostgreSQL compresses
    # index entries, so a repetitive link of that length would still fit).
    noise = "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=3500))
    long_path = f"{prefix}/story-{noise}"
    hostile.routes[long_path] = reply(plain_story("the long link"))
    hostile.routes[f"{prefix}/good"] = reply(plain_story("the good link"))
    url = feed(
        hostile, f"{prefix}/feed.xml", [hostile.url(long_path), hostile.url(f"{prefix}/good")]
    )
    profile = write_profile(tmp_path, "long", [SourceSpec("long", url)])
    survived = False
    try:
        first = run(database_url, profile)
        second = run(database_url, profile)
        stored = {r[0] for r in rows(database_url, "SELECT url FROM article")}
        survived = True
    finally:
        tally.bad_input(f"3 KB feed link ({database_url.split(':')[0]})", survived=survived, lost=0)
    assert stored == {hostile.url(long_path), hostile.url(f"{prefix}/good")}  # kept in full
    assert first.stored == 2 and first.failed == 0
    assert second.new == 0  # both are seen: nothing is fetched again
    assert hostile.hits[long_path] == 1


# ---------------------------------------------------------------- variants of one URL (H)


def test_encoded_and_dotted_variants_are_one_row_and_stored_counts_rows(
    hostile: HostileServer, tmp_path: Path, tally: Tally
) -> None:
    story, other = "/variants/story", "/variants/other"
    # Each variant is served by the server (as a real site would), each page its own copy.
    variants = [story, "/variants/st%6Fry", "/variants/./story", "/variants/x/../story"]
    for target in variants:
        hostile.routes[target] = reply(plain_story("one story in four spellings"))
    # Two addresses whose pages name one canonical link: one article, counted once.
    canonical = f'<link rel="canonical" href="{hostile.url(other)}">'
    for target in (other, "/variants/other-print"):
        hostile.routes[target] = reply(
            article(
                "Another story", [FILLER, FILLER.replace("season", "year")], head_extra=canonical
            )
        )
    links = [hostile.url(t) for t in (*variants, other, "/variants/other-print")]
    profile = write_profile(
        tmp_path, "variants", [SourceSpec("variants", feed(hostile, "/variants/feed.xml", links))]
    )
    db_url = f"sqlite:///{tmp_path / 'variants.db'}"
    summary = run(db_url, profile)
    stored = rows(db_url, "SELECT canonical_url FROM article")
    tally.bad_input("%6F, /./ and /../ variants of one link", survived=len(stored) == 2, lost=0)
    tally.bad_input("two links to one canonical page", survived=summary.stored == 2, lost=0)
    assert sorted(r[0] for r in stored) == sorted(
        [f"https://127.0.0.1:{hostile.port}{story}", f"https://127.0.0.1:{hostile.port}{other}"]
    )
    assert summary.stored == len(stored)


# ---------------------------------------------------------------- one publisher (F)


def _resolve_test_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every *.test name resolve to 127.0.0.1, for this test's fetcher only."""
    real = extractors.fetch.system_resolver

    async def resolve(host: str) -> list[str]:
        return ["127.0.0.1"] if host.endswith(".test") else await real(host)

    monkeypatch.setattr(extractors.fetch, "system_resolver", resolve)


def _three_reports(server: HostileServer, prefix: str, hosts: Sequence[str]) -> list[str]:
    """Serve three different reports of one security step on these hosts; return links."""
    pages = [
        security_story("Seoul halts intelligence pact with Tokyo", "Reported by the desk."),
        article("South Korea suspends GSOMIA over patrol flights", SECOND_REPORT),
        article(
            "Seoul stops sharing military intelligence with Tokyo",
            [*reversed(SECOND_REPORT), "The ministry said more steps could follow."],
        ),
    ]
    links = []
    for n, (host, page) in enumerate(zip(hosts, pages, strict=True)):
        path = f"{prefix}/report-{n}"
        server.routes[path] = reply(page)
        links.append(f"http://{host}:{server.port}{path}")
    return links


@pytest.mark.parametrize(
    ("hosts", "outlets"),
    [
        (("news.evil.test", "www2.evil.test", "blog.evil.test"), 1),
        (("news.evil.test", "xn--vil-9la.test", "évil.test"), 2),
        (("news.alpha.test", "www.beta.test", "blog.alpha.test"), 2),  # the control
    ],
)
def test_one_publisher_on_many_hosts_is_one_outlet(
    hostile: HostileServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tally: Tally,
    hosts: tuple[str, ...],
    outlets: int,
) -> None:
    _resolve_test_hosts(monkeypatch)
    prefix = f"/outlets/{hosts[1]}"
    links = _three_reports(hostile, prefix, hosts)
    # An aggregator (no outlet name of its own) lists the three, as a GDELT answer would.
    profile = write_profile(
        tmp_path, "outlets", [SourceSpec("agg", feed(hostile, f"{prefix}/feed.xml", links))]
    )
    db_url = f"sqlite:///{tmp_path / 'outlets.db'}"
    summary = run(db_url, profile)
    found = {r[0] for r in rows(db_url, "SELECT outlet FROM article WHERE relevant")}
    escalated = [t for t in summary.transitions if "escalation" in t]
    if outlets == 1:
        tally.bad_input("one publisher on three subdomains", survived=not escalated, lost=0)
    assert len(found) == outlets, found
    assert summary.matches == 3
    assert bool(escalated) == (outlets > 1), summary.transitions


def test_an_aggregated_report_takes_the_profiles_name_for_its_publisher(
    hostile: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tally: Tally
) -> None:
    _resolve_test_hosts(monkeypatch)
    prefix = "/named"
    own = f"http://feeds.herald.test:{hostile.port}{prefix}/own.xml"
    feed(hostile, f"{prefix}/own.xml", [])
    links = _three_reports(hostile, prefix, ("www.herald.test", "news.other.test", "x.third.test"))
    sources = [
        SourceSpec("herald", own, outlet="Korea Herald"),
        SourceSpec("agg", feed(hostile, f"{prefix}/agg.xml", links)),
    ]
    db_url = f"sqlite:///{tmp_path / 'named.db'}"
    run(db_url, write_profile(tmp_path, "named", sources))
    found = {r[0] for r in rows(db_url, "SELECT outlet FROM article WHERE relevant")}
    tally.bad_input("one publisher by its host and by its name", survived=len(found) == 3, lost=0)
    assert found == {"Korea Herald", "other.test", "third.test"}


# ---------------------------------------------------------------- secrets (G)

SOURCE_PASSWORD = "pw-Zq8x1sEcret"
SOURCE_TOKEN = "tok-9fQ2SECRET"
ARTICLE_PASSWORD = "art-Kp3sEcret"
HOOK_TOKEN = "hookSECRET77a"
SMTP_PASSWORD = "s3cretpass"  # the smtp_server fixture's login
SECRETS = (SOURCE_PASSWORD, SOURCE_TOKEN, ARTICLE_PASSWORD, HOOK_TOKEN, SMTP_PASSWORD)


def dump(db_url: str) -> str:
    """Return every row of every table of the database, as text."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            return "\n".join(
                repr(tuple(row))
                for table in tables
                for row in conn.execute(text(f'SELECT * FROM "{table}"'))
            )
    finally:
        engine.dispose()


def mail_text(sink: SmtpSink) -> str:
    """Return every received message: raw headers and every decoded part."""
    parts = []
    for message in sink.messages:
        parts += [f"{name}: {value}" for name, value in message.items()]
        parts += [
            part.get_payload(decode=True).decode("utf-8", "replace")
            for part in message.walk()
            if not part.is_multipart()
        ]
    return "\n".join(parts)


def test_no_secret_leaves_through_logs_tables_status_or_alerts(
    database_url: str,
    hostile: HostileServer,
    smtp_server: SmtpSink,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tally: Tally,
) -> None:
    caplog.set_level(logging.DEBUG)
    prefix = f"/secret{abs(hash(database_url)) % 10_000}"
    auth_seen: list[str] = []

    def story(conn: Conn) -> None:
        auth_seen.append(conn.headers.get("authorization", ""))
        reply(security_story("Seoul halts intelligence pact with Tokyo", "Desk report."))(conn)

    hostile.routes[f"{prefix}/story"] = story
    link = f"http://reader:{ARTICLE_PASSWORD}@127.0.0.1:{hostile.port}{prefix}/story"
    feed(hostile, f"{prefix}/feed.xml", [link])
    hostile.routes[f"{prefix}/dead.xml"] = reply("no", 500, "text/plain")
    hostile.routes[f"/hook/{HOOK_TOKEN}"] = reply("{}", 200, "application/json")
    creds = f"user:{SOURCE_PASSWORD}@127.0.0.1:{hostile.port}"
    sources = [
        SourceSpec("private", f"http://{creds}{prefix}/feed.xml?token={SOURCE_TOKEN}"),
        SourceSpec("broken", f"http://{creds}{prefix}/dead.xml?token={SOURCE_TOKEN}&page=1"),
    ]
    profile = write_profile(tmp_path, "secrets", sources)
    channels = (smtp_server.url(), f"json://127.0.0.1:{hostile.port}/hook/{HOOK_TOKEN}")
    start = datetime.now(UTC)
    summaries = [
        run(database_url, profile, now=start + timedelta(minutes=15 * n), urls=channels)
        for n in range(3)  # the third failure of "broken" opens a health alert
    ]

    from rich.console import Console

    from flows.cli.status import print_status, status_data
    from flows.settings import Settings

    settings = Settings(database_url=database_url, profile=profile, data_dir=tmp_path)
    data = status_data(settings, limit=500)
    console = Console(record=True, width=250)
    print_status(console, data)
    out = capsys.readouterr()
    # Everything logged in this process at DEBUG, but the test's own SMTP server's lines.
    logged = "\n".join(
        caplog.handler.format(r) for r in caplog.records if not r.name.startswith("mail.log")
    )
    places = {
        "log": logged,
        "database": dump(database_url),
        "status --json": json.dumps(data, default=str),
        "status": console.export_text() + out.out + out.err,
        "messages": mail_text(smtp_server),
        "summaries": json.dumps(summaries, default=str),
    }
    leaks = {place: [s for s in SECRETS if s in found] for place, found in places.items()}
    leaks = {place: found for place, found in leaks.items() if found}
    health = [m for m in smtp_server.messages if "broken" in str(m["Subject"])]
    tally.bad_input(
        f"credentials and tokens in source URLs ({database_url.split(':')[0]})",
        survived=not leaks,
        lost=0,
    )
    tally.bad_input("credentials in an article link", survived=auth_seen == [""], lost=0)
    assert not leaks, leaks
    assert auth_seen == [""]  # fetched once, with no Basic auth
    assert health, [str(m["Subject"]) for m in smtp_server.messages]  # the alert went out
    assert "user:***@" in places["status --json"]  # masked, not cut: the address is readable
