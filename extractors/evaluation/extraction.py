"""How well extract_article does on labelled pages, next to plain trafilatura.

Three directory layouts are understood:
* "scrapinghub": html/<hash>.html.gz and ground-truth.json {hash: {articleBody, url}};
  scored by token-level precision, recall and F1 (micro: summed over all pages).
* "trafilatura": pages (*.html, optionally .gz, anywhere below) and a JSON file
  {url: {file, with: [...], without: [...]}}; scored by the share of segments satisfied.
* comments: html/ pages and manifest.jsonl with comment_snippets; counts comment leaks.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import lxml.html
import trafilatura

from extractors.article import ExtractionFailure, extract_article

# A run of this many words shared by a comment and our text is not a coincidence.
LEAK_NGRAM_WORDS = 6
_WORDS = re.compile(r"\w+")
# LEAK_NGRAM_WORDS consecutive words, lower-cased.
Ngram = tuple[str, ...]


def _read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _our_text(html: bytes, url: str) -> str:
    result = extract_article(html, url, content_type="text/html")
    return "" if isinstance(result, ExtractionFailure) else result.text


def _baseline_text(html: bytes, url: str) -> str:
    # trafilatura as it comes: default options, comments included.
    return trafilatura.extract(html) or ""


def _timed(
    extract: Callable[[bytes, str], str], pages: list[tuple[bytes, str]]
) -> tuple[list[str], float]:
    started = time.perf_counter()
    texts = [extract(html, url) for html, url in pages]
    elapsed = time.perf_counter() - started
    return texts, round(len(pages) / elapsed, 1) if elapsed else 0.0


def _token_scores(outputs: list[str], truths: list[str]) -> tuple[float, float, float]:
    """Return micro precision, recall and F1 of whitespace tokens (bags, not sequences)."""
    overlap = predicted = expected = 0
    for output, truth in zip(outputs, truths, strict=True):
        ours, theirs = Counter(output.split()), Counter(truth.split())
        overlap += sum((ours & theirs).values())
        predicted += sum(ours.values())
        expected += sum(theirs.values())
    precision = overlap / predicted if predicted else 0.0
    recall = overlap / expected if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return round(precision, 4), round(recall, 4), round(f1, 4)


def _evaluate_scrapinghub(directory: Path) -> dict[str, Any]:
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    pages, bodies = [], []
    for key, record in sorted(truth.items()):
        path = directory / "html" / f"{key}.html.gz"
        if not path.exists():
            path = directory / "html" / f"{key}.html"
        pages.append((_read_page(path), record.get("url", "")))
        bodies.append(record["articleBody"])
    ours, speed = _timed(_our_text, pages)
    baseline, baseline_speed = _timed(_baseline_text, pages)
    precision, recall, f1 = _token_scores(ours, bodies)
    base_precision, base_recall, base_f1 = _token_scores(baseline, bodies)
    return {
        "layout": "scrapinghub",
        "pages": len(pages),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "baseline_precision": base_precision,
        "baseline_recall": base_recall,
        "baseline_f1": base_f1,
        "pages_per_second": speed,
        "baseline_pages_per_second": baseline_speed,
    }


def _page_index(directory: Path) -> dict[str, Path]:
    """Return the pages below directory by name, ".gz" removed."""
    return {
        path.name.removesuffix(".gz"): path
        for path in directory.rglob("*")
        if path.name.endswith((".html", ".htm", ".html.gz", ".htm.gz"))
    }


def _segment_truth(directory: Path, pages: dict[str, Path]) -> dict[str, Any]:
    """Return the JSON ground truth that best matches the pages present.

    A directory may hold a subset's truth beside the full set's: the file with the most
    entries whose page exists wins, then the one with the fewest entries missing.
    """
    best: tuple[tuple[int, int], dict[str, Any]] = ((0, 0), {})
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(
            isinstance(value, dict) and "file" in value for value in data.values()
        ):
            continue
        present = sum(value["file"] in pages for value in data.values())
        rank = (present, present - len(data))
        if rank > best[0]:
            best = (rank, data)
    return best[1]


def _segments_satisfied(text: str, record: Mapping[str, Any]) -> int:
    return sum(segment in text for segment in record.get("with", ())) + sum(
        segment not in text for segment in record.get("without", ())
    )


def _evaluate_segments(directory: Path) -> dict[str, Any]:
    pages = _page_index(directory)
    truth = _segment_truth(directory, pages)
    records = [(url, record) for url, record in sorted(truth.items()) if record["file"] in pages]
    inputs = [(_read_page(pages[record["file"]]), url) for url, record in records]
    ours, speed = _timed(_our_text, inputs)
    baseline, baseline_speed = _timed(_baseline_text, inputs)
    segments = sum(len(r.get("with", ())) + len(r.get("without", ())) for _, r in records)
    satisfied = sum(_segments_satisfied(t, r) for t, (_, r) in zip(ours, records, strict=True))
    base = sum(_segments_satisfied(t, r) for t, (_, r) in zip(baseline, records, strict=True))
    return {
        "layout": "trafilatura",
        "pages": len(records),
        "segments": segments,
        "satisfied": satisfied,
        "score": round(satisfied / segments, 4) if segments else 0.0,
        "baseline_score": round(base / segments, 4) if segments else 0.0,
        "pages_per_second": speed,
        "baseline_pages_per_second": baseline_speed,
    }


def evaluate_extraction(directory: Path) -> dict[str, Any]:
    """Return extraction scores for a "scrapinghub" or "trafilatura" layout directory.

    Baseline figures come from plain trafilatura.extract on the same pages in the same run.
    """
    directory = Path(directory)
    if (directory / "ground-truth.json").exists():
        return _evaluate_scrapinghub(directory)
    return _evaluate_segments(directory)


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _ngrams(words: list[str]) -> Iterator[Ngram]:
    size = LEAK_NGRAM_WORDS
    return (tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def _page_words(html: bytes) -> list[str]:
    tree = lxml.html.fromstring(html)
    for hidden in tree.xpath("//script | //style | //noscript | //template"):
        hidden.drop_tree()
    # Joined with spaces: adjacent elements ("<b>Ann</b><i>says</i>") are separate words.
    return _words(" ".join(tree.itertext()))


def _occurrences(needle: list[str], haystack: list[str]) -> int:
    if not needle:
        return 0
    padded = f" {' '.join(haystack)} "
    return padded.count(f" {' '.join(needle)} ")


def _leaked_ngrams(
    snippet: str, page: list[str], page_counts: Counter[Ngram], text: set[Ngram]
) -> set[Ngram]:
    """Return the comment's own word runs (those not quoting the page) found in text.

    A run quotes the article when the page holds it more often than the comment's own
    occurrences account for. A snippet ends mid-word (it was cut to a length): that last
    word is dropped.
    """
    words = _words(snippet)[:-1]
    copies = max(1, _occurrences(words, page))
    own = Counter(_ngrams(words))
    return {
        gram for gram, count in own.items() if gram in text and page_counts[gram] <= count * copies
    }


def evaluate_comments(directory: Path) -> dict[str, Any]:
    """Return how many pages leak reader comments into extract_article's text.

    keys: pages, leaks (snippets with a leaked word run), leaked_pages (file names).
    """
    directory = Path(directory)
    manifest = directory / "manifest.jsonl"
    pages = leaks = 0
    leaked_pages: list[str] = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        html = (directory / record["file"]).read_bytes()
        pages += 1
        text = set(_ngrams(_words(_our_text(html, record.get("url") or ""))))
        page = _page_words(html)
        page_counts = Counter(_ngrams(page))
        found = sum(
            bool(_leaked_ngrams(snippet, page, page_counts, text))
            for snippet in record.get("comment_snippets", ())
        )
        if found:
            leaks += found
            leaked_pages.append(Path(record["file"]).name)
    return {"pages": pages, "leaks": leaks, "leaked_pages": leaked_pages}
