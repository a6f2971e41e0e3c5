import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.escalation import (
    DisputeState,
    EscalationRules,
    Report,
    Transition,
    advance,
    independent_count,
)
from extractors.profile import ProfileError, load_profile
from tests.support.paths import REPO

START = datetime(2024, 1, 1, tzinfo=UTC)
RULES = EscalationRules()


def day(n: float) -> datetime:
    return START + timedelta(days=n)


def report(
    key: str,
    outlet: str,
    when: float,
    space: str = "security",
    action: str = "step",
    cluster: str | None = None,
) -> Report:
    return Report(
        key=key, cluster=cluster or key, outlet=outlet, at=day(when), space=space, action=action
    )


def run(
    batches: list[tuple[float, list[Report]]], rules: EscalationRules = RULES
) -> tuple[DisputeState, list[Transition]]:
    """Advance a fresh state through (now, reports) batches; return the end state and all."""
    state, everything = DisputeState(), []
    for now, reports in batches:
        state, transitions = advance(state, reports, day(now), rules)
        everything.extend(transitions)
    return state, everything


def test_two_outlets_within_the_window_confirm_an_escalation():
    state, transitions = run([(1, [report("a", "north.example", 0), report("b", "east", 1)])])
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in transitions] == ["escalation:security:1"]
    only = transitions[0]
    assert only.evidence == ("a", "b")
    assert only.outlets == ("east", "north.example")
    assert only.severity == "critical"
    assert only.at == day(1)
    assert state.active == ("security",)


def test_reprints_of_one_story_count_once():
    reprints = [report(f"r{n}", f"outlet{n}", 0, cluster="wire-story") for n in range(5)]
    _, transitions = run([(0, reprints)])
    assert transitions == []
    _, transitions = run([(0, [*reprints, report("own", "outlet9", 0)])])
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in transitions] == ["escalation:security:1"]


def test_the_same_outlet_twice_counts_once():
    _, transitions = run([(1, [report("a", "north", 0), report("b", "north", 1)])])
    assert transitions == []


def test_independent_count_matches_clusters_to_distinct_outlets():
    reports = [
        report("wire-1", "a", 0, cluster="wire"),
        report("wire-2", "b", 0, cluster="wire"),
        report("a-own", "a", 0),
        report("a-other", "a", 0),
    ]
    # The wire story goes to b, one of a's own stories to a; a's second story adds nothing.
    assert independent_count(reports) == 2
    assert independent_count(reports[:2]) == 1
    assert independent_count([]) == 0


def test_talk_never_triggers():
    talk = [report(f"t{n}", f"outlet{n}", 0, action="talk") for n in range(6)]
    state, transitions = run([(0, talk)])
    assert transitions == []
    assert state.recent == ()


def test_two_outlets_four_days_apart_do_not_confirm_but_three_days_do():
    _, far = run([(0, [report("a", "north", 0)]), (4, [report("b", "east", 4)])])
    assert far == []
    _, near = run([(0, [report("a", "north", 0)]), (3, [report("b", "east", 3)])])
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in near] == ["escalation:security:1"]


def test_escalation_is_not_repeated_while_the_space_stays_active():
    batches = [
        (1, [report("a", "north", 0), report("b", "east", 1)]),
        (20, [report("c", "north", 20), report("d", "west", 20)]),
        (45, [report("e", "south", 45), report("f", "east", 45)]),  # 25 days after day 20
    ]
    state, transitions = run(batches)
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in transitions] == ["escalation:security:1"]
    assert state.active == ("security",)


def test_reentry_after_the_space_lapses_opens_a_new_episode():
    state, transitions = run(
        [
            (1, [report("a", "north", 0), report("b", "east", 1)]),
            (35, []),
        ]
    )
    assert state.active == ()
    state, again = advance(
        state, [report("c", "north", 40), report("d", "west", 40)], day(40), RULES
    )
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in transitions + again] == [
        "escalation:security:1",
        "escalation:security:2",
    ]
    assert state.active == ("security",)


def test_reentry_is_found_even_when_no_run_saw_the_space_lapse():
    _, transitions = run(
        [
            (1, [report("a", "north", 0), report("b", "east", 1)]),
            (40, [report("c", "north", 40), report("d", "west", 40)]),
        ]
    )
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in transitions] == [
        "escalation:security:1",
        "escalation:security:2",
    ]


def test_spaces_escalate_independently_and_active_follows_the_ladder():
    state, transitions = run(
        [
            (0, [report("s1", "north", 0), report("s2", "east", 0)]),
            (2, [report("h1", "north", 2, "history"), report("h2", "west", 2, "history")]),
        ]
    )
    assert [(t.space, t.severity) for t in transitions] == [
        ("security", "critical"),
        ("history", "low"),
    ]
    assert state.active == ("history", "security")


def test_a_cooperation_step_after_an_escalation_is_a_de_escalation():
    escalation = (1, [report("a", "north", 0), report("b", "east", 1)])
    thaw = (10, [report("c", "north", 10, "cooperation"), report("d", "west", 10, "cooperation")])
    state, transitions = run([escalation, thaw])
    assert [(f"{t.kind}:{t.space}:{t.episode}", t.severity) for t in transitions] == [
        ("escalation:security:1", "critical"),
        ("de-escalation:cooperation:1", "info"),
    ]
    assert transitions[1].evidence == ("c", "d")
    # By default a thaw step does not close the open front: it lapses on its own.
    assert state.active == ("security",)


def test_a_closing_cooperation_step_needs_fresh_steps_to_reopen_a_front():
    rules = EscalationRules(cooperation_deactivates=True)
    state, transitions = run(
        [
            (1, [report("a", "north", 0), report("b", "east", 1)]),
            (2, [report("c", "north", 2, "cooperation"), report("d", "west", 2, "cooperation")]),
        ],
        rules,
    )
    assert state.active == ()
    # The pre-thaw steps are still inside the confirm window but do not count any more.
    state, later = advance(state, [report("e", "south", 3)], day(3), rules)
    assert later == []
    state, later = advance(state, [report("f", "north", 4)], day(4), rules)
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in later] == ["escalation:security:2"]
    assert later[0].evidence == ("e", "f")


def test_the_same_cooperation_step_reported_again_is_not_new():
    first = (1, [report("a", "north", 0, "cooperation"), report("b", "east", 1, "cooperation")])
    echo = (3, [report("c", "west", 3, "cooperation"), report("d", "south", 3, "cooperation")])
    _, transitions = run([first, echo])
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in transitions] == [
        "de-escalation:cooperation:1"
    ]


def test_distinct_cooperation_steps_days_apart_are_distinct():
    first = (1, [report("a", "north", 0, "cooperation"), report("b", "east", 1, "cooperation")])
    second = (9, [report("c", "west", 9, "cooperation"), report("d", "north", 9, "cooperation")])
    _, transitions = run([first, second])
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in transitions] == [
        "de-escalation:cooperation:1",
        "de-escalation:cooperation:2",
    ]
    assert transitions[1].evidence == ("c", "d")


def test_reports_older_than_the_confirm_window_do_not_confirm():
    late = [report("a", "north", 0), report("b", "east", 1)]
    state, transitions = run([(10, late)])
    assert transitions == []
    assert state.recent == ()
    assert state.active == ()


def test_late_reports_inside_the_window_count_where_they_fall():
    state, transitions = run([(1, [report("a", "north", 1)]), (3, [report("b", "east", 0)])])
    assert [f"{t.kind}:{t.space}:{t.episode}" for t in transitions] == ["escalation:security:1"]
    # The space was last confirmed by its latest step (day 1), so it lapses 30 days later.
    assert state.confirmed["security"] == day(1)
    later, _ = advance(state, [], day(31.5), RULES)
    assert later.active == ()


def test_advancing_with_the_same_reports_again_changes_nothing():
    reports = [report("a", "north", 0), report("b", "east", 1)]
    state, first = run([(1, reports)])
    again, transitions = advance(state, reports, day(2), RULES)
    assert len(first) == 1
    assert transitions == []
    assert again.recent == state.recent


def test_state_json_round_trip():
    state, _ = run(
        [
            (1, [report("a", "north", 0), report("b", "east", 1, cluster="wire")]),
            (2, [report("c", "north", 2, "cooperation"), report("d", "west", 2, "cooperation")]),
        ]
    )
    data = json.loads(json.dumps(state.to_json()))
    restored = DisputeState.from_json(data)
    assert restored == state
    follow = [report("e", "south", 3, "economic"), report("f", "west", 3, "economic")]
    assert advance(restored, follow, day(3), RULES) == advance(state, follow, day(3), RULES)
    assert DisputeState.from_json({}) == DisputeState()


def test_incremental_advance_equals_one_shot_advance():
    reports = [
        report("s1", "north", 0),
        report("s2", "east", 1, cluster="wire"),
        report("s3", "west", 1, cluster="wire"),
        report("e1", "north", 1, "economic"),
        report("e2", "south", 2, "economic"),
        report("c1", "east", 2, "cooperation"),
        report("c2", "west", 2, "cooperation"),
        report("t1", "south", 2, "history", action="talk"),
    ]
    one_state, one_shot = run([(2, reports)])
    shuffled = reports[:]
    random.Random(7).shuffle(shuffled)
    batched_state, batched = run([(2, shuffled[:3]), (2, shuffled[3:5]), (2, shuffled[5:])])
    assert sorted(t.key for t in batched) == sorted(t.key for t in one_shot)
    assert batched_state == one_state
    # Day by day reaches the same state; only the clock at which each was decided differs.
    daily_state, daily = run([(n, [r for r in reports if r.at == day(n)]) for n in range(3)])
    assert daily_state == one_state
    assert sorted(t.key for t in daily) == sorted(t.key for t in one_shot)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="timezone"):
        Report(
            key="a",
            cluster="a",
            outlet="x",
            at=datetime(2024, 1, 1),
            space="security",
            action="step",
        )
    with pytest.raises(ValueError, match="unknown space"):
        advance(DisputeState(), [report("a", "x", 0, "weather")], day(0), RULES)


def test_a_clock_behind_the_state_is_read_as_the_states_time():
    state, _ = advance(DisputeState(), [report("a", "x", 5, "security")], day(5), RULES)
    later, transitions = advance(state, [report("b", "y", 5, "security")], day(4), RULES)
    assert later.as_of == state.as_of == day(5)
    assert [t.space for t in transitions] == ["security"]


def test_rules_come_from_the_shipped_profile():
    rules = EscalationRules.from_profile(load_profile(REPO / "seeds" / "monitor.toml"))
    assert rules.corroboration >= 2
    assert rules.confirm_window == timedelta(hours=72)
    assert rules.ladder[-1] == "security"
    assert rules.severity("escalation", "economic") == "high"
    assert rules.severity("de-escalation", "cooperation") == "info"


def _profile_with(tmp_path: Path, escalation: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(
        '[monitor]\nname = "reef"\n[seed]\nfile = "seed.txt"\n'
        '[parties.a]\nname = "A"\n[parties.b]\nname = "B"\n'
        f"[escalation]\n{escalation}\n",
        encoding="utf-8",
    )
    return path


def test_rules_from_a_custom_profile(tmp_path):
    path = _profile_with(
        tmp_path,
        "corroboration = 3\nconfirm_window_hours = 48\nactive_window_days = 10\n"
        'ladder = ["words", "boats"]\ncooperation_deactivates = true',
    )
    rules = EscalationRules.from_profile(load_profile(path))
    assert rules.corroboration == 3
    assert rules.confirm_window == timedelta(hours=48)
    assert rules.active_window == timedelta(days=10)
    assert rules.cooperation_cooldown == timedelta(days=5)
    assert rules.ladder == ("words", "boats")
    assert rules.cooperation_deactivates is True
    assert [rules.severity("escalation", s) for s in rules.ladder] == ["high", "critical"]


@pytest.mark.parametrize(
    "line",
    [
        "corroboraton = 2",
        "confirm_window_weeks = 1",
        "active_window_days = -1",
        "corroboration = true",
        'confirm_window_hours = "72"',
        'ladder = ["boats", "boats"]',
    ],
)
def test_rules_reject_unknown_or_bad_keys(tmp_path, line):
    with pytest.raises(ProfileError, match="escalation"):
        EscalationRules.from_profile(load_profile(_profile_with(tmp_path, line)))


def test_key_is_the_confirmation_day_and_survives_a_longer_history():
    recent = [report("c", "north.example", 100), report("d", "east", 101)]
    _, alone = run([(101, recent)])
    older = [report("a", "north.example", 0), report("b", "east", 1)]
    _, rebuilt = run([(1, older), (101, recent)])
    assert alone[0].episode == 1 and rebuilt[-1].episode == 2  # numbering shifts...
    assert alone[0].key == rebuilt[-1].key == f"escalation:security:{day(101).date()}"
    assert rebuilt[0].key == f"escalation:security:{day(1).date()}"


def test_the_key_is_the_day_corroboration_was_reached_however_reports_arrive() -> None:
    """One run that sees a later report of the step too (a page dated after midnight) and a
    rebuild that replays the reports one by one must name the transition alike."""
    reports = [
        report("a", "one.test", 0.5),
        report("b", "two.test", 0.6),
        report("c", "x.test", 1.5),
    ]
    _, at_once = run([(1.6, reports)])
    _, one_by_one = run(
        [(r.at.timestamp() / 86400 - START.timestamp() / 86400, [r]) for r in reports]
    )
    assert (
        [t.key for t in at_once]
        == [t.key for t in one_by_one]
        == [f"escalation:security:{day(0.6).date().isoformat()}"]
    )
