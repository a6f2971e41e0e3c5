"""The learned second opinion on an article's space: a linear model read from JSON.

The model is data, not code. Its file holds the character n-gram vocabulary with each
n-gram's inverse document frequency, one weight per class for each feature, and the
intercepts, so a run loads no Python objects and needs no training library: scoring is a sparse
dot product. Character n-grams need no tokenizer, so English, Korean and Japanese are
read alike. The features are the n-grams of the headline and the lead (TF-IDF with
sublinear counts, L2-normalised, as the training library computes them) plus a few named
numbers from the rules (cue shares per space, direction findings), scaled by
``extra_scale``. ``straitwatch train`` writes the file; the profile records its SHA-256,
and a file whose hash differs is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import mul
from pathlib import Path
from typing import Any

FORMAT = "straitwatch-stage-model/1"


class ModelError(ValueError):
    """The model file is missing, altered, or not a model of this format."""


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Return the character n-grams of each word, padded with a space on both sides.

    The same function feeds training and scoring, so the two always agree.
    """
    grams: list[str] = []
    for word in text.lower().split():
        grams.extend(_word_grams(word, low, high))
    return grams


@lru_cache(maxsize=65536)
def _word_grams(word: str, low: int, high: int) -> tuple[str, ...]:
    # News repeats its words: caching each word's n-grams halves the cost of a page.
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if size <= n:
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return tuple(grams)


def model_text(title: str, text: str, max_chars: int) -> str:
    """Return what the model reads: the headline twice (it says what the news is), the lead."""
    title = " ".join(title.split())
    return f"{title} \n {title} \n {text[:max_chars]}"


@dataclass(frozen=True)
class StageModel:
    """A multinomial logistic model over n-grams and named rule features."""

    classes: tuple[str, ...]
    ngram_range: tuple[int, int]
    max_chars: int
    extras: tuple[str, ...]
    extra_scale: float
    # n-gram -> (idf, weight per class); extras' weights follow, one row per extra.
    grams: Mapping[str, tuple[float, tuple[float, ...]]]
    extra_weights: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    about: Mapping[str, Any]

    def probabilities(self, text: str, extras: Mapping[str, float]) -> dict[str, float]:
        """Return each class's probability for a text (see ``model_text``) and rule features."""
        counts = Counter(char_ngrams(text, *self.ngram_range))
        get = self.grams.get
        values = [
            ((1.0 + math.log(count)) * entry[0], entry[1])
            for gram, count in counts.items()
            if (entry := get(gram)) is not None
        ]
        scores = list(self.intercept)
        if values:
            weights = [entry for _, entry in values]
            tfidf = [value for value, _ in values]
            norm = math.sqrt(sum(map(mul, tfidf, tfidf))) or 1.0
            for k, column in enumerate(zip(*weights, strict=True)):
                scores[k] += sum(map(mul, tfidf, column)) / norm
        for name, row in zip(self.extras, self.extra_weights, strict=True):
            value = extras.get(name, 0.0) * self.extra_scale
            if value:
                for k, weight in enumerate(row):
                    scores[k] += value * weight
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        total = sum(exps)
        return {name: exp / total for name, exp in zip(self.classes, exps, strict=True)}

    def to_json(self) -> bytes:
        """Return the model file's bytes: canonical JSON, so one model has one hash."""
        data = {
            "format": FORMAT,
            "about": dict(self.about),
            "classes": list(self.classes),
            "ngram_range": list(self.ngram_range),
            "max_chars": self.max_chars,
            "extras": list(self.extras),
            "extra_scale": self.extra_scale,
            "intercept": list(self.intercept),
            "extra_weights": [list(row) for row in self.extra_weights],
            "grams": {gram: [idf, list(w)] for gram, (idf, w) in sorted(self.grams.items())},
        }
        return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=0) + "\n").encode()


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_model(path: Path, sha256: str) -> StageModel:
    """Read a model file after checking it against the hash the profile records."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ModelError(f"stage model {path}: {exc.strerror or exc}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 and digest != sha256.lower():
        raise ModelError(
            f"stage model {path} has SHA-256 {digest}, but the profile records {sha256}: "
            "retrain it with `straitwatch train` or record the new hash"
        )
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise ModelError(f"stage model {path} is not a {FORMAT} file")
        classes = tuple(map(str, data["classes"]))
        return StageModel(
            classes=classes,
            ngram_range=(int(data["ngram_range"][0]), int(data["ngram_range"][1])),
            max_chars=int(data["max_chars"]),
            extras=tuple(map(str, data["extras"])),
            extra_scale=float(data["extra_scale"]),
            grams={
                gram: (float(idf), _row(weights, len(classes)))
                for gram, (idf, weights) in data["grams"].items()
            },
            extra_weights=tuple(_row(row, len(classes)) for row in data["extra_weights"]),
            intercept=_row(data["intercept"], len(classes)),
            about=dict(data.get("about", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"stage model {path} is malformed: {exc}") from exc


def _row(values: Sequence[Any], width: int) -> tuple[float, ...]:
    row = tuple(float(value) for value in values)
    if len(row) != width:
        raise ValueError(f"expected {width} weights, found {len(row)}")
    return row
