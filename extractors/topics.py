"""Topics of a monitor: key phrases and named entities derived from the seed article.

The seed is read sentence by sentence, and only sentences that name one of the parties
count: reader comments, captions and boilerplate that never mention the dispute's sides
contribute nothing, without any marker of where the article ends. Topics come from it
in two ways: phrases and names it repeats (counted, weighted by length and kind), and
the profile's phrases it mentions at least once, in any of their forms ("boycotts" for
"boycott"). The profile's ``[topics]`` table gives aliases and translations, a floor
weight for its phrases, and drops noise; a profile phrase the seed never mentions is an
addition (kind ``profile``). Each topic records how many seed sentences mention it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from extractors.profile import Profile
from extractors.text import PartyFinder, PhraseMatcher, split_sentences


@dataclass(frozen=True)
class Topic:
    phrase: str
    weight: float
    kind: str  # "entity" | "phrase" (found in the seed) | "profile" (added, not in the seed)
    aliases: tuple[str, ...] = ()
    mentions: int = 0  # seed sentences naming a party that carry one of its forms

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.phrase, *self.aliases)


@dataclass(frozen=True)
class Topics:
    items: tuple[Topic, ...]

    def weights(self) -> dict[str, float]:
        """Return each topic's phrase mapped to its weight."""
        return {topic.phrase: topic.weight for topic in self.items}

    def matcher(self) -> PhraseMatcher:
        """Return a matcher that maps every form of every topic to the topic's phrase."""
        forms = {form: topic.phrase for topic in self.items for form in topic.forms}
        return PhraseMatcher(forms, plurals=True)


@dataclass(frozen=True)
class TopicRules:
    """The profile's [topics] table: how many phrases to derive and what to change."""

    max_derived: int = 30
    min_count: int = 2
    drop: frozenset[str] = frozenset()
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    add: tuple[Topic, ...] = ()

    @classmethod
    def from_profile(cls, profile: Profile) -> TopicRules:
        """Return the rules of the profile's [topics] table (defaults where absent)."""
        table = profile.topics
        add = tuple(
            Topic(
                phrase=str(entry["phrase"]),
                weight=float(entry.get("weight", 1.0)),
                kind="profile",
                aliases=tuple(str(alias) for alias in entry.get("aliases", ())),
            )
            for entry in table.get("add", ())
        )
        aliases = {
            str(phrase).lower(): tuple(str(alias) for alias in values)
            for phrase, values in table.get("aliases", {}).items()
        }
        return cls(
            max_derived=int(table.get("max_derived", cls.max_derived)),
            min_count=int(table.get("min_count", cls.min_count)),
            drop=frozenset(str(phrase).lower() for phrase in table.get("drop", ())),
            aliases=aliases,
            add=add,
        )


_STOPWORDS = frozenset(
    """a about above after again against all also although am an and any are as at be because been
    before being below between both but by can could did do does doing down during each even
    ever every few for from further had has have having he her here hers herself him himself
    his how however i if in into is it its itself just least less let like made make many may
    me might more most much must my myself near neither no nor not now of off often on once one
    only or other our ours ourselves out over own per rather said same says she should since so
    some still such than that the their theirs them themselves then there these they this those
    though through thus to today too under until up upon us very via was we were what when
    where whether which while who whom whose why will with within without would yet you your
    yours yourself already another across among around told tell two three first last new next
    year years week month time way well get got go going back s t say saying thursday friday
    saturday sunday monday tuesday wednesday""".split()
)
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]“”\"–—]|\s-\s")
_QUOTED = re.compile(r"[“\"]([^”\"]{3,60})[”\"]")
_CONNECTORS = frozenset({"of", "the", "and", "for", "de"})


def _entity_runs(clause: str) -> list[str]:
    runs: list[list[str]] = []
    current: list[str] = []
    for match in _TOKEN.finditer(clause):
        word = match.group().rstrip("'’-").removesuffix("'s").removesuffix("’s")
        if word[:1].isupper():
            current.append(word)
        elif current and word in _CONNECTORS:
            current.append(word)
        else:
            runs.append(current)
            current = []
    runs.append(current)
    found = []
    for run in runs:
        while run and run[-1] in _CONNECTORS:
            run = run[:-1]
        while run and run[0].lower() in _STOPWORDS:
            run = run[1:]
        # Single capitalised words are mostly sentence openers and bylines; acronyms
        # (GSOMIA-like) and multi-word names carry the subject.
        if len(run) > 1 or (run and run[0].isupper() and len(run[0]) > 2):
            found.append(" ".join(run))
    return found


def _ngrams(words: list[str]) -> list[str]:
    # Single common words ("trade", "issue") say little on their own: phrases start at two.
    return [" ".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)]


def _phrase_grams(clause: str) -> list[str]:
    grams: list[str] = []
    run: list[str] = []
    for match in _TOKEN.finditer(clause + " ."):
        word = match.group().lower().rstrip("'’-")
        if word in _STOPWORDS or match.group()[:1].isupper() or len(word) < 3:
            grams.extend(_ngrams(run))
            run = []
        else:
            run.append(word)
    grams.extend(_ngrams(run))
    return grams


def _candidates(sentences: Iterable[str], party_names: PartyFinder) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for sentence in sentences:
        # Party names break entity runs: the parties are the subject, not topics.
        masked = sentence
        for start, end, _, _ in reversed(party_names.find_all(sentence)):
            masked = masked[:start] + " , " + masked[end:]
        # A short quoted term is the article naming a thing; it counts once more.
        for quoted in _QUOTED.findall(masked):
            if 2 <= len(quoted.split()) <= 4:
                kind = "entity" if quoted[:1].isupper() else "phrase"
                counts[kind, quoted.strip(" .,")] += 1
        for clause in _CLAUSE_BREAK.split(masked):
            for entity in _entity_runs(clause):
                counts["entity", entity] += 1
            for gram in _phrase_grams(clause):
                counts["phrase", gram] += 1
    return counts


def _derived(engaged: list[str], profile: Profile, rules: TopicRules) -> list[Topic]:
    """Return the phrases and names the engaged seed sentences repeat, weighted."""
    party_names = PartyFinder(profile)
    # The outlet's own name runs through its pages (bylines, "also read" links).
    # Names the profile marks as not the parties (other countries, look-alikes) are
    # scenery even when the seed repeats them.
    others = profile.relevance.get("third_parties", {})
    scenery = [*profile.relevance.get("not_party", ()), *(n for v in others.values() for n in v)]
    drop = rules.drop | {profile.seed.outlet.lower()} | {str(name).lower() for name in scenery}
    scored: dict[str, tuple[float, str, str]] = {}
    for (kind, phrase), count in _candidates(engaged, party_names).items():
        words = len(phrase.split())
        if count < rules.min_count or phrase.lower() in drop:
            continue
        score = count * (1.0 + 0.5 * (words - 1)) * (1.2 if kind == "entity" else 1.0)
        key = phrase.lower()
        if key not in scored or scored[key][0] < score:
            scored[key] = (score, kind, phrase)
    # A phrase inside a longer one that scored as well is the same mention twice.
    scored = {
        phrase: value
        for phrase, value in scored.items()
        if not any(
            phrase != other and f" {phrase} " in f" {other} " and other_value[0] >= value[0]
            for other, other_value in scored.items()
        )
    }
    best = sorted(scored.items(), key=lambda item: (-item[1][0], item[0]))[: rules.max_derived]
    if not best:
        return []
    top = best[0][1][0]
    return [
        Topic(
            phrase=surface,
            weight=round(max(0.2, score / top), 3),
            kind=kind,
            aliases=rules.aliases.get(key, ()),
        )
        for key, (score, kind, surface) in best
    ]


def _mentions(engaged: Iterable[str], added: Iterable[Topic]) -> dict[str, int]:
    """Return, per profile phrase, how many engaged seed sentences carry one of its forms."""
    matcher = PhraseMatcher({form: t.phrase for t in added for form in t.forms}, plurals=True)
    counts: Counter[str] = Counter()
    for sentence in engaged:
        counts.update(matcher.keys(sentence))
    return dict(counts)


def _kind(phrase: str) -> str:
    return "entity" if phrase[:1].isupper() else "phrase"


def derive_topics(seed_text: str, profile: Profile) -> Topics:
    """Return the seed's weighted topics, merged with the profile's phrases.

    Only sentences that name a party are read, so reader comments and page furniture do
    not feed the topics. A repeated seed phrase that is a form of a profile phrase is
    that topic; merged topics keep the higher weight and gain the profile's aliases. A
    profile phrase the seed mentions in any form is found there (kind entity or phrase).
    """
    rules = TopicRules.from_profile(profile)
    party_names = PartyFinder(profile)
    engaged = [s for s in split_sentences(seed_text) if party_names.keys(s)]
    owner = {form.lower(): added.phrase.lower() for added in rules.add for form in added.forms}
    merged = {added.phrase.lower(): added for added in rules.add}
    for topic in _derived(engaged, profile, rules):
        key = owner.get(topic.phrase.lower(), topic.phrase.lower())
        known = merged.get(key)
        if known is None:
            merged[key] = topic
            continue
        extra = (topic.phrase,) if topic.phrase.lower() != known.phrase.lower() else ()
        aliases = tuple(dict.fromkeys((*known.aliases, *topic.aliases, *extra)))
        weight = max(known.weight, topic.weight)
        merged[key] = Topic(known.phrase, weight, topic.kind, aliases)
    mentions = _mentions(engaged, merged.values())
    found = [
        replace(
            topic,
            mentions=mentions.get(topic.phrase, 0),
            kind=_kind(topic.phrase) if topic.kind == "profile" else topic.kind,
        )
        if mentions.get(topic.phrase)
        else topic
        for topic in merged.values()
    ]
    ordered = sorted(found, key=lambda topic: (-topic.weight, topic.phrase))
    return Topics(items=tuple(ordered))
