"""Relevance of an article to the monitor: both parties, engaged with each other.

An article is read as its title plus its sentences. A sentence *engages* the parties when
it names both (a neighbour naming the other counts a little). The score adds up named
parts: the title engaging them, the engaging sentences (how many, whether one leads, what
share of the sentences naming a party), and the weights of the topics they carry. It
subtracts when the two appear only as items in a list of countries acted on by a third,
when they are an aside in a long piece, when other countries dominate, when no topic is
carried, and when the profile's noise vocabulary (sport, tourism, markets) outweighs the
topics. Every result names its matched topics, evidence sentences and the parts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from extractors.profile import Profile
from extractors.text import PartyFinder, PhraseMatcher, by_sentence, sentence_spans
from extractors.topics import Topics

# What may separate two names in an enumeration: "Japan, South Korea and the US".
_LIST_GAP = re.compile(r"\s*(?:,|and|or|&|/|-|–)?\s*(?:,?\s*(?:and|or)\s+)?(?:the\s+)?", re.I)


@dataclass(frozen=True)
class Relevance:
    relevant: bool
    score: float
    matched_topics: tuple[str, ...]
    evidence: tuple[str, ...]  # sentences carrying the parties and topics
    parties: tuple[str, ...]  # party keys found
    reason: str  # one line a human can read


@dataclass(frozen=True)
class RelevanceRules:
    """The profile's [relevance] table: weights, threshold and the word lists."""

    threshold: float = 0.5
    title_pair: float = 0.4
    title_one: float = 0.1
    per_pair_sentence: float = 0.1
    max_pair_sentences: int = 4
    lead_pair: float = 0.1
    lead_sentences: int = 3
    per_near_sentence: float = 0.04
    pair_share: float = 0.4
    topic_factor: float = 0.15
    max_topic: float = 0.35
    crowded_penalty: float = 0.25
    aside_penalty: float = 0.2
    aside_share: float = 0.1
    aside_min_named: int = 10
    dominated_penalty: float = 0.2
    dominance_ratio: float = 2.0
    noise_penalty: float = 0.2
    max_noise_penalty: float = 0.6
    untopical_penalty: float = 0.15
    max_evidence: int = 3
    third_parties: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    partners: tuple[str, ...] = ()
    noise: tuple[str, ...] = ()

    @classmethod
    def from_profile(cls, profile: Profile) -> RelevanceRules:
        """Return the rules of the profile's [relevance] table (defaults where absent).

        ``not_party`` and ``affiliates`` belong to PartyFinder and are skipped here.
        """
        values: dict[str, Any] = {}
        for name, value in profile.relevance.items():
            if name in ("not_party", "affiliates"):
                continue
            if name == "third_parties":
                values[name] = {key: tuple(map(str, names)) for key, names in value.items()}
            elif name in ("noise", "partners"):
                values[name] = tuple(map(str, value))
            elif name in cls.__dataclass_fields__:
                values[name] = type(getattr(cls, name))(value)
            else:
                raise ValueError(f"[relevance] has an unknown key {name!r}")
        return cls(**values)


@dataclass(frozen=True)
class _Sentence:
    text: str
    parties: frozenset[str]
    topics: frozenset[str]
    strangers: int  # distinct third parties named, partners aside
    listed: bool  # both parties appear in one list with another country
    noise: bool


class RelevanceScorer:
    """Scores articles against a monitor's topics and parties; compiled once, reused."""

    def __init__(self, topics: Topics, profile: Profile) -> None:
        self.rules = RelevanceRules.from_profile(profile)
        self._both = frozenset(party.key for party in profile.parties)
        self._parties = PartyFinder(profile)
        self._topics = topics.matcher()
        self._weights = topics.weights()
        self._others = PhraseMatcher(
            {name: key for key, names in self.rules.third_parties.items() for name in names},
            case_sensitive=True,
        )
        self._noise = PhraseMatcher({term: term for term in self.rules.noise}, plurals=True)

    def _read(self, text: str, spans: Sequence[tuple[int, int]], article: str) -> list[_Sentence]:
        """Return the sentences at the given spans of the text, read.

        Each phrase list scans the whole text once; matches are then handed to their
        sentences, which is several times faster than scanning sentence by sentence.
        """
        topics = by_sentence(spans, self._topics.find(text))
        parties = by_sentence(spans, self._parties.find_all(text, context=article))
        others = by_sentence(spans, self._others.find(text))
        noise = by_sentence(spans, self._noise.find(text))
        read = []
        for index, (start, end) in enumerate(spans):
            found = frozenset(match[2] for match in topics[index])
            # A firm stands for its country only where the sentence is on a topic.
            named = [m[:3] for m in parties[index] if found or not m[3]]
            keys = frozenset(match[2] for match in named)
            listed = (
                keys >= self._both
                and bool(others[index])
                and self._listed(text, named, others[index])
            )
            strangers = {key for _, _, key in others[index] if key not in self.rules.partners}
            sentence = " ".join(text[start:end].split())
            read.append(
                _Sentence(sentence, keys, found, len(strangers), listed, bool(noise[index]))
            )
        return read

    def _listed(
        self,
        sentence: str,
        party_spans: Sequence[tuple[int, int, str]],
        other_spans: Sequence[tuple[int, int, str]],
    ) -> bool:
        """True when both parties sit in one enumeration and a non-partner country is named.


        "China probes imports from the EU, Japan and South Korea": the two are objects
        of a third country's act, not sides dealing with each other.
        """
        spans = sorted([*party_spans, *other_spans])
        chain: list[str] = []
        for index, (start, _, key) in enumerate(spans):
            if index and not _LIST_GAP.fullmatch(sentence[spans[index - 1][1] : start]):
                chain = []
            chain.append(key)
            members = set(chain)
            strangers = members - self._both - set(self.rules.partners)
            if members >= self._both and (strangers or self._strangers(other_spans)):
                return True
        return False

    def _strangers(self, other_spans: Sequence[tuple[int, int, str]]) -> bool:
        return any(key not in self.rules.partners for _, _, key in other_spans)

    def _sentences(self, title: str, text: str) -> list[_Sentence]:
        """Return the title (first, possibly empty) and the body's sentences, read."""
        title = " ".join(title.split())
        article = f"{title}\n{text}"
        head = self._read(title, [(0, len(title))], article)
        # Headline-only items repeat the title as their text.
        if " ".join(text.split()) == title:
            return head
        return head + self._read(text, sentence_spans(text), article)

    def score(self, title: str, text: str) -> Relevance:
        """Return the article's relevance with its matched topics, evidence and reason.

        An article that never names both parties (firms that stand for one included) can
        not be relevant: it is answered after one scan for the parties, with score 0.
        """
        present = self._parties.keys(f"{title}\n{text}", affiliates=True)
        if not present >= self._both:
            named = ", ".join(sorted(present)) or "neither party"
            return Relevance(
                False, 0.0, (), (), tuple(sorted(present)), f"not relevant: names {named} only"
            )
        return self._judge(self._sentences(title, text))

    def _parts(self, read: Sequence[_Sentence]) -> dict[str, float]:
        """Return the named contributions to the score of already read sentences."""
        rules, both = self.rules, self._both
        head, body = read[0], read[1:]
        pairs = [s for s in read if s.parties >= both and not s.listed]
        crowded = [s for s in read if s.listed]
        near = _near_pairs(body, both)
        named = [s for s in read if s.parties]
        topics = self._window_topics(read)
        body_pairs = [s for s in pairs if s is not head]
        # One pair among several named sentences is weak evidence; in a headline it is all.
        damp = min(1.0, len(pairs) / 2) if len(named) > 2 else 1.0
        title = rules.title_pair if head in pairs else rules.title_one if head.parties else 0.0
        lead = rules.lead_pair if any(s in pairs for s in body[: rules.lead_sentences]) else 0.0
        topic_points = rules.topic_factor * sum(self._weights[t] for t in topics)
        parts = {
            "title": title,
            "pairs": rules.per_pair_sentence * min(len(body_pairs), rules.max_pair_sentences),
            "lead": lead,
            "near": rules.per_near_sentence * min(len(near), rules.max_pair_sentences),
            "share": rules.pair_share * len(pairs) / max(len(named), 1) * damp,
            "topics": min(rules.max_topic, topic_points),
        }
        if len(crowded) > len(pairs):
            parts["crowded"] = -rules.crowded_penalty
        if len(named) >= rules.aside_min_named and len(pairs) < rules.aside_share * len(named):
            parts["aside"] = -rules.aside_penalty
        if sum(1 for s in read if s.strangers) > rules.dominance_ratio * max(len(named), 1):
            parts["dominated"] = -rules.dominated_penalty
        if not topics:
            parts["untopical"] = -rules.untopical_penalty
        noisy = sum(1 for s in read if s.noise)
        if noisy > sum(1 for s in read if s.topics):
            parts["noise"] = -min(rules.max_noise_penalty, rules.noise_penalty * noisy)
        return parts

    def _window_topics(self, read: Sequence[_Sentence]) -> list[str]:
        both = self._both
        windows = [s for s in read if s.parties >= both] + _near_pairs(read[1:], both)
        found = {t for s in windows for t in s.topics}
        return sorted(found, key=lambda t: (-self._weights[t], t))

    def _judge(self, read: Sequence[_Sentence]) -> Relevance:
        """Return the relevance of already read sentences (title first)."""
        parts = self._parts(read)
        score = max(0.0, min(1.0, sum(parts.values())))
        parties = tuple(sorted({p for s in read for p in s.parties}))
        relevant = score >= self.rules.threshold and set(parties) >= self._both
        topics = self._window_topics(read)
        windows = [s for s in read if s.parties >= self._both] + _near_pairs(read[1:], self._both)
        evidence = _evidence(windows, topics, self.rules.max_evidence)
        pairs = sum(1 for s in read if s.parties >= self._both)
        reason = _reason(relevant, score, parties, pairs, topics, parts)
        return Relevance(relevant, round(score, 3), tuple(topics), evidence, parties, reason)


def _near_pairs(body: Sequence[_Sentence], both: frozenset[str]) -> list[_Sentence]:
    near: list[_Sentence] = []
    for first, second in zip(body, body[1:], strict=False):
        if first.parties and second.parties and not first.parties >= both:
            if not second.parties >= both and (first.parties | second.parties) >= both:
                near.append(first)
    return near


def _evidence(windows: Sequence[_Sentence], topics: Sequence[str], limit: int) -> tuple[str, ...]:
    ranked = sorted(
        (s for s in windows if s.text),
        key=lambda s: -len(s.topics & set(topics)),
    )
    return tuple(dict.fromkeys(s.text for s in ranked))[:limit]


def _reason(
    relevant: bool,
    score: float,
    parties: Sequence[str],
    pairs: int,
    topics: Sequence[str],
    parts: dict[str, float],
) -> str:
    verdict = "relevant" if relevant else "not relevant"
    shown = ", ".join(f"{name} {value:+.2f}" for name, value in parts.items() if value)
    topic_text = ", ".join(topics[:4]) or "none"
    return (
        f"{verdict} ({score:.2f}): parties {'+'.join(parties) or 'none'}; "
        f"{pairs} sentences name both; topics {topic_text}; [{shown}]"
    )
