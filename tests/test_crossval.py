"""Grouped cross-validation: one event's items stay in one fold; each fold's model never
sees the items it is tested on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from extractors.evaluation.crossval import (
    cross_validate_stages,
    event_groups,
    grouped_folds,
    held_out_classifiers,
)
from extractors.evaluation.labelled import LabelledItem
from extractors.profile import load_profile
from extractors.stages import StageClassifier
from tests.support.paths import REPO
from tests.test_stage_model import pair_items

SHIPPED = REPO / "seeds" / "monitor.toml"


def item(i: str, published: str, space: str | None, group: str = "") -> LabelledItem:
    return LabelledItem(
        id=i,
        url="",
        outlet="",
        published=published,
        lang="en",
        title=i,
        text=i,
        relevant=space is not None,
        space=space,
        action=None,
        group=group,
    )


def test_one_event_is_one_group() -> None:
    items = [
        item("a", "2019-08-22", "security"),
        item("b", "2019-08-24", "security"),  # two days later, same space: same event
        item("c", "2019-08-27", "security"),  # three days after b: chained in
        item("d", "2019-09-10", "security"),  # weeks later: another event
        item("e", "2019-08-23", "economic"),  # same days, another space
        item("f", "", "economic", group="x"),
        item("g", "2020-01-01", "history", group="x"),  # a shared group joins them
        item("h", "", "economic"),  # no date, no group: alone
        item("h", "", "economic"),  # the same item again (a file read twice)
    ]
    groups = dict(zip("abcdefghi", event_groups(items), strict=True))
    assert event_groups(items)[-1] == event_groups(items)[-2]
    assert groups["a"] == groups["b"] == groups["c"]
    assert len({groups["a"], groups["d"], groups["e"], groups["f"], groups["h"]}) == 5
    assert groups["f"] == groups["g"]


def test_folds_keep_groups_whole_and_even() -> None:
    groups = [0, 0, 0, 1, 1, 2, 3, 4, 5, 5, 6, 7]
    folds = grouped_folds(groups, 3)
    assert sorted(i for fold in folds for i in fold) == list(range(len(groups)))
    for group in set(groups):
        assert sum(any(groups[i] == group for i in fold) for fold in folds) == 1
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    assert grouped_folds(groups, 3) == folds  # deterministic


def test_no_item_is_scored_by_a_model_that_saw_it() -> None:
    pytest.importorskip("sklearn")
    items = pair_items()
    by_item, everything = held_out_classifiers(
        items, lambda: StageClassifier(load_profile(SHIPPED), use_model=False), k=3
    )
    assert set(by_item) == {i.id for i in items}
    folds: dict[int, int] = {}
    for classifier in by_item.values():
        folds[id(classifier)] = folds.get(id(classifier), 0) + 1
    assert len(folds) == 3
    for classifier in by_item.values():
        assert classifier.model is not None
        assert classifier.model.about["items"] == len(items) - folds[id(classifier)]
    assert everything.model is not None and everything.model.about["items"] == len(items)


def test_cross_validation_reports_folds_and_what_decided() -> None:
    pytest.importorskip("sklearn")
    items = pair_items() + [replace(pair_items()[0], id="no", relevant=False, space=None)]
    result = cross_validate_stages(
        items, lambda: StageClassifier(load_profile(SHIPPED), use_model=False), k=3
    )
    assert result["n"] == len(items) - 1
    assert len(result["folds"]) == 3 and sum(f["n"] for f in result["folds"]) == result["n"]
    assert sum(result["decided_by"].values()) == result["n"]
    assert 0.0 <= result["accuracy"] <= 1.0
