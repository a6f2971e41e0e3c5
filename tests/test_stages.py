"""Stages: the highest conflict space reported as a step, or the thaw space."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.profile import load_profile
from extractors.stages import StageClassifier
from tests.support.paths import REPO


@pytest.fixture(scope="module")
def classifier() -> StageClassifier:
    return StageClassifier(load_profile(REPO / "seeds" / "monitor.toml"))


def test_security_step_outranks_the_trade_row_behind_it(classifier: StageClassifier) -> None:
    stage = classifier.classify(
        "Seoul scraps military intelligence pact with Tokyo",
        "South Korea announced it would end GSOMIA with Japan. Seoul blamed Tokyo's "
        "export controls and its removal from the white list for the decision.",
    )
    assert stage.space == "security"
    assert stage.action == "step"
    assert "GSOMIA" in stage.evidence[0] or "intelligence pact" in stage.evidence[0]
    scores = dict(stage.scores)
    assert scores["security"] > 0 and scores["economic"] > 0


def test_lifting_a_measure_is_a_cooperation_step(classifier: StageClassifier) -> None:
    stage = classifier.classify(
        "Tokyo restores Seoul to its export white list",
        "Japan's cabinet approved returning South Korea to the white list of trusted "
        "trading partners, lifting the export controls it imposed four years earlier.",
    )
    assert stage.space == "cooperation"
    assert stage.action == "step"


def test_court_ruling_is_history_and_asset_seizure_is_economic(
    classifier: StageClassifier,
) -> None:
    ruling = classifier.classify(
        "Top court orders Japanese firm to compensate forced laborers",
        "The Supreme Court in Seoul upheld a ruling that a Japanese steelmaker must pay "
        "damages to four wartime forced laborers.",
    )
    seizure = classifier.classify(
        "Court orders seizure of Japanese firm's assets in Korea",
        "A district court ordered the seizure of the firm's local assets after it refused "
        "to pay forced labor victims.",
    )
    assert ruling.space == "history"
    assert seizure.space == "economic"


def test_recalling_an_ambassador_is_diplomatic(classifier: StageClassifier) -> None:
    stage = classifier.classify(
        "Japan recalls ambassador to Seoul over statue",
        "Tokyo recalled its ambassador from South Korea in protest at a new statue.",
    )
    assert stage.space == "diplomatic"
    assert stage.action == "step"


def test_commentary_is_talk(classifier: StageClassifier) -> None:
    stage = classifier.classify(
        "Why the radar row could poison defence ties, analysts warn",
        "Experts said the dispute over the destroyer's radar may harm military links. "
        "Analysts warned that trust could erode further.",
    )
    assert stage.space == "security"
    assert stage.action == "talk"


def test_korean_and_japanese_cues(classifier: StageClassifier) -> None:
    korean = classifier.classify(
        "일본, 한국 화이트리스트 제외 의결",
        "일본 각의가 한국을 화이트리스트에서 빼는 개정안을 의결했다.",
    )
    japanese = classifier.classify(
        "韓国大法院、日本企業に賠償命令",
        "韓国の大法院は元徴用工への賠償を日本企業に命じる判決を出した。",
    )
    assert korean.space == "economic" and korean.action == "step"
    assert japanese.space == "history"


def test_no_cues_means_no_space(classifier: StageClassifier) -> None:
    stage = classifier.classify("Weather in Tokyo and Seoul", "Both cities expect rain.")
    assert stage.space is None
    assert stage.evidence == ()


def test_a_step_after_a_hedge_is_talk(classifier: StageClassifier) -> None:
    hedged = classifier.classify(
        "Japan ready to impose export curbs if Seoul seizes assets",
        "Tokyo would impose curbs on chip materials if South Korean courts seized the "
        "firms' assets.",
    )
    announced = classifier.classify(
        "Japan imposes export curbs after Seoul seizes assets",
        "Tokyo imposed curbs on chip materials after South Korean courts seized the firms' assets.",
    )
    assert hedged.space == announced.space == "economic"
    assert hedged.action == "talk"
    assert announced.action == "step"


def test_steps_retold_as_background_do_not_make_a_step(classifier: StageClassifier) -> None:
    stage = classifier.classify(
        "Japanese beer sales slump in South Korea",
        "Consumers in South Korea keep up their boycott of Japanese brands. "
        "Last month Tokyo imposed export curbs on chip materials and removed Seoul from "
        "its white list.",
    )
    assert stage.space == "economic"
    assert stage.action == "talk"


def test_reporting_verbs_count_once(classifier: StageClassifier) -> None:
    stage = classifier.classify(
        "A new white list for South Korea",
        "Japan's cabinet approved removing South Korea from the white list on Friday. "
        "The trade minister said it was about trust. A spokesman said talks were possible. "
        "Seoul said it was regrettable. An official in Tokyo said nothing would change. "
        "Another official said exporters were ready.",
    )
    assert stage.action == "step"


def test_the_month_may_is_not_a_hedge(tmp_path: Path) -> None:
    profile = tmp_path / "monitor.toml"
    profile.write_text(
        f'extends = "{REPO / "seeds" / "monitor.toml"}"\n[stages]\nnot_cues = []\n',
        encoding="utf-8",
    )
    without = StageClassifier(load_profile(profile))
    shipped = StageClassifier(load_profile(REPO / "seeds" / "monitor.toml"))
    title = "Busan picked for fleet review next May"
    text = "South Korea's navy announced it will host an international fleet review in May."
    assert shipped.classify(title, text).action == "step"
    assert without.classify(title, text).action == "talk"


def test_unknown_stage_keys_are_refused(tmp_path: Path) -> None:
    profile = tmp_path / "monitor.toml"
    profile.write_text(
        f'extends = "{REPO / "seeds" / "monitor.toml"}"\n[stages]\nhedge = ["may"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="unknown key: hedge"):
        StageClassifier(load_profile(profile))
