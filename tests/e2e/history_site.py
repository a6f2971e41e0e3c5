"""A news history on 127.0.0.1 for backfill tests: a GDELT DOC API look-alike, two outlets'
news sitemaps, and the article pages they list.

The DOC endpoint answers like the real one: articles whose ``seendate`` falls in
[startdatetime, enddatetime), newest first, at most ``maxrecords`` (capped at 250), as
``{"articles": [...]}``; every ``throttle_every``-th request gets a 429 with Retry-After.
Two outlets (``harbor`` and ``ledger``) each report the same security step in their own
words, so a rebuilt history confirms one escalation; the GDELT articles are unrelated
filler, each with a text of its own so none are near duplicates.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.support.http import NOT_FOUND, FixtureServer, Request, Response, serve

WORDS = (
    "harbour market price rain river festival school rail bridge library museum garden "
    "orchestra season harvest ferry tourism weather bakery cinema theatre stadium marathon "
    "cycling lantern temple coast valley island orchard vineyard"
).split()

STEP_A = (
    "Seoul ends intelligence pact with Tokyo",
    "South Korea said on Thursday it would terminate its General Security of Military "
    "Information Agreement with Japan, ending the exchange of classified military "
    "intelligence between the two neighbours. Tokyo called the decision extremely regrettable "
    "and summoned the South Korean ambassador to protest. Officials in Seoul said the "
    "decision followed Japan's removal of South Korea from its list of trusted trading "
    "partners. The pact had been renewed every year since 2016 and was the only military "
    "agreement between the two countries. Japan's foreign minister said Seoul had misread the "
    "security situation in the region.",
)
STEP_B = (
    "Tokyo protests as Seoul scraps GSOMIA military information deal",
    "The South Korean government announced it will not renew GSOMIA, its military "
    "intelligence-sharing accord with Japan, a step that deepens the dispute between Seoul "
    "and Tokyo over trade and wartime history. Japan lodged a formal protest and its defence "
    "ministry said the move would harm regional security cooperation. The presidential "
    "office in Seoul said Japan had changed the basis for security cooperation by imposing "
    "export restrictions on South Korea. The agreement will expire in November unless Seoul "
    "reverses its decision, South Korean officials told reporters on Thursday.",
)


DAY_OF_STEP = datetime(2019, 8, 22, tzinfo=UTC)


def _filler(n: int) -> tuple[str, str]:
    rng = random.Random(n)  # noqa: S311 - text for a fixture, not security
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(18)).capitalize() + "." for _ in range(8)
    ]
    return f"Local notebook {n}: {rng.choice(WORDS)} and {rng.choice(WORDS)}", " ".join(sentences)


def page(title: str, body: str, published: datetime) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split(". ") if p)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta property='article:published_time' content='{published.isoformat()}'>"
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
        f"{paragraphs}</article><footer>Fixture site</footer></body></html>"
    ).encode()


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


@dataclass
class HistorySite:
    """The site's content and how it answers; ``server`` serves it."""

    server: FixtureServer
    gdelt: list[tuple[str, datetime]]  # (path, seen)
    outlets: dict[str, list[tuple[str, datetime]]]
    pages: dict[str, bytes]
    throttle_every: int = 4
    delay: float = 0.0
    throttled: int = 0
    api_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def gdelt_endpoint(self) -> str:
        return self.base_url + "/api/v2/doc/doc"

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def all_paths(self) -> set[str]:
        return {p for p, _ in self.gdelt} | {p for pages in self.outlets.values() for p, _ in pages}

    def respond(self, request: Request) -> Response:
        path = request.path
        if path == "/robots.txt":
            return Response(200, b"User-agent: *\nAllow: /\n")
        if path == "/api/v2/doc/doc":
            with self.lock:
                self.api_calls += 1
                throttle = bool(self.throttle_every) and self.api_calls % self.throttle_every == 0
                if throttle:
                    self.throttled += 1
            if throttle:
                return Response(429, b"Please limit requests", headers={"Retry-After": "1"})
            return self._doc(request.query)
        if path in self.pages:
            if self.delay and not path.endswith(".xml"):
                time.sleep(self.delay)
            kind = "application/xml" if path.endswith(".xml") else "text/html; charset=utf-8"
            return Response(200, self.pages[path], kind)
        return NOT_FOUND

    def _doc(self, query: dict[str, list[str]]) -> Response:
        start, end = _stamp(query["startdatetime"][0]), _stamp(query["enddatetime"][0])
        limit = min(int(query.get("maxrecords", ["75"])[0]), 250)
        hits = sorted((s, p) for p, s in self.gdelt if start <= s < end)[::-1][:limit]
        articles = [
            {
                "url": self.base_url + p,
                "url_mobile": "",
                "title": f"Item {p}",
                "seendate": s.strftime("%Y%m%dT%H%M%SZ"),
                "socialimage": "",
                "domain": "127.0.0.1",
                "language": "English",
                "sourcecountry": "Korea",
            }
            for s, p in hits
        ]
        return Response.of_json({"articles": articles} if articles else {})


def _sitemap(base: str, pages: list[tuple[str, datetime]]) -> bytes:
    urls = "".join(
        f"<url><loc>{base}{p}</loc><lastmod>{s.isoformat()}</lastmod></url>" for p, s in pages
    )
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><urlset "
        f"xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"
    ).encode()


@contextmanager
def serve_history(
    day: datetime,
    gdelt_articles: int = 600,
    throttle_every: int = 4,
    days: int = 1,
    delay: float = 0.0,
) -> Iterator[HistorySite]:
    """Serve history from ``day``: filler pages spread over ``days`` and the outlets' step.

    ``delay`` slows every article page down, for tests that must catch a run midway.
    """
    spread = timedelta(days=days) / max(gdelt_articles, 1)
    gdelt = [(f"/wire/{n}", day + spread * n) for n in range(gdelt_articles)]
    step_at = day + timedelta(hours=9)
    outlets = {
        "harbor": [("/harbor/gsomia-ends", step_at)],
        "ledger": [("/ledger/seoul-scraps-gsomia", step_at + timedelta(hours=2))],
    }
    with serve() as server:
        base = server.base_url
        pages: dict[str, bytes] = {}
        for path, seen in gdelt:
            pages[path] = page(*_filler(int(path.rsplit("/", 1)[1])), seen)
        pages["/harbor/gsomia-ends"] = page(*STEP_A, step_at)
        pages["/ledger/seoul-scraps-gsomia"] = page(*STEP_B, step_at + timedelta(hours=2))
        pages["/harbor/sitemap.xml"] = _sitemap(base, outlets["harbor"])
        pages["/ledger/sitemap-1.xml"] = _sitemap(base, outlets["ledger"])
        pages["/ledger/sitemap-index.xml"] = (
            "<?xml version='1.0' encoding='UTF-8'?><sitemapindex "
            "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><sitemap>"
            f"<loc>{base}/ledger/sitemap-1.xml</loc></sitemap></sitemapindex>"
        ).encode()
        site = HistorySite(server, gdelt, outlets, pages, throttle_every, delay)
        server.responder = site.respond
        yield site


def history_profile(site: HistorySite, parent: str) -> str:
    """Return a profile extending ``parent`` with the history site's three sources."""
    return "\n".join(
        [
            f'extends = "{parent}"',
            "[fetch]",
            'allowed_networks = ["127.0.0.0/8"]',
            "per_host_delay_seconds = 0.0",
            "per_host_concurrency = 8",
            "concurrency = 16",
            "timeout_seconds = 10",
            "[[sources]]",
            'name = "gdelt"',
            'kind = "gdelt"',
            f'url = "{site.gdelt_endpoint}"',
            'query = "Japan Korea"',
            "min_interval_seconds = 0",
            "[[sources]]",
            'name = "harbor"',
            'kind = "sitemap"',
            'outlet = "Harbor Daily"',
            f'url = "{site.base_url}/harbor/sitemap.xml"',
            "[[sources]]",
            'name = "ledger"',
            'kind = "sitemap"',
            'outlet = "Capital Ledger"',
            f'url = "{site.base_url}/ledger/sitemap-index.xml"',
            "",
        ]
    )
