"""Small breaks found from outside: web text in the terminal, control characters in a page,
a bad profile, a feed of a hundred thousand entries, a database that cannot be opened.

Each test feeds the bad input itself and records it in the tally. Command-line behaviour is
checked through the installed ``straitwatch`` command, as a user meets it.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.reliability.harness import (
    PARENT_PROFILE,
    SourceSpec,
    Tally,
    Workspace,
    fresh_routes,
    query,
)
from tests.reliability.pages import Item, plain_story, rss, security_story
from tests.support.cli import cli_env, run_cli
from tests.support.wire import HostileServer, reply

RSS = "application/rss+xml"
MARKUP = "[/bold] [red]unclosed [link=javascript:x]"


def _cli(tmp_path: Path, **extra: str) -> dict[str, str]:
    # Wide enough that a table never folds a headline across two lines.
    return cli_env(tmp_path, COLUMNS="400", **extra)


def _one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


# ---------------------------------------------------------------- web text in the terminal


def test_a_headline_with_rich_markup_is_shown_as_text_by_status(
    workspace: Workspace, hostile: HostileServer, tally: Tally, tmp_path: Path
) -> None:
    prefix = "/markup-status"
    title = f"Seoul halts intelligence pact with Tokyo {MARKUP}"
    story = f"{prefix}/story"
    hostile.routes[f"{prefix}/feed.xml"] = reply(
        rss([Item(title, hostile.url(story), guid=f"{prefix}-1")]), content_type=RSS
    )
    hostile.routes[story] = reply(security_story(title, "Markup Wire, Seoul."))
    profile = workspace.profile(
        [SourceSpec("markup", hostile.url(f"{prefix}/feed.xml"), outlet="Markup Wire")]
    )
    workspace.run(profile)
    stored = query(workspace.db, "SELECT title FROM article WHERE title LIKE '%[/bold]%'")
    assert stored, "the headline must be stored with its brackets"

    env = _cli(tmp_path, STRAITWATCH_DATABASE_URL=workspace.db_url)
    shown = run_cli(["status", "--profile", str(profile)], env)
    survived = shown.returncode == 0 and "[/bold] [red]unclosed" in shown.stdout
    tally.bad_input("Rich markup in a headline (status)", survived=survived, lost=workspace.lost())
    assert shown.returncode == 0, shown.stderr
    assert "[/bold] [red]unclosed" in shown.stdout


def test_a_labelled_title_with_rich_markup_is_shown_as_text_by_eval(
    tmp_path: Path, tally: Tally
) -> None:
    labelled = tmp_path / "labelled.jsonl"
    item = {
        "id": "markup-1",
        "url": "https://example.test/markup",
        "outlet": "Example",
        "published": "2019-08-22",
        "lang": "en",
        "title": f"Ferry timetable {MARKUP}",
        "text": "A ferry timetable story that names nobody in the dispute.",
        "relevant": True,
        "space": "economic",
        "action": "step",
    }
    labelled.write_text(json.dumps(item) + "\n", encoding="utf-8")
    shown = run_cli(["eval", "relevance", str(labelled)], _cli(tmp_path))
    survived = shown.returncode == 0 and f"Ferry timetable {MARKUP}" in shown.stdout
    tally.bad_input("Rich markup in a labelled title (eval)", survived=survived, lost=0)
    assert shown.returncode == 0, shown.stderr
    assert f"Ferry timetable {MARKUP}" in shown.stdout


# ---------------------------------------------------------------- control characters


@pytest.mark.parametrize("reference", ["&#11;", "&#8;", "&#27;", "&#x1B;"])
def test_control_characters_in_a_headline_do_not_lose_the_page(
    workspace: Workspace, hostile: HostileServer, tally: Tally, reference: str
) -> None:
    prefix = f"/control-{abs(hash(reference))}"
    page = f"{prefix}/story"
    hostile.routes[f"{prefix}/feed.xml"] = reply(
        rss([Item("Control story", hostile.url(page), guid=f"{prefix}-1")]), content_type=RSS
    )
    story = plain_story(prefix).replace("<h1>", f"<h1>Breaking{reference} ", 1)
    hostile.routes[page] = reply(story)
    profile = workspace.profile([SourceSpec("control", hostile.url(f"{prefix}/feed.xml"))])
    summary = workspace.run(profile)
    rows = query(workspace.db, "SELECT title, text FROM article WHERE url LIKE ?", f"%{page}")
    # The page is stored (irrelevant pages keep their title, not their text), not no_body.
    survived = len(rows) == 1 and rows[0][0].startswith("Breaking Ferry timetable")
    tally.bad_input(
        f"control character {reference!r} in a headline", survived=survived, lost=workspace.lost()
    )
    assert summary.no_body == 0, summary
    assert survived, rows
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in rows[0][0] + rows[0][1])


# ---------------------------------------------------------------- the profile


def _quiet_profile(tmp_path: Path, extra: str = "", seed: str | None = None) -> Path:
    """A profile whose only source is an empty local URL list: the feeds are quiet."""
    urls = tmp_path / "urls.txt"
    urls.write_text("", encoding="utf-8")
    lines = [f'extends = "{PARENT_PROFILE}"']
    if seed is not None:
        lines += ["[seed]", f'file = "{seed}"']
    lines += [extra, "[[sources]]", 'name = "quiet"', 'kind = "urls"', f'url = "file:{urls}"']
    path = tmp_path / "profile.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PROFILE_BREAKS = {
    # name: (command, profile table text, what the error line must name)
    "relevance typo": ("run", "[relevance]\ntreshold = 0.4", "treshold"),
    "stages typo": ("run", "[stages]\nmin_scor = 1.0", "min_scor"),
    "topics typo": ("topics", "[topics]\ndorp = ['tokyo']", "dorp"),
    "topics add typo": ("topics", "[[topics.add]]\nphrase = 'x'\nwieght = 2.0", "wieght"),
    "fetch typo": ("status", "[fetch]\nmax_byte = 10", "max_byte"),
    "escalation typo": ("status", "[escalation]\ncorroborations = 3", "corroborations"),
    "unknown table": ("status", "[relevence]\nthreshold = 0.4", "relevence"),
    "wrong type": ("status", "[fetch]\nmax_bytes = 'lots'", "max_bytes"),
}


@pytest.mark.parametrize("name", sorted(PROFILE_BREAKS))
def test_a_profile_mistake_fails_at_start_in_one_line(
    name: str, tmp_path: Path, tally: Tally
) -> None:
    command, table, key = PROFILE_BREAKS[name]
    profile = _quiet_profile(tmp_path, table)
    env = _cli(tmp_path)
    done = run_cli([command, "--profile", str(profile)], env)
    ok = done.returncode == 2 and "Traceback" not in done.stderr
    tally.bad_input(f"profile: {name} ({command})", survived=ok, lost=0)
    assert done.returncode == 2, (done.stdout, done.stderr)
    line = _one_clear_line(done.stderr)
    assert key in line and "profile.toml" in line


def test_a_missing_seed_file_fails_at_start(tmp_path: Path, tally: Tally) -> None:
    profile = _quiet_profile(tmp_path, seed="no-such-seed.txt")
    done = run_cli(["run", "--profile", str(profile)], _cli(tmp_path))
    tally.bad_input("profile: missing seed file", survived=done.returncode == 2, lost=0)
    assert done.returncode == 2, (done.stdout, done.stderr)
    line = _one_clear_line(done.stderr)
    assert "no-such-seed.txt" in line and "profile.toml" in line


def test_a_toml_syntax_error_names_file_line_and_column(tmp_path: Path, tally: Tally) -> None:
    profile = tmp_path / "broken.toml"
    profile.write_text('extends = "monitor.toml"\n[fetch]\nmax_bytes = = 3\n', encoding="utf-8")
    done = run_cli(["status", "--profile", str(profile)], _cli(tmp_path))
    tally.bad_input("profile: TOML syntax error", survived=done.returncode == 2, lost=0)
    assert done.returncode == 2, (done.stdout, done.stderr)
    line = _one_clear_line(done.stderr)
    assert "broken.toml:3:" in line


def test_debug_shows_the_traceback_of_a_profile_error(tmp_path: Path) -> None:
    profile = _quiet_profile(tmp_path, "[relevance]\ntreshold = 0.4")
    done = run_cli(["--debug", "topics", "--profile", str(profile)], _cli(tmp_path))
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "treshold" in done.stderr


def test_a_profile_typo_stops_a_run_before_any_page_is_fetched(
    workspace: Workspace, hostile: HostileServer, tally: Tally
) -> None:
    from extractors.profile import ProfileError

    prefix = "/typo-first-article"
    fresh, story = fresh_routes(hostile, prefix)
    profile = workspace.profile([fresh])
    profile.write_text(
        profile.read_text(encoding="utf-8") + "[relevance]\ntreshold = 0.4\n", encoding="utf-8"
    )
    raised = []
    for _ in range(2):
        try:
            workspace.run(profile)
        except ProfileError as exc:
            raised.append(str(exc))
    fetched = hostile.hits[story]
    survived = len(raised) == 2 and fetched == 0
    tally.bad_input("profile typo with a new article waiting", survived=survived, lost=0)
    assert len(raised) == 2 and "treshold" in raised[0]
    assert fetched == 0, "the page must not be fetched before the profile is known good"


# ---------------------------------------------------------------- a huge feed


def _huge_feed(server: HostileServer, prefix: str, count: int, dated: bool = False) -> bytes:
    """An RSS document of ``count`` minimal entries; dated: entry i is i minutes old."""
    stamp = (lambda i: f"<pubDate>{_stamp(i)}</pubDate>") if dated else (lambda i: "")
    items = "".join(f"<item><link>{prefix}/a/{i}</link>{stamp(i)}</item>" for i in range(count))
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>'
        f"<link>{server.url('/')}</link>{items}</channel></rss>"
    ).encode()


def _stamp(minutes_ago: int) -> str:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    return format_datetime(datetime.now(UTC) - timedelta(minutes=minutes_ago), usegmt=True)


def test_a_feed_of_a_hundred_thousand_entries_is_taken_a_slice_per_run(
    workspace: Workspace, hostile: HostileServer, tally: Tally
) -> None:
    prefix = "/huge"
    fresh, story = fresh_routes(hostile, prefix)
    body = _huge_feed(hostile, prefix, 100_000)
    assert len(body) < 5_000_000  # under the shipped profile's size cap
    hostile.routes[f"{prefix}/feed.xml"] = reply(body, content_type=RSS)
    profile = workspace.profile([fresh, SourceSpec("huge", hostile.url(f"{prefix}/feed.xml"))])
    summary = workspace.run(profile)
    pages = sum(n for path, n in hostile.hits.items() if path.startswith(f"{prefix}/a/"))
    error_rows = query(workspace.db, "SELECT COUNT(*) FROM fetch_error WHERE source = 'huge'")[0][0]
    fresh_stored = query(workspace.db, "SELECT COUNT(*) FROM article WHERE url LIKE ?", f"%{story}")
    survived = pages <= 200 and error_rows <= 201 and fresh_stored[0][0] == 1
    tally.bad_input("a feed of 100,000 entries", survived=survived, lost=workspace.lost())
    assert pages == 200, pages  # the default cap of the shipped profile
    assert summary.new == 201, summary  # the cap's share and the fresh story
    assert error_rows <= 201, error_rows  # the 200 pages that failed, one row each
    assert fresh_stored[0][0] == 1


def test_entries_without_a_link_are_one_recorded_reason_with_a_count(
    workspace: Workspace, hostile: HostileServer, tally: Tally
) -> None:
    prefix = "/linkless"
    fresh, story = fresh_routes(hostile, prefix)
    items = "<item><title>no link here</title></item>" * 20_000
    hostile.routes[f"{prefix}/feed.xml"] = reply(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Linkless</title>'
        f"<link>{hostile.url('/')}</link>{items}</channel></rss>",
        content_type=RSS,
    )
    profile = workspace.profile([fresh, SourceSpec("linkless", hostile.url(f"{prefix}/feed.xml"))])
    workspace.run(profile)
    rows = query(workspace.db, "SELECT reason, detail FROM fetch_error WHERE source = 'linkless'")
    fresh_stored = query(workspace.db, "SELECT COUNT(*) FROM article WHERE url LIKE ?", f"%{story}")
    survived = len(rows) == 1 and fresh_stored[0][0] == 1
    tally.bad_input("20,000 entries without a link", survived=survived, lost=workspace.lost())
    assert len(rows) == 1, len(rows)
    assert rows[0][0] == "no_link" and "20000" in rows[0][1].replace(",", ""), rows
    assert fresh_stored[0][0] == 1


def test_the_candidates_over_the_cap_wait_for_the_next_run_oldest_first(
    workspace: Workspace, hostile: HostileServer, tally: Tally
) -> None:
    prefix = "/capped"
    for i in range(30):
        hostile.routes[f"{prefix}/a/{i}"] = reply(plain_story(f"capped {i}"))
    hostile.routes[f"{prefix}/feed.xml"] = reply(
        _huge_feed(hostile, prefix, 30, dated=True), content_type=RSS
    )
    profile = workspace.profile(
        [SourceSpec("capped", hostile.url(f"{prefix}/feed.xml"))],
        extra_fetch="max_candidates_per_source = 12",
    )
    taken = []
    for _ in range(3):
        before = {p for p, n in hostile.hits.items() if p.startswith(f"{prefix}/a/") and n}
        workspace.run(profile)
        after = {p for p, n in hostile.hits.items() if p.startswith(f"{prefix}/a/") and n}
        taken.append(sorted(int(p.rsplit("/", 1)[1]) for p in after - before))
    stored = query(workspace.db, "SELECT COUNT(*) FROM article WHERE url LIKE ?", f"%{prefix}/a/%")
    survived = [len(t) for t in taken] == [12, 12, 6] and stored[0][0] == 30
    tally.bad_input("a feed over the per-source cap, three runs", survived=survived, lost=0)
    # Entry i is i minutes younger than entry i+1: the oldest are the highest numbers.
    assert taken == [list(range(18, 30)), list(range(6, 18)), list(range(0, 6))], taken
    assert stored[0][0] == 30


# ---------------------------------------------------------------- the database


def _database_breaks(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name -> (database URL, what the error line must show)."""
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database file\n" * 200)
    readonly = tmp_path / "readonly.db"
    readonly.write_bytes(b"")
    readonly.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return {
        "corrupt": (f"sqlite:///{corrupt}", str(corrupt)),
        # mode=ro: read-only whoever runs the test (root ignores file permissions).
        "read-only": (f"sqlite:///file:{readonly}?mode=ro&uri=true", str(readonly)),
        "refused": ("postgresql+psycopg://sw:hunter2@127.0.0.1:1/straitwatch", "127.0.0.1:1"),
    }


@pytest.mark.parametrize("command", ["status", "run"])
@pytest.mark.parametrize("name", ["corrupt", "read-only", "refused"])
def test_a_database_that_cannot_be_opened_is_named_in_one_line(
    name: str, command: str, tmp_path: Path, tally: Tally
) -> None:
    url, shown = _database_breaks(tmp_path)[name]
    profile = _quiet_profile(tmp_path)
    env = _cli(tmp_path, STRAITWATCH_DATABASE_URL=url)
    done = run_cli([command, "--profile", str(profile)], env, timeout=120)
    ok = done.returncode == 2 and "Traceback" not in done.stderr
    tally.bad_input(f"database: {name} ({command})", survived=ok, lost=0)
    assert done.returncode == 2, (done.stdout[-2000:], done.stderr[-3000:])
    line = _one_clear_line(done.stderr)
    assert shown in line
    assert "hunter2" not in done.stderr + done.stdout


def test_no_database_file_is_left_behind_in_the_working_directory(tmp_path: Path) -> None:
    """A URI file name (file:...) is a path for SQLite, never a directory to create."""
    url, _ = _database_breaks(tmp_path)["read-only"]
    env = _cli(tmp_path, STRAITWATCH_DATABASE_URL=url)
    run_cli(["status", "--profile", str(_quiet_profile(tmp_path))], env, cwd=tmp_path)
    assert not (tmp_path / "file:").exists()
