"""The pipeline benchmark script: its page server, and one small run end to end."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from flows import allocator
from tests.support.paths import REPO

SCRIPT = REPO / "benchmarks" / "pipeline.py"

PAGES = {
    "harbour-ferry": (
        "Ferry service to the northern islands resumes",
        "The harbour authority said on Tuesday that the morning ferry to the northern islands "
        "will sail again from next week, after a month of repairs to the landing stage.",
        "Islanders had relied on a single cargo boat since the storm in early spring, and "
        "shopkeepers said deliveries of bread and medicine had often arrived a day late.",
        "The authority expects the new timetable to run three crossings a day until autumn, "
        "with a fourth on market days if the weather allows it.",
    ),
    "tokyo-seoul-talks": (
        "Tokyo and Seoul agree to resume working-level talks",
        "Officials from Japan and South Korea met in Seoul on Monday and agreed to hold "
        "regular working-level talks on export controls and supply chains for chip materials.",
        "The Japanese delegation said Tokyo would review its list of trusted trading partners, "
        "while the South Korean side said Seoul wanted bilateral relations on a steadier footing.",
        "Both governments said a further round would take place in Tokyo next month, and that "
        "ministers could meet later in the year if the talks went well.",
    ),
    "library-hours": (
        "City library extends its evening hours",
        "The central library will stay open until nine in the evening on weekdays from the "
        "first of the month, the city council announced after a consultation with readers.",
        "Students had asked for longer hours during the examination season, and the council "
        "said two more staff would be hired to cover the late shifts.",
        "The reading room on the top floor will also open on Sunday afternoons, although the "
        "archive and the map collection keep their present hours.",
    ),
}


def _page(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}"
        "</article><footer>Local news desk</footer></body></html>"
    )


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_pipeline", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "pages"
    (folder / "nested").mkdir(parents=True)
    names = list(PAGES)
    (folder / f"{names[0]}.html").write_text(_page(*PAGES[names[0]]), encoding="utf-8")
    (folder / "nested" / f"{names[1]}.html.gz").write_bytes(
        gzip.compress(_page(*PAGES[names[1]]).encode())
    )
    (folder / f"{names[2]}.html").write_text(_page(*PAGES[names[2]]), encoding="utf-8")
    (folder / "notes.txt").write_text("not a page", encoding="utf-8")
    return folder


def test_pages_are_repeated_under_distinct_urls_and_listed_in_feeds(corpus: Path) -> None:
    bench = _load_script()
    pages = bench.load_pages(corpus)
    assert [slug for slug, _ in pages] == ["harbour-ferry", "library-hours", "tokyo-seoul-talks"]
    assert all(body.startswith(b"<!DOCTYPE html>") for _, body in pages)  # gunzipped
    with bench.serve_pages(pages, 5) as site:
        assert len(set(site["urls"])) == 5
        assert site["urls"][3].endswith("-harbour-ferry.html")
        feed = httpx.get(site["feeds"][0])
        assert feed.headers["content-type"] == "application/rss+xml"
        assert feed.text.count("<item>") == 5
        again = httpx.get(site["feeds"][0], headers={"If-None-Match": feed.headers["etag"]})
        assert again.status_code == 304
        assert httpx.get(site["urls"][4]).content == pages[1][1]
        assert httpx.get(site["base"] + "/missing").status_code == 404


@pytest.mark.e2e
def test_small_run_reports_every_figure_and_stores_every_page(
    corpus: Path, prefect_api: str
) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--pages", "5", "--runs", "1", "--json"]
        + ["--corpus", str(corpus), "--prefect-api", prefect_api],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key in (
        "pages",
        "baseline_s",
        "pipeline_s",
        "ratio_pipeline_vs_baseline",
        "idle_s",
        "floor_s",
        "ratio_idle_vs_floor",
        "ceiling_s",
        "ratio_pipeline_vs_ceiling",
        "fetch_s",
        "fetch_cpu_s",
        "bound_s",
        "ratio_bound_vs_ceiling",
        "peak_rss_mb",
        "articles_per_s",
    ):
        assert isinstance(result[key], int | float) and result[key] > 0, key
    assert result["pages"] == 5 and result["ceiling_workers"] >= 1
    assert result["baseline_extracted"] == 5
    assert result["fetch_fetched"] == 5
    assert result["ceiling_s"] < result["bound_s"]
    assert result["counts"]["new"] == result["counts"]["stored"] == 5
    assert result["db_articles"] == result["db_seen_urls"] == 5
    assert result["idle_counts"]["new"] == 0
    assert result["counts_ok"] is True
    assert result["benchmark_host"]["allowed_networks"] == ["127.0.0.0/8"]
    if allocator.glibc() is not None:  # the run tuned the allocator, and says how
        tuned = {name: value for _, name, value in allocator.TUNING if name not in os.environ}
        assert result["allocator"] == tuned
