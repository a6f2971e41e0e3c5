import logging
import socket

import pytest

from extractors import urls
from extractors.redaction import guard_library_logs, redact_text, redact_url
from extractors.urls import (
    MAX_KEY_BYTES,
    canonical_url,
    outlet_names,
    outlet_of,
    resolve_link,
    url_key,
)


@pytest.mark.parametrize(
    ("variant", "key"),
    [
        ("https://harbourdaily.example/asia/story", "https://harbourdaily.example/asia/story"),
        (
            "HTTP://WWW.HarbourDaily.example:80/asia/story/",
            "https://harbourdaily.example/asia/story",
        ),
        (
            "https://m.harbourdaily.example/asia/story#comments",
            "https://harbourdaily.example/asia/story",
        ),
        (
            "https://mobile.harbourdaily.example/asia/story",
            "https://harbourdaily.example/asia/story",
        ),
        ("https://amp.harbourdaily.example/asia/story", "https://harbourdaily.example/asia/story"),
        ("https://harbourdaily.example/asia/st%6Fry", "https://harbourdaily.example/asia/story"),
        ("https://harbourdaily.example/asia/%73tory", "https://harbourdaily.example/asia/story"),
        ("https://harbourdaily.example/asia/./story", "https://harbourdaily.example/asia/story"),
        ("https://harbourdaily.example/asia/x/../story", "https://harbourdaily.example/asia/story"),
        ("https://harbourdaily.example/asia/%2E/story", "https://harbourdaily.example/asia/story"),
        ("https://harbourdaily.example/../asia/story", "https://harbourdaily.example/asia/story"),
        (
            "https://reader:pw@harbourdaily.example/asia/story",
            "https://harbourdaily.example/asia/story",
        ),
        ("https://harbourdaily.example/asia/story/amp", "https://harbourdaily.example/asia/story"),
        ("https://harbourdaily.example/asia/story/amp/", "https://harbourdaily.example/asia/story"),
        ("https://harbourdaily.example/asia/story.amp", "https://harbourdaily.example/asia/story"),
        (
            "https://harbourdaily.example/asia/story?amp=1",
            "https://harbourdaily.example/asia/story",
        ),
        (
            "https://harbourdaily.example/asia/story?outputType=amp",
            "https://harbourdaily.example/asia/story",
        ),
        (
            "https://harbourdaily.example/asia/story?utm_source=x&utm_medium=rss&fbclid=1&gclid=2"
            "&mc_cid=3&ocid=4",
            "https://harbourdaily.example/asia/story",
        ),
    ],
)
def test_variants_of_one_article_share_a_key(variant, key):
    assert canonical_url(variant) == key


def test_meaningful_query_parameters_stay_and_are_ordered():
    assert canonical_url("https://news.example/view?page=2&id=88&utm_campaign=z") == (
        "https://news.example/view?id=88&page=2"
    )


def test_different_articles_keep_different_keys():
    assert canonical_url("https://news.example/a/1") != canonical_url("https://news.example/a/2")
    assert canonical_url("https://news.example/a?id=1") != canonical_url(
        "https://news.example/a?id=2"
    )
    assert canonical_url("https://news.example:8443/a") == "https://news.example:8443/a"


def test_amp_html_suffix_folds_to_html():
    assert canonical_url("https://news.example/2019/08/gsomia.amp.html") == (
        "https://news.example/2019/08/gsomia.html"
    )


@pytest.mark.parametrize(
    "url", ["", "/relative/path", "ftp://news.example/a", "javascript:alert(1)", "mailto:x@y.z"]
)
def test_non_web_addresses_have_no_key(url):
    assert canonical_url(url) is None


@pytest.mark.parametrize(
    ("url", "outlet"),
    [
        ("https://www.koreaherald.example/view.php?ud=1", "koreaherald.example"),
        ("https://m.koreaherald.example/view.php?ud=1", "koreaherald.example"),
        ("https://m-en.yna.co.kr/view/AEN1", "yna.co.kr"),
        ("https://amp.japantimes.example/news/1", "japantimes.example"),
        ("https://mobile.nikkei.example/a", "nikkei.example"),
        ("https://en.yna.co.kr:8080/a", "yna.co.kr"),
        ("https://m-net.example/a", "m-net.example"),
        ("not a url", ""),
    ],
)
def test_outlet_of(url, outlet):
    assert outlet_of(url) == outlet


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("../stories/a", "https://feeds.example/stories/a"),
        ("/stories/b?x=1", "https://feeds.example/stories/b?x=1"),
        ("//cdn.example/c", "https://cdn.example/c"),
        ("  https://other.example/d  ", "https://other.example/d"),
        ("HTTPS://other.example/e", "https://other.example/e"),
        ("javascript:alert(1)", None),
        (" Java\nScript:alert(1)", None),
        ("data:text/html,hi", None),
        ("mailto:desk@news.example", None),
        ("file:///etc/passwd", None),
        ("http://reader:pw@news.example/a", "http://news.example/a"),
        ("", None),
        (None, None),
    ],
)
def test_resolve_link(link, expected):
    assert resolve_link(link, "https://feeds.example/rss/world.xml") == expected


def test_links_never_inherit_the_feeds_credentials():
    base = "http://user:pw@feeds.example/feed.xml?token=t"
    assert resolve_link("/stories/a", base) == "http://feeds.example/stories/a"


def test_relative_link_without_web_base_is_rejected():
    assert resolve_link("/stories/a", "") is None
    assert resolve_link("https://news.example:99999/a", "") is None


def test_reserved_and_non_ascii_escapes_stay_escaped():
    # %2F is not "/", and an escaped UTF-8 byte is not a character on its own.
    assert canonical_url("https://news.example/a%2fb") == "https://news.example/a%2Fb"
    assert canonical_url("https://news.example/caf%c3%a9") == "https://news.example/caf%C3%A9"
    assert canonical_url("https://news.example/café") == "https://news.example/caf%C3%A9"
    assert canonical_url("https://news.example/%7euser") == "https://news.example/~user"


def test_unicode_and_punycode_hosts_share_a_key():
    assert canonical_url("https://bücher.example/a") == canonical_url(
        "https://xn--bcher-kva.example/a"
    )
    assert canonical_url("https://BÜCHER.example/a") == "https://xn--bcher-kva.example/a"


@pytest.mark.parametrize(
    "hosts",
    [
        ("news.evil.test", "www2.evil.test", "blog.evil.test", "evil.test", "WWW.EVIL.TEST."),
        ("www.bbc.co.uk", "news.bbc.co.uk", "bbc.co.uk"),
        ("bücher.example", "xn--bcher-kva.example", "shop.bücher.example"),
        ("a.example.kr", "m.b.example.kr"),
    ],
)
def test_one_publisher_is_one_outlet_whatever_its_host(hosts):
    assert len({outlet_of(f"https://{host}/a") for host in hosts}) == 1


def test_different_publishers_stay_different_outlets():
    found = {
        outlet_of(u)
        for u in (
            "https://evil.test/a",
            "https://evil2.test/a",
            "https://bbc.co.uk/a",
            "https://bbc.com/a",
            "https://yna.co.kr/a",
            "http://127.0.0.1:8080/a",
            "http://[::1]:8080/a",
        )
    }
    assert len(found) == 7
    assert outlet_of("http://127.0.0.1:8080/a") == "127.0.0.1"


def test_the_suffix_list_is_read_from_the_package_never_fetched(monkeypatch, tmp_path):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    urls._suffixes.cache_clear()
    try:
        assert outlet_of("https://news.bbc.co.uk/a") == "bbc.co.uk"
        assert outlet_of("https://foo.appspot.com/a") == "appspot.com"  # private: one outlet
    finally:
        urls._suffixes.cache_clear()
    assert calls == []
    assert list(tmp_path.rglob("*")) == []  # no cache written anywhere


def test_profile_outlet_names_map_only_hosts_of_one_outlet():
    names = outlet_names(
        [
            ("https://www.koreaherald.example/rss", "Korea Herald"),
            ("https://feeds.koreaherald.example/politics", "Korea Herald"),
            ("http://127.0.0.1:8000/harbor.xml", "Harbor Daily"),
            ("http://127.0.0.1:8000/east.xml", "East Sea Wire"),
            ("https://api.gdeltproject.org/api/v2/doc/doc", ""),
        ]
    )
    assert names == {"koreaherald.example": "Korea Herald"}


def test_an_overlong_key_becomes_a_fixed_length_digest():
    short = "https://news.example/a"
    long = "https://news.example/" + "é" * MAX_KEY_BYTES
    assert url_key(short) == short
    assert url_key(long).startswith("sha256:") and len(url_key(long)) == 71
    assert url_key(long) != url_key(long + "x")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "http://user:PASSWORD@127.0.0.1:8080/feed.xml?token=SECRETTOKEN&page=2",
            "http://user:***@127.0.0.1:8080/feed.xml?token=***&page=2",
        ),
        ("https://ghp_TOKEN@git.example/x", "https://***@git.example/x"),
        (
            "https://h.example/x?api_key=A&apikey=B&X-Amz-Signature=C&sig=D&q=japan",
            "https://h.example/x?api_key=***&apikey=***&X-Amz-Signature=***&sig=***&q=japan",
        ),
        (
            "https://h.example/x?access_token=A&client_secret=B&password=C&pass=D&auth=E",
            "https://h.example/x?access_token=***&client_secret=***&password=***&pass=***&auth=***",
        ),
        (
            "https://h.example/cb#access_token=A&state=s",
            "https://h.example/cb#access_token=***&state=s",
        ),
        (
            "https://h.example/a?author=kim&keyword=gsomia",
            "https://h.example/a?author=kim&keyword=gsomia",
        ),
        ("https://h.example/plain", "https://h.example/plain"),
        ("json://127.0.0.1/a?-X-Api-Key=HDR", "json://127.0.0.1/a?-X-Api-Key=***"),
    ],
)
def test_redact_url_masks_secrets_and_keeps_the_rest(url, shown):
    assert redact_url(url) == shown


def test_redact_text_masks_every_url_and_secret_pair_in_it():
    text = (
        "fetch of http://u:hunter2@feeds.example/x?token=abc failed; the server said "
        "'GET /feed?api_key=zzz&page=1' and password=letmein, monkey=ok"
    )
    shown = redact_text(text)
    for secret in ("hunter2", "abc", "zzz", "letmein"):
        assert secret not in shown
    assert "feeds.example/x" in shown and "page=1" in shown and "monkey=ok" in shown


def test_library_logs_are_redacted(caplog):
    caplog.set_level(logging.DEBUG)
    guard_library_logs()
    logging.getLogger("httpx").info("HTTP Request: %s %s", "GET", "http://u:hunter2@h/x?token=t1")
    logging.getLogger("apprise").debug("JSON POST URL: http://h/hook/PATHTOKEN")
    assert "hunter2" not in caplog.text and "t1" not in caplog.text
    assert "PATHTOKEN" not in caplog.text
    assert "http://u:***@h/x?token=***" in caplog.text
