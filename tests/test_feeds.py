import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.feeds import (
    gdelt_query_url,
    parse_feed,
    parse_gdelt,
    parse_sitemap,
    parse_url_list,
)
from extractors.urls import canonical_url

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def feed(name: str, base: str = "https://feeds.example/rss.xml"):
    return parse_feed((FEEDS / name).read_bytes(), base, "test-source", now=NOW)


def test_rss_entries_with_duplicates_folded():
    result = feed("wire.rss")
    assert result.error is None
    assert [entry.guid for entry in result.entries] == ["hd-2023-0316-001", "wire-77812"]
    # The same link (tracking and www. aside) and the same GUID each count once.
    assert [skip.reason for skip in result.skipped] == ["duplicate", "duplicate"]
    first = result.entries[0]
    assert first.title == "Seoul and Tokyo agree to resume shuttle diplomacy"
    assert first.published == datetime(2023, 3, 16, 0, 30, tzinfo=UTC)
    assert first.summary == "The two leaders said they would visit each other regularly again."
    assert first.source == "test-source"


def test_wire_reprint_at_second_outlet_keeps_its_own_address():
    reprint = feed("wire.rss").entries[1]
    assert reprint.url.startswith("https://news.otherpaper.example/world/wire-export-curbs-lifted?")
    assert canonical_url(reprint.url) == (
        "https://news.otherpaper.example/world/wire-export-curbs-lifted"
    )


def test_atom_links_resolve_against_xml_base_and_dates_are_utc():
    result = feed("news.atom")
    assert result.error is None
    assert [entry.url for entry in result.entries] == [
        "https://straitnews.example/2019/08/22/pact-ends",
        "https://straitnews.example/2019/08/23/tokyo-regret",
    ]
    assert result.entries[0].published == datetime(2019, 8, 22, 9, 40, tzinfo=UTC)
    assert result.entries[1].published == datetime(2019, 8, 23, 1, 15, tzinfo=UTC)
    assert result.entries[0].summary == "South Korea said it would not renew the agreement."


def test_json_feed():
    result = feed("news.json")
    assert [entry.url for entry in result.entries] == [
        "https://straitnews.example/2023/03/16/summit"
    ]
    assert result.entries[0].published == datetime(2023, 3, 16, 11, 0, tzinfo=UTC)
    assert [skip.reason for skip in result.skipped] == ["no_link"]


def test_messy_links_and_dates():
    result = feed("messy.rss", base="https://messy.example/feeds/all.xml")
    by_title = {entry.title: entry for entry in result.entries}
    assert by_title["Relative link, no date"].url == "https://messy.example/stories/relative-one"
    assert by_title["Relative link, no date"].published is None
    assert by_title["No link but a permalink guid"].url == (
        "https://messy.example/stories/guid-only"
    )
    assert by_title["Dated in 1970"].published is None
    assert by_title["Dated far in the future"].published is None
    reasons = sorted(skip.reason for skip in result.skipped)
    assert reasons == ["bad_link", "bad_link", "no_link"]
    assert len(result.entries) == 4


def test_future_date_within_two_days_is_kept():
    rss = (
        b'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
        b"<link>https://a.example/x</link><pubDate>Mon, 01 Jan 2024 20:00:00 GMT</pubDate>"
        b"</item></channel></rss>"
    )
    entry = parse_feed(rss, "https://a.example/rss", "s", now=NOW).entries[0]
    assert entry.published == datetime(2024, 1, 1, 20, 0, tzinfo=UTC)


def test_not_well_formed_feed_with_entries_keeps_them():
    result = feed("bozo_with_entries.rss")
    assert result.error is None
    assert "not well-formed" in result.detail
    assert [entry.url for entry in result.entries] == ["https://almost.example/trade-ministers"]


@pytest.mark.parametrize(
    ("name", "error"),
    [("malformed.rss", "malformed_feed"), ("page.html", "not_a_feed")],
)
def test_unreadable_documents(name, error):
    result = feed(name)
    assert result.error == error
    assert result.entries == ()


def test_empty_body():
    assert parse_feed(b"  \n", "https://a.example/rss", "s").error == "empty"


def test_entity_expansion_does_not_blow_up():
    started = time.perf_counter()
    result = feed("laughs.rss")
    assert time.perf_counter() - started < 1.0
    assert [entry.url for entry in result.entries] == ["https://laughs.example/story"]
    assert len(result.entries[0].title) < 100


def test_gdelt_artlist():
    result = parse_gdelt((FEEDS / "gdelt_artlist.json").read_bytes(), "gdelt", now=NOW)
    assert result.error is None
    assert [entry.url for entry in result.entries] == [
        "https://www.seoulwire.example/news/2019/08/22/gsomia-ends.html",
        "https://m.tokyoledger.example/articles/gsomia-reaction?utm_campaign=gdelt",
        "https://www.tradebrief.example/asia/white-list",
    ]
    assert result.entries[0].published == datetime(2019, 8, 22, 12, 30, tzinfo=UTC)
    assert result.entries[2].published is None  # garbled seendate
    assert sorted(skip.reason for skip in result.skipped) == ["duplicate", "no_link"]


def test_gdelt_errors_and_empty_answers():
    error = parse_gdelt((FEEDS / "gdelt_error.txt").read_bytes(), "gdelt")
    assert error.error == "not_json"
    assert "too short" in error.detail
    nothing = parse_gdelt(b"{}", "gdelt")
    assert (nothing.error, nothing.entries) == (None, ())
    assert parse_gdelt(b"", "gdelt").error == "empty"


def test_gdelt_query_url():
    url = gdelt_query_url(
        "https://api.gdelt.example/api/v2/doc/doc",
        '"South Korea" Japan',
        datetime(2019, 8, 22, 9, 0, tzinfo=UTC),
        datetime(2019, 8, 23, 18, 30, 5),
        max_records=900,
    )
    assert url == (
        "https://api.gdelt.example/api/v2/doc/doc?query=%22South%20Korea%22%20Japan"
        "&mode=artlist&format=json&maxrecords=250&startdatetime=20190822090000"
        "&enddatetime=20190823183005&sort=datedesc"
    )


def test_sitemap_index_lists_children_modified_since_start():
    result = parse_sitemap(
        (FEEDS / "sitemap_index.xml").read_bytes(),
        "https://straitnews.example/sitemap.xml",
        "sitemap",
        start=datetime(2019, 8, 1, tzinfo=UTC),
    )
    assert result.error is None
    assert result.sitemaps == (
        "https://straitnews.example/sitemaps/news-2019-08.xml",
        "https://straitnews.example/sitemaps/pages.xml",
    )
    assert [skip.reason for skip in result.skipped] == ["out_of_window"]


def test_news_sitemap_filtered_to_window():
    result = parse_sitemap(
        (FEEDS / "news_sitemap.xml").read_bytes(),
        "https://straitnews.example/sitemap.xml",
        "sitemap",
        start=datetime(2019, 8, 10, tzinfo=UTC),
        end=datetime(2019, 8, 31, tzinfo=UTC),
    )
    assert [(entry.url, entry.title) for entry in result.entries] == [
        (
            "https://straitnews.example/2019/08/22/pact-ends",
            "Seoul ends intelligence-sharing pact with Tokyo",
        )
    ]
    assert result.entries[0].published == datetime(2019, 8, 22, 9, 40, tzinfo=UTC)
    reasons = [skip.reason for skip in result.skipped]
    assert reasons == ["out_of_window", "out_of_window", "duplicate", "bad_link"]


def test_sitemap_without_window_keeps_everything_valid():
    result = parse_sitemap(
        (FEEDS / "news_sitemap.xml").read_bytes(), "https://straitnews.example/", "s"
    )
    assert len(result.entries) == 3


def test_gzipped_sitemap_and_bad_documents():
    import gzip

    raw = (FEEDS / "news_sitemap.xml").read_bytes()
    assert len(parse_sitemap(gzip.compress(raw), "https://straitnews.example/", "s").entries) == 3
    assert parse_sitemap(b"<urlset><url>", "https://a.example/", "s").error == "malformed_sitemap"
    assert parse_sitemap(b"<rss/>", "https://a.example/", "s").error == "not_a_sitemap"
    page = (FEEDS / "page.html").read_bytes()
    assert parse_sitemap(page, "https://a.example/", "s").error == "not_a_sitemap"
    assert parse_sitemap(b"", "https://a.example/", "s").error == "empty"


def test_sitemap_entities_are_not_expanded():
    laughs = (FEEDS / "laughs.rss").read_text().split("<rss")[0] + (
        "<urlset><url><loc>https://laughs.example/&l8;</loc></url></urlset>"
    )
    started = time.perf_counter()
    result = parse_sitemap(laughs.encode(), "https://laughs.example/", "s")
    assert time.perf_counter() - started < 1.0
    # libxml2 refuses the document (its amplification limit) rather than expanding it.
    assert (result.error, result.entries) == ("malformed_sitemap", ())


def test_url_list():
    text = """# Japan-Korea pieces to check
https://straitnews.example/2019/08/22/pact-ends
/2019/08/23/tokyo-regret   # relative to the list
https://straitnews.example/2019/08/22/pact-ends?utm_source=list

javascript:void(0)
"""
    result = parse_url_list(text, "https://straitnews.example/lists/a.txt", "list")
    assert [entry.url for entry in result.entries] == [
        "https://straitnews.example/2019/08/22/pact-ends",
        "https://straitnews.example/2019/08/23/tokyo-regret",
    ]
    assert [skip.reason for skip in result.skipped] == ["duplicate", "bad_link"]
    assert parse_url_list("# nothing\n\n", "https://a.example/", "list").error == "empty"


def test_an_unreadable_date_leaves_the_entry_undated_without_a_warning():
    document = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Odd date</title><link>https://a.example/odd</link>
<pubDate>the day after tomorrow</pubDate></item></channel></rss>"""
    # pytest runs with warnings as errors: feedparser's fallback warning would raise here.
    result = parse_feed(document, "https://a.example/rss.xml", "s", now=NOW)
    assert [(entry.url, entry.published) for entry in result.entries] == [
        ("https://a.example/odd", None)
    ]
