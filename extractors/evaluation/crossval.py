"""An honest estimate: grouped K-fold cross-validation of the stage decision.

Items about one event (a shared ``group``, or the same space within three days) stay in one
fold, so the model never sees a reprint of the story it is tested on. In each fold the
model is trained on the other folds, exactly as ``straitwatch train`` trains it, and the
rules stay as the profile has them: nothing is tuned per fold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from extractors.evaluation.labelled import LabelledItem, load_labelled
from extractors.evaluation.scoring import stage_measures
from extractors.stage_model import StageModel, model_text
from extractors.stages import StageClassifier
from extractors.training import TrainingSettings, fit_stage_model

EVENT_DAYS = 3
DEFAULT_SETTINGS = TrainingSettings()


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None


def event_groups(items: Sequence[LabelledItem], days: int = EVENT_DAYS) -> list[int]:
    """Return a group number per item: one event's items share a number.

    One event: a shared ``group``, the same id or headline, or the same space within
    ``days`` days (chained, so a week of reports on one step stays together).
    """
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    dated = sorted(
        (
            (i, day, item.space)
            for i, item in enumerate(items)
            if (day := _day(item.published)) is not None
        ),
        key=lambda e: e[1],
    )
    for i, item in enumerate(items):
        # A shared group, the same id, or the same headline (a reprint) is one event.
        keys = [f"id:{item.id}", "title:" + " ".join(item.title.lower().split())]
        keys += [f"group:{item.group}"] if item.group else []
        for key in keys:
            parent[find(i)] = find(first.setdefault(key, i))
    for position, (i, day_i, space_i) in enumerate(dated):
        for j, day_j, space_j in dated[position + 1 :]:
            assert day_i is not None and day_j is not None  # noqa: S101 - filtered above
            if (day_j - day_i).days > days:
                break
            if space_i == space_j:
                parent[find(j)] = find(i)
    return [find(i) for i in range(len(items))]


def grouped_folds(groups: Sequence[int], k: int) -> list[list[int]]:
    """Return k folds of item indexes; each group lies in one fold, sizes kept even.

    Deterministic: the largest groups are placed first, each into the smallest fold.
    """
    members: dict[int, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    folds: list[list[int]] = [[] for _ in range(k)]
    for _, indexes in sorted(members.items(), key=lambda entry: (-len(entry[1]), entry[0])):
        min(folds, key=len).extend(indexes)
    return [sorted(fold) for fold in folds]


def training_rows(
    items: Sequence[LabelledItem], classifier: StageClassifier, max_chars: int
) -> tuple[list[str], list[dict[str, float]], list[str]]:
    """Return the model's texts, rule features and labels for the relevant items."""
    texts: list[str] = []
    extras: list[dict[str, float]] = []
    labels: list[str] = []
    for item in items:
        if item.relevant is not True or item.space is None:
            continue
        texts.append(model_text(item.title, item.text, max_chars))
        extras.append(classifier.features(classifier.reading(item.title, item.text)))
        labels.append(item.space)
    return texts, extras, labels


def train_model(
    items: Sequence[LabelledItem],
    classifier: StageClassifier,
    settings: TrainingSettings = DEFAULT_SETTINGS,
    about: dict[str, Any] | None = None,
) -> StageModel:
    """Return the stage model trained on the relevant items (rules read as features)."""
    texts, extras, labels = training_rows(items, classifier, settings.max_chars)
    return fit_stage_model(texts, extras, labels, classifier.feature_names(), settings, about=about)


def train_from_files(
    paths: Sequence[Path],
    classifier: StageClassifier,
    settings: TrainingSettings = DEFAULT_SETTINGS,
) -> StageModel:
    """Return the stage model trained on labelled files, which the model file names."""
    items = [item for path in paths for item in load_labelled(path)]
    return train_model(items, classifier, settings, about={"data": [p.name for p in paths]})


def held_out_classifiers(
    items: Sequence[LabelledItem],
    make_classifier: Callable[[], StageClassifier],
    k: int = 5,
    settings: TrainingSettings = DEFAULT_SETTINGS,
) -> tuple[dict[str, StageClassifier], StageClassifier]:
    """Return, per trained-on item id, a classifier whose model never saw that item.

    The second value's model is trained on every item: honest for the items it was not
    trained on (those without a relevant label), which are never training data.
    """
    scored = [item for item in items if item.relevant is True and item.space is not None]
    folds = grouped_folds(event_groups(scored), k)
    by_item: dict[str, StageClassifier] = {}
    for fold in folds:
        held = set(fold)
        classifier = make_classifier()
        train = [item for i, item in enumerate(scored) if i not in held]
        classifier.model = train_model(train, classifier, settings)
        for i in fold:
            by_item[scored[i].id] = classifier
    everything = make_classifier()
    everything.model = train_model(scored, everything, settings)
    return by_item, everything


def cross_validate_stages(
    items: Sequence[LabelledItem],
    make_classifier: Callable[[], StageClassifier],
    k: int = 5,
    settings: TrainingSettings = DEFAULT_SETTINGS,
) -> dict[str, Any]:
    """Return stage measures over held-out folds, overall and per fold.

    ``make_classifier`` builds the rules alone (no model); each fold gets its own model.
    """
    scored = [item for item in items if item.relevant is True and item.space is not None]
    by_item, _ = held_out_classifiers(scored, make_classifier, k, settings)
    per_fold: dict[int, list[tuple[str, str]]] = {}
    decided_by: dict[str, int] = {}
    pairs: list[tuple[str, str]] = []
    for item in scored:
        classifier = by_item[item.id]
        stage = classifier.classify(item.title, item.text)
        pair = (item.space or "", stage.space or "none")
        pairs.append(pair)
        per_fold.setdefault(id(classifier), []).append(pair)
        kind = stage.reason.split(":", 1)[0] or "none"
        decided_by[kind] = decided_by.get(kind, 0) + 1
    result = stage_measures(pairs)
    result["folds"] = [
        {key: measures[key] for key in ("accuracy", "macro_f1", "n")}
        for measures in map(stage_measures, per_fold.values())
    ]
    result["k"] = k
    result["decided_by"] = decided_by
    return result
