"""Measures of the relevance scorer and the stage classifier on labelled items."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from extractors.evaluation.labelled import SPACES, LabelledItem
from extractors.relevance import RelevanceScorer
from extractors.stages import StageClassifier


def _ratio(top: int, bottom: int) -> float:
    return top / bottom if bottom else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def evaluate_relevance(
    items: Iterable[LabelledItem], scorer: RelevanceScorer, max_misses: int = 10
) -> dict[str, Any]:
    """Return precision, recall, F1 and counts over items with a decided label.

    Items labelled null are skipped. ``misses`` lists the worst errors first: false
    positives with the highest scores and false negatives with the lowest.
    """
    counts = Counter[str]()
    misses: list[tuple[float, dict[str, Any]]] = []
    for item in items:
        if item.relevant is None:
            continue
        result = scorer.score(item.title, item.text)
        counts[
            ("t" if result.relevant == item.relevant else "f") + ("p" if result.relevant else "n")
        ] += 1
        if result.relevant != item.relevant:
            badness = result.score if result.relevant else 1.0 - result.score
            miss = {
                "id": item.id,
                "title": item.title,
                "expected": item.relevant,
                "got": result.relevant,
                "score": result.score,
                "reason": result.reason,
            }
            misses.append((badness, miss))
    precision = _ratio(counts["tp"], counts["tp"] + counts["fp"])
    recall = _ratio(counts["tp"], counts["tp"] + counts["fn"])
    misses.sort(key=lambda entry: -entry[0])
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(_f1(precision, recall), 4),
        "n": sum(counts.values()),
        **{key: counts[key] for key in ("tp", "fp", "fn", "tn")},
        "misses": [miss for _, miss in misses[:max_misses]],
    }


def evaluate_stages(items: Iterable[LabelledItem], classifier: StageClassifier) -> dict[str, Any]:
    """Return accuracy, macro F1 and the confusion over relevant items with a space."""
    pairs = [
        (item.space, classifier.classify(item.title, item.text).space or "none")
        for item in items
        if item.relevant is True and item.space is not None
    ]
    return stage_measures(pairs)


def stage_measures(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Return accuracy, macro F1 and the confusion of (gold, predicted) space pairs.

    ``confusion`` maps each gold space to the predicted spaces and their counts; a
    prediction of no space counts as "none". Macro F1 averages over the gold spaces seen.
    """
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for gold, predicted in pairs:
        confusion[gold][predicted] += 1
    n = sum(sum(row.values()) for row in confusion.values())
    correct = sum(row[space] for space, row in confusion.items())
    scores = []
    for space in (s for s in SPACES if s in confusion):
        tp = confusion[space][space]
        claimed = sum(row[space] for row in confusion.values())
        scores.append(_f1(_ratio(tp, claimed), _ratio(tp, sum(confusion[space].values()))))
    return {
        "accuracy": round(_ratio(correct, n), 4),
        "macro_f1": round(sum(scores) / len(scores), 4) if scores else 0.0,
        "n": n,
        "confusion": {gold: dict(row) for gold, row in sorted(confusion.items())},
    }
