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


def _finder(tmp_path: Path, parties: str) -> PartyFinder:
    seed = tmp_path / "seed.txt"
    seed.write_text("seed", encoding="utf-8")
    profile = tmp_path / "profile.toml"
    profile.write_text(
        f'[monitor]\nname = "t"\n[seed]\nfile = "seed.txt"\n{parties}', encoding="utf-8"
    )
    return PartyFinder(load_profile(profile))


PARTIES = """
[parties.japan]
name = "Japan"
people = ["Sanae Takaichi"]
home_language = "ja"
home_names = ["政府", "外務省"]
[parties.korea]
name = "South Korea"
aliases = ["Seoul", "韓国", "한국"]
people = ["Lee Jae-myung"]
home_language = "ko"
home_names = ["정부", "외교부"]
"""


def test_a_surname_names_the_party_once_the_full_name_is_given(tmp_path: Path) -> None:
    finder = _finder(tmp_path, PARTIES)
    article = "President Lee Jae Myung met Sanae Takaichi. Lee thanked Takaichi."
    assert finder.keys("Lee thanked Takaichi.", context=article) == {"japan", "korea"}
    # Without the full name in the article, a bare surname is anybody's.
    assert finder.keys("Lee thanked Takaichi.") == set()
    assert finder.keys("Lee Jae-myung and LEE JAE-MYUNG") == {"korea"}


def test_home_names_count_in_their_own_language_only(tmp_path: Path) -> None:
    finder = _finder(tmp_path, PARTIES)
    assert finder.keys("외교부는 유감을 표명했다") == {"korea"}
    assert finder.keys("政府は韓国に抗議した") == {"japan", "korea"}
    # The other party's government, and a home name in the other language, do not count.
    assert finder.keys("한국 외교부와 일본 정부") == {"korea"}
    assert finder.keys("韓国政府は反発した") == {"korea"}
    # Han characters alone do not tell Japanese from Chinese: no home reading.
    assert finder.keys("政府声明") == set()
