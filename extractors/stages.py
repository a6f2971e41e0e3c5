"""The escalation stage an article reports: its space on the ladder, and step or talk.

Cue phrases for each space come from the profile's ``[stages]`` table, in every language
the monitor reads. Each sentence adds the weights of the distinct cues it carries, scaled
by where it stands (the headline and the lead say what the news is; later sentences are
mostly background). The answer is the cooperation space when thaw cues carry enough of
the total, else the highest conflict space on the ladder whose cues come close to the
strongest one: an article about a security step that recalls the trade row is security.
Step or talk is decided the same way from the profile's step and talk cues, read with
two kinds of context within each sentence: a step cue that follows a hedge ("may",
"plans to", "if") names an act not yet taken, so it counts as talk; and a sentence that
recalls earlier news ("last year", "already") counts its step cues for little, since an
article's own news is rarely the background it retells.

Its length is one classifier: the space and the step-or-talk decisions read the same
sentences with the same position weights and are tuned together, so they stay together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.direction import DirectionReader, DirectionRules, Finding
from extractors.profile import Profile
from extractors.stage_model import StageModel, load_model, model_text
from extractors.text import PhraseMatcher, by_sentence, sentence_spans

_Hit = tuple[int, int, str]  # start, end, key
_BLOCKED = "~not"
_ACT = "step|~act"  # an act on a measure or instrument, read by the direction rules
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Stage:
    space: str | None  # history|diplomatic|economic|security|cooperation, None if none
    action: str  # "step" | "talk"
    evidence: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]
    # What decided the space, for people: "rule: cooperation: keeps GSOMIA (suspends
    # termination)", "model: economic 0.81", or "cues: economic 4.2 of 5.0".
    reason: str = ""
    confidence: float | None = None  # 1.0 for a sure rule, the model's probability, or None


@dataclass(frozen=True)
class StageRules:
    """The profile's [stages] table."""

    # Conflict spaces from least to most escalated; the thaw space stands apart.
    ladder: tuple[str, ...] = ("history", "diplomatic", "economic", "security")
    thaw: str = "cooperation"
    cues: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    step_cues: Mapping[str, float] = field(default_factory=dict)
    talk_cues: Mapping[str, float] = field(default_factory=dict)
    # Reporting verbs: every article quotes someone, so they count once per article.
    reporting: tuple[str, ...] = ()
    reporting_weight: float = 0.3
    # Words after which a step cue in the same sentence is not a step taken.
    hedges: tuple[str, ...] = ()
    # Words that mark a sentence as retelling earlier news, and what its steps count for.
    background: tuple[str, ...] = ()
    background_weight: float = 0.3
    # Phrases that contain a cue without meaning it (the month in "next May").
    not_cues: tuple[str, ...] = ()
    title_weight: float = 3.0
    lead_weight: float = 1.5
    lead_sentences: int = 2
    body_weight: float = 1.0
    far_weight: float = 0.5
    far_after: int = 10
    max_sentences: int = 20  # sentences read at all
    direction_sentences: int = 4  # sentences after the title read for the direction of acts
    thaw_share: float = 0.4
    reversal_weight: float = 1.0
    ladder_share: float = 0.6
    min_score: float = 1.0
    default_action: str = "step"
    max_evidence: int = 3

    direction: DirectionRules = field(default_factory=DirectionRules)
    # The learned second opinion: a model file beside the profile and its SHA-256.
    model_file: str = ""
    model_sha256: str = ""
    model_min_confidence: float = 0.6

    @classmethod
    def from_profile(cls, profile: Profile) -> StageRules:
        """Return the rules of the profile's [stages] table (defaults where absent)."""
        table = dict(profile.stages)
        values: dict[str, Any] = {}
        ladder = tuple(table.get("ladder", cls.ladder))
        spaces = (*ladder, str(table.get("thaw", cls.thaw)))
        values["direction"] = DirectionRules.from_table(table.pop("direction", {}), spaces)
        model = dict(table.pop("model", {}))
        unknown = set(model) - {"file", "sha256"}
        if unknown:
            raise ValueError(f"[stages.model] has unknown keys: {sorted(unknown)}")
        if model.get("file"):
            values["model_file"] = str((profile.path.parent / str(model["file"])).resolve())
            values["model_sha256"] = str(model.get("sha256", ""))
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

    def __init__(self, profile: Profile, *, use_model: bool = True) -> None:
        self.rules = StageRules.from_profile(profile)
        self._spaces = (*self.rules.ladder, self.rules.thaw)
        self.direction = DirectionReader(self.rules.direction, self.rules.thaw)
        self.model: StageModel | None = None
        if use_model and self.rules.model_file:
            self.model = load_model(Path(self.rules.model_file), self.rules.model_sha256)
        cue_keys = {
            phrase: f"{space}|{phrase}"
            for space in self._spaces
            for phrase in self.rules.cues.get(space, {})
        }
        blocked = {phrase: _BLOCKED for phrase in self.rules.not_cues}
        self._cues = PhraseMatcher({**blocked, **cue_keys}, plurals=True)
        action_keys = {p: f"step|{p}" for p in self.rules.step_cues}
        action_keys.update({p: f"talk|{p}" for p in self.rules.talk_cues})
        action_keys.update({p: f"reporting|{p}" for p in self.rules.reporting})
        self._actions = PhraseMatcher({**blocked, **action_keys}, plurals=True)
        context_keys = {p: "background" for p in self.rules.background}
        context_keys.update({p: "hedge" for p in self.rules.hedges})
        self._context = PhraseMatcher(context_keys)

    def _weight(self, index: int) -> float:
        rules = self.rules
        if index == 0:
            return rules.title_weight
        if index <= rules.lead_sentences:
            return rules.lead_weight
        return rules.body_weight if index <= rules.far_after else rules.far_weight

    def classify(self, title: str, text: str) -> Stage:
        """Return the article's space, step or talk, evidence, the reason and its confidence.

        A sure direction rule in the headline or lead decides first; else the model, when
        the profile names one; else the cue scores.
        """
        reading = self.reading(title, text)
        action = self._action(reading.actions, reading.context, reading.sentences)
        ordered = tuple((name, round(reading.scores[name], 3)) for name in self._spaces)
        sure = self._sure(reading.findings)
        if sure is not None:
            space, finding = sure
            evidence = (reading.sentences[finding.sentence], *self._evidence(reading, space))
            reason = "rule: " + finding.describe(self.direction.things)
            return Stage(
                space, action, _distinct(evidence, self.rules.max_evidence), ordered, reason, 1.0
            )
        if self.model is not None:
            probabilities = self.model.probabilities(
                model_text(title, text, self.model.max_chars), self.features(reading)
            )
            space, confidence = max(probabilities.items(), key=lambda item: item[1])
            unread = sum(reading.scores.values()) < self.rules.min_score and not reading.findings
            # With nothing the rules could read, only a confident model names a space.
            if not unread or confidence >= self.rules.model_min_confidence:
                evidence = self._evidence(reading, space)
                reason = f"model: {space} {confidence:.2f}"
                return Stage(space, action, evidence, ordered, reason, round(confidence, 4))
        chosen = self._choose(reading.scores)
        total = sum(reading.scores.values())
        reason = f"cues: {chosen} {reading.scores[chosen]:.1f} of {total:.1f}" if chosen else ""
        return Stage(chosen, action, self._evidence(reading, chosen), ordered, reason, None)

    def features(self, reading: _Reading) -> dict[str, float]:
        """Return the rule features the model weighs: cue shares and direction findings.

        Shares, not the cues' own choice: a one-hot of the rules' answer let the model copy
        the rules on the data they were written against, which is no second opinion.
        """
        total = sum(reading.scores.values()) or 1.0
        values = {f"cue_share:{space}": reading.scores[space] / total for space in self._spaces}
        lead = self.rules.lead_sentences
        for finding in reading.findings:
            where = "head" if finding.sentence <= lead else "body"
            key = f"direction_{where}:{finding.space}"
            values[key] = values.get(key, 0.0) + 1.0
        return values

    def feature_names(self) -> tuple[str, ...]:
        """Return the names ``features`` can give, in a fixed order."""
        names = [f"cue_share:{space}" for space in self._spaces]
        names += [
            f"direction_{where}:{space}" for where in ("head", "body") for space in self._spaces
        ]
        return tuple(names)

    def reading(self, title: str, text: str) -> _Reading:
        """Return the rules' reading of an article (cue scores, direction findings)."""
        title = " ".join(title.split())
        sentences = [title]
        # What an article reports is in its first paragraphs; the rest is background,
        # and reading it would cost more than the extraction budget allows.
        spans = sentence_spans(text)[: self.rules.max_sentences]
        if spans:
            text = text[: spans[-1][1]]
        if " ".join(text.split()) != title:
            sentences += [" ".join(text[start:end].split()) for start, end in spans]
        else:
            spans = []
        cue_found, action_found, context = self._read(title, text, spans)
        scores = {space: 0.0 for space in self._spaces}
        carriers: dict[str, list[tuple[float, int]]] = {space: [] for space in self._spaces}
        for index, hits in enumerate(cue_found):
            gains = self._sentence_gains({key for _, _, key in hits})
            for space, gained in gains.items():
                scores[space] += self._weight(index) * gained
                carriers[space].append((self._weight(index) * gained, index))
        findings = self.direction.read_spans(title, [(0, len(title))]) if title else []
        findings += self.direction.read_spans(
            text, spans[: self.rules.direction_sentences], first=1
        )
        # An act done to a measure or instrument is a step taken, unless hedged.
        for finding in findings:
            action_found[finding.sentence].append((finding.start, finding.start, _ACT))
        return _Reading(tuple(sentences), scores, carriers, findings, action_found, context)

    def _sure(self, findings: Sequence[Finding]) -> tuple[str, Finding] | None:
        """Return the space the headline's findings (else the first sentence's) agree on.

        Findings that all put the dispute in conflict spaces agree on the highest of them
        (an item reports its most escalated step); a mix of conflict and thaw is not sure.
        """
        for sentence in (0, 1):
            here = [finding for finding in findings if finding.sentence == sentence]
            if not here:
                continue
            spaces = {finding.space for finding in here}
            if spaces == {self.rules.thaw}:
                return self.rules.thaw, here[0]
            if self.rules.thaw in spaces:
                return None
            top = max(spaces, key=self.rules.ladder.index)
            return top, next(finding for finding in here if finding.space == top)
        return None

    def _evidence(self, reading: _Reading, space: str | None) -> tuple[str, ...]:
        ranked = sorted(reading.carriers.get(space or "", []), key=lambda item: (-item[0], item[1]))
        return tuple(
            reading.sentences[i]
            for _, i in ranked[: self.rules.max_evidence]
            if reading.sentences[i]
        )

    def _read(
        self, title: str, text: str, spans: Sequence[tuple[int, int]]
    ) -> tuple[list[list[_Hit]], list[list[_Hit]], list[list[_Hit]]]:
        """Return space cues, action cues and context marks: the title's, then each sentence's.

        ``not_cues`` are matched with the cues, so a cue inside one ("May" in "next May")
        is consumed by it and dropped here. Context is only read in a text with a step cue.
        """
        cues: list[list[_Hit]] = []
        actions: list[list[_Hit]] = []
        context: list[list[_Hit]] = []
        for source, source_spans in ((title, [(0, len(title))]), (text, spans)):
            if not source_spans:
                continue
            cues += by_sentence(source_spans, _kept(self._cues.find(source)))
            found = _kept(self._actions.find(source))
            actions += by_sentence(source_spans, found)
            context += by_sentence(source_spans, self._context.find(source))
        return cues, actions, context

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

    def _action(
        self,
        hits: Sequence[Sequence[_Hit]],
        context: Sequence[Sequence[_Hit]],
        sentences: Sequence[str],
    ) -> str:
        step = talk = reported = 0.0
        for index, (keys, marks) in enumerate(zip(hits, context, strict=True)):
            weight = self._weight(index)
            sentence_step, sentence_talk = self._sentence_action(keys, marks, sentences[index])
            step += weight * sentence_step
            talk += weight * sentence_talk
            if any(key.startswith("reporting|") for _, _, key in keys):
                reported = max(reported, weight * self.rules.reporting_weight)
        talk += reported
        if step == talk:
            return self.rules.default_action
        return "step" if step > talk else "talk"

    def _sentence_action(
        self, hits: Sequence[_Hit], marks: Sequence[_Hit], sentence: str
    ) -> tuple[float, float]:
        """Return what one sentence adds to step and to talk; each distinct cue counts once.

        A hedge governs the acts after it in English ("may impose"); Korean and Japanese
        put it after the verb ("제외 검토", "除外を検討"), so there it governs the sentence.
        """
        rules = self.rules
        hedges = [start for start, _, kind in marks if kind == "hedge"]
        hedge = (0 if _CJK.search(sentence) else min(hedges)) if hedges else None
        background = any(kind == "background" for _, _, kind in marks)
        first: dict[str, int] = {}
        for start, _, key in hits:
            first.setdefault(key, start)
        step = talk = 0.0
        for key, start in first.items():
            kind, phrase = key.split("|", 1)
            if kind == "reporting":
                continue
            weight = 1.0 if key == _ACT else rules.step_cues.get(phrase, 0.0)
            if kind == "talk":
                talk += rules.talk_cues[phrase]
            elif hedge is not None and hedge <= start:
                talk += weight
            else:
                step += weight * (rules.background_weight if background else 1.0)
        return step, talk


@dataclass(frozen=True)
class _Reading:
    sentences: tuple[str, ...]  # the title, then the text's sentences
    scores: dict[str, float]
    carriers: dict[str, list[tuple[float, int]]]
    findings: list[Finding]
    actions: list[list[_Hit]]
    context: list[list[_Hit]]


def _distinct(sentences: Sequence[str], limit: int) -> tuple[str, ...]:
    kept: list[str] = []
    for sentence in sentences:
        if sentence and sentence not in kept:
            kept.append(sentence)
    return tuple(kept[:limit])


def _kept(hits: list[_Hit]) -> list[_Hit]:
    return [hit for hit in hits if hit[2] != _BLOCKED]
