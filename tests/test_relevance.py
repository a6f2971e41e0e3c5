"""Relevance: both parties engaged with each other, with care for hard negatives."""

from __future__ import annotations

import pytest

from extractors.profile import load_profile
from extractors.relevance import RelevanceScorer
from extractors.topics import derive_topics
from tests.support.paths import REPO


@pytest.fixture(scope="module")
def scorer() -> RelevanceScorer:
    profile = load_profile(REPO / "seeds" / "monitor.toml")
    return RelevanceScorer(derive_topics(profile.seed_text(), profile), profile)


def test_bilateral_dispute_is_relevant_with_evidence(scorer: RelevanceScorer) -> None:
    result = scorer.score(
        "Seoul protests as Tokyo tightens export controls",
        "South Korea lodged a protest with Japan on Tuesday over new export controls on "
        "chip materials. Tokyo said the measure was about trust, not the forced labor "
        "rulings. Officials in Seoul called it retaliation.",
    )
    assert result.relevant
    assert result.parties == ("japan", "korea")
    assert "export controls" in result.matched_topics
    assert any("export controls" in sentence for sentence in result.evidence)
    assert result.reason.startswith("relevant")


def test_north_korea_is_not_the_korean_party(scorer: RelevanceScorer) -> None:
    result = scorer.score(
        "North Korea fires missile into the sea off Japan",
        "North Korea launched a ballistic missile on Sunday that fell into the sea east of "
        "the Korean Peninsula. Japan's defence ministry said it landed outside Japan's "
        "exclusive economic zone. North Korean state media called it a routine test.",
    )
    assert not result.relevant
    assert result.parties == ("japan",)


def test_us_alliance_story_mentioning_both_in_passing_is_not_relevant(
    scorer: RelevanceScorer,
) -> None:
    sentences = [
        "The United States and Japan pledged to deepen their alliance on Thursday.",
        "Washington will station new missile units in Okinawa.",
        "The leaders discussed chip supply chains and investment in American factories.",
        "Tokyo will raise its defence budget over five years.",
        "They also welcomed cooperation with South Korea and Japan on missile warning data.",
        "The president praised Japan's contribution to Ukraine.",
        "Japan's prime minister will visit Washington again in the spring.",
        "Officials said tariffs on Japanese cars would fall.",
        "The US and Japan will hold joint drills near Guam.",
        "American forces in Japan will get a new command.",
        "Japanese firms promised more investment in the US.",
    ]
    result = scorer.score("US and Japan upgrade their alliance", " ".join(sentences))
    assert not result.relevant


def test_country_lists_are_not_the_two_sides_dealing(scorer: RelevanceScorer) -> None:
    result = scorer.score(
        "China opens anti-dumping probe into steel from the EU, Japan and South Korea", ""
    )
    assert not result.relevant
    assert "crowded" in result.reason


def test_sport_between_the_two_is_noise(scorer: RelevanceScorer) -> None:
    result = scorer.score(
        "Japan beat South Korea 2-1 in the football final",
        "Japan beat South Korea 2-1 in the championship match on Sunday. "
        "Two late goals from Japan's striker sealed the tournament. "
        "South Korea's coach said his team would learn from the match against Japan.",
    )
    assert not result.relevant
    assert "noise" in result.reason


def test_japan_china_ties_are_not_relevant(scorer: RelevanceScorer) -> None:
    result = scorer.score(
        "Japan and China agree to resume seafood talks",
        "Tokyo and Beijing agreed to restart talks on seafood imports. "
        "China halted the imports two years ago.",
    )
    assert not result.relevant
    assert "korea" not in result.parties


def test_headline_only_item_counts_on_its_title(scorer: RelevanceScorer) -> None:
    title = "Japan and South Korea to hold talks on export curbs"
    result = scorer.score(title, title)
    assert result.relevant
    assert result.evidence == (title,)


def test_firm_stands_for_its_country_only_on_a_topic(scorer: RelevanceScorer) -> None:
    on_topic = scorer.score("Samsung says Japanese export curbs hurt its chip output", "")
    off_topic = scorer.score("Samsung opens a new phone store in Japan", "")
    assert on_topic.relevant and on_topic.parties == ("japan", "korea")
    assert not off_topic.relevant and off_topic.parties == ("japan",)


def test_korean_and_japanese_texts(scorer: RelevanceScorer) -> None:
    korean = scorer.score(
        "일본, 한국 수출규제 해제",
        "일본 정부가 한국에 대한 수출규제를 해제했다. 양국 관계 개선의 신호로 풀이된다.",
    )
    japanese = scorer.score(
        "日韓首脳会談、関係改善で一致",
        "日本と韓国の首脳は会談し、両国関係の改善で一致した。",
    )
    assert korean.relevant and korean.parties == ("japan", "korea")
    assert japanese.relevant and japanese.parties == ("japan", "korea")


def test_single_party_is_never_relevant(scorer: RelevanceScorer) -> None:
    result = scorer.score(
        "Seoul court rules on forced labor case",
        "The Seoul court ordered compensation in a forced labor case on Friday.",
    )
    assert not result.relevant
    assert result.score < 0.5
