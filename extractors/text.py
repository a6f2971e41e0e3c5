"""Text tools the scorers share: sentences, a many-phrase matcher, and party names.

Sentences are found by offsets so that matches from one scan of a whole text can be
handed to their sentences afterwards (``by_sentence``), which is several times faster
than scanning sentence by sentence.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
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
            # Only a Latin-script phrase needs a word edge: "GSOMIA破棄" holds 破棄.
            if start and text[start - 1] in _EDGE_CHARS and text[start] in _EDGE_CHARS:
                continue
            word = match.group(1)
            key = self._keys.get(word) if self._case_sensitive else self._keys.get(word.lower())
            if key is not None:
                found.append((start, match.end(), key))
        return found

    def keys(self, text: str) -> set[str]:
        """Return the keys of all phrases found in the text."""
        return {key for _, _, key in self.find(text)}


_HANGUL = re.compile(r"[\uac00-\ud7af]")
_KANA = re.compile(r"[\u3040-\u30ff]")


def script_language(text: str) -> str:
    """Return "ko" for Hangul text, "ja" for text with kana, else "" (not decided)."""
    if _HANGUL.search(text):
        return "ko"
    return "ja" if _KANA.search(text) else ""


def _name_forms(name: str) -> set[str]:
    """Return a person's name as written in other romanisations: hyphen, space, joined."""
    forms = {name}
    parts = name.split()
    for i, part in enumerate(parts):
        if "-" in part:
            head, _, tail = part.partition("-")
            for joined in (
                f"{head} {tail.capitalize()}",
                f"{head}-{tail.capitalize()}",
                head + tail,
            ):
                forms.add(" ".join((*parts[:i], joined, *parts[i + 1 :])))
    return forms


class PartyFinder:
    """Finds the parties named in a text, ignoring names inside look-alike phrases.

    Names are the profile's party names and aliases, matched case-sensitively (they are
    proper nouns: "Moon" the president, not the moon). A name inside a phrase listed in
    ``[relevance] not_party`` does not count: "Korea" in "North Korea" is not the party.
    A name listed under both parties (a compound such as a two-country abbreviation)
    names both. ``[relevance.affiliates]`` lists bodies (firms) that stand for a party
    only where the caller says so. Two readings need the whole article, given as
    ``context``: a person's surname names the party once the article gave the full name
    ("Lee" after "Lee Jae Myung"), and a party's home names ("외교부", the foreign
    ministry) name it in an article in the party's own language.
    """

    def __init__(self, profile: Profile) -> None:
        names: dict[str, set[str]] = {}
        surnames: dict[str, set[str]] = {}
        self._home: dict[str, PhraseMatcher] = {}
        for party in profile.parties:
            for name in party.names:
                names.setdefault(" ".join(name.split()), set()).add(party.key)
            for person in party.people:
                for form in _name_forms(" ".join(person.split())):
                    names.setdefault(form, set()).add(party.key)
                parts = person.split()
                for short in {parts[0], parts[-1]} if len(parts) > 1 else set():
                    surnames.setdefault(short.split("-")[0], set()).add(party.key)
            if party.home_language and party.home_names:
                self._home[party.key] = PhraseMatcher(
                    {name: party.home_language for name in party.home_names}
                )
        for key, members in profile.relevance.get("affiliates", {}).items():
            for name in members:
                names.setdefault(" ".join(str(name).split()), set()).add(f"~{key}")
        self._keys = {name: tuple(sorted(keys)) for name, keys in names.items()}
        self._names = PhraseMatcher({name: name for name in self._keys}, case_sensitive=True)
        self._surnames = {name: tuple(sorted(keys)) for name, keys in surnames.items()}
        self._surname_matcher = PhraseMatcher(
            {name: name for name in self._surnames if name not in self._keys}, case_sensitive=True
        )
        not_party = [str(phrase) for phrase in profile.relevance.get("not_party", ())]
        self._not_party = PhraseMatcher({phrase: phrase for phrase in not_party}, plurals=True)

    def find_all(self, text: str, context: str | None = None) -> list[tuple[int, int, str, bool]]:
        """Return (start, end, party key, is_affiliate) for each name in the text.

        ``context`` is the whole article the text belongs to (default: the text itself).
        """
        blocked = self._not_party.find(text)
        named = self._names.find(text)
        found = []
        for start, end, name in named:
            if any(b_start < end and start < b_end for b_start, b_end, _ in blocked):
                continue
            for key in self._keys[name]:
                affiliate = key.startswith("~")
                found.append((start, end, key.removeprefix("~"), affiliate))
        article = text if context is None else context
        found += self._by_surname(text, article)
        found += self._by_home_name(text, article, named)
        return sorted(found)

    def _by_surname(self, text: str, article: str) -> list[tuple[int, int, str, bool]]:
        hits = self._surname_matcher.find(text)
        if not hits:
            return []
        given = {name for _, _, name in self._names.find(article) if " " in name}
        known = {
            part.split("-")[0] for name in given for part in (name.split()[0], name.split()[-1])
        }
        return [
            (start, end, key, False)
            for start, end, short in hits
            if short in known
            for key in self._surnames[short]
        ]

    def _by_home_name(
        self, text: str, article: str, named: Sequence[tuple[int, int, str]]
    ) -> list[tuple[int, int, str, bool]]:
        if not self._home:
            return []
        language = script_language(article)
        found = []
        for key, matcher in self._home.items():
            for start, end, home_language in matcher.find(text):
                if home_language != language:
                    continue
                # "일본 정부", "韓国政府": the other party's government, not this one's.
                owner = [
                    self._keys[name] for n_start, n_end, name in named if 0 <= start - n_end <= 2
                ]
                if any(key not in keys for keys in owner):
                    continue
                found.append((start, end, key, False))
        return found

    def keys(self, text: str, affiliates: bool = False, context: str | None = None) -> set[str]:
        """Return the keys of the parties named in the text (affiliates only if asked)."""
        return {
            key
            for _, _, key, by_affiliate in self.find_all(text, context)
            if affiliates or not by_affiliate
        }
