"""The stage model: JSON data checked by hash, scored exactly as the training library
scores it, reproducible from the repository's files, and optional."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.evaluation.crossval import train_from_files, train_model
from extractors.evaluation.labelled import LabelledItem, load_labelled
from extractors.profile import load_profile
from extractors.stage_model import (
    ModelError,
    StageModel,
    char_ngrams,
    file_sha256,
    load_model,
    model_text,
)
from extractors.stages import StageClassifier
from extractors.training import TrainingSettings, fit_stage_model
from tests.support.paths import REPO
from tests.test_direction_pairs import PAIRS

SHIPPED = REPO / "seeds" / "monitor.toml"


def pair_items() -> list[LabelledItem]:
    """Labelled items made of the opposite-direction pairs (our own wording)."""
    items = []
    for lang, pairs in PAIRS.items():
        for n, pair in enumerate(pairs):
            for k, (title, lead, space, action) in enumerate(pair):
                items.append(
                    LabelledItem(
                        id=f"{lang}-{n}-{k}",
                        url="",
                        outlet="",
                        published="",
                        lang=lang,
                        title=title,
                        text=lead,
                        relevant=True,
                        space=space,
                        action=action,
                    )
                )
    return items


def test_scores_equal_the_training_library() -> None:
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    items = pair_items()
    texts = [model_text(i.title, i.text, 400) for i in items]
    labels = [i.space or "" for i in items]
    extras = [{"a": float(len(i.title) % 3), "b": 1.0} for i in items]
    settings = TrainingSettings(min_df=1, max_features=5000)
    model = fit_stage_model(texts, extras, labels, ("a", "b"), settings)

    vectorizer = TfidfVectorizer(
        analyzer=lambda t: char_ngrams(t, 3, 4), sublinear_tf=True, min_df=1, max_features=5000
    )
    rule = csr_matrix([[e["a"] * 0.5, e["b"] * 0.5] for e in extras])
    reference = LogisticRegression(C=10.0, max_iter=5000).fit(
        hstack([vectorizer.fit_transform(texts), rule]).tocsr(), labels
    )
    expected = reference.predict_proba(hstack([vectorizer.transform(texts), rule]).tocsr())
    for row, text, extra in zip(expected, texts, extras, strict=True):
        ours = model.probabilities(text, extra)
        for name, probability in zip(reference.classes_, row, strict=True):
            assert ours[name] == pytest.approx(probability, abs=1e-4)


def test_model_file_is_checked_against_its_hash(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    items = pair_items()
    classifier = StageClassifier(load_profile(SHIPPED), use_model=False)
    model = train_model(items, classifier, TrainingSettings(min_df=1))
    path = tmp_path / "model.json"
    path.write_bytes(model.to_json())
    digest = file_sha256(path)
    loaded = load_model(path, digest)
    text = model_text("Japan lifts export curbs", "Tokyo ends the curbs.", 400)
    assert loaded.probabilities(text, {}) == pytest.approx(model.probabilities(text, {}))
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(path, "0" * 64)
    path.write_bytes(path.read_bytes().replace(b'"extra_scale": 0.5', b'"extra_scale": 5.0'))
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(path, digest)
    (tmp_path / "other.json").write_text(json.dumps({"format": "pickle"}))
    with pytest.raises(ModelError, match="not a"):
        load_model(tmp_path / "other.json", "")
    with pytest.raises(ModelError, match="No such file"):
        load_model(tmp_path / "missing.json", "")


def test_training_is_reproducible() -> None:
    pytest.importorskip("sklearn")
    classifier = StageClassifier(load_profile(SHIPPED), use_model=False)
    first = train_model(pair_items(), classifier, TrainingSettings(min_df=1)).to_json()
    second = train_model(pair_items(), classifier, TrainingSettings(min_df=1)).to_json()
    assert first == second
    assert b"pickle" not in first and json.loads(first)["format"] == "straitwatch-stage-model/1"


def test_shipped_model_is_the_one_the_shipped_data_trains() -> None:
    pytest.importorskip("sklearn")
    import sklearn

    profile = load_profile(SHIPPED)
    shipped = StageClassifier(profile)
    assert shipped.model is not None
    assert file_sha256(Path(shipped.rules.model_file)) == shipped.rules.model_sha256
    data = sorted((REPO / "seeds" / "training").glob("*.jsonl"))
    items = [item for path in data for item in load_labelled(path)]
    retrained = train_from_files(data, StageClassifier(profile, use_model=False))
    if shipped.model.about.get("scikit_learn") == sklearn.__version__:
        assert retrained.to_json() == Path(shipped.rules.model_file).read_bytes()

    def top(model: StageModel, item: LabelledItem) -> str:
        probabilities = model.probabilities(model_text(item.title, item.text, 400), {})
        return max(probabilities.items(), key=lambda entry: entry[1])[0]

    relevant = [item for item in items if item.relevant]
    agree = sum(top(retrained, item) == top(shipped.model, item) for item in relevant)
    assert agree >= 0.99 * len(relevant)


def test_without_a_model_file_the_rules_alone_decide(tmp_path: Path) -> None:
    profile_path = tmp_path / "profile.toml"
    profile_path.write_text(
        f'extends = "{SHIPPED}"\n[stages.model]\nfile = ""\nsha256 = ""\n', encoding="utf-8"
    )
    classifier = StageClassifier(load_profile(profile_path))
    assert classifier.model is None
    stage = classifier.classify(
        "Seoul and Tokyo trade barbs over wartime labour",
        "South Korea criticised Japan over the forced labour ruling, officials said.",
    )
    assert stage.reason.startswith(("cues:", "rule:")) and stage.confidence in (None, 1.0)


def test_a_model_decision_carries_its_confidence() -> None:
    classifier = StageClassifier(load_profile(SHIPPED))
    stage = classifier.classify(
        "Seoul and Tokyo trade barbs over wartime labour",
        "South Korea criticised Japan over the forced labour ruling, officials said.",
    )
    assert stage.reason.startswith("model: ")
    assert stage.confidence is not None and 0.0 < stage.confidence <= 1.0
    assert stage.reason.endswith(f"{stage.confidence:.2f}")
