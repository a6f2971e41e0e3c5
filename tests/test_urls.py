import pytest

from extractors.urls import canonical_url, outlet_of, resolve_link


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
        ("https://m-en.yna.example.kr/view/AEN1", "en.yna.example.kr"),
        ("https://amp.japantimes.example/news/1", "japantimes.example"),
        ("https://mobile.nikkei.example/a", "nikkei.example"),
        ("https://en.yna.example.kr:8080/a", "en.yna.example.kr"),
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
        ("", None),
        (None, None),
    ],
)
def test_resolve_link(link, expected):
    assert resolve_link(link, "https://feeds.example/rss/world.xml") == expected


def test_relative_link_without_web_base_is_rejected():
    assert resolve_link("/stories/a", "") is None
    assert resolve_link("https://news.example:99999/a", "") is None
