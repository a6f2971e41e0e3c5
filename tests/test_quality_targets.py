"""The signal-quality targets, measured on the shared corpus (skipped when it is absent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractors.escalation import EscalationRules
from extractors.evaluation.crossval import cross_validate_stages, held_out_classifiers
from extractors.evaluation.extraction import evaluate_comments, evaluate_extraction
from extractors.evaluation.labelled import LabelledItem, load_labelled
from extractors.evaluation.replay import replay, score_replay
from extractors.evaluation.scoring import evaluate_relevance, evaluate_stages
from extractors.profile import Profile, load_profile
from extractors.relevance import RelevanceScorer
from extractors.stages import StageClassifier
from extractors.topics import derive_topics
from tests.support.paths import REPO

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(REPO / "seeds" / "monitor.toml")


@pytest.fixture(scope="module")
def scorer(profile: Profile) -> RelevanceScorer:
    return RelevanceScorer(derive_topics(profile.seed_text(), profile), profile)


@pytest.fixture(scope="module")
def classifier(profile: Profile) -> StageClassifier:
    return StageClassifier(profile)


def briefs(corpus: Path) -> list[LabelledItem]:
    news = corpus / "news"
    return load_labelled(news / "briefs-dev.jsonl") + load_labelled(news / "briefs-dev2.jsonl")


def test_relevance_f1_on_briefs(corpus: Path, scorer: RelevanceScorer) -> None:
    # Nothing learned decides relevance, so the plain figure is the honest one.
    result = evaluate_relevance(briefs(corpus), scorer)
    assert result["f1"] >= 0.95, result["misses"]


def test_relevance_f1_on_real_texts(corpus: Path, scorer: RelevanceScorer) -> None:
    result = evaluate_relevance(load_labelled(corpus / "news" / "real-dev.jsonl"), scorer)
    assert result["f1"] >= 0.90, result["misses"]


def test_stage_decision_cross_validated_on_briefs(corpus: Path, profile: Profile) -> None:
    """Grouped 5-fold: each fold's model is trained on the other folds only."""
    pytest.importorskip("sklearn")
    result = cross_validate_stages(
        briefs(corpus), lambda: StageClassifier(profile, use_model=False), k=5
    )
    assert result["accuracy"] >= 0.85, result["confusion"]
    assert result["macro_f1"] >= 0.80, result["confusion"]


def test_shipped_stage_decision_on_real_texts(corpus: Path, classifier: StageClassifier) -> None:
    result = evaluate_stages(load_labelled(corpus / "news" / "real-dev.jsonl"), classifier)
    assert result["accuracy"] >= 0.85, result["confusion"]


def test_extraction_beats_plain_trafilatura(corpus: Path) -> None:
    extraction = corpus / "extraction"
    benchmark = evaluate_extraction(extraction / "scrapinghub-article-extraction-benchmark")
    segments = evaluate_extraction(extraction / "trafilatura-eval")
    assert benchmark["f1"] >= benchmark["baseline_f1"], benchmark
    assert segments["score"] >= segments["baseline_score"], segments


def test_no_reader_comment_leaks(corpus: Path) -> None:
    comments = evaluate_comments(corpus / "comments")
    assert comments["pages"] > 0
    assert comments["leaks"] == 0, comments["leaked_pages"]


@pytest.mark.parametrize("held_out", [False, True], ids=["shipped-model", "cross-validated"])
def test_replay_hits_every_required_event_without_false_alerts(
    corpus: Path,
    profile: Profile,
    scorer: RelevanceScorer,
    classifier: StageClassifier,
    held_out: bool,
) -> None:
    """The replay's items are among the training briefs, so the honest run stages each
    with a model trained on folds that do not hold it."""
    by_item: dict[str, StageClassifier] = {}
    if held_out:
        pytest.importorskip("sklearn")
        by_item, _ = held_out_classifiers(
            briefs(corpus), lambda: StageClassifier(profile, use_model=False), k=5
        )

    def classify(item: LabelledItem) -> tuple[bool, str | None, str | None]:
        if not scorer.score(item.title, item.text).relevant:
            return False, None, None
        stage = by_item.get(item.id, classifier).classify(item.title, item.text)
        return True, stage.space, stage.action

    folder = corpus / "replay"
    items = load_labelled(folder / "replay-dev.jsonl")
    gold: dict[str, Any] = json.loads((folder / "gold-dev.json").read_text(encoding="utf-8"))
    score = score_replay(replay(items, classify, EscalationRules.from_profile(profile)), gold)
    assert score["misses"] == []
    assert score["false"] == []
    assert score["hit"] == score["required"] > 0
