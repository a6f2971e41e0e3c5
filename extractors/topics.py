"""Topics of a monitor: key phrases and named entities derived from the seed article.

The seed is read sentence by sentence, and only sentences that name one of the parties
count: reader comments, captions and boilerplate that never mention the dispute's sides
contribute nothing, without any marker of where the article ends. The profile's
``[topics]`` table then adds phrases (with aliases in other languages), adds aliases to
derived phrases, and drops noise.

The module also holds the two text tools the scorers share: a sentence splitter and a
phrase matcher that compiles many phrases into one regular expression.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from extractors.profile import Profile

_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)|[。！？]|\n")
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|No|Gen|Lt|Col|Sgt|Adm|Jan|Feb|Mar|Apr|Jun|Jul|Aug|"
    r"Sep|Sept|Oct|Nov|Dec|Corp|Co|Inc|Ltd|Jr|Sr|Prof|Gov|Sen|Rep|vs|approx))\.$"
)
_EDGE = "A-Za-z0-9"
_M = TypeVar("_M", bound=tuple[Any, ...])
_EDGE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def _fold(text: str) -> str:
    # Typographic quotes fold to plain ones (same length, so offsets stay true).
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of the text's sentences, whitespace trimmed.

    Splits after . ! ? (and the CJK full stops) and at line breaks, but not after
    initials or common abbreviations, so "U.S. officials" stays in one sentence.
    """
    spans: list[tuple[int, int]] = []
    pending: int | None = None
    start = 0
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    for end in (*ends, len(text)):
        piece_start, piece_end = start, end
        start = end
        while piece_start < piece_end and text[piece_start].isspace():
            piece_start += 1
        while piece_end > piece_start and text[piece_end - 1].isspace():
            piece_end -= 1
        if piece_start == piece_end:
            continue
        if pending is None:
            pending = piece_start
        # Only the tail can be an abbreviation; searching it alone keeps this linear.
        if not _ABBREVIATION.search(text[max(pending, piece_end - 8) : piece_end]):
            spans.append((pending, piece_end))
            pending = None
    if pending is not None:
        spans.append((pending, len(text.rstrip())))
    return spans


def by_sentence(spans: Sequence[tuple[int, int]], matches: Iterable[_M]) -> list[list[_M]]:
    """Return the matches (tuples starting with a text offset) grouped by sentence span."""
    starts = [start for start, _ in spans]
    grouped: list[list[_M]] = [[] for _ in spans]
    for match in matches:
        index = bisect_right(starts, match[0]) - 1
        if index >= 0 and match[0] < spans[index][1]:
            grouped[index].append(match)
    return grouped


def split_sentences(text: str) -> tuple[str, ...]:
    """Return the sentences of a text, in order (see sentence_spans)."""
    return tuple(" ".join(text[start:end].split()) for start, end in sentence_spans(text))


def _trie_pattern(phrases: Iterable[str]) -> str:
    trie: dict[str, Any] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


class PhraseMatcher:
    """Finds many phrases at once and maps each match to its key.

    Latin-script phrases match whole words only (a letter or digit may not touch either
    end); CJK and Hangul phrases match anywhere, since those scripts attach particles
    without spaces. Case-insensitive unless ``case_sensitive``: then each phrase also
    matches in capitals (datelines such as "SEOUL —"). ``plurals`` lets an English
    plural "s"/"es" follow a phrase.
    """

    def __init__(
        self,
        phrases: Mapping[str, str],
        *,
        case_sensitive: bool = False,
        plurals: bool = False,
    ) -> None:
        self._keys: dict[str, str] = {}
        for phrase, key in phrases.items():
            phrase = " ".join(_fold(phrase).split())
            if not phrase:
                continue
            variants = (phrase, phrase.upper()) if case_sensitive else (phrase.lower(),)
            for variant in variants:
                self._keys.setdefault(variant, key)
        self._case_sensitive = case_sensitive
        suffix = "(?:e?s)?" if plurals else ""
        core = _trie_pattern(sorted(self._keys)) if self._keys else "(?!)"
        # The pattern starts with the phrases themselves (no lookbehind) so the regex
        # engine can skip ahead on their first characters; the left edge is checked in
        # find(). Case-insensitive matchers read lower-cased text for the same reason.
        self._pattern = re.compile(rf"({core}){suffix}(?![{_EDGE}])")

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Return (start, end, key) for each non-overlapping match, left to right."""
        text = _fold(text)
        if not self._case_sensitive:
            lowered = text.lower()
            # A few characters change length when lower-cased; keep offsets true.
            text = lowered if len(lowered) == len(text) else text
        found = []
        for match in self._pattern.finditer(text):
            start = match.start()
            if start and text[start - 1] in _EDGE_CHARS:
                continue
            word = match.group(1)
            key = self._keys.get(word) if self._case_sensitive else self._keys.get(word.lower())
            if key is not None:
                found.append((start, match.end(), key))
        return found

    def keys(self, text: str) -> set[str]:
        """Return the keys of all phrases found in the text."""
        return {key for _, _, key in self.find(text)}


class PartyFinder:
    """Finds the parties named in a text, ignoring names inside look-alike phrases.

    Names are the profile's party names and aliases, matched case-sensitively (they are
    proper nouns: "Moon" the president, not the moon). A name inside a phrase listed in
    ``[relevance] not_party`` does not count: "Korea" in "North Korea" is not the party.
    A name listed under both parties (a compound such as a two-country abbreviation)
    names both. ``[relevance.affiliates]`` lists bodies (firms) that stand for a party
    only where the caller says so.
    """

    def __init__(self, profile: Profile) -> None:
        names: dict[str, set[str]] = {}
        for party in profile.parties:
            for name in party.names:
                names.setdefault(" ".join(name.split()), set()).add(party.key)
        for key, members in profile.relevance.get("affiliates", {}).items():
            for name in members:
                names.setdefault(" ".join(str(name).split()), set()).add(f"~{key}")
        self._keys = {name: tuple(sorted(keys)) for name, keys in names.items()}
        self._names = PhraseMatcher({name: name for name in self._keys}, case_sensitive=True)
        not_party = [str(phrase) for phrase in profile.relevance.get("not_party", ())]
        self._not_party = PhraseMatcher({phrase: phrase for phrase in not_party}, plurals=True)

    def find_all(self, text: str) -> list[tuple[int, int, str, bool]]:
        """Return (start, end, party key, is_affiliate) for each name in the text."""
        blocked = self._not_party.find(text)
        found = []
        for start, end, name in self._names.find(text):
            if any(b_start < end and start < b_end for b_start, b_end, _ in blocked):
                continue
            for key in self._keys[name]:
                affiliate = key.startswith("~")
                found.append((start, end, key.removeprefix("~"), affiliate))
        return found

    def keys(self, text: str, affiliates: bool = False) -> set[str]:
        """Return the keys of the parties named in the text (affiliates only if asked)."""
        return {
            key for _, _, key, by_affiliate in self.find_all(text) if affiliates or not by_affiliate
        }


@dataclass(frozen=True)
class Topic:
    phrase: str
    weight: float
    kind: str  # "entity" | "phrase" | "profile"
    aliases: tuple[str, ...] = ()

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


def _derived(seed_text: str, profile: Profile, rules: TopicRules) -> list[Topic]:
    party_names = PartyFinder(profile)
    engaged = [s for s in split_sentences(seed_text) if party_names.keys(s)]
    # The outlet's own name runs through its pages (bylines, "also read" links).
    # Names the profile marks as not the parties (other countries, look-alikes) are
    # scenery even when the seed repeats them.
    others = profile.relevance.get("third_parties", {})
    scenery = [*profile.relevance.get("not_party", ()), *(n for v in others.values() for n in v)]
    drop = rules.drop | {profile.seed.outlet.lower()} | {str(name).lower() for name in scenery}
    scored: dict[str, tuple[float, str]] = {}
    for (kind, phrase), count in _candidates(engaged, party_names).items():
        words = len(phrase.split())
        if count < rules.min_count or phrase.lower() in drop:
            continue
        score = count * (1.0 + 0.5 * (words - 1)) * (1.2 if kind == "entity" else 1.0)
        key = phrase.lower()
        if key not in scored or scored[key][0] < score:
            scored[key] = (score, kind)
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
            phrase=phrase,
            weight=round(max(0.2, score / top), 3),
            kind=kind,
            aliases=rules.aliases.get(phrase, ()),
        )
        for phrase, (score, kind) in best
    ]


def derive_topics(seed_text: str, profile: Profile) -> Topics:
    """Return the seed's weighted topics, merged with the profile's additions.

    Only sentences that name a party are read, so reader comments and page furniture do
    not feed the topics. A profile phrase that is also derived keeps the higher weight
    and gains the profile's aliases.
    """
    rules = TopicRules.from_profile(profile)
    merged: dict[str, Topic] = {
        topic.phrase: topic for topic in _derived(seed_text, profile, rules)
    }
    for added in rules.add:
        key = added.phrase.lower()
        known = merged.get(key)
        if known is None:
            merged[key] = added
            continue
        aliases = tuple(dict.fromkeys((*known.aliases, *added.aliases)))
        merged[key] = Topic(key, max(known.weight, added.weight), known.kind, aliases)
    ordered = sorted(merged.values(), key=lambda topic: (-topic.weight, topic.phrase))
    return Topics(items=tuple(ordered))
