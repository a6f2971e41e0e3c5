"""Topics derived from a seed, adjusted by the profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.profile import Profile, load_profile
from extractors.topics import derive_topics
from tests.support.cli import cli_env, run_cli
from tests.support.paths import REPO

SEED = """Harbor ministers of Aland and Borea met on Monday over the fishing quota row.
Aland said the fishing quota row had lasted a decade, and Borea blamed the Aland
coast guard. The "salt treaty" of 1950 was meant to settle the fishing quota row
between Aland and Borea. Borea recalled its envoy after the salt treaty talks failed.
Aland and Borea agreed to revisit the salt treaty.

Comments

  1. Great blog, I will bookmark your website and tell my friends about this great blog!
  2. Which blog platform do you use? Your website theme looks great, great blog indeed.
"""


def _profile(tmp_path: Path, topics: str = "") -> Profile:
    (tmp_path / "seed.txt").write_text(SEED, encoding="utf-8")
    (tmp_path / "monitor.toml").write_text(
        f"""
[monitor]
name = "aland-borea"
[seed]
file = "seed.txt"
outlet = "Harbor Times"
[parties.aland]
name = "Aland"
aliases = ["Alandic", "AB-pact"]
[parties.borea]
name = "Borea"
aliases = ["Borean", "AB-pact"]
[relevance]
not_party = ["North Borea"]
{topics}
""",
        encoding="utf-8",
    )
    return load_profile(tmp_path / "monitor.toml")


def test_derived_topics_come_from_sentences_naming_the_parties(tmp_path: Path) -> None:
    topics = derive_topics(SEED, _profile(tmp_path))
    phrases = {topic.phrase for topic in topics.items}
    assert "fishing quota row" in phrases
    assert "salt treaty" in phrases
    # The reader comments repeat "great blog" but never name a party.
    assert not any("blog" in phrase or "website" in phrase for phrase in phrases)
    # Sub-phrases of a longer phrase seen as often are the same mention.
    assert "quota row" not in phrases
    weights = topics.weights()
    assert max(weights.values()) == 1.0
    assert weights["fishing quota row"] >= weights["salt treaty"] > 0


def test_profile_adds_aliases_drops_noise_and_adds_phrases(tmp_path: Path) -> None:
    table = """
[topics]
drop = ["salt treaty"]
[topics.aliases]
"fishing quota row" = ["quota dispute", "漁業"]
[[topics.add]]
phrase = "coast guard"
weight = 0.7
aliases = ["海警"]
"""
    topics = derive_topics(SEED, _profile(tmp_path, table))
    by_phrase = {topic.phrase: topic for topic in topics.items}
    assert "salt treaty" not in by_phrase
    assert by_phrase["fishing quota row"].aliases == ("quota dispute", "漁業")
    assert by_phrase["coast guard"].kind == "profile"
    assert by_phrase["coast guard"].weight == pytest.approx(0.7)
    assert topics.matcher().keys("a new quota dispute and 海警 ships") == {
        "fishing quota row",
        "coast guard",
    }


def test_profile_phrases_the_seed_mentions_are_found_there(tmp_path: Path) -> None:
    table = """
[[topics.add]]
phrase = "envoy"
weight = 0.6
aliases = ["ambassador", "大使"]
[[topics.add]]
phrase = "lighthouse"
weight = 0.7
[[topics.add]]
phrase = "quota dispute"
aliases = ["fishing quota row"]
"""
    topics = derive_topics(SEED, _profile(tmp_path, table))
    by_phrase = {topic.phrase: topic for topic in topics.items}
    # "envoy" is in the seed once: found there, with the profile's weight and aliases.
    assert by_phrase["envoy"].kind == "phrase"
    assert by_phrase["envoy"].mentions == 1
    assert by_phrase["envoy"].weight == pytest.approx(0.6)
    assert by_phrase["envoy"].aliases == ("ambassador", "大使")
    # The seed never says "lighthouse": an addition, not found.
    assert by_phrase["lighthouse"].kind == "profile"
    assert by_phrase["lighthouse"].mentions == 0
    # A repeated seed phrase that is a profile phrase's form becomes that topic.
    assert "fishing quota row" not in by_phrase
    assert by_phrase["quota dispute"].kind == "phrase"
    assert by_phrase["quota dispute"].mentions == 2
    assert by_phrase["quota dispute"].weight == 1.0


def test_shipped_seed_topics_come_from_the_seed() -> None:
    profile = load_profile(REPO / "seeds" / "monitor.toml")
    topics = derive_topics(profile.seed_text(), profile)
    found = {topic.phrase.lower(): topic for topic in topics.items if topic.kind != "profile"}
    for phrase in (
        "gsomia",
        "comfort women",
        "forced labor",
        "export controls",
        "favored trade partners",  # the seed's words for the white list
        "rising sun",
        "boycott",
        "court ruling",
        "colonial rule",
    ):
        assert found[phrase].mentions >= 1, phrase
    assert "white list" in found["favored trade partners"].aliases
    assert len(found) >= 2 * (len(topics.items) - len(found))
    phrases = {topic.phrase.lower() for topic in topics.items}
    assert not any(word in phrase for phrase in phrases for word in ("blog", "website"))
    assert "asia times" not in phrases  # the seed's own outlet


def test_the_topics_command_names_the_seed_by_its_title(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = run_cli(["topics", "--top", "3"], cli_env(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = " ".join(done.stdout.split())
    assert "Topics of the seed article “Seoul scraps military intel pact with Tokyo”" in out
    assert "3 of " in out and ".txt" not in out
