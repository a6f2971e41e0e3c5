"""The escalation stage an article reports: its space on the ladder, and step or talk.

Cue phrases for each space come from the profile's ``[stages]`` table, in every language
the monitor reads. Each sentence adds the weights of the distinct cues it carries, scaled
by where it stands (the headline and the lead say what the news is; later sentences are
mostly background). The answer is the cooperation space when thaw cues carry enough of
the total, else the highest conflict space on the ladder whose cues come close to the
strongest one: an article about a security step that recalls the trade row is security.
Step or talk is decided the same way from the profile's step and talk cues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from extractors.profile import Profile
from extractors.topics import PhraseMatcher, by_sentence, sentence_spans


@dataclass(frozen=True)
class Stage:
    space: str | None  # history|diplomatic|economic|security|cooperation, None if none
    action: str  # "step" | "talk"
    evidence: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class StageRules:
    """The profile's [stages] table."""

    # Conflict spaces from least to most escalated; the thaw space stands apart.
    ladder: tuple[str, ...] = ("history", "diplomatic", "economic", "security")
    thaw: str = "cooperation"
    cues: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    step_cues: Mapping[str, float] = field(default_factory=dict)
    talk_cues: Mapping[str, float] = field(default_factory=dict)
    title_weight: float = 3.0
    lead_weight: float = 1.5
    lead_sentences: int = 2
    body_weight: float = 1.0
    far_weight: float = 0.5
    far_after: int = 10
    thaw_share: float = 0.4
    reversal_weight: float = 1.0
    ladder_share: float = 0.6
    min_score: float = 1.0
    default_action: str = "step"
    max_evidence: int = 3

    @classmethod
    def from_profile(cls, profile: Profile) -> StageRules:
        """Return the rules of the profile's [stages] table (defaults where absent)."""
        table = dict(profile.stages)
        values: dict[str, Any] = {}
        cues = table.pop("cues", {})
        values["cues"] = {space: _weighted(entries) for space, entries in cues.items()}
        values["step_cues"] = _weighted(table.pop("step_cues", {}))
        values["talk_cues"] = _weighted(table.pop("talk_cues", {}))
        for name, value in table.items():
            if name not in cls.__dataclass_fields__:
                raise ValueError(f"[stages] has an unknown key: {name}")
            default = getattr(cls, name)
            values[name] = tuple(map(str, value)) if isinstance(default, tuple) else value
        return cls(**values)


def _weighted(entries: Mapping[str, Any]) -> dict[str, float]:
    """Flatten {"1.0" = [phrases], "0.5" = [phrases]} into {phrase: weight}."""
    flat: dict[str, float] = {}
    for weight, phrases in entries.items():
        for phrase in phrases:
            flat[str(phrase)] = max(flat.get(str(phrase), 0.0), float(weight))
    return flat


class StageClassifier:
    """Classifies articles into a stage space and step/talk; compiled once, reused."""

    def __init__(self, profile: Profile) -> None:
        self.rules = StageRules.from_profile(profile)
        self._spaces = (*self.rules.ladder, self.rules.thaw)
        cue_keys = {
            phrase: f"{space}|{phrase}"
            for space in self._spaces
            for phrase in self.rules.cues.get(space, {})
        }
        self._cues = PhraseMatcher(cue_keys, plurals=True)
        action_keys = {p: f"step|{p}" for p in self.rules.step_cues}
        action_keys.update({p: f"talk|{p}" for p in self.rules.talk_cues})
        self._actions = PhraseMatcher(action_keys, plurals=True)

    def _weight(self, index: int) -> float:
        rules = self.rules
        if index == 0:
            return rules.title_weight
        if index <= rules.lead_sentences:
            return rules.lead_weight
        return rules.body_weight if index <= rules.far_after else rules.far_weight

    def classify(self, title: str, text: str) -> Stage:
        """Return the article's space, step or talk, evidence sentences and space scores."""
        title = " ".join(title.split())
        sentences = [title]
        spans = sentence_spans(text)
        if " ".join(text.split()) != title:
            sentences += [" ".join(text[start:end].split()) for start, end in spans]
        else:
            spans = []
        cue_hits = [
            self._cues.keys(title),
            *map(set, _keys(by_sentence(spans, self._cues.find(text)))),
        ]
        action_hits = [
            self._actions.keys(title),
            *map(set, _keys(by_sentence(spans, self._actions.find(text)))),
        ]
        scores = {space: 0.0 for space in self._spaces}
        carriers: dict[str, list[tuple[float, int]]] = {space: [] for space in self._spaces}
        for index, hits in enumerate(cue_hits):
            gains = self._sentence_gains(hits)
            for space, gained in gains.items():
                scores[space] += self._weight(index) * gained
                carriers[space].append((self._weight(index) * gained, index))
        space = self._choose(scores)
        action = self._action(action_hits)
        ranked = sorted(carriers.get(space or "", []), key=lambda item: (-item[0], item[1]))
        evidence = tuple(sentences[i] for _, i in ranked[: self.rules.max_evidence] if sentences[i])
        ordered = tuple((name, round(scores[name], 3)) for name in self._spaces)
        return Stage(space, action, evidence, ordered)

    def _sentence_gains(self, hits: set[str]) -> dict[str, float]:
        """Return what one sentence's cues add to each space.

        A sentence with a strong thaw cue reports the reversal of whatever measure it
        names ("Japan restores Seoul to its white list"), so its conflict cues count for
        the thaw space.
        """
        rules = self.rules
        gains: dict[str, float] = {}
        for key in hits:
            space, phrase = key.split("|", 1)
            gains[space] = gains.get(space, 0.0) + rules.cues[space][phrase]
        thaw = rules.cues.get(rules.thaw, {})
        reversal = any(
            key.startswith(rules.thaw + "|") and thaw[key.split("|", 1)[1]] >= rules.reversal_weight
            for key in hits
        )
        if reversal:
            return {rules.thaw: sum(gains.values())}
        return gains

    def _choose(self, scores: Mapping[str, float]) -> str | None:
        rules = self.rules
        total = sum(scores.values())
        if total < rules.min_score:
            return None
        if scores[rules.thaw] >= rules.thaw_share * total:
            return rules.thaw
        strongest = max(scores[space] for space in rules.ladder)
        for space in reversed(rules.ladder):
            if scores[space] >= rules.ladder_share * strongest:
                return space
        return None

    def _action(self, hits: Sequence[set[str]]) -> str:
        step = talk = 0.0
        for index, keys in enumerate(hits):
            weight = self._weight(index)
            for key in keys:
                kind, phrase = key.split("|", 1)
                if kind == "step":
                    step += weight * self.rules.step_cues[phrase]
                else:
                    talk += weight * self.rules.talk_cues[phrase]
        if step == talk:
            return self.rules.default_action
        return "step" if step > talk else "talk"


def _keys(grouped: Sequence[Sequence[tuple[int, int, str]]]) -> list[list[str]]:
    return [[key for _, _, key in matches] for matches in grouped]
