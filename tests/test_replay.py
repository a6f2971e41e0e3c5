import json
from datetime import date
from pathlib import Path

import pytest

from extractors.escalation import EscalationRules
from extractors.evaluation.labelled import load_labelled
from extractors.evaluation.replay import (
    ReplayAlert,
    oracle_classifier,
    outlet_host,
    replay,
    score_replay,
)
from extractors.profile import load_profile
from tests.support.paths import CORPUS, REPO

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "replay"
REPLAY_CORPUS = CORPUS / "replay"


def fixture_gold() -> dict:
    return json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("outlet", "url", "host"),
    [
        ("www.northpost.example", "", "northpost.example"),
        ("m.eastwire.example", "", "eastwire.example"),
        ("m-en.wire.example", "", "wire.example"),
        ("www3.broadcaster.example", "", "broadcaster.example"),
        ("blog.broadcaster.example", "", "broadcaster.example"),
        ("news.outlet.co.uk", "", "outlet.co.uk"),
        ("North Post", "https://www.northpost.example/a", "northpost.example"),
    ],
)
def test_outlet_host_is_the_production_outlet_rule(outlet, url, host):
    assert outlet_host(outlet, url) == host


def test_oracle_replay_of_the_fixture_timeline():
    items = load_labelled(FIXTURES / "items.jsonl")
    alerts = replay(items, oracle_classifier, EscalationRules())
    # economic: two hosts (www./m. stripped) a day apart; the third report is the same front.
    # diplomatic: talk only. security: four days apart. cooperation: the third is an echo.
    # The month-only item is not replayed.
    assert alerts == [
        ReplayAlert(date(2024, 3, 2), "escalation", "economic", ("t-01", "t-02")),
        ReplayAlert(date(2024, 4, 16), "de-escalation", "cooperation", ("t-09", "t-10")),
    ]
    score = score_replay(alerts, fixture_gold())
    assert (score["required"], score["hit"], score["missed"], score["false_alerts"]) == (3, 2, 1, 0)
    assert [m["space"] for m in score["misses"]] == ["security"]


def test_replay_uses_the_classifier_not_the_labels():
    items = load_labelled(FIXTURES / "items.jsonl")

    def everything_is_security(item):
        return True, "security", "step"

    alerts = replay(items, everything_is_security, EscalationRules())
    # Confirmed from 2 March, last re-confirmed on 10 March, lapsed by mid-April.
    assert [(a.date, a.kind, a.space) for a in alerts] == [
        (date(2024, 3, 2), "escalation", "security"),
        (date(2024, 4, 16), "escalation", "security"),
    ]


def test_score_replay_by_hand():
    alerts = [
        ReplayAlert(date(2024, 2, 28), "escalation", "economic", ("x",)),  # 2 days early
        ReplayAlert(date(2024, 3, 2), "escalation", "economic", ("x",)),  # hit, 1 day late
        ReplayAlert(date(2024, 3, 4), "escalation", "economic", ("x",)),  # inside, not false
        ReplayAlert(date(2024, 3, 5), "escalation", "economic", ("x",)),  # past the window
        ReplayAlert(date(2024, 3, 9), "escalation", "diplomatic", ("x",)),  # allowed event
        ReplayAlert(date(2024, 3, 19), "escalation", "security", ("x",)),  # hit, 1 day early
        ReplayAlert(date(2024, 3, 20), "escalation", "history", ("x",)),  # no such event
        ReplayAlert(date(2024, 5, 1), "de-escalation", "cooperation", ("x",)),  # never false
    ]
    score = score_replay(alerts, fixture_gold())
    assert {key: score[key] for key in ("required", "hit", "missed", "false_alerts", "alerts")} == {
        "required": 3,
        "hit": 2,
        "missed": 1,
        "false_alerts": 3,
        "alerts": 8,
    }
    assert [(h["space"], h["first_alert"], h["delay_days"]) for h in score["hits"]] == [
        ("economic", "2024-03-02", 1),
        ("security", "2024-03-19", -1),
    ]
    assert [m["date"] for m in score["misses"]] == ["2024-04-15"]
    assert [(f["date"], f["space"]) for f in score["false"]] == [
        ("2024-02-28", "economic"),
        ("2024-03-05", "economic"),
        ("2024-03-20", "history"),
    ]
    json.dumps(score)  # the CLI prints it as JSON


@pytest.mark.corpus
def test_oracle_replay_hits_every_required_event_without_false_alerts():
    if not REPLAY_CORPUS.is_dir():
        pytest.skip(f"replay corpus not found at {REPLAY_CORPUS.resolve()}")
    items = load_labelled(REPLAY_CORPUS / "replay-dev.jsonl")
    gold = json.loads((REPLAY_CORPUS / "gold-dev.json").read_text(encoding="utf-8"))
    rules = EscalationRules.from_profile(load_profile(REPO / "seeds" / "monitor.toml"))
    score = score_replay(replay(items, oracle_classifier, rules), gold)
    assert score["misses"] == []
    assert score["false"] == []
    assert score["hit"] == score["required"] == 10
