"""Evaluation of relevance and stages on labelled items, and the corpus targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.evaluation.labelled import LabelledError, load_labelled
from extractors.evaluation.scoring import evaluate_relevance, evaluate_stages
from extractors.relevance import Relevance
from extractors.stages import Stage

TINY = Path(__file__).resolve().parent / "fixtures" / "labelled" / "tiny.jsonl"


class _TitleScorer:
    """Relevant exactly when the title starts with MATCH; score 0.9 or 0.2."""

    def score(self, title: str, text: str) -> Relevance:
        hit = title.startswith("MATCH")
        return Relevance(hit, 0.9 if hit else 0.2, (), (), (), "fake")


class _FixedStages:
    def __init__(self, answers: dict[str, str | None]) -> None:
        self.answers = answers

    def classify(self, title: str, text: str) -> Stage:
        return Stage(self.answers[title], "step", (), ())


def test_load_labelled_reads_every_field_and_skips_blank_lines() -> None:
    items = load_labelled(TINY)
    assert [item.id for item in items] == ["t-1", "t-2", "t-3", "t-4", "t-5", "t-6"]
    assert items[0].relevant is True and items[0].space == "economic"
    assert items[0].action == "step" and items[0].published == "2019-07-04"
    assert items[4].lang == "ko" and items[4].space is None
    assert items[5].relevant is None


def test_load_labelled_names_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "relevant": true}\n{"id": "b", "space": "sports"}\n')
    with pytest.raises(LabelledError, match=r"bad.jsonl:2: space"):
        load_labelled(bad)


def test_relevance_metrics_by_hand() -> None:
    report = evaluate_relevance(load_labelled(TINY), _TitleScorer())  # type: ignore[arg-type]
    # t-1, t-2 true positives; t-3 a miss; t-4 a false alarm; t-5 a true negative;
    # t-6 is undecided and skipped.
    assert (report["tp"], report["fp"], report["fn"], report["tn"]) == (2, 1, 1, 1)
    assert report["n"] == 5
    assert report["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["f1"] == pytest.approx(2 / 3, abs=1e-4)
    # Worst first: the false alarm scored 0.9, the miss 0.2 (0.8 from the line).
    assert [miss["id"] for miss in report["misses"]] == ["t-4", "t-3"]
    assert report["misses"][0]["expected"] is False and report["misses"][0]["got"] is True


def test_stage_metrics_by_hand() -> None:
    answers: dict[str, str | None] = {"MATCH one": "economic", "MATCH two": "economic"}
    answers["missed"] = None
    report = evaluate_stages(load_labelled(TINY), _FixedStages(answers))  # type: ignore[arg-type]
    # Only t-1 (economic), t-2 and t-3 (security) are relevant with a space.
    assert report["n"] == 3
    assert report["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["confusion"] == {
        "economic": {"economic": 1},
        "security": {"economic": 1, "none": 1},
    }
    # economic: P 1/2, R 1 -> F1 2/3; security: F1 0 -> macro 1/3.
    assert report["macro_f1"] == pytest.approx(1 / 3, abs=1e-4)
