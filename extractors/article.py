"""Web page -> ParsedArticle: body text without reader comments, metadata, fingerprint.

trafilatura does the extraction. This module decides what it is given (decoded text, with
the HTTP and in-page charset honoured), which options it runs with (measured, see
evaluation.extraction), and what counts as "no article here".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date
from typing import Any

import lxml.etree
import trafilatura
from trafilatura.deduplication import Simhash
from trafilatura.settings import Document
from trafilatura.utils import decode_file
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    to_unicode,
)

from extractors.urls import canonical_url, outlet_of, resolve_link

# Shorter bodies are teasers, paywall notices or captions, not articles. The shortest body
# in the article benchmark is 369 characters; a wire flash of two sentences is about 200.
MIN_BODY_CHARS = 200
# Hangul, kana and Han characters carry about what two Latin letters do: a Japanese or
# Korean wire flash of two sentences is about 100 of them, so each counts twice.
_DENSE_SCRIPT = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def body_size(text: str) -> int:
    """Return text's length in Latin-letter equivalents (dense scripts count twice)."""
    return len(text) + len(_DENSE_SCRIPT.findall(text))


# Simhash of 64 bits; 0.875 allows 8 bits apart. Measured on the 181 benchmark articles:
# no two unrelated ones reach it (highest 0.859 of 16,290 pairs), while 90-96% of
# reprints with a new intro and byline, a dropped last paragraph or 5% of words changed
# do. Heavily cut copies (70% kept) mostly fall below: the canonical URL must catch those.
NEAR_DUPLICATE_SIMILARITY = 0.875
_SIMHASH_BITS = 64

# C0 control characters but tab, newline and carriage return, and DEL: raw, or as numeric
# character references (decimal or hex, the semicolon optional as browsers read them).
# lxml refuses a reference to one as an invalid XML character and trafilatura then drops
# the whole element: one "&#11;" in a headline lost the page.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
    r"|&#0*(?:[0-8]|1[124-9]|2[0-9]|3[01]|127)(?![0-9]);?"
    r"|&#[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])(?![0-9a-fA-F]);?"
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml"})
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"RIFF")


@dataclass(frozen=True)
class ParsedArticle:
    url: str  # the address fetched
    canonical_url: str  # the page's own canonical link when on the same outlet, else url's
    outlet: str
    title: str
    text: str  # body text, reader comments excluded
    published: date | None
    author: str
    sitename: str
    language: str
    fingerprint: str  # hex of trafilatura's Simhash of text


@dataclass(frozen=True)
class ExtractionFailure:
    url: str
    reason: str  # "not_html", "no_body", "empty", "parse_error"
    detail: str


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def decode_page(content: bytes, content_type: str = "") -> str:
    """Return the page as text: BOM, then valid UTF-8, then declared charsets, then a guess.

    Valid UTF-8 wins over a declared charset because mislabelled UTF-8 pages are common and
    non-ASCII bytes that happen to form valid UTF-8 in another encoding are rare. A declared
    charset the bytes do not fit gives way to the next one (a server's default "utf-8" in
    the header, the page's own charset in its meta tag). w3lib reads the header and the
    declarations and maps labels as browsers do (ISO-8859-1 is windows-1252, EUC-KR cp949,
    Shift_JIS cp932): measured on the corpus with benchmarks/charset_eval.py.
    """
    bom_encoding, bom = read_bom(content)
    if bom_encoding and bom:
        return to_unicode(content[len(bom) :], bom_encoding)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for declared in (
        http_content_type_encoding(content_type),
        html_body_declared_encoding(content),
    ):
        if declared:
            try:
                return content.decode(declared)
            except UnicodeDecodeError:
                continue
    return decode_file(content)  # trafilatura's guess (charset_normalizer), lossy at worst


def _not_html(content: bytes, content_type: str) -> str:
    """Return why content is not an HTML page, or "" if it may be one."""
    media = _media_type(content_type)
    if media and media not in _HTML_TYPES:
        return f"content type {media}"
    head = content.lstrip()[:8]
    if head.startswith(_BINARY_MAGIC):
        return f"binary content ({head[:4]!r})"
    if not media and head[:1] in (b"{", b"["):
        return "JSON content"
    return ""


def _language(tree: lxml.etree._Element) -> str:
    """Return the primary language subtag the page declares ("en", "ko", ...), or ""."""
    values = tree.xpath(
        "/html/@lang | /html/@xml:lang"
        " | //meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')"
        "='content-language']/@content | //meta[@property='og:locale']/@content",
        namespaces={"xml": "http://www.w3.org/XML/1998/namespace"},
    )
    for value in values:
        primary = re.split(r"[-_,;\s]", str(value).strip(), maxsplit=1)[0].lower()
        if primary.isalpha() and 2 <= len(primary) <= 3:
            return primary
    return ""


def _canonical_of(tree: lxml.etree._Element, url: str) -> str:
    own = canonical_url(url) or url
    for href in tree.xpath(
        "//link[contains(concat(' ', translate(@rel, 'CANONICAL', "
        "'canonical'), ' '), ' canonical ')]/@href"
    ):
        link = resolve_link(str(href), url)
        # A canonical link to another site is syndication credit, not this page's address.
        if link and outlet_of(link) == outlet_of(url):
            return canonical_url(link) or own
        break
    return own


def strip_control_characters(page: str) -> str:
    """Return the page without control characters, raw or as character references.

    Tab, newline and carriage return stay. None of the others means anything in a page,
    and a reference to one makes lxml refuse the element that holds it.
    """
    return _CONTROL.sub("", page)


def extract_article(
    content: bytes | str, url: str, *, content_type: str = ""
) -> ParsedArticle | ExtractionFailure:
    """Return the article on a page, or why there is none.

    Comments are excluded and trafilatura favours precision: both measured on the
    evaluation corpus (evaluation.extraction). Bodies under MIN_BODY_CHARS are "no_body".
    """
    if not content or not content.strip():
        return ExtractionFailure(url, "empty", "no content")
    if isinstance(content, bytes):
        reason = _not_html(content, content_type)
        if reason:
            return ExtractionFailure(url, "not_html", reason)
        content = decode_page(content, content_type)
    content = strip_control_characters(content)
    try:
        tree = trafilatura.load_html(content)
        if tree is None:
            return ExtractionFailure(url, "parse_error", "not parseable as HTML")
        language, canonical = _language(tree), _canonical_of(tree, url)
        document = _bare_extraction(tree, url, favor_precision=True)
        if _body_of(document) is None:
            # Precision mode now and then drops a whole body it finds too plain; the
            # default mode is the second opinion (it costs time only on these pages). It
            # counts only when it reads as prose: on a gallery or an index page the default
            # mode returns navigation and captions, which are no article.
            second = _bare_extraction(trafilatura.load_html(content), url, favor_precision=False)
            document = second if _reads_as_prose(second) else document
    except (lxml.etree.LxmlError, ValueError) as exc:
        return ExtractionFailure(url, "parse_error", f"{type(exc).__name__}: {exc}")
    text = _body_of(document)
    if document is None or text is None:
        size = len((document.text or "").strip()) if document is not None else 0
        return ExtractionFailure(url, "no_body", f"{size} characters of body text (too short)")
    return ParsedArticle(
        url=url,
        canonical_url=canonical,
        outlet=outlet_of(canonical),
        title=document.title or "",
        text=text,
        published=_day(document.date),
        author=document.author or "",
        sitename=document.sitename or "",
        language=language,
        fingerprint=Simhash(text).to_hex(),
    )


# htmldate without its extensive search: the same extraction scores, about a third less
# time per page (measured with `straitwatch eval extraction`); a feed's own date is the
# fallback when a page states none.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}


def _bare_extraction(tree: Any, url: str, *, favor_precision: bool) -> Document | None:
    # The precision pass skips trafilatura's fallback algorithms (``fast``); when it finds
    # no body, the default pass that follows keeps them.
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        with_metadata=True,
        favor_precision=favor_precision,
        fast=favor_precision,
        date_extraction_params=_DATE_PARAMS,
    )
    return document if isinstance(document, Document) else None


def _body_of(document: Document | None) -> str | None:
    """Return the body text when it is long enough to be an article, else None."""
    text = (document.text or "").strip() if document is not None else ""
    return text if body_size(text) >= MIN_BODY_CHARS else None


PROSE_LINE_CHARS = 100  # a paragraph of about 15 words or more


def _reads_as_prose(document: Document | None) -> bool:
    """True when paragraphs of running text make up at least MIN_BODY_CHARS."""
    text = (document.text or "") if document is not None else ""
    prose = sum(
        body_size(line) for line in text.splitlines() if body_size(line) >= PROSE_LINE_CHARS
    )
    return prose >= MIN_BODY_CHARS


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def quiet_libraries() -> None:
    """Keep the libraries' per-page chatter (trafilatura's "discarding data") out of logs.

    Also the initializer of extraction worker processes: it lives here, beside the work,
    so a worker imports only the extractors, not Prefect.
    """
    for name in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _extract_page(page: tuple[str, bytes, str]) -> ParsedArticle | ExtractionFailure:
    url, content, content_type = page
    return extract_article(content, url, content_type=content_type)


def extract_articles(
    pages: Iterable[tuple[str, bytes, str]], *, executor: Executor | None = None
) -> list[ParsedArticle | ExtractionFailure]:
    """Return one result per (url, content, content_type), in the order given.

    With an executor (a process pool, typically) pages go in chunks, so that each round
    trip carries several pages, while leaving chunks enough to spread over the workers.
    """
    batch = list(pages)
    if executor is None:
        return [_extract_page(page) for page in batch]
    chunksize = max(1, min(16, len(batch) // 16))
    return list(executor.map(_extract_page, batch, chunksize=chunksize))


def similarity(fingerprint_a: str, fingerprint_b: str) -> float:
    """Return how alike two fingerprints are, 0..1 (share of equal Simhash bits)."""
    # Simhash.similarity's formula; its constructor would misread a zero hash as "none".
    differing = (int(fingerprint_a, 16) ^ int(fingerprint_b, 16)).bit_count()
    return (_SIMHASH_BITS - differing) / _SIMHASH_BITS


def is_near_duplicate(fingerprint_a: str, fingerprint_b: str) -> bool:
    """Return True when two fingerprints belong to copies of one text (see the threshold)."""
    return similarity(fingerprint_a, fingerprint_b) >= NEAR_DUPLICATE_SIMILARITY
