"""Bad input from a hostile server: the run goes on, says why, keeps what it had, retries.

Each kind runs the monitor once (in this process, the plain stage table) over the demo
site's feeds, a fresh feed with one new story, and the hostile source. Survival means: the
run returned, the kind's reason is in ``status`` (or its expected outcome is stored), the
baseline's articles are all still there unchanged, and the fresh story was stored too.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows.stages.summaries import MonitorSummary
from tests.reliability.harness import (
    SourceSpec,
    Tally,
    Workspace,
    articles,
    fresh_routes,
    query,
)
from tests.reliability.pages import (
    JAPANESE_BODY,
    JAPANESE_TITLE,
    KOREAN_BODY,
    KOREAN_TITLE,
    LATIN1_BODY,
    LATIN1_TITLE,
    NO_ARTICLE,
    Item,
    article,
    billion_laughs,
    comment_flood,
    plain_story,
    rss,
)
from tests.support.net import free_port
from tests.support.wire import (
    Handler,
    HostileServer,
    cut_short,
    drip,
    endless,
    gzip_bomb,
    hang,
    redirect,
    reply,
)

RSS = "application/rss+xml"
HOSTILE = "hostile"


@dataclass
class Plan:
    """What one kind of bad input sets up and what a surviving run must show."""

    sources: list[SourceSpec]
    routes: dict[str, Handler]
    reasons: set[str] = field(default_factory=set)  # each must be recorded and shown
    stored: list[str] = field(default_factory=list)  # paths that must end up as articles
    never_fetched: list[str] = field(default_factory=list)
    # Routes that heal the server, and the paths a second run must then store.
    heal: dict[str, Handler] = field(default_factory=dict)
    stored_after_heal: list[str] = field(default_factory=list)
    second_run_at: timedelta = timedelta(0)
    check: Callable[[Workspace, HostileServer, str], bool] | None = None
    options: dict[str, Any] = field(default_factory=dict)


def source(server: HostileServer, path: str, kind: str = "feed", **extra: str) -> SourceSpec:
    return SourceSpec(HOSTILE, server.url(path), kind=kind, outlet="Hostile Wire", **extra)


def feed_of(server: HostileServer, prefix: str, items: list[Item]) -> tuple[SourceSpec, Handler]:
    return source(server, f"{prefix}/feed.xml"), reply(rss(items), content_type=RSS)


def bad_feed(body: bytes | str, content_type: str = RSS, **headers: str) -> Callable[..., Plan]:
    """A feed source whose document itself is bad."""

    def plan(server: HostileServer, prefix: str, reason: str) -> Plan:
        return Plan(
            [source(server, f"{prefix}/feed.xml")],
            {f"{prefix}/feed.xml": reply(body, 200, content_type, **headers)},
            {reason},
        )

    return plan


def failing_feed(handler_for: Callable[[HostileServer, str], Handler], **options: Any):
    """A feed source whose fetch fails (status, redirects, caps, timeouts)."""

    def plan(server: HostileServer, prefix: str, reason: str) -> Plan:
        return Plan(
            [source(server, f"{prefix}/feed.xml")],
            {f"{prefix}/feed.xml": handler_for(server, prefix)},
            {reason},
            options=options,
        )

    return plan


def bad_page(
    handler_for: Callable[[HostileServer, str], Handler],
    heal: bool = False,
    **options: Any,
) -> Callable[..., Plan]:
    """A good feed listing one page that fails; heal=True: a later run must then store it."""

    def plan(server: HostileServer, prefix: str, reason: str) -> Plan:
        page = f"{prefix}/page"
        src, feed = feed_of(server, prefix, [Item("A page", server.url(page), f"{prefix}-1")])
        result = Plan([src], {f"{prefix}/feed.xml": feed, page: handler_for(server, prefix)})
        result.reasons = {reason}
        result.options = options
        if heal:
            result.heal = {page: reply(plain_story(prefix + " healed"))}
            result.stored_after_heal = [page]
        return result

    return plan


def stored_page(body: bytes, content_type: str, expect_title: str) -> Callable[..., Plan]:
    """A page that must be stored, with its title decoded right."""

    def plan(server: HostileServer, prefix: str, reason: str) -> Plan:
        page = f"{prefix}/page"
        src, feed = feed_of(server, prefix, [Item("A page", server.url(page), f"{prefix}-1")])

        def title_ok(space: Workspace, server: HostileServer, prefix: str) -> bool:
            rows = query(space.db, "SELECT title FROM article WHERE url = ?", server.url(page))
            return [r[0] for r in rows] == [expect_title]

        return Plan(
            [src],
            {f"{prefix}/feed.xml": feed, page: reply(body, 200, content_type)},
            stored=[page],
            check=title_ok,
        )

    return plan


def status_after(status: int, **headers: str) -> Callable[[HostileServer, str], Handler]:
    return lambda server, prefix: reply(f"{status}\n", status, "text/plain", **headers)


def redirect_to(target: str) -> Callable[[HostileServer, str], Handler]:
    return lambda server, prefix: redirect(target.format(port=server.port))


def _loop(server: HostileServer, prefix: str) -> Handler:
    server.routes[f"{prefix}/other"] = redirect(server.url(f"{prefix}/feed.xml"))
    return redirect(server.url(f"{prefix}/other"))


def _chain(server: HostileServer, prefix: str) -> Handler:
    for n in range(1, 12):
        server.routes[f"{prefix}/hop{n}"] = redirect(server.url(f"{prefix}/hop{n + 1}"))
    return redirect(server.url(f"{prefix}/hop1"))


# ---------------------------------------------------------------- entries


def entries_plan(
    make_items: Callable[[HostileServer, str], list[Item]],
    stored: list[str],
    reasons: set[str] = frozenset(),  # type: ignore[assignment]
    check: Callable[[Workspace, HostileServer, str], bool] | None = None,
    never_fetched: list[str] = (),  # type: ignore[assignment]
) -> Callable[..., Plan]:
    def plan(server: HostileServer, prefix: str, reason: str) -> Plan:
        src, feed = feed_of(server, prefix, make_items(server, prefix))
        routes: dict[str, Handler] = {f"{prefix}/feed.xml": feed}
        for path in stored:
            routes[f"{prefix}{path}"] = reply(plain_story(f"{prefix}{path}"))
        return Plan(
            [src],
            routes,
            set(reasons),
            [f"{prefix}{p}" for p in stored],
            [f"{prefix}{p}" for p in never_fetched],
            check=check,
        )

    return plan


def _no_link(server: HostileServer, prefix: str) -> list[Item]:
    return [Item("No link at all", None), Item("Kept", server.url(f"{prefix}/kept"))]


def _relative(server: HostileServer, prefix: str) -> list[Item]:
    return [Item("Relative", f"{prefix}/rel"), Item("Dot relative", "./dotrel")]


def _scheme(scheme_link: str) -> Callable[[HostileServer, str], list[Item]]:
    return lambda server, prefix: [
        Item("Hostile link", scheme_link),
        Item("Kept", server.url(f"{prefix}/kept")),
    ]


def _dup_guid(server: HostileServer, prefix: str) -> list[Item]:
    return [
        Item("Story", server.url(f"{prefix}/story?utm_source=rss"), guid="same-guid"),
        Item("Story again", server.url(f"{prefix}/story?utm_medium=feed"), guid="same-guid"),
        Item("Other", server.url(f"{prefix}/other-story"), guid="other-guid"),
    ]


def _dates(server: HostileServer, prefix: str) -> list[Item]:
    return [
        Item(
            "Far future", server.url(f"{prefix}/future"), published="Fri, 31 Dec 9999 23:59:59 GMT"
        ),
        Item("Far past", server.url(f"{prefix}/past"), published="Mon, 01 Jan 1900 00:00:00 GMT"),
        Item("Nonsense", server.url(f"{prefix}/nonsense"), published="the day after tomorrow"),
    ]


def ours(space: Workspace, server: HostileServer, prefix: str, column: str) -> list[Any]:
    """Return one column of the articles stored from the hostile source (not the fresh feed)."""
    sql = f"SELECT {column} FROM article WHERE source = ? AND url LIKE ?"
    return query(space.db, sql, HOSTILE, server.url(prefix) + "%")


def _dates_sane(space: Workspace, server: HostileServer, prefix: str) -> bool:
    rows = ours(space, server, prefix, "published_at")
    now = datetime.now(UTC)
    years = [datetime.fromisoformat(r[0]).year for r in rows if r[0]]
    return len(rows) == 3 and all(1990 <= y <= now.year + 1 for y in years)


def _missing_dates(server: HostileServer, prefix: str) -> list[Item]:
    return [Item("Undated", server.url(f"{prefix}/undated"), published="")]


TRACKERS = [
    "utm_source=rss",
    "utm_medium=social&utm_campaign=x",
    "fbclid=IwAR0abc",
    "gclid=Cj0KCQ",
    "ocid=msn",
    "mc_cid=12&mc_eid=34",
    "ref=homepage",
    "amp=1",
    "utm_source=twitter#comments",
    "cmpid=email&utm_term=y",
]


def _ten_urls(server: HostileServer, prefix: str) -> list[Item]:
    return [
        Item(f"Same story {n}", server.url(f"{prefix}/story?{q}"), guid=f"g{n}")
        for n, q in enumerate(TRACKERS)
    ]


def _one_row(space: Workspace, server: HostileServer, prefix: str) -> bool:
    rows = ours(space, server, prefix, "canonical_url")
    return len(rows) == 1 and server.hits[f"{prefix}/story"] == 1


# ---------------------------------------------------------------- pages with content


def _comments(server: HostileServer, prefix: str, reason: str) -> Plan:
    page, marker = comment_flood(10)
    src, feed = feed_of(server, prefix, [Item("Flood", server.url(f"{prefix}/page"))])

    def no_comments(space: Workspace, server: HostileServer, prefix: str) -> bool:
        rows = query(
            space.db, "SELECT text FROM article WHERE url = ?", server.url(f"{prefix}/page")
        )
        return len(rows) == 1 and len(rows[0][0]) > 300 and marker not in rows[0][0]

    return Plan(
        [src],
        {f"{prefix}/feed.xml": feed, f"{prefix}/page": reply(page)},
        stored=[f"{prefix}/page"],
        check=no_comments,
    )


def _huge(server: HostileServer, prefix: str, reason: str) -> Plan:
    plan = bad_page(lambda s, p: endless(50_000_000))(server, prefix, reason)

    def stopped_early(space: Workspace, server: HostileServer, prefix: str) -> bool:
        # The client reads at most max_bytes (5 MB) and hangs up; the loopback socket
        # buffers on both sides take several MB more (9-11 MB measured under load) before
        # the server sees the close. Reading all 50 MB would send them all.
        return 0 < server.sent[f"{prefix}/page"] < 25_000_000

    plan.check = stopped_early
    return plan


def _billion(server: HostileServer, prefix: str, reason: str) -> Plan:
    page = f"{prefix}/page"

    def unexpanded(space: Workspace, server: HostileServer, prefix: str) -> bool:
        rows = query(space.db, "SELECT title FROM article WHERE url = ?", server.url(page))
        return len(rows) == 1 and "lollollol" not in rows[0][0]

    return Plan(
        [source(server, f"{prefix}/feed.xml")],
        {
            f"{prefix}/feed.xml": reply(billion_laughs(server.url(page)), content_type=RSS),
            page: reply(plain_story(prefix)),
        },
        stored=[page],
        check=unexpanded,
    )


def _gdelt(server: HostileServer, prefix: str, reason: str) -> Plan:
    text = "Please limit requests to one every 5 seconds or contact us for larger queries."
    return Plan(
        [source(server, f"{prefix}/doc", kind="gdelt", query="Japan Korea")],
        {f"{prefix}/doc": reply(text, 200, "text/plain")},
        {reason},
    )


def _sitemap_html(server: HostileServer, prefix: str, reason: str) -> Plan:
    return Plan(
        [source(server, f"{prefix}/sitemap.xml", kind="sitemap")],
        {f"{prefix}/sitemap.xml": reply(NO_ARTICLE)},
        {reason},
    )


def _robots(server: HostileServer, prefix: str, reason: str) -> Plan:
    blocked = f"/blocked{prefix}/page"
    src, feed = feed_of(server, prefix, [Item("Blocked", server.url(blocked))])
    return Plan(
        [src],
        {f"{prefix}/feed.xml": feed, blocked: reply(plain_story(prefix))},
        {reason},
        never_fetched=[blocked],
    )


def _loopback_not_allowed(server: HostileServer, prefix: str, reason: str) -> Plan:
    # Only 127.0.0.1 is allowed here: 127.0.0.2 stands for "a loopback address the profile
    # did not open", and is refused before any connection.
    plan = failing_feed(redirect_to("http://127.0.0.2:{port}/internal"))(server, prefix, reason)
    plan.options = {"allowed": ("127.0.0.1/32",)}
    return plan


def _page_503(server: HostileServer, prefix: str, reason: str) -> Plan:
    return bad_page(status_after(503, Retry_After="120"), heal=True)(server, prefix, reason)


def _feed_503(server: HostileServer, prefix: str, reason: str) -> Plan:
    page = f"{prefix}/page"
    plan = failing_feed(status_after(503, Retry_After="120"))(server, prefix, reason)
    good = rss([Item("Back", server.url(page), f"{prefix}-1")])
    plan.heal = {
        f"{prefix}/feed.xml": reply(good, content_type=RSS),
        page: reply(plain_story(prefix)),
    }
    plan.stored_after_heal = [page]
    plan.second_run_at = timedelta(seconds=150)  # after the Retry-After has passed
    return plan


def _feed_429(server: HostileServer, prefix: str, reason: str) -> Plan:
    plan = _feed_503(server, prefix, reason)
    plan.routes[f"{prefix}/feed.xml"] = reply("slow down\n", 429, "text/plain", Retry_After="120")
    return plan


def _feed_500_then_fine(server: HostileServer, prefix: str, reason: str) -> Plan:
    plan = _feed_503(server, prefix, reason)
    plan.routes[f"{prefix}/feed.xml"] = reply("oops\n", 500, "text/plain")
    plan.second_run_at = timedelta(minutes=15)
    return plan


def _tls(server: HostileServer, prefix: str, reason: str) -> Plan:
    # The hostile server answers a TLS ClientHello with plain text.
    url = f"https://127.0.0.1:{server.port}{prefix}/feed.xml"
    return Plan([SourceSpec(HOSTILE, url, outlet="Hostile Wire")], {}, {reason})


def _refused(server: HostileServer, prefix: str, reason: str) -> Plan:
    url = f"http://127.0.0.1:{free_port()}/feed.xml"  # nothing listens there
    return Plan([SourceSpec(HOSTILE, url, outlet="Hostile Wire")], {}, {reason})


def _latin1(content_type: str, meta: str | None = None) -> Callable[..., Plan]:
    body = article(LATIN1_TITLE, LATIN1_BODY, charset_meta=meta).encode("cp1252")
    return stored_page(body, content_type, LATIN1_TITLE)


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200

KINDS: dict[str, tuple[Callable[..., Plan], str]] = {
    # feed documents
    "malformed XML feed": (
        bad_feed('<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></chan'),
        "malformed_feed",
    ),
    "billion-laughs feed": (_billion, ""),
    "feed that is really HTML": (bad_feed(NO_ARTICLE, "text/html"), "not_a_feed"),
    "empty 200 feed": (bad_feed(b""), "empty"),
    "GDELT answer that is not JSON": (_gdelt, "not_json"),
    "sitemap that is HTML": (_sitemap_html, "not_a_sitemap"),
    # entries
    "entry without a link": (
        entries_plan(_no_link, ["/kept"], {"no_link"}),
        "no_link",
    ),
    "entries with relative links": (entries_plan(_relative, ["/rel", "/dotrel"]), ""),
    "entry with a javascript: link": (
        entries_plan(_scheme("javascript:alert(document.cookie)"), ["/kept"], {"bad_link"}),
        "bad_link",
    ),
    "entry with a data: link": (
        entries_plan(_scheme("data:text/html;base64,PHNjcmlwdD4="), ["/kept"], {"bad_link"}),
        "bad_link",
    ),
    "entries with duplicate GUIDs": (
        entries_plan(_dup_guid, ["/story", "/other-story"]),
        "",
    ),
    "entries with absurd dates": (
        entries_plan(_dates, ["/future", "/past", "/nonsense"], check=_dates_sane),
        "",
    ),
    "entry without a date": (entries_plan(_missing_dates, ["/undated"]), ""),
    "one story at ten URLs with tracking parameters": (
        entries_plan(_ten_urls, ["/story"], check=_one_row),
        "",
    ),
    # HTTP statuses
    "feed 404": (failing_feed(status_after(404)), "http_404"),
    "feed 410": (failing_feed(status_after(410)), "http_410"),
    "feed 500, fine later": (_feed_500_then_fine, "http_500"),
    "feed 503 with Retry-After": (_feed_503, "http_503"),
    "feed 429 with Retry-After": (_feed_429, "http_429"),
    "page 404": (bad_page(status_after(404)), "http_404"),
    "page 410": (bad_page(status_after(410)), "http_410"),
    "page 500, fine later": (bad_page(status_after(500), heal=True), "http_500"),
    "page 503 with Retry-After": (_page_503, "http_503"),
    "page 429 with Retry-After": (
        bad_page(status_after(429, Retry_After="120"), heal=True),
        "http_429",
    ),
    # redirects and addresses
    "redirect loop": (failing_feed(_loop), "redirect_loop"),
    "redirect chain past the cap": (failing_feed(_chain), "too_many_redirects"),
    "redirect to 169.254.169.254": (
        failing_feed(redirect_to("http://169.254.169.254/latest/meta-data/")),
        "private_address",
    ),
    "redirect to 10.0.0.1": (failing_feed(redirect_to("http://10.0.0.1/admin")), "private_address"),
    "redirect to an IPv4-mapped metadata address": (
        bad_page(redirect_to("http://[::ffff:169.254.169.254]/latest")),
        "private_address",
    ),
    "redirect to a loopback address not allowed": (_loopback_not_allowed, "private_address"),
    "redirect to a file: URL": (bad_page(redirect_to("file:///etc/passwd")), "bad_scheme"),
    # sizes and time
    "50 MB body": (_huge, "too_large"),
    "gzip bomb": (bad_page(lambda s, p: gzip_bomb()), "too_large"),
    "one byte a second": (bad_page(lambda s, p: drip(1.0)), "timeout"),
    "a server that never answers": (failing_feed(lambda s, p: hang()), "timeout"),
    "body cut short": (bad_page(lambda s, p: cut_short()), "connect_error"),
    "TLS error": (_tls, "tls_error"),
    "connection refused": (_refused, "connect_error"),
    "robots.txt disallows the path": (_robots, "robots_disallowed"),
    # content
    "Latin-1 page, charset in the header": (_latin1("text/html; charset=iso-8859-1"), ""),
    "Latin-1 page labelled UTF-8": (_latin1("text/html; charset=utf-8"), ""),
    "Latin-1 page without a charset": (_latin1("text/html"), ""),
    "Shift_JIS page, charset in a meta tag": (
        stored_page(
            article(JAPANESE_TITLE, JAPANESE_BODY, charset_meta="shift_jis", lang="ja").encode(
                "shift_jis"
            ),
            "text/html",
            JAPANESE_TITLE,
        ),
        "",
    ),
    "EUC-KR page, charset in the header": (
        stored_page(
            article(KOREAN_TITLE, KOREAN_BODY, charset_meta=None, lang="ko").encode("euc-kr"),
            "text/html; charset=euc-kr",
            KOREAN_TITLE,
        ),
        "",
    ),
    "EUC-KR page without a charset": (
        stored_page(
            article(KOREAN_TITLE, KOREAN_BODY, charset_meta=None, lang="ko").encode("euc-kr"),
            "text/html",
            KOREAN_TITLE,
        ),
        "",
    ),
    "PDF content type": (bad_page(lambda s, p: reply(PDF, 200, "application/pdf")), "not_html"),
    "image content type": (bad_page(lambda s, p: reply(PNG, 200, "image/png")), "not_html"),
    "PDF bytes labelled HTML": (bad_page(lambda s, p: reply(PDF, 200, "text/html")), "not_html"),
    "empty 200 page": (bad_page(lambda s, p: reply(b"", 200)), "empty"),
    "HTML page with no article": (bad_page(lambda s, p: reply(NO_ARTICLE)), "no_body"),
    "comments ten times longer than the article": (_comments, ""),
}


def _slug(kind: str) -> str:
    return "/" + "".join(c if c.isalnum() else "-" for c in kind.lower()).strip("-")


def recorded_reasons(space: Workspace, profile, server: HostileServer, prefix: str) -> set[str]:
    """Return the reasons `status` shows for the hostile source and its pages."""
    data = space.status(profile)
    ours = server.url(prefix)
    reasons = {e["reason"] for e in data["errors"] if e["source"] == HOSTILE or ours in e["url"]}
    reasons |= {
        s["last_error"] for s in data["sources"] if s["name"] == HOSTILE and s["last_error"]
    }
    return reasons


def stored_paths(space: Workspace, server: HostileServer, paths: list[str]) -> list[str]:
    """Return which of the paths are stored as articles (by the address fetched)."""
    urls = {row[0] for row in query(space.db, "SELECT url FROM article")}
    return [p for p in paths if any(u.split("?")[0] == server.url(p) for u in urls)]


@pytest.mark.parametrize("kind", list(KINDS))
def test_bad_input(kind: str, workspace: Workspace, hostile: HostileServer, tally: Tally) -> None:
    make_plan, reason = KINDS[kind]
    prefix = _slug(kind)
    plan = make_plan(hostile, prefix, reason)
    hostile.routes.update(plan.routes)
    fresh, fresh_story = fresh_routes(hostile, prefix)
    profile = workspace.profile([fresh, *plan.sources], **plan.options)

    started = time.monotonic()
    crash = ""
    try:
        summary: MonitorSummary | None = workspace.run(profile)
    except Exception as exc:  # noqa: BLE001 - a crash is what this test observes, then reports
        summary, crash = None, "".join(traceback.format_exception(exc)[-6:])
    elapsed = time.monotonic() - started
    reasons = recorded_reasons(workspace, profile, hostile, prefix)
    missing_reasons = plan.reasons - reasons
    expected_stored = [fresh_story, *plan.stored]
    not_stored = sorted(
        set(expected_stored) - set(stored_paths(workspace, hostile, expected_stored))
    )
    fetched_anyway = [p for p in plan.never_fetched if hostile.hits[p]]
    check_ok = plan.check is None or plan.check(workspace, hostile, prefix)

    healed_missing: list[str] = []
    if plan.heal and summary is not None:
        hostile.routes.update(plan.heal)
        later = datetime.now(UTC) + plan.second_run_at
        try:
            workspace.run(profile, now=later)
        except Exception as exc:  # noqa: BLE001
            summary, crash = None, "".join(traceback.format_exception(exc)[-6:])
        healed = stored_paths(workspace, hostile, plan.stored_after_heal)
        healed_missing = sorted(set(plan.stored_after_heal) - set(healed))

    lost = workspace.lost() + len(not_stored) + len(healed_missing)
    survived = (
        summary is not None
        and not missing_reasons
        and not not_stored
        and not fetched_anyway
        and check_ok
        and not healed_missing
        and lost == 0
    )
    tally.bad_input(kind, survived=survived, lost=lost)

    assert summary is not None, f"the run raised:\n{crash}"
    assert not missing_reasons, f"not recorded: {missing_reasons}; recorded: {reasons}"
    assert not not_stored, f"not stored: {not_stored}"
    assert not fetched_anyway, f"fetched although it must not be: {fetched_anyway}"
    assert check_ok, "the kind's own check failed"
    assert not healed_missing, f"not stored once the server healed: {healed_missing}"
    assert workspace.lost() == 0, "baseline articles went missing or changed"
    assert elapsed < 30, f"the run took {elapsed:.1f} s"
    # Nothing stored twice: one row per canonical URL.
    keys = [row[0] for row in articles(workspace.db).values()]
    assert len(keys) == len(set(keys))
