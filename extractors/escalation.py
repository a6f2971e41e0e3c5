"""The escalation state machine: staged reports over time -> escalation and de-escalation.

The dispute's state is the set of *active* conflict spaces. A space is *confirmed* when
enough independent outlets report a concrete step in it within a short window; a conflict
space entering the active set is an escalation, a confirmed cooperation step is a
de-escalation. Everything here is pure: the caller persists ``DisputeState`` (as JSON) in
the same transaction as the transitions it emits, so each transition is decided once.

Why a cooperation step does not close conflict fronts by default: a thaw step answers one
front (a pact kept, a list restored) while others go on, and an open front that goes quiet
lapses by itself after ``active_window``. Closing every front on each thaw step would turn
the next report of a still-running row into a "new front" alert, and on the replay timeline
(``straitwatch eval replay``) it changes no alert at all. Profiles that want it can set
``cooperation_deactivates = true``: fronts then reopen only on steps dated after the thaw.

Its length is the state machine and its explanation, kept whole: its rules change together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from extractors.profile import Profile, ProfileError, read_table

SPACES = ("history", "diplomatic", "economic", "security")
COOPERATION = "cooperation"
ACTIONS = ("step", "talk")
ESCALATION = "escalation"
DE_ESCALATION = "de-escalation"
# Severity by distance from the top of the ladder; lower rungs all read "low".
_SEVERITY_FROM_TOP = ("critical", "high", "medium")


@dataclass(frozen=True)
class Report:
    """One stored, staged article: one outlet's report of a step or of talk in a space."""

    key: str
    cluster: str
    outlet: str
    at: datetime
    space: str
    action: str

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError(f"report {self.key}: time must be timezone-aware, got {self.at}")
        if self.action not in ACTIONS:
            raise ValueError(f"report {self.key}: action must be one of {ACTIONS}")

    def to_json(self) -> dict[str, str]:
        """Return the report as a JSON-ready mapping."""
        return {
            "key": self.key,
            "cluster": self.cluster,
            "outlet": self.outlet,
            "at": self.at.isoformat(),
            "space": self.space,
            "action": self.action,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Report:
        """Return the report that ``to_json`` wrote."""
        rest = {name: value for name, value in data.items() if name != "at"}
        return cls(at=datetime.fromisoformat(data["at"]), **rest)


@dataclass(frozen=True)
class Transition:
    """A change of the dispute's state, decided at ``at`` (the caller's clock)."""

    kind: str
    space: str
    at: datetime
    episode: int
    evidence: tuple[str, ...]
    outlets: tuple[str, ...]
    severity: str
    evidence_at: tuple[datetime, ...] = ()

    @property
    def confirmed_on(self) -> date:
        """The day corroboration was first reached: fixed by the evidence, not the clock."""
        return max(self.evidence_at).date() if self.evidence_at else self.at.date()

    @property
    def key(self) -> str:
        """Return ``kind:space:YYYY-MM-DD``, the day the evidence confirmed it.

        Episode numbers depend on how much history was replayed (a backfill of older
        months renumbers them); the confirmation day does not, so the same transition keeps
        its key, and its alert is not sent again, however the history was rebuilt.
        """
        return f"{self.kind}:{self.space}:{self.confirmed_on.isoformat()}"


@dataclass(frozen=True)
class EscalationRules:
    """Thresholds of the state machine, read from the profile's ``[escalation]`` table."""

    corroboration: int = 2
    confirm_window: timedelta = timedelta(hours=72)
    active_window: timedelta = timedelta(days=30)
    cooperation_cooldown: timedelta = timedelta(days=5)
    # Not used by ``advance``: live runs alert only on transitions corroborated this recently.
    live_horizon: timedelta = timedelta(hours=96)
    ladder: tuple[str, ...] = SPACES
    cooperation_deactivates: bool = False

    def __post_init__(self) -> None:
        if self.corroboration < 1:
            raise ValueError("corroboration must be at least 1")
        if (
            not self.ladder
            or COOPERATION in self.ladder
            or len(set(self.ladder)) != len(self.ladder)
        ):
            raise ValueError(f"ladder must list distinct conflict spaces: {self.ladder}")

    @classmethod
    def from_profile(cls, profile: Profile) -> EscalationRules:
        """Return the rules of ``profile.escalation``; absent keys keep their defaults.

        Unknown keys raise ProfileError, so a misspelt threshold is not silently ignored.
        """
        return rules_from_mapping(profile.escalation, where=str(profile.path))

    def severity(self, kind: str, space: str) -> str:
        """Return the routing severity of a transition: the ladder's top is critical."""
        if kind != ESCALATION:
            return "info"
        from_top = len(self.ladder) - 1 - self.ladder.index(space)
        return _SEVERITY_FROM_TOP[from_top] if from_top < len(_SEVERITY_FROM_TOP) else "low"


Hours = Annotated[float, Field(ge=0)]


class EscalationTable(BaseModel):
    """The ``[escalation]`` table as written: durations in hours or days, absent keys None.

    Strict: a duration is a number (not a string or a boolean), ``corroboration`` a whole
    number, and an unknown key is an error, so a misspelt threshold is not silently ignored.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    corroboration: int | None = None
    ladder: list[str] | None = None
    cooperation_deactivates: bool | None = None
    confirm_window_hours: Hours | None = None
    confirm_window_days: Hours | None = None
    active_window_hours: Hours | None = None
    active_window_days: Hours | None = None
    cooperation_cooldown_hours: Hours | None = None
    cooperation_cooldown_days: Hours | None = None
    live_horizon_hours: Hours | None = None
    live_horizon_days: Hours | None = None

    def rules(self) -> EscalationRules:
        """Return the rules this table sets, the defaults where it is silent."""
        values: dict[str, Any] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            stem, _, unit = name.rpartition("_")
            if unit in ("hours", "days"):
                values[stem] = timedelta(**{unit: value})
            else:
                values[name] = tuple(value) if name == "ladder" else value
        return EscalationRules(**values)


def rules_from_mapping(table: Mapping[str, Any], where: str = "profile") -> EscalationRules:
    """Return rules from an ``[escalation]`` table; a bad table is one ProfileError line."""
    written = read_table(EscalationTable, table, "escalation", where)
    try:
        return written.rules()
    except ValueError as exc:
        raise ProfileError(f"{where}: [escalation] {exc}") from exc


@dataclass(frozen=True)
class DisputeState:
    """What the machine remembers between runs.

    ``confirmed`` holds, per conflict space, the time of its last confirmation (spaces
    that lapsed are dropped); ``episodes`` counts transitions per ``kind:space``;
    ``recent`` holds the step reports still inside the confirm window; ``last_cooperation``
    is the time of the last confirmed cooperation step; ``as_of`` is the last clock seen.
    """

    confirmed: Mapping[str, datetime] = field(default_factory=dict)
    episodes: Mapping[str, int] = field(default_factory=dict)
    recent: tuple[Report, ...] = ()
    last_cooperation: datetime | None = None
    as_of: datetime | None = None
    ladder: tuple[str, ...] = SPACES

    @property
    def active(self) -> tuple[str, ...]:
        """Return the active conflict spaces, lowest rung of the ladder first."""
        return tuple(space for space in self.ladder if space in self.confirmed)

    def to_json(self) -> dict[str, Any]:
        """Return the state as a JSON-ready mapping."""
        return {
            "confirmed": {space: at.isoformat() for space, at in self.confirmed.items()},
            "episodes": dict(self.episodes),
            "recent": [report.to_json() for report in self.recent],
            "last_cooperation": _iso(self.last_cooperation),
            "as_of": _iso(self.as_of),
            "ladder": list(self.ladder),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DisputeState:
        """Return the state that ``to_json`` wrote; an empty mapping is the initial state."""
        return cls(
            confirmed={
                space: datetime.fromisoformat(at) for space, at in data.get("confirmed", {}).items()
            },
            episodes={key: int(count) for key, count in data.get("episodes", {}).items()},
            recent=tuple(Report.from_json(report) for report in data.get("recent", ())),
            last_cooperation=_parse_iso(data.get("last_cooperation")),
            as_of=_parse_iso(data.get("as_of")),
            ladder=tuple(data.get("ladder", SPACES)),
        )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def independent_count(reports: Iterable[Report]) -> int:
    """Return how many independent reports there are: each cluster and each outlet once.

    This is a maximum matching between clusters and outlets, so a wire story reprinted by
    ten outlets counts once, and one outlet's several stories count once too.
    """
    outlets_of: dict[str, set[str]] = {}
    for report in reports:
        outlets_of.setdefault(report.cluster, set()).add(report.outlet)
    holder: dict[str, str] = {}  # outlet -> the cluster it is matched with

    def assign(cluster: str, tried: set[str]) -> bool:
        for outlet in sorted(outlets_of[cluster]):
            if outlet in tried:
                continue
            tried.add(outlet)
            if outlet not in holder or assign(holder[outlet], tried):
                holder[outlet] = cluster
                return True
        return False

    return sum(assign(cluster, set()) for cluster in sorted(outlets_of))


def advance(
    state: DisputeState, reports: Sequence[Report], now: datetime, rules: EscalationRules
) -> tuple[DisputeState, list[Transition]]:
    """Return the state as of ``now`` with ``reports`` added, and the transitions decided now.

    Reports may come in any order and may be late: each counts at its own ``at``, but only
    step reports inside the confirm window ending at ``now`` can confirm anything, so a
    backlog of old reports never raises a fresh alert. Adding the same report (same key)
    twice changes nothing.

    The state's clock never goes back: a ``now`` earlier than the state's (a run that
    started before another one finished, a host clock stepped back) is read as the state's
    own time, so the run goes on and decides what it would have decided a moment later.
    """
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now}")
    if state.as_of is not None and now < state.as_of:
        now = state.as_of
    recent = _recent_steps(state.recent, reports, now - rules.confirm_window, rules)
    confirmed = dict(state.confirmed)
    episodes = dict(state.episodes)
    last_cooperation = state.last_cooperation
    transitions: list[Transition] = []

    # Cooperation first: when it closes fronts, steps before it must not count below.
    steps = [report for report in recent if report.space == COOPERATION]
    at = _confirmed_at(steps, rules)
    if at is not None:
        if last_cooperation is None or at - last_cooperation > rules.cooperation_cooldown:
            transitions.append(_transition(DE_ESCALATION, COOPERATION, steps, now, episodes, rules))
            if rules.cooperation_deactivates:
                confirmed = {space: when for space, when in confirmed.items() if when > at}
        last_cooperation = at if last_cooperation is None else max(last_cooperation, at)

    for space in rules.ladder:
        steps = [
            report
            for report in recent
            if report.space == space
            and not (
                rules.cooperation_deactivates
                and last_cooperation is not None
                and report.at <= last_cooperation
            )
        ]
        at = _confirmed_at(steps, rules)
        if at is None:
            continue
        previous = confirmed.get(space)
        if previous is None or at - previous > rules.active_window:
            transitions.append(_transition(ESCALATION, space, steps, now, episodes, rules))
        confirmed[space] = at if previous is None else max(previous, at)

    horizon = now - rules.active_window
    new_state = DisputeState(
        confirmed={space: when for space, when in confirmed.items() if when >= horizon},
        episodes=episodes,
        recent=recent,
        last_cooperation=last_cooperation,
        as_of=now,
        ladder=rules.ladder,
    )
    return new_state, transitions


def _recent_steps(
    kept: Iterable[Report], new: Iterable[Report], since: datetime, rules: EscalationRules
) -> tuple[Report, ...]:
    by_key: dict[str, Report] = {}
    for report in (*kept, *new):
        if report.space != COOPERATION and report.space not in rules.ladder:
            raise ValueError(f"report {report.key}: unknown space {report.space!r}")
        by_key.pop(report.key, None)  # a re-staged article replaces its older reading
        if report.action == "step" and report.at >= since:
            by_key[report.key] = report
    return tuple(sorted(by_key.values(), key=lambda report: (report.at, report.key)))


def _confirmed_at(steps: Sequence[Report], rules: EscalationRules) -> datetime | None:
    """Return the latest step's time if the steps are corroborated enough, else None."""
    if independent_count(steps) < rules.corroboration:
        return None
    return max(report.at for report in steps)


def _transition(
    kind: str,
    space: str,
    steps: Sequence[Report],
    now: datetime,
    episodes: dict[str, int],
    rules: EscalationRules,
) -> Transition:
    counter = f"{kind}:{space}"
    episodes[counter] = episodes.get(counter, 0) + 1
    return Transition(
        kind=kind,
        space=space,
        at=now,
        episode=episodes[counter],
        evidence=tuple(report.key for report in steps),
        outlets=tuple(sorted({report.outlet for report in steps})),
        severity=rules.severity(kind, space),
        evidence_at=tuple(report.at for report in _corroborating(steps, rules)),
    )


def _corroborating(steps: Sequence[Report], rules: EscalationRules) -> Sequence[Report]:
    """Return the earliest steps (in time order) that were enough to confirm.

    The confirmation day, and so the transition's key, is the day corroboration was first
    reached: the same whether the reports arrive in one run or are replayed one by one, and
    whatever later reports of the same step were added.
    """
    ordered = sorted(steps, key=lambda report: (report.at, report.key))
    for end in range(1, len(ordered) + 1):
        if independent_count(ordered[:end]) >= rules.corroboration:
            return ordered[:end]
    return ordered
