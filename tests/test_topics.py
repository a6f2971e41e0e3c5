"""Topics from a seed, and the text tools the scorers share."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.profile import Profile, load_profile
from extractors.topics import (
    PartyFinder,
    PhraseMatcher,
    by_sentence,
    derive_topics,
    sentence_spans,
    split_sentences,
)

REPO = Path(__file__).resolve().parents[1]

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


def test_sentences_keep_initials_and_split_cjk() -> None:
    text = "The U.S. envoy met Mr. Kim. He left!\n日本は反発した。韓国は遺憾を表明"
    assert split_sentences(text) == (
        "The U.S. envoy met Mr. Kim.",
        "He left!",
        "日本は反発した。",
        "韓国は遺憾を表明",
    )


def test_sentence_spans_point_into_the_text() -> None:
    text = "  First one. Second one.  "
    spans = sentence_spans(text)
    assert [text[start:end] for start, end in spans] == ["First one.", "Second one."]
    assert by_sentence(spans, [(3, 4, "a"), (14, 15, "b"), (25, 26, "c")]) == [
        [(3, 4, "a")],
        [(14, 15, "b")],
    ]


def test_matcher_whole_words_plurals_and_cjk_inside_words() -> None:
    matcher = PhraseMatcher({"export curb": "curb", "화이트리스트": "list"}, plurals=True)
    assert matcher.keys("New Export Curbs bite") == {"curb"}
    assert matcher.keys("export curbing plans") == set()
    assert matcher.keys("한국을 화이트리스트에서 뺐다") == {"list"}


def test_matcher_case_sensitive_names_also_match_capitals() -> None:
    matcher = PhraseMatcher({"Moon": "moon"}, case_sensitive=True)
    assert matcher.keys("MOON said") == {"moon"}
    assert matcher.keys("Moon’s aides") == {"moon"}
    assert matcher.keys("a full moon rose") == set()


def test_party_finder_blocks_look_alikes_and_reads_compounds(tmp_path: Path) -> None:
    finder = PartyFinder(_profile(tmp_path))
    assert finder.keys("North Borea fired a rocket") == set()
    assert finder.keys("North Borea and Borea traded fire") == {"borea"}
    assert finder.keys("the AB-pact summit") == {"aland", "borea"}


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


def test_shipped_seed_topics_ignore_its_reader_comments() -> None:
    profile = load_profile(REPO / "seeds" / "monitor.toml")
    topics = derive_topics(profile.seed_text(), profile)
    phrases = {topic.phrase.lower() for topic in topics.items}
    assert {"gsomia", "comfort women", "forced labor", "export controls"} <= phrases
    assert not any(word in phrase for phrase in phrases for word in ("blog", "website"))
    assert "asia times" not in phrases  # the seed's own outlet
