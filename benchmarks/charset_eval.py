"""Page decoding measured: decode_page next to w3lib's html_to_unicode, on real pages.

Decoders: ``decode_page`` (the project's); ``w3lib`` (html_to_unicode as it comes);
``w3lib+guess`` (with trafilatura's charset guess as its auto_detect_fun); ``w3lib+checks``
(that, after decode_page's rule that valid UTF-8 wins, and falling back to the guess when
the bytes do not fit the charset it chose). decode_page itself reads charsets with
w3lib.encoding's functions but keeps its own order of rules, which html_to_unicode cannot
express (a declared charset the bytes do not fit gives way to the next declaration).

    .venv/bin/python benchmarks/charset_eval.py [--corpus DIR] [--limit N] [--no-extract]
        [--save FILE.json] [--against FILE.json]

Every page is read from the evaluation corpus (default ``../shared/corpus``) at run time;
no corpus text is kept in the project. The cases, each with the exact text its bytes
encode (the reference):

* ``utf-8``: every HTML page of the corpus as stored (extraction/, comments/, news/html).
* ``latin-1 real``: the corpus documents that are not UTF-8 (two ISO-8859-1 feeds).
* ``<charset> <where>``: each of those HTML pages re-encoded at run time as windows-1252
  labelled ISO-8859-1, as cp932 labelled Shift_JIS and as cp949 labelled EUC-KR (as such
  pages are written in practice; characters outside the code page become character
  references), its own declarations removed, then declared in a meta tag, in the HTTP
  header, nowhere, mislabelled (the header says UTF-8), or both (the header says UTF-8,
  the meta tag names the page's charset).
* ``utf-8 labelled latin-1``: the UTF-8 pages with the header claiming ISO-8859-1.
* ``fixtures``: the test suite's own legacy pages (tests/fixtures/pages) and the
  hostile-server pages of tests/reliability, declared as the tests declare them.

Per decoder and group: pages, pages decoded exactly, pages with U+FFFD the reference lacks,
pages decoded worse than decode_page decodes them (exact beats inexact, then token F1),
token F1 of the decoded page against the reference, and, where the corpus has extraction
ground truth, extract_article on the decoded page scored as ``straitwatch eval extraction``
scores it (token F1 against articleBody; share of with/without segments satisfied); then
the decoding time. ``--save`` writes per-page scores; ``--against`` lists the pages that a
decoder decodes worse than decode_page did in a saved run.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from extractors.article import ExtractionFailure, decode_page, extract_article  # noqa: E402
from extractors.evaluation.extraction import (  # noqa: E402
    _page_index,
    _segment_truth,
    _segments_satisfied,
    _token_scores,
)

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
FIXTURES = REPO / "tests" / "fixtures" / "pages"

# (group name, codec the bytes are written in, label a page declares)
LEGACY = [
    ("latin-1", "cp1252", "ISO-8859-1"),
    ("shift_jis", "cp932", "Shift_JIS"),
    ("euc-kr", "cp949", "EUC-KR"),
]
# Documents of the corpus that are not UTF-8, and the charset each is written in
# (SOURCES.md and, for the first, its XML declaration).
REAL_LEGACY = {
    "feeds/rss-parser/encoding.rss": "cp1252",
    "feeds/rss-parser/uolNoticias.rss": "cp1252",
}
# The project's legacy fixtures: file, charset as the tests declare it, codec it is in.
FIXTURE_PAGES = [
    ("latin1.html", "ISO-8859-1", "cp1252"),
    ("shiftjis.html", "Shift_JIS", "cp932"),
    ("euckr.html", "EUC-KR", "cp949"),
]
_DECLARATION = re.compile(
    r"<meta[^>]*charset[^>]*>|(?<=<\?xml)([^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']", re.I
)
_HEAD = re.compile(r"<head\b[^>]*>", re.I)


@dataclass
class Case:
    group: str
    name: str
    content: bytes
    content_type: str
    reference: str
    truth: tuple[str, Any] | None = None  # ("tokens", articleBody) or ("segments", record)


@dataclass
class Tally:
    pages: int = 0
    exact: int = 0
    fffd: int = 0
    seconds: float = 0.0
    decoded: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    body_truths: list[str] = field(default_factory=list)
    segments: int = 0
    satisfied: int = 0
    worse: int = 0  # pages decoded worse than decode_page decoded them


def _w3lib(auto_detect: bool, checks: bool = False) -> Callable[[bytes, str], str]:
    """Return w3lib's html_to_unicode as a decoder.

    auto_detect: trafilatura's charset guess as its auto_detect_fun (used when nothing is
    declared). checks: decode_page's two rules around it: valid UTF-8 wins over a declared
    charset, and a declared charset the bytes do not fit gives way to the guess.
    """
    from trafilatura.utils import decode_file, detect_encoding
    from w3lib.encoding import html_to_unicode, read_bom

    def guess(content: bytes) -> str | None:
        return next(iter(detect_encoding(content)), None)

    def decode(content: bytes, content_type: str) -> str:
        if checks and read_bom(content)[0] is None:
            try:
                return content.decode("utf-8")
            except UnicodeDecodeError:
                pass
        encoding, text = html_to_unicode(
            content_type or None, content, auto_detect_fun=guess if auto_detect else None
        )
        if checks and "\ufffd" in text:
            try:
                content.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                return decode_file(content)
        return text

    return decode


def decoders() -> dict[str, Callable[[bytes, str], str]]:
    return {
        "decode_page": decode_page,
        "w3lib": _w3lib(auto_detect=False),
        "w3lib+guess": _w3lib(auto_detect=True),
        "w3lib+checks": _w3lib(auto_detect=True, checks=True),
    }


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _corpus_pages(corpus: Path) -> Iterator[tuple[str, bytes, tuple[str, Any] | None]]:
    scrapinghub = corpus / "extraction" / "scrapinghub-article-extraction-benchmark"
    truth = json.loads((scrapinghub / "ground-truth.json").read_text(encoding="utf-8"))
    for key, record in sorted(truth.items()):
        path = scrapinghub / "html" / f"{key}.html.gz"
        yield f"scrapinghub/{key[:12]}", _read(path), ("tokens", record["articleBody"])
    segmented = corpus / "extraction" / "trafilatura-eval"
    pages = _page_index(segmented)
    for _url, record in sorted(_segment_truth(segmented, pages).items()):
        if record["file"] in pages:
            yield (
                f"trafilatura/{record['file']}",
                _read(pages[record["file"]]),
                ("segments", record),
            )
    for path in sorted((corpus / "comments" / "html").glob("*.html")):
        yield f"comments/{path.name}", path.read_bytes(), None
    for path in sorted((corpus / "news" / "html").glob("*.html")):
        yield f"news/{path.name}", path.read_bytes(), None


def _declared(page: str, label: str | None) -> str:
    """Return page without its charset declarations, then declaring label in a meta tag."""
    page = _DECLARATION.sub(lambda m: m.group(1) or "", page)
    if label is None:
        return page
    meta = f'<meta charset="{label}">'
    head = _HEAD.search(page)
    return page[: head.end()] + meta + page[head.end() :] if head else meta + page


def _fixture_cases() -> Iterator[Case]:
    for name, charset, codec in FIXTURE_PAGES:
        raw = (FIXTURES / name).read_bytes()
        bare = re.sub(rb"<meta http-equiv[^>]*>", b"", raw)
        for where, content, content_type in (
            ("meta", raw, "text/html"),
            ("header", bare, f"text/html; charset={charset}"),
            ("nowhere", bare, "text/html"),
        ):
            yield Case("fixtures", f"{name} {where}", content, content_type, content.decode(codec))
    from tests.reliability import pages as hostile  # the hostile server's pages

    latin = hostile.article(hostile.LATIN1_TITLE, hostile.LATIN1_BODY, charset_meta=None)
    japanese = hostile.article(
        hostile.JAPANESE_TITLE, hostile.JAPANESE_BODY, charset_meta="shift_jis", lang="ja"
    )
    korean = hostile.article(
        hostile.KOREAN_TITLE, hostile.KOREAN_BODY, charset_meta=None, lang="ko"
    )
    for name, text, codec, content_type in (
        ("latin-1, header", latin, "cp1252", "text/html; charset=iso-8859-1"),
        ("latin-1 labelled utf-8", latin, "cp1252", "text/html; charset=utf-8"),
        ("latin-1, nowhere", latin, "cp1252", "text/html"),
        ("shift_jis, meta", japanese, "shift_jis", "text/html"),
        ("euc-kr, header", korean, "euc-kr", "text/html; charset=euc-kr"),
        ("euc-kr, nowhere", korean, "euc-kr", "text/html"),
    ):
        yield Case("fixtures", f"hostile {name}", text.encode(codec), content_type, text)


def cases(corpus: Path, limit: int | None) -> Iterator[Case]:
    pages = list(_corpus_pages(corpus))[:limit]
    for name, raw, truth in pages:
        yield Case("utf-8", name, raw, "text/html", raw.decode("utf-8"), truth)
    for relative, codec in REAL_LEGACY.items():
        raw = (corpus / relative).read_bytes()
        yield Case("latin-1 real", relative, raw, "", raw.decode(codec))
    for group, codec, label in LEGACY:
        for name, raw, truth in pages:
            page = raw.decode("utf-8")
            for where, meta, content_type in (
                ("meta", label, "text/html"),
                ("header", None, f"text/html; charset={label}"),
                ("nowhere", None, "text/html"),
                ("labelled utf-8", None, "text/html; charset=utf-8"),
                ("utf-8 header, meta", label, "text/html; charset=utf-8"),
            ):
                content = _declared(page, meta).encode(codec, "xmlcharrefreplace")
                reference = content.decode(codec)
                yield Case(f"{group} {where}", name, content, content_type, reference, truth)
    for name, raw, truth in pages:
        content = _declared(raw.decode("utf-8"), None).encode("utf-8")
        yield Case(
            "utf-8 labelled latin-1",
            name,
            content,
            "text/html; charset=iso-8859-1",
            content.decode("utf-8"),
            truth,
        )
    yield from _fixture_cases()


class Extractions:
    """extract_article on decoded pages, each distinct page extracted once."""

    def __init__(self) -> None:
        self._texts: dict[bytes, str] = {}

    def text(self, page: str, url: str) -> str:
        key = hashlib.blake2b(page.encode("utf-8", "surrogatepass")).digest()
        if key not in self._texts:
            result = extract_article(page, url, content_type="text/html")
            self._texts[key] = "" if isinstance(result, ExtractionFailure) else result.text
        return self._texts[key]


def _page_score(decoded: str, reference: str) -> float:
    """Return how well one decoded page agrees with its reference: 1.0 when exact."""
    if decoded == reference:
        return 1.0
    return _token_scores([decoded], [reference])[2] * 0.999  # inexact ranks below exact


def run(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus)
    if not (corpus / "extraction").is_dir():
        print(f"evaluation corpus not found at {corpus}: nothing to measure", file=sys.stderr)
        return 2
    measured = decoders()
    tallies: dict[tuple[str, str], Tally] = {}
    scores: dict[str, dict[str, float]] = {name: {} for name in measured}
    extractions = Extractions()
    for case in cases(corpus, args.limit):
        ours = 0.0
        for name, decode in measured.items():
            started = time.perf_counter()
            decoded = decode(case.content, case.content_type)
            elapsed = time.perf_counter() - started
            tally = tallies.setdefault((case.group, name), Tally())
            tally.pages += 1
            tally.seconds += elapsed
            tally.exact += decoded == case.reference
            tally.fffd += decoded.count("\ufffd") > case.reference.count("\ufffd")
            tally.decoded.append(decoded)
            tally.references.append(case.reference)
            score = _page_score(decoded, case.reference)
            scores[name][f"{case.group} | {case.name}"] = score
            if name == "decode_page":
                ours = score
            tally.worse += score < ours
            if case.truth is None or args.no_extract:
                continue
            kind, truth = case.truth
            text = extractions.text(decoded, "https://corpus.example/page")
            if kind == "tokens":
                tally.bodies.append(text)
                tally.body_truths.append(truth)
            else:
                tally.segments += len(truth.get("with", ())) + len(truth.get("without", ()))
                tally.satisfied += _segments_satisfied(text, truth)
    _print_table(tallies, list(measured))
    if args.save:
        Path(args.save).write_text(json.dumps(scores, indent=1, sort_keys=True), encoding="utf-8")
    if args.against:
        _print_worse(json.loads(Path(args.against).read_text(encoding="utf-8")), scores)
    return 0


def _print_table(tallies: dict[tuple[str, str], Tally], names: list[str]) -> None:
    header = (
        f"{'group':<28} {'decoder':<12} {'pages':>5} {'exact':>5} {'U+FFFD':>6} "
        f"{'worse':>5} {'tok F1':>6} {'ext F1':>6} {'segs':>6} {'ms':>8}"
    )
    print(header)
    print("-" * len(header))
    groups = list(dict.fromkeys(group for group, _ in tallies))
    for group in groups:
        for name in names:
            t = tallies[(group, name)]
            token_f1 = _token_scores(t.decoded, t.references)[2]
            ext = f"{_token_scores(t.bodies, t.body_truths)[2]:.4f}" if t.bodies else "-"
            segs = f"{t.satisfied / t.segments:.4f}" if t.segments else "-"
            print(
                f"{group:<28} {name:<12} {t.pages:>5} {t.exact:>5} {t.fffd:>6} {t.worse:>5} "
                f"{token_f1:>6.4f} {ext:>6} {segs:>6} {t.seconds * 1000:>8.1f}"
            )
    print()
    for name in names:
        total = sum(t.seconds for (_, n), t in tallies.items() if n == name)
        pages = sum(t.pages for (_, n), t in tallies.items() if n == name)
        print(f"{name}: {pages} pages decoded in {total:.2f} s")


def _print_worse(saved: dict[str, dict[str, float]], scores: dict[str, dict[str, float]]) -> None:
    baseline = saved["decode_page"]
    for name, pages in scores.items():
        worse = [page for page, score in pages.items() if score < baseline.get(page, 0.0)]
        print(f"\n{name}: {len(worse)} pages decoded worse than the saved decode_page")
        for page in worse[:20]:
            print(f"  {page}: {pages[page]:.4f} < {baseline[page]:.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--limit", type=int, help="Corpus pages to take (all by default).")
    parser.add_argument("--no-extract", action="store_true", help="Decoding scores only.")
    parser.add_argument("--save", help="Write per-page scores to this JSON file.")
    parser.add_argument("--against", help="List pages decoded worse than in this saved run.")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
