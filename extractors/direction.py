"""The direction of the act: what is done to which measure or instrument, with negation.

A sentence such as "Seoul suspends the termination of GSOMIA" is read as a chain of acts
applied to one object. Each act either *makes* its object (imposes, keeps, restores,
holds, signs, extends it) or *unmakes* it (ends, lifts, cancels, suspends, recalls it);
a negation ("will not", "않", "ない") flips the act it governs. The chain's direction is
the product of its acts: "suspends" (unmake) of "the termination" (unmake) of GSOMIA is
a make, so the pact is kept.

Objects come in two kinds. A *measure* is hostile by nature (export controls, a WTO
complaint, an asset seizure); an *instrument* is cooperative (GSOMIA, the trade white
list, a summit, an ambassador's posting, a compensation fund). The rule that follows:
making a measure or unmaking an instrument puts the dispute in the object's conflict
space; unmaking a measure or making (keeping, restoring, holding) an instrument is
cooperation. Acts, negations and objects live in the profile's ``[stages.direction]``
table, in every language the monitor reads; this module holds only the mechanism.

Word order decides which acts govern an object. In Latin-script sentences an object is
governed by the acts just before it (up to a clause boundary or the previous object),
and, when none stand there, by a passive or participle act just after it ("curbs were
lifted"). Korean and Japanese put the verb last, so there the acts after the object
govern it first.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from extractors.text import PhraseMatcher, by_sentence

MAKE, UNMAKE = 1, -1
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# A clause ends here: what stands beyond it acts on something else.
_BOUNDARY = re.compile(
    r"[;:()\[\]—–]|,\s|\b(?:but|while|whereas|after|before|because|although|though|as|"
    r"which|who|when|since|until|amid|despite|over)\b|(?:지만|는데|하며|면서|から|ので|が、|て、)",
    re.IGNORECASE,
)


class DirectionError(ValueError):
    """The profile's [stages.direction] table does not fit its schema."""


@dataclass(frozen=True)
class Thing:
    """An object acts are done to: its conflict space, and whether it is hostile."""

    key: str
    space: str
    hostile: bool  # a measure (True) or a cooperative instrument (False)
    label: str  # how the evidence names it


@dataclass(frozen=True)
class Finding:
    """One act-on-object read in one sentence, with the space it puts the dispute in."""

    space: str  # a conflict space, or the thaw space
    thing: str  # the object's key
    direction: int  # MAKE or UNMAKE, negations applied
    acts: tuple[str, ...]  # the words of the chain, in reading order
    sentence: int  # 0 for the title, then the text's sentences from 1
    start: int = 0  # where the chain's first word (or the object) starts in its text

    def describe(self, things: Mapping[str, Thing]) -> str:
        """One line for the evidence: ``cooperation: keeps GSOMIA (suspends termination)``."""
        thing = things[self.thing]
        verb = {
            (MAKE, True): "imposes",
            (UNMAKE, True): "lifts",
            (MAKE, False): "keeps",
            (UNMAKE, False): "ends",
        }[(self.direction, thing.hostile)]
        chain = " ".join(self.acts)
        return f"{self.space}: {verb} {thing.label} ({chain})"


@dataclass(frozen=True)
class DirectionRules:
    """The profile's [stages.direction] table."""

    make: tuple[str, ...] = ()
    unmake: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    things: tuple[Thing, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # phrase -> thing key
    window: int = 6  # words between two links of a chain, in Latin script
    after_window: int = 2  # words after the object, for compounds and passives
    cjk_window: int = 10  # characters between two links, in Korean and Japanese

    @classmethod
    def from_table(cls, table: Mapping[str, Any], spaces: Sequence[str]) -> DirectionRules:
        """Return the rules of a [stages.direction] table; raise DirectionError if malformed."""
        values = dict(table)
        objects = values.pop("objects", {})
        things: list[Thing] = []
        names: dict[str, str] = {}
        for key, spec in objects.items():
            spec = dict(spec)
            unknown = set(spec) - {"space", "kind", "names", "label"}
            if unknown:
                raise DirectionError(f"[stages.direction.objects.{key}] unknown keys {unknown}")
            if spec.get("space") not in spaces:
                raise DirectionError(f"[stages.direction.objects.{key}] space must be in {spaces}")
            if spec.get("kind") not in ("measure", "instrument"):
                raise DirectionError(
                    f"[stages.direction.objects.{key}] kind must be measure or instrument"
                )
            phrases = [str(name) for name in spec.get("names", ())]
            things.append(
                Thing(key, spec["space"], spec["kind"] == "measure", spec.get("label", key))
            )
            for phrase in phrases:
                names.setdefault(phrase, key)
        allowed = {"make", "unmake", "negations", "window", "after_window", "cjk_window"}
        unknown = set(values) - allowed
        if unknown:
            raise DirectionError(f"[stages.direction] has unknown keys {sorted(unknown)}")
        make, unmake, negations = (
            tuple(map(str, values.pop(k, ()))) for k in ("make", "unmake", "negations")
        )
        return cls(
            make=make,
            unmake=unmake,
            negations=negations,
            things=tuple(things),
            names=names,
            **values,
        )


class DirectionReader:
    """Finds acts on the profile's objects in sentences; compiled once, reused."""

    def __init__(self, rules: DirectionRules, thaw: str) -> None:
        self.rules = rules
        self.thaw = thaw
        self.things = {thing.key: thing for thing in rules.things}
        keys: dict[str, str] = {name: f"o|{key}" for name, key in rules.names.items()}
        for phrase in rules.negations:
            keys.setdefault(phrase, "n|")
        for phrase in rules.make:
            keys.setdefault(phrase, "m|")
        for phrase in rules.unmake:
            keys.setdefault(phrase, "u|")
        self._matcher = PhraseMatcher(keys, plurals=True) if rules.things else None

    def read(self, sentences: Sequence[str], first: int = 0) -> list[Finding]:
        """Return the findings of each sentence, numbered from ``first``."""
        found: list[Finding] = []
        for offset, sentence in enumerate(sentences):
            span = [(0, len(sentence))]
            found += self.read_spans(sentence, span, first + offset)
        return found

    def read_spans(
        self, text: str, spans: Sequence[tuple[int, int]], first: int = 0
    ) -> list[Finding]:
        """Return the findings of the text's sentences (given as spans), numbered from ``first``.

        The text is scanned once, then its matches are handed to their sentences.
        """
        if self._matcher is None or not spans:
            return []
        hits = self._matcher.find(text[: spans[-1][1]])
        found: list[Finding] = []
        for offset, (span, here) in enumerate(zip(spans, by_sentence(spans, hits), strict=True)):
            if any(key.startswith("o|") for _, _, key in here):
                found += self._sentence(text, span, here, first + offset)
        return found

    def _sentence(
        self,
        text: str,
        span: tuple[int, int],
        hits: Sequence[tuple[int, int, str]],
        index: int,
    ) -> list[Finding]:
        sentence = text[span[0] : span[1]]
        cjk = bool(_CJK.search(sentence))
        cuts = [span[0] + m.start() for m in _BOUNDARY.finditer(sentence)]
        objects = [i for i, (_, _, key) in enumerate(hits) if key.startswith("o|")]
        findings = []
        for position, at in enumerate(objects):
            previous = objects[position - 1] if position else -1
            following = objects[position + 1] if position + 1 < len(objects) else len(hits)
            backward = range(at - 1, previous, -1)
            forward = range(at + 1, following)
            if cjk:
                window = self.rules.cjk_window
                chain = self._chain(text, hits, forward, at, cuts, window, True)
                if not _acts(hits, chain):
                    chain = self._chain(text, hits, backward, at, cuts, window, True)
                if not _acts(hits, chain):
                    continue  # a bare negation is too loose a reading without spaces
            else:
                chain = self._chain(text, hits, backward, at, cuts, self.rules.window)
                # A compound or passive right after the object: "GSOMIA termination",
                # "curbs were lifted".
                chain += self._chain(text, hits, forward, at, cuts, self.rules.after_window)
                if not chain:
                    continue
            findings.append(self._finding(text, hits, chain, at, index))
        return findings

    def _chain(
        self,
        sentence: str,
        hits: Sequence[tuple[int, int, str]],
        order: range,
        at: int,
        cuts: Sequence[int],
        window: int,
        cjk: bool = False,
    ) -> list[int]:
        """Return the indexes of the acts and negations that govern the object at ``at``.

        The chain grows away from the object while each next word stands within
        ``window`` (words, or characters in Korean and Japanese) of the last one taken,
        and stops at a clause boundary or another object.
        """
        near_start, near_end, _ = hits[at]
        chain: list[int] = []
        for i in order:
            h_start, h_end, key = hits[i]
            if key.startswith("o|"):
                break
            low, high = (h_end, near_start) if h_end <= near_start else (near_end, h_start)
            nearest = bisect_left(cuts, low)
            if nearest < len(cuts) and cuts[nearest] < high:
                break
            gap = high - low if cjk else len(sentence[low:high].split())
            if gap > window:
                break
            chain.append(i)
            near_start, near_end = h_start, h_end
        return sorted(chain)

    def _finding(
        self,
        sentence: str,
        hits: Sequence[tuple[int, int, str]],
        chain: Sequence[int],
        at: int,
        index: int,
    ) -> Finding:
        """Return what the chain does to the object; a bare negation ("no summit") unmakes."""
        direction = MAKE
        for i in chain:
            direction *= UNMAKE if hits[i][2][0] in "un" else MAKE
        if not _acts(hits, chain):
            direction = UNMAKE
        thing = self.things[hits[at][2][2:]]
        breaks = (direction == MAKE) == thing.hostile
        space = thing.space if breaks else self.thaw
        words = tuple(sentence[hits[i][0] : hits[i][1]] for i in chain)
        start = min(hits[i][0] for i in (*chain, at))
        return Finding(space, thing.key, direction, words, index, start)


def _acts(hits: Sequence[tuple[int, int, str]], chain: Sequence[int]) -> bool:
    """True when the chain holds an act, not only negations."""
    return any(hits[i][2][0] in "mu" for i in chain)
