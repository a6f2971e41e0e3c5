"""Fitting the stage model on labelled items (needs the ``train`` extra: scikit-learn).

Training is reproducible from the repository's files: the same items, profile and
library versions give the same model file, byte for byte (the weights are rounded so
that the last bits of floating point do not change the hash).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from extractors.stage_model import StageModel, char_ngrams

_DIGITS = 6


@dataclass(frozen=True)
class TrainingSettings:
    ngram_range: tuple[int, int] = (3, 4)
    max_features: int = 20_000
    min_df: int = 2
    c: float = 10.0
    extra_scale: float = 0.5
    max_chars: int = 400


def _analyzer(low: int, high: int) -> Any:
    def analyze(text: str) -> list[str]:
        return char_ngrams(text, low, high)

    return analyze


def fit_stage_model(
    texts: Sequence[str],
    extras: Sequence[Mapping[str, float]],
    labels: Sequence[str],
    extra_names: Sequence[str],
    settings: TrainingSettings | None = None,
    about: Mapping[str, Any] | None = None,
) -> StageModel:
    """Return a model fitted on texts (see ``model_text``), their rule features and labels."""
    try:
        import numpy as np
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("training needs scikit-learn: pip install 'straitwatch[train]'") from exc
    settings = settings or TrainingSettings()
    if len(set(labels)) < 2:
        raise ValueError("training needs items of at least two spaces")
    vectorizer = TfidfVectorizer(
        analyzer=_analyzer(*settings.ngram_range),
        sublinear_tf=True,
        min_df=settings.min_df,
        max_features=settings.max_features,
    )
    grams = vectorizer.fit_transform(list(texts))
    rule = np.array([[row.get(name, 0.0) for name in extra_names] for row in extras])
    matrix = hstack([grams, csr_matrix(rule * settings.extra_scale)]).tocsr()
    model = LogisticRegression(C=settings.c, max_iter=5000)
    model.fit(matrix, list(labels))
    coef = np.round(model.coef_, _DIGITS)
    classes = tuple(str(name) for name in model.classes_)
    if coef.shape[0] == 1:  # two classes: sklearn keeps one row; make it a softmax pair
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = [-model.intercept_[0] / 2, model.intercept_[0] / 2]
    else:
        intercept = list(model.intercept_)
    vocabulary = vectorizer.vocabulary_
    idf = vectorizer.idf_
    n_grams = len(vocabulary)
    return StageModel(
        classes=classes,
        ngram_range=settings.ngram_range,
        max_chars=settings.max_chars,
        extras=tuple(extra_names),
        extra_scale=settings.extra_scale,
        grams={
            gram: (round(float(idf[i]), _DIGITS), tuple(float(v) for v in coef[:, i]))
            for gram, i in vocabulary.items()
        },
        extra_weights=tuple(
            tuple(float(v) for v in coef[:, n_grams + j]) for j in range(len(extra_names))
        ),
        intercept=tuple(round(float(v), _DIGITS) for v in intercept),
        about={
            "items": len(labels),
            "classes": {name: list(labels).count(name) for name in classes},
            "data_sha256": _data_hash(texts, labels),
            "scikit_learn": importlib.metadata.version("scikit-learn"),
            "settings": {
                "ngram_range": list(settings.ngram_range),
                "max_features": settings.max_features,
                "min_df": settings.min_df,
                "C": settings.c,
            },
            **(about or {}),
        },
    )


def _data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()
