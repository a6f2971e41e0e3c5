"""A news site on 127.0.0.1 that changes from round to round, for the soak test.

Three invented outlets each publish an RSS feed and a news sitemap. Every round adds new
local stories; some pages answer 503 or 404 for a round and then come back, a few are gone
for good (and stay listed, as dead links do), and a feed now and then answers 500. At fixed
rounds two outlets report the same concrete step in one conflict space, in their own words,
so the monitor confirms an escalation (security, then economic, then diplomatic) and
finally a de-escalation (a measure lifted). Every text is invented for the suite.

``advance(n)`` moves the site to round ``n``; ``settle()`` serves every page that is not
gone for good, so a final run can account for everything listed.
"""

from __future__ import annotations

import html
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from tests.e2e.history_site import STEP_A, STEP_B, WORDS
from tests.reliability.harness import SourceSpec
from tests.support.http import NOT_FOUND, Request, Response, serve

OUTLETS = {"harbor": "Harbor Daily", "ledger": "Capital Ledger", "tide": "Tide Observer"}

# round -> (space, [(outlet, title, text), (outlet, title, text)])
STEPS: dict[int, tuple[str, list[tuple[str, str, str]]]] = {
    1: ("security", [("harbor", *STEP_A), ("ledger", *STEP_B)]),
    5: (
        "economic",
        [
            (
                "ledger",
                "Japan imposes export curbs on chip materials to South Korea",
                "Tokyo imposed curbs on exports of three chip materials to South Korea on "
                "Monday, the trade ministry said, requiring a licence for every shipment of "
                "fluorinated polyimide, resist and hydrogen fluoride. Seoul called the measure "
                "economic retaliation for the court rulings on wartime labour and said it would "
                "file a complaint at the World Trade Organization. South Korean chipmakers said "
                "their stocks of the materials would last a few months. Japan's trade minister "
                "said the curbs were a matter of export control and trust between the two "
                "countries, not a response to the rulings.",
            ),
            (
                "tide",
                "Tokyo tightens export controls on materials for Korean chipmakers",
                "Japan tightened its export controls on materials South Korean chipmakers rely "
                "on, imposing licence requirements that took effect on Monday. The government in "
                "Seoul protested and its trade minister said South Korea would take the matter "
                "to the WTO. Officials in Tokyo said Japan had lost trust in South Korea's "
                "handling of sensitive goods. Samsung and SK Hynix said they were looking for "
                "other suppliers as the dispute between the two neighbours spread from history "
                "into trade.",
            ),
        ],
    ),
    9: (
        "diplomatic",
        [
            (
                "harbor",
                "Japan recalls ambassador to Seoul over statue",
                "Tokyo recalled its ambassador from South Korea on Friday in protest at a new "
                "statue erected outside its consulate in Busan. Japan's chief cabinet secretary "
                "said the recall would last until Seoul answered Japan's concerns. The South "
                "Korean foreign ministry called the decision regrettable and urged Japan to "
                "respond calmly. The recall is the first since relations between the two "
                "countries soured over wartime history.",
            ),
            (
                "tide",
                "Tokyo pulls its envoy from South Korea in protest",
                "Japan said on Friday it had recalled its ambassador to South Korea, protesting "
                "against a statue placed near its consulate. The Japanese foreign minister told "
                "reporters that the ambassador would stay in Tokyo for consultations. Seoul said "
                "the recall was excessive and asked Japan to return its envoy. Diplomats in both "
                "capitals said the dispute had reached its lowest point in years.",
            ),
        ],
    ),
    13: (
        "cooperation",
        [
            (
                "ledger",
                "Tokyo restores Seoul to its export white list",
                "Japan's cabinet approved returning South Korea to the white list of trusted "
                "trading partners on Tuesday, lifting the export controls it imposed four years "
                "earlier. South Korea welcomed the decision and said it would withdraw its "
                "complaint at the World Trade Organization. Officials in Tokyo and Seoul said "
                "the step followed a summit at which the two leaders agreed to restore trust. "
                "Chipmakers in South Korea said shipments of materials from Japan would resume "
                "at once.",
            ),
            (
                "harbor",
                "Japan lifts export curbs on South Korea, ending trade row",
                "Japan lifted its export curbs on South Korea on Tuesday and restored the "
                "country to its white list, ending a trade dispute between the two neighbours. "
                "The South Korean trade minister said Seoul welcomed Tokyo's decision and would "
                "drop its WTO case against Japan. Business groups in both countries said the "
                "end of the controls would help supply chains for chips and displays.",
            ),
        ],
    ),
}


def _filler(outlet: str, n: int) -> tuple[str, str]:
    rng = random.Random(f"{outlet}-{n}")  # noqa: S311 - text for a fixture, not security
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(16)).capitalize() + "." for _ in range(8)
    ]
    return f"{OUTLETS[outlet]} notebook {n}: the {rng.choice(WORDS)}", " ".join(sentences)


def _page(title: str, body: str, published: datetime) -> bytes:
    paragraphs = "".join(f"<p>{html.escape(p)}.</p>" for p in body.rstrip(".").split(". ") if p)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        f"<meta property='article:published_time' content='{published.isoformat()}'>"
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>"
        f"{paragraphs}</article><footer>Fixture site</footer></body></html>"
    ).encode()


@dataclass
class Story:
    outlet: str
    path: str
    title: str
    text: str
    published: datetime
    step: str = ""  # the space of a step report; empty for a local story
    gone_from: int | None = None  # the round from which it answers 404 for good


@dataclass
class SoakSite:
    """The site's content by round; ``respond`` reads it under ``lock``."""

    base_url: str
    seed: int
    now: datetime
    round: int = -1
    stories: list[Story] = field(default_factory=list)
    failing: dict[str, int] = field(default_factory=dict)  # path -> status this round
    served: set[str] = field(default_factory=set)  # article paths answered 200 at least once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path

    def sources(self) -> list[SourceSpec]:
        """The profile's sources: each outlet's feed and its sitemap."""
        specs = []
        for name, outlet in OUTLETS.items():
            specs.append(SourceSpec(f"{name}-feed", self.url(f"/{name}/feed.xml"), "feed", outlet))
            specs.append(
                SourceSpec(f"{name}-sitemap", self.url(f"/{name}/sitemap.xml"), "sitemap", outlet)
            )
        return specs

    def advance(self, number: int, stories_per_outlet: int = 2) -> None:
        """Publish round ``number``'s stories and draw this round's failing pages."""
        rng = random.Random(f"{self.seed}-{number}")  # noqa: S311 - a fixture's dice
        with self.lock:
            self.round = number
            for outlet in OUTLETS:
                for _ in range(stories_per_outlet):
                    n = sum(1 for s in self.stories if s.outlet == outlet and not s.step)
                    title, text = _filler(outlet, n)
                    published = self.now - timedelta(minutes=rng.randint(5, 300))
                    gone = number + rng.randint(1, 4) if rng.random() < 0.15 else None
                    self.stories.append(
                        Story(outlet, f"/{outlet}/story-{n}", title, text, published, "", gone)
                    )
            if number in STEPS:
                space, reports = STEPS[number]
                for i, (outlet, title, text) in enumerate(reports):
                    published = self.now - timedelta(minutes=30 + 20 * i)
                    path = f"/{outlet}/{space}-step"
                    self.stories.append(Story(outlet, path, title, text, published, space))
            locals_ = [s for s in self.stories if not s.step]
            self.failing = {
                s.path: rng.choice((503, 404, 500))
                for s in locals_
                if rng.random() < 0.2 and s.gone_from is None
            }
            for outlet in OUTLETS:
                if rng.random() < 0.1:
                    self.failing[f"/{outlet}/feed.xml"] = 500

    def settle(self) -> None:
        """Serve everything that is not gone for good (for the final run)."""
        with self.lock:
            self.failing = {}

    def listed(self) -> list[Story]:
        """Every story the site lists now (the gone ones too)."""
        with self.lock:
            return list(self.stories)

    def status_of(self, story: Story) -> int:
        if story.gone_from is not None and self.round >= story.gone_from:
            return 404
        return self.failing.get(story.path, 200)

    def feed(self, outlet: str) -> bytes:
        # The newest ten: older stories drop off the feed but stay in the sitemap.
        items = sorted((s for s in self.stories if s.outlet == outlet), key=lambda s: s.published)[
            -10:
        ]
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>',
            f"<title>{OUTLETS[outlet]}</title><link>{self.base_url}/{outlet}/</link>",
            "<description>Invented stories for the soak test.</description>",
        ]
        for s in items:
            parts.append(
                f"<item><title>{html.escape(s.title)}</title>"
                f"<link>{self.url(s.path)}</link><guid>{self.url(s.path)}</guid>"
                f"<pubDate>{format_datetime(s.published, usegmt=True)}</pubDate>"
                "<description>An invented story.</description></item>"
            )
        parts.append("</channel></rss>")
        return "".join(parts).encode()

    def sitemap(self, outlet: str) -> bytes:
        urls = "".join(
            f"<url><loc>{self.url(s.path)}</loc><lastmod>{s.published.isoformat()}</lastmod></url>"
            for s in self.stories
            if s.outlet == outlet
        )
        return (
            "<?xml version='1.0' encoding='UTF-8'?><urlset "
            f"xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"
        ).encode()

    def respond(self, request: Request) -> Response:
        path = request.path
        with self.lock:
            if path == "/robots.txt":
                return Response(200, b"User-agent: *\nAllow: /\n")
            outlet, _, rest = path.lstrip("/").partition("/")
            if outlet in OUTLETS and rest == "feed.xml":
                if path in self.failing:
                    return Response(self.failing[path], b"feed unavailable")
                return Response(200, self.feed(outlet), "application/rss+xml")
            if outlet in OUTLETS and rest == "sitemap.xml":
                return Response(200, self.sitemap(outlet), "application/xml")
            for story in self.stories:
                if story.path == path:
                    status = self.status_of(story)
                    if status != 200:
                        return Response(status, b"unavailable")
                    self.served.add(path)
                    body = _page(story.title, story.text, story.published)
                    return Response(200, body, "text/html; charset=utf-8")
            return NOT_FOUND


@contextmanager
def serve_soak_site(seed: int) -> Iterator[SoakSite]:
    """Serve the changing site on 127.0.0.1 (before round 0 it lists nothing)."""
    with serve() as server:
        site = SoakSite(server.base_url, seed, datetime.now(UTC).replace(microsecond=0))
        server.responder = site.respond
        yield site
