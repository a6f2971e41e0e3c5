"""The text tools the scorers share: sentences, the phrase matcher, party names."""

from __future__ import annotations

from pathlib import Path

from extractors.profile import Profile, load_profile
from extractors.text import (
    PartyFinder,
    PhraseMatcher,
    by_sentence,
    sentence_spans,
    split_sentences,
)


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


def test_matcher_find_reports_offsets_and_keys() -> None:
    matcher = PhraseMatcher({"white list": "list", "curb": "curb"}, plurals=True)
    text = "Curbs and the White List"
    assert matcher.find(text) == [(0, 5, "curb"), (14, 24, "list")]


def test_party_finder_blocks_look_alikes_and_reads_compounds(tmp_path: Path) -> None:
    finder = PartyFinder(_profile(tmp_path))
    assert finder.keys("North Borea fired a rocket") == set()
    assert finder.keys("North Borea and Borea traded fire") == {"borea"}
    assert finder.keys("the AB-pact summit") == {"aland", "borea"}


def _profile(tmp_path: Path) -> Profile:
    (tmp_path / "seed.txt").write_text("Aland and Borea met.", encoding="utf-8")
    (tmp_path / "monitor.toml").write_text(
        """
[monitor]
name = "aland-borea"
[seed]
file = "seed.txt"
[parties.aland]
name = "Aland"
aliases = ["AB-pact"]
[parties.borea]
name = "Borea"
aliases = ["AB-pact"]
[relevance]
not_party = ["North Borea"]
""",
        encoding="utf-8",
    )
    return load_profile(tmp_path / "monitor.toml")
