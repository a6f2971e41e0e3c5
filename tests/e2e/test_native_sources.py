"""Korean and Japanese sources: native-language feeds and pages (our own wording) served on
127.0.0.1 are fetched, extracted, judged and staged like English ones, and the shipped profile
reads such feeds and GDELT's Korean- and Japanese-language sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.profile import load_profile
from flows.demo.server import serve_site
from flows.monitor import AlertConfig, Steps, run_monitor
from flows.stages.context import RunConfig
from tests.support.db import rows
from tests.support.paths import REPO

pytestmark = pytest.mark.e2e
SITE = REPO / "tests" / "fixtures" / "native"


def _profile(tmp_path: Path, base_url: str) -> Path:
    profile = tmp_path / "native.toml"
    profile.write_text(
        f'extends = "{REPO / "seeds" / "monitor.toml"}"\n'
        '[fetch]\nallowed_networks = ["127.0.0.0/8"]\nper_host_delay_seconds = 0.0\n'
        "respect_robots = false\n"
        f'[[sources]]\nname = "hanbando"\nkind = "feed"\nurl = "{base_url}/feeds/hanbando.xml"\n'
        'outlet = "Hanbando Ilbo"\n'
        f'[[sources]]\nname = "nihon"\nkind = "feed"\nurl = "{base_url}/feeds/nihon.xml"\n'
        'outlet = "Nihon Jiho"\n',
        encoding="utf-8",
    )
    return profile


def test_korean_and_japanese_feeds_are_judged_in_their_language(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'native.db'}"
    with serve_site(SITE) as site:
        config = RunConfig(
            db_url=url, profile_path=_profile(tmp_path, site.base_url), extract_workers=1
        )
        summary = run_monitor(config, AlertConfig(console_fallback=False), Steps())
    assert summary.sources == {"hanbando": "2 entries", "nihon": "2 entries"}
    found = {
        path.rsplit("/", 1)[1]: (language, bool(relevant), space)
        for path, language, relevant, space in rows(
            url, "SELECT canonical_url, language, relevant, space FROM article"
        )
    }
    assert found["trade-curbs"][:2] == ("ko", True)
    assert found["export-controls"][:2] == ("ja", True)
    assert found["trade-curbs"][2] == found["export-controls"][2] == "economic"
    assert not found.get("beach-opens", ("", False, None))[1]
    assert not found.get("snow-festival", ("", False, None))[1]
    # Two outlets, two languages, one step each: the economic space is confirmed.
    assert any(":economic:" in key for key in summary.transitions)


def test_the_shipped_profile_reads_korean_and_japanese_sources() -> None:
    profile = load_profile(REPO / "seeds" / "monitor.toml")
    queries = [s.query for s in profile.sources if s.kind == "gdelt"]
    assert any("sourcelang:korean" in q for q in queries)
    assert any("sourcelang:japanese" in q for q in queries)
    feeds = {s.name: s.url for s in profile.sources if s.kind == "feed"}
    assert any("www.yna.co.kr" in u for u in feeds.values())  # Yonhap in Korean
    assert any("www3.nhk.or.jp" in u for u in feeds.values())  # NHK in Japanese
