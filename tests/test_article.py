import codecs
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from trafilatura.deduplication import Simhash

from extractors.article import (
    ExtractionFailure,
    ParsedArticle,
    decode_page,
    extract_article,
    extract_articles,
    is_near_duplicate,
    similarity,
    strip_control_characters,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"
URL = "https://m.harbourdaily.example/asia/2023/03/17/export-ties?utm_source=social"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def article(name: str, url: str = URL, content_type: str = "text/html") -> ParsedArticle:
    result = extract_article(page(name), url, content_type=content_type)
    assert isinstance(result, ParsedArticle), result
    return result


def test_news_article_text_and_metadata():
    result = article("ties_article.html")
    assert result.url == URL
    assert result.canonical_url == "https://harbourdaily.example/asia/2023/03/17/export-ties"
    assert result.outlet == "harbourdaily.example"
    assert result.title == "Seoul and Tokyo pledge to restore export ties"
    assert result.text.count("\n") >= 3
    assert "roll back the trade restrictions" in result.text
    assert "fewer than half of respondents" in result.text
    for boilerplate in ("Most read", "All rights reserved", "Markets close higher"):
        assert boilerplate not in result.text
    assert result.published == date(2023, 3, 17)
    assert result.author == "Mina Park"
    assert result.sitename == "Harbour Daily"
    assert result.language == "en"
    assert result.fingerprint == Simhash(result.text).to_hex()


def test_reader_comments_do_not_reach_the_text():
    raw = page("comments_article.html")
    result = article("comments_article.html")
    assert "hotline between their navies" in result.text
    assert "Comment number" not in result.text
    assert "fishing industry" not in result.text
    assert "Leave a Reply" not in result.text
    # The comments are most of the page: the body is a small share of its text.
    assert len(result.text) * 10 < len(raw)


def test_page_without_article_body():
    result = extract_article(page("gallery.html"), URL, content_type="text/html")
    assert isinstance(result, ExtractionFailure)
    assert result.reason == "no_body"


def test_canonical_link_on_same_outlet_is_honoured():
    result = article("canonical_article.html")
    assert result.canonical_url == (
        "https://harbourdaily.example/asia/2023/03/17/export-ties-restored"
    )


def test_canonical_link_to_another_outlet_is_ignored():
    html = page("ties_article.html").replace(
        b"https://www.harbourdaily.example/asia/2023/03/17/export-ties",
        b"https://wire.example/stories/export-ties",
    )
    result = extract_article(html, URL, content_type="text/html")
    assert isinstance(result, ParsedArticle)
    assert result.canonical_url == "https://harbourdaily.example/asia/2023/03/17/export-ties"
    assert result.outlet == "harbourdaily.example"


CHARSET_PAGES = [
    ("latin1.html", "ISO-8859-1", "fr", "Séoul et Tokyo relancent", "« très attendue »"),
    ("shiftjis.html", "Shift_JIS", "ja", "日韓外相が会談", "輸出管理をめぐる問題"),
    ("euckr.html", "EUC-KR", "ko", "한일 외교장관 회담", "수출 규제 문제와 과거사"),
]


@pytest.mark.parametrize(("name", "charset", "language", "title", "phrase"), CHARSET_PAGES)
@pytest.mark.parametrize("declared", ["meta", "header", "nowhere"])
def test_legacy_charsets(name, charset, language, title, phrase, declared):
    raw = page(name)
    content_type = "text/html"
    if declared != "meta":
        raw = re.sub(rb"<meta http-equiv[^>]*>", b"", raw)
    if declared == "header":
        content_type = f"text/html; charset={charset}"
    result = extract_article(raw, "https://x.example/a", content_type=content_type)
    assert isinstance(result, ParsedArticle)
    assert result.title.startswith(title)
    assert phrase in result.text
    assert result.language == language


def test_whatwg_labels_read_windows_code_pages():
    # 0x92 is a curly apostrophe in windows-1252, a control character in true Latin-1.
    raw = b'<html><head><meta charset="iso-8859-1"></head><body>l\x92accord \xe9t\xe9</body></html>'
    assert "l’accord été" in decode_page(raw)
    assert decode_page("déjà vu".encode()) == "déjà vu"
    assert decode_page(b"\xef\xbb\xbfplain") == "plain"
    assert decode_page(codecs.BOM_UTF16_BE + "plain".encode("utf-16-be")) == "plain"


def test_declared_charsets_give_way_in_order():
    # Valid UTF-8 wins over a header that says otherwise.
    assert decode_page("Séoul".encode(), "text/html; charset=iso-8859-1") == "Séoul"
    # A server's default "utf-8" in the header, the page's own charset in its meta tag.
    html = '<html><head><meta charset="euc-kr"></head><body>한일 외교장관 회담</body></html>'
    decoded = decode_page(html.encode("cp949"), "text/html; charset=utf-8")
    assert "한일 외교장관 회담" in decoded
    assert "\ufffd" not in decoded


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"%PDF-1.7 binary stuff", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b'{"articles": []}', "application/json"),
        (b"%PDF-1.7 served with the wrong type", "text/html"),
        (b'{"json": "without a type"}', ""),
    ],
)
def test_non_html_is_refused_without_parsing(content, content_type):
    result = extract_article(content, URL, content_type=content_type)
    assert isinstance(result, ExtractionFailure)
    assert result.reason == "not_html"


def test_empty_content():
    assert extract_article(b"  ", URL).reason == "empty"
    assert extract_article("", URL).reason == "empty"


def test_text_input_is_accepted():
    result = extract_article(page("ties_article.html").decode("utf-8"), URL)
    assert isinstance(result, ParsedArticle)
    assert result.title == "Seoul and Tokyo pledge to restore export ties"


def test_extract_articles_keeps_order_with_and_without_executor():
    batch = [
        (URL, page("ties_article.html"), "text/html"),
        ("https://a.example/gallery", page("gallery.html"), "text/html"),
        ("https://a.example/file.pdf", b"%PDF-1.4", "application/pdf"),
        ("https://b.example/radar", page("comments_article.html"), "text/html"),
    ]
    plain = extract_articles(batch)
    with ThreadPoolExecutor(max_workers=2) as executor:
        pooled = extract_articles(iter(batch), executor=executor)
    assert pooled == plain
    assert [result.url for result in plain] == [url for url, _, _ in batch]
    assert [getattr(result, "reason", "ok") for result in plain] == [
        "ok",
        "no_body",
        "not_html",
        "ok",
    ]


def test_similarity_and_near_duplicates():
    text = article("ties_article.html").text
    reprint = "By a wire reporter.\n" + text + "\nDistributed by a news agency."
    other = article("comments_article.html").text
    same, copy, unrelated = (Simhash(t).to_hex() for t in (text, reprint, other))
    assert similarity(same, same) == 1.0
    assert similarity("0", "ffffffffffffffff") == 0.0
    assert is_near_duplicate(same, copy)
    assert not is_near_duplicate(same, unrelated)


def test_gallery_of_captions_is_no_body() -> None:
    """Default-mode second opinion returns nav and captions here; they are not an article."""
    figures = "".join(
        f"<figure><img src='/p{i}.jpg'><figcaption>Photo {i}: boats moored at dawn in a "
        f"southern harbor town.</figcaption></figure>"
        for i in range(12)
    )
    page = (
        "<html><head><title>In pictures</title></head><body><nav><a href='/'>Home</a> | "
        f"<a href='/asia'>Asia</a></nav><main><h1>In pictures</h1>{figures}</main>"
        "<footer>Copyright</footer></body></html>"
    )
    result = extract_article(page.encode(), "https://news.example.org/pictures/spring")
    assert isinstance(result, ExtractionFailure)
    assert result.reason == "no_body"


@pytest.mark.parametrize(
    ("page", "kept"),
    [
        ("a&#11;b&#8;c&#27;d&#x1B;e&#x7f;f", "abcdef"),
        ("a\x0bb\x1bc\x00d", "abcd"),
        ("tab&#9;nl&#10;cr&#13;&#x0A;", "tab&#9;nl&#10;cr&#13;&#x0A;"),
        ("&#110;&#1270;&#x100;&#32;", "&#110;&#1270;&#x100;&#32;"),
        ("&#12a &#11", "a "),
    ],
)
def test_control_characters_are_stripped_raw_and_as_references(page: str, kept: str) -> None:
    assert strip_control_characters(page) == kept
