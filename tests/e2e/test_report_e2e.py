"""`straitwatch report` after a real monitor run, and `eval replay --report`, opened in
headless Chromium with every request sent to a recording proxy on 127.0.0.1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flows.demo.run import DEMO_SITE, demo_profile_text
from flows.demo.server import serve_site
from tests.e2e.browser import RecordingProxy, colours, dom_after_scripts, screenshot
from tests.support.cli import cli_env, run_cli

pytestmark = pytest.mark.e2e

LANES = ("cooperation", "history", "diplomatic", "economic", "security")
SECURITY_RED = (0xC6, 0x28, 0x28)  # flows.stages.report_page.COLOURS["security"], drawn opaque
REPLAY = Path(__file__).resolve().parents[1] / "fixtures" / "replay"


def _opened_offline(page: Path, workdir: Path) -> tuple[str, set[tuple[int, int, int]]]:
    """Return the page's DOM and its screenshot's colours; fail if it made any request."""
    with RecordingProxy().running() as proxy:
        dom = dom_after_scripts(page, workdir, proxy_port=proxy.port)
        # The same page without its Content-Security-Policy: the page itself asks for nothing.
        bare = workdir / f"no-csp-{page.name}"
        bare.write_text(
            re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", page.read_text()),
            encoding="utf-8",
        )
        dom_after_scripts(bare, workdir, proxy_port=proxy.port)
        shot = screenshot(page, workdir / f"{page.stem}.png", workdir, proxy_port=proxy.port)
    assert proxy.page_requests == []
    return dom, colours(shot)


def _static_checks(html: str) -> None:
    assert not re.search(r"<script\b|\ssrc\s*=|<link\b|@import", html, re.I)
    for tag, _ in re.findall(r"<(\w+)\b[^>]*\b(?:href|src)=\"(https?:)", html):
        assert tag == "a"


def test_the_recording_proxy_sees_a_page_that_reaches_out(tmp_path: Path) -> None:
    # The check below can fail: a page with one remote image is caught asking for it.
    page = tmp_path / "leaky.html"
    page.write_text(
        '<html><body><h1>x</h1><img src="http://cdn.example/pixel.png"></body></html>',
        encoding="utf-8",
    )
    with RecordingProxy().running() as proxy:
        dom_after_scripts(page, tmp_path, proxy_port=proxy.port)
    assert proxy.page_requests == ["cdn.example"]


def test_report_after_a_real_monitor_run(tmp_path: Path, prefect_api, database_url: str) -> None:
    with serve_site(DEMO_SITE) as site:
        profile = tmp_path / "profile.toml"
        # A fourth source whose feed is gone: the page's source health shows it failing.
        profile.write_text(
            demo_profile_text(site.base_url) + f'\n[[sources]]\nname = "gone-wire"\nkind = "feed"\n'
            f'url = "{site.base_url}/gone/feed.xml"\noutlet = "Gone Wire"\n',
            encoding="utf-8",
        )
        env = cli_env(tmp_path, prefect_api, STRAITWATCH_DATABASE_URL=database_url)
        run = run_cli(["run", "--profile", str(profile), "--json"], env)
        assert run.returncode == 0, run.stderr[-3000:]
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        assert len(summary["transitions"]) == 1

    page = tmp_path / "out" / "report.html"
    made = run_cli(["report", "--profile", str(profile), "--out", str(page)], env)
    assert made.returncode == 0, made.stderr[-3000:]
    assert "1 transitions" in made.stdout

    html = page.read_text(encoding="utf-8")
    _static_checks(html)
    story_links = re.findall(r'<a href="(http://127\.0\.0\.1:\d+/[^"]+)"', html)
    assert len(story_links) >= 2  # the step's stories, each with its link to the demo site

    dom, seen = _opened_offline(page, tmp_path)
    for space in LANES:
        assert f'id="lane-{space}"' in dom
    assert 'id="marker-1"' in dom and 'id="transition-1"' in dom
    assert 'id="active-security-' in dom  # the front opened is shaded
    assert "marker-2" not in dom
    for source in ("capital-ledger", "east-sea-wire", "harbor-daily", "gone-wire"):
        assert f"<td>{source}</td>" in dom  # source health, one row per source
    assert 'id="health-gone-wire"' in dom and 'id="health-harbor-daily"' not in dom
    assert SECURITY_RED in seen and len(seen) > 50  # drawn, not blank


def test_report_of_a_replay(tmp_path: Path) -> None:
    page = tmp_path / "replay.html"
    done = run_cli(
        [
            "eval",
            "replay",
            str(REPLAY / "items.jsonl"),
            "--gold",
            str(REPLAY / "gold.json"),
            "--oracle",
            "--json",
            "--report",
            str(page),
        ],
        cli_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["report"]["bytes"] == page.stat().st_size

    _static_checks(page.read_text(encoding="utf-8"))
    dom, seen = _opened_offline(page, tmp_path)
    markers = set(re.findall(r'id="marker-(\d+)"', dom))
    assert markers == {str(n) for n in range(1, result["alerts"] + 1)}
    assert len(seen) > 50


def test_report_of_the_shared_replay(tmp_path: Path, corpus: Path) -> None:
    page = tmp_path / "replay.html"
    done = run_cli(
        [
            "eval",
            "replay",
            str(corpus / "replay" / "replay-dev.jsonl"),
            "--gold",
            str(corpus / "replay" / "gold-dev.json"),
            "--json",
            "--report",
            str(page),
        ],
        cli_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["alerts"] >= 10

    dom, seen = _opened_offline(page, tmp_path)
    assert len(re.findall(r'id="marker-\d+"', dom)) == result["alerts"]
    assert len(re.findall(r'<li id="transition-\d+"', dom)) == result["alerts"]
    for space in LANES:
        assert f'id="lane-{space}"' in dom
    assert SECURITY_RED in seen
