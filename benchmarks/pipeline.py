"""Benchmark: one straitwatch monitor run against a plain fetch-and-extract loop.

Serves N real pages on 127.0.0.1 (the extraction corpus beside the repository, gunzipped
and repeated under distinct URLs, or a folder given with --corpus) through RSS feeds, then
times, each in a child process of its own, on the same pages:

(a) baseline: a sequential loop of ``httpx.get`` + ``trafilatura.extract`` per URL;
(b) pipeline: the ``monitor`` flow (Prefect, database, scoring, stage, outbox) into a
    fresh SQLite file, with a profile that extends seeds/monitor.toml, lists the local
    feeds, allows 127.0.0.0/8 and lifts the per-host limits for the benchmark host;
(c) idle: the same flow again, with nothing new;
(d) floor: a no-op flow with one no-op task, in the same Prefect mode;
(e) ceiling: the product's own extraction (``extract_articles``) of the same pages, already
    in memory, in a process pool of all cores: no fetch, Prefect or database. A monitor run
    cannot cost less than the extraction it cannot avoid; ``ratio_pipeline_vs_ceiling`` says
    how much more it costs;
(f) fetch: the product's fetching (``fetch_all`` with the profile's policy, batch by batch as
    a run does) of the same URLs, with no extraction, Prefect or database. Its CPU seconds,
    and the page server's, are work a run adds to the extraction's on the same cores.
    ``ceiling + floor + (fetch CPU + page server CPU) / cores`` is what a monitor run would
    take if every other part of it were free: ``ratio_bound_vs_ceiling``.

Prefect talks to one ``prefect server start`` on 127.0.0.1 for the whole benchmark, so no
run pays for a temporary server. Both servers use the same two cores as the runs: the page
server (threads of this process; a real run's web servers are elsewhere) and the Prefect
server (its own process; a real run's may be elsewhere too). Their CPU seconds during each
monitor child are reported (``site_cpu_s``, ``prefect_server_cpu_s``) beside the run's own,
so a cost can be told from the benchmark's own machinery. ``--stages`` adds a run with a
timer around every stage (inside and outside its Prefect task) and per-article costs of
extraction and scoring.
The last line printed is one JSON object::

    python benchmarks/pipeline.py --pages 1000 [--corpus DIR] [--runs 3] [--json] [--stages]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for benchmarks.page_server, however this script is started

from benchmarks.page_server import FEED_SIZE, serve_pages  # noqa: E402 - after the path

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "extraction"
SHIPPED_PROFILE = REPO / "seeds" / "monitor.toml"
# The shipped profile allows one request per second, two at a time, per host: right for a
# news site, but it would measure the politeness delay instead of the pipeline here.
# One run takes every page the feeds list (the shipped cap of 200 per source per run would
# leave most pages to later runs and compare a part of the work with the whole ceiling).
BENCH_FETCH = {
    "per_host_concurrency": 8,
    "per_host_delay_seconds": 0.0,
    "max_candidates_per_source": 1_000_000,
}
ALLOWED_NETWORKS = ("127.0.0.0/8",)
MB = 1024.0  # ru_maxrss is in KiB on Linux


# ---------------------------------------------------------------- the pages and the profile


def load_pages(corpus: Path) -> list[tuple[str, bytes]]:
    """Return (slug, HTML bytes) for every .html/.htm/.html.gz file under corpus, sorted."""
    pages = []
    for path in sorted(corpus.rglob("*")):
        name = path.name.lower()
        if not path.is_file() or not name.endswith((".html", ".htm", ".html.gz")):
            continue
        body = path.read_bytes()
        body = gzip.decompress(body) if name.endswith(".gz") else body
        stem = re.sub(r"\.html?(\.gz)?$", "", path.name, flags=re.I)
        pages.append((re.sub(r"[^A-Za-z0-9.-]+", "-", stem)[:48].strip("-.") or "page", body))
    return pages


def write_profile(directory: Path, feeds: list[str]) -> Path:
    """Write a profile that extends the shipped one with the local feeds; return its path."""
    lines = [
        f"extends = {json.dumps(str(SHIPPED_PROFILE))}",
        "[fetch]",
        f"allowed_networks = {json.dumps(list(ALLOWED_NETWORKS))}",
        *(f"{key} = {value}" for key, value in BENCH_FETCH.items()),
    ]
    for n, url in enumerate(feeds):
        lines += ["[[sources]]", f'name = "bench-{n:03d}"', 'kind = "feed"']
        lines += [f"url = {json.dumps(url)}", 'outlet = "Benchmark"']
    path = directory / "benchmark.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- child processes


def _rusage() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _timed(call: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    wall, (cpu, kids) = time.perf_counter(), _rusage()
    result = call()
    cpu_after, kids_after = _rusage()
    times = {"wall_s": time.perf_counter() - wall, "cpu_s": cpu_after - cpu}
    return result, {**times, "worker_cpu_s": kids_after - kids}


def _peak_rss() -> dict[str, float]:
    return {
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB,
        "peak_worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / MB,
    }


def _quiet() -> None:
    import logging

    for name in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(name).setLevel(logging.ERROR)


def child_baseline(urls_file: Path) -> dict[str, Any]:
    """Time the plain loop: httpx.get, then trafilatura.extract, one URL after another."""
    import httpx
    import trafilatura

    _quiet()
    urls = urls_file.read_text(encoding="utf-8").split()

    def loop() -> int:
        found = 0
        for url in urls:
            found += trafilatura.extract(httpx.get(url).text, url=url) is not None
        return found

    extracted, times = _timed(loop)
    return {"extracted": extracted, **times, **_peak_rss()}


def child_ceiling(urls_file: Path, corpus: Path) -> dict[str, Any]:
    """Time the product's extraction of the served pages, in memory, on every core."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from extractors.article import ParsedArticle, extract_articles, quiet_libraries

    _quiet()
    urls = urls_file.read_text(encoding="utf-8").split()
    pages = load_pages(corpus)
    inputs = [(url, pages[i % len(pages)][1], "text/html") for i, url in enumerate(urls)]
    workers = os.cpu_count() or 1

    def extract() -> int:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=quiet_libraries) as pool:
            results = extract_articles(inputs, executor=pool)
        return sum(isinstance(r, ParsedArticle) for r in results)

    extracted, times = _timed(extract)
    return {"extracted": extracted, "workers": workers, **times, **_peak_rss()}


def child_fetch(urls_file: Path) -> dict[str, Any]:
    """Time the product's fetching of every URL, batch by batch, and nothing else."""
    import asyncio

    from extractors.fetch import FetchRequest
    from flows.monitor import configs_from
    from flows.settings import Settings
    from flows.stages.context import RunContext
    from flows.stages.pipeline import fetch_all

    _quiet()
    urls = urls_file.read_text(encoding="utf-8").split()
    config, _ = configs_from(Settings())
    policy = RunContext.build(config).fetch_policy
    size = config.batch_size

    def fetch() -> int:
        fetched = 0
        for start in range(0, len(urls), size):
            requests = [FetchRequest(url) for url in urls[start : start + size]]
            results = asyncio.run(fetch_all(policy, requests))
            fetched += sum(bool(r.ok and r.content) for r in results)
        return fetched

    fetched, times = _timed(fetch)
    return {"fetched": fetched, **times, **_peak_rss()}


def _floor_flow() -> Callable[[], None]:
    from prefect import flow, task

    @task(name="benchmark-noop")
    def noop() -> None:
        return None

    @flow(name="benchmark-floor")
    def floor() -> None:
        noop()

    return floor


def _db_counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        return {
            f"db_{table}": db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("article", "seen_url", "fetch_error")
        }


def child_monitor(db_path: Path) -> dict[str, Any]:
    """Time a warm-up floor flow, the monitor run, the idle rerun and the floor again."""
    from flows.allocator import limit_heap_growth
    from flows.monitor import monitor

    floor = _floor_flow()
    _, first = _timed(floor)
    summary, run = _timed(monitor)
    idle_summary, idle = _timed(monitor)
    floors = [_timed(floor)[1] for _ in range(3)]
    floor_times = min(floors, key=lambda t: t["wall_s"]) | {
        "wall_s": statistics.median(t["wall_s"] for t in floors)
    }
    keep = ("new", "fetched", "stored", "matches", "failed", "no_body", "duplicates")
    return {
        "first_flow_s": first["wall_s"],
        "run": run,
        "idle": idle,
        "floor": floor_times,
        "counts": {k: getattr(summary, k) for k in keep},
        "idle_counts": {k: getattr(idle_summary, k) for k in keep},
        "sources": idle_summary.sources,
        "allocator": limit_heap_growth(),  # what the runs set (cached: no second call)
        **_db_counts(db_path),
        **_peak_rss(),
    }


def child_stages(corpus: Path, sample: int, cprofile: str | None) -> dict[str, Any]:
    """Time each stage of a monitor flow run (inside and outside its task), then per article."""
    import functools

    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    from flows.monitor import Steps, configs_from, run_monitor
    from flows.settings import Settings

    inner: dict[str, float] = {}
    outer: dict[str, float] = {}

    def timer(fn: Callable[..., Any], name: str, into: dict[str, float]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                into[name] = into.get(name, 0.0) + time.perf_counter() - start

        return timed

    plain = Steps()
    steps = {}
    for name in Steps.__dataclass_fields__:
        wrapped = task(timer(getattr(plain, name), name, inner), name=name, cache_policy=NO_CACHE)
        steps[name] = timer(wrapped.__call__, name, outer)

    @flow(name="monitor-timed")
    def timed_monitor() -> dict[str, Any]:
        run_config, alert_config = configs_from(Settings())
        return run_monitor(run_config, alert_config, Steps(**steps))

    _, first = _timed(_floor_flow())
    if cprofile:
        import cProfile

        profiler = cProfile.Profile()
        summary, run = _timed(lambda: profiler.runcall(timed_monitor))
        profiler.dump_stats(cprofile)
    else:
        summary, run = _timed(timed_monitor)
    return {
        "first_flow_s": first["wall_s"],
        "run": run,
        "new": summary.new,
        "stage_s": {k: round(v, 3) for k, v in inner.items()},
        "task_overhead_s": {k: round(outer[k] - inner[k], 3) for k in inner},
        "per_article": per_article_costs(load_pages(corpus)[:sample]),
    }


def per_article_costs(pages: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Return mean milliseconds per page of each in-process step, one page after another."""
    import trafilatura

    from extractors.article import ParsedArticle, extract_article
    from extractors.profile import load_profile
    from extractors.relevance import RelevanceScorer
    from extractors.stages import StageClassifier
    from extractors.topics import derive_topics

    _quiet()
    profile = load_profile(SHIPPED_PROFILE)
    scorer = RelevanceScorer(derive_topics(profile.seed_text(), profile), profile)
    classifier = StageClassifier(profile)
    totals = dict.fromkeys(("plain_extract", "extract_article", "relevance", "stage"), 0.0)
    articles = relevant = 0
    for slug, body in pages:
        url = f"http://127.0.0.1/{slug}.html"
        start = time.process_time()
        trafilatura.extract(body.decode("utf-8", "replace"), url=url)
        totals["plain_extract"] += time.process_time() - start
        start = time.process_time()
        parsed = extract_article(body, url, content_type="text/html")
        totals["extract_article"] += time.process_time() - start
        if not isinstance(parsed, ParsedArticle):
            continue
        articles += 1
        start = time.process_time()
        relevant += scorer.score(parsed.title, parsed.text).relevant
        totals["relevance"] += time.process_time() - start
        start = time.process_time()
        classifier.classify(parsed.title, parsed.text)
        totals["stage"] += time.process_time() - start
    per_page = {f"{k}_ms": round(1000 * v / max(len(pages), 1), 2) for k, v in totals.items()}
    per_page["relevance_ms"] = round(1000 * totals["relevance"] / max(articles, 1), 2)
    per_page["stage_ms"] = round(1000 * totals["stage"] / max(articles, 1), 2)
    scoring = totals["relevance"] + totals["stage"]
    return {
        "pages": len(pages),
        "articles": articles,
        "relevant": relevant,
        **per_page,
        "scoring_share_of_extraction": round(scoring / max(totals["extract_article"], 1e-9), 3),
        # Every page is staged here, relevant or not (a run stages only the relevant ones).
        "stage_share_of_extraction": round(
            totals["stage"] / max(totals["extract_article"], 1e-9), 3
        ),
    }


# ---------------------------------------------------------------- the parent


def _children_cpu() -> float:
    """Return the CPU seconds of this process's running children (Linux /proc; else 0)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    try:
        tasks = os.listdir(f"/proc/{os.getpid()}/task")
    except OSError:
        return 0.0
    for tid in tasks:
        try:
            children = Path(f"/proc/{os.getpid()}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for pid in children:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def _child_env(work: Path, api_url: str, db_path: Path, profile: Path) -> dict[str, str]:
    from flows.settings import prefect_defaults

    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRAITWATCH_", "PREFECT_"))}
    return (
        env
        | prefect_defaults()
        | {
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(work / "prefect-home"),
            "STRAITWATCH_DATA_DIR": str(work / "data"),
            "STRAITWATCH_DATABASE_URL": f"sqlite:///{db_path}",
            "STRAITWATCH_PROFILE": str(profile),
        }
    )


def run_child(kind: str, work: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    """Run this script as a child of the given kind; return the JSON it wrote."""
    out, log = work / f"{kind}.json", work / f"{kind}.log"
    out.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
    with log.open("w") as log_file:
        done = subprocess.run(  # noqa: S603 - this very script
            [*command, "--child-out", str(out), *extra],
            env=env,
            cwd=work,  # no stray .env of the caller's directory
            stdout=log_file,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"the {kind} child failed ({done.returncode}):\n{tail}")
    return dict(json.loads(out.read_text()))


@contextmanager
def prefect_api(given: str | None, work: Path) -> Iterator[tuple[str, float]]:
    """Yield (API URL, seconds to start): the given server, or one started here."""
    if given:
        yield given, 0.0
        return
    from flows.local_server import local_prefect_server
    from flows.settings import prefect_defaults

    home = work / "prefect-home"
    env = prefect_defaults() | {"PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING"}
    start = time.perf_counter()
    with local_prefect_server(work / "prefect-server.log", ui=False, env=env) as url:
        yield url, time.perf_counter() - start


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Serve the pages, run every child --runs times; return the medians and the details."""
    corpus = Path(args.corpus or DEFAULT_CORPUS)
    pages = load_pages(corpus) if corpus.is_dir() else []
    if not pages:
        raise SystemExit(f"no .html or .html.gz pages under {corpus}")
    started = time.perf_counter()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="straitwatch-bench-")))
        site = stack.enter_context(serve_pages(pages, args.pages))
        api_url, server_start = stack.enter_context(prefect_api(args.prefect_api, work))
        profile = write_profile(work, site["feeds"])
        urls_file = work / "urls.txt"
        urls_file.write_text("\n".join(site["urls"]) + "\n")
        runs = []
        for k in range(args.runs):
            db = work / f"run-{k}.db"
            env = _child_env(work, api_url, db, profile)
            base = run_child("baseline", work, env, "--child-urls", str(urls_file))
            _log(f"run {k + 1}/{args.runs}: baseline {base['wall_s']:.1f} s")
            ceiling = run_child(
                "ceiling", work, env, "--child-urls", str(urls_file), "--corpus", str(corpus)
            )
            _log(f"run {k + 1}/{args.runs}: ceiling {ceiling['wall_s']:.1f} s")
            site_cpu = _rusage()[0]
            fetch = run_child("fetch", work, env, "--child-urls", str(urls_file))
            fetch["site_cpu_s"] = _rusage()[0] - site_cpu
            _log(f"run {k + 1}/{args.runs}: fetch alone {fetch['wall_s']:.1f} s")
            # The monitor child is the only one running: what this process and the Prefect
            # server spend meanwhile is the servers' share of its runs.
            site_cpu, server_cpu = _rusage()[0], _children_cpu()
            mon = run_child("monitor", work, env, "--child-db", str(db))
            mon["site_cpu_s"] = _rusage()[0] - site_cpu
            mon["prefect_server_cpu_s"] = _children_cpu() - server_cpu
            _log(
                f"run {k + 1}/{args.runs}: pipeline {mon['run']['wall_s']:.1f} s, "
                f"idle {mon['idle']['wall_s']:.2f} s, floor {mon['floor']['wall_s']:.2f} s"
            )
            runs.append({"baseline": base, "ceiling": ceiling, "fetch": fetch, "monitor": mon})
        stages = None
        if args.stages:
            env = _child_env(work, api_url, work / "stages.db", profile)
            extra = ["--corpus", str(corpus), "--sample", str(min(len(pages), 200))]
            if args.cprofile:
                extra += ["--cprofile", str(Path(args.cprofile).resolve())]
            stages = run_child("stages", work, env, *extra)
            _log(f"stage profile: {stages['run']['wall_s']:.1f} s")
    return summarise(args, pages, runs, stages, server_start, time.perf_counter() - started)


def _median(runs: list[dict[str, Any]], *keys: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in keys:
            value = value[key]
        values.append(float(value))
    return round(statistics.median(values), 3)


def summarise(
    args: argparse.Namespace,
    pages: list[tuple[str, bytes]],
    runs: list[dict[str, Any]],
    stages: dict[str, Any] | None,
    server_start: float,
    total: float,
) -> dict[str, Any]:
    """Return the benchmark's JSON object: medians over runs, ratios of the medians."""
    baseline = _median(runs, "baseline", "wall_s")
    ceiling = _median(runs, "ceiling", "wall_s")
    pipeline = _median(runs, "monitor", "run", "wall_s")
    idle = _median(runs, "monitor", "idle", "wall_s")
    floor = _median(runs, "monitor", "floor", "wall_s")
    fetch_cpu = _median(runs, "fetch", "cpu_s")
    fetch_site_cpu = _median(runs, "fetch", "site_cpu_s")
    cores = runs[-1]["ceiling"]["workers"]
    bound = ceiling + floor + (fetch_cpu + fetch_site_cpu) / cores
    last = runs[-1]["monitor"]
    counts = last["counts"]
    accounted = sum(counts[k] or 0 for k in ("stored", "duplicates", "no_body", "failed"))
    return {
        "pages": args.pages,
        "distinct_pages": len(pages),
        "feeds": -(-args.pages // FEED_SIZE),
        "runs": args.runs,
        "baseline_s": baseline,
        "pipeline_s": pipeline,
        "ratio_pipeline_vs_baseline": round(pipeline / baseline, 3),
        "ceiling_s": ceiling,
        "ceiling_workers": runs[-1]["ceiling"]["workers"],
        "ratio_pipeline_vs_ceiling": round(pipeline / ceiling, 3),
        "fetch_s": _median(runs, "fetch", "wall_s"),
        "fetch_fetched": runs[-1]["fetch"]["fetched"],
        "fetch_cpu_s": fetch_cpu,
        "fetch_site_cpu_s": fetch_site_cpu,
        "bound_s": round(bound, 3),
        "ratio_bound_vs_ceiling": round(bound / ceiling, 3),
        "idle_s": idle,
        "floor_s": floor,
        "ratio_idle_vs_floor": round(idle / floor, 3),
        "peak_rss_mb": _median(runs, "monitor", "peak_rss_mb"),
        "peak_worker_rss_mb": _median(runs, "monitor", "peak_worker_rss_mb"),
        "allocator": last.get("allocator", {}),
        "baseline_peak_rss_mb": _median(runs, "baseline", "peak_rss_mb"),
        "articles_per_s": round(args.pages / pipeline, 2),
        "baseline_articles_per_s": round(args.pages / baseline, 2),
        "baseline_cpu_s": _median(runs, "baseline", "cpu_s"),
        "pipeline_cpu_s": _median(runs, "monitor", "run", "cpu_s"),
        "pipeline_worker_cpu_s": _median(runs, "monitor", "run", "worker_cpu_s"),
        "site_cpu_s": _median(runs, "monitor", "site_cpu_s"),
        "prefect_server_cpu_s": _median(runs, "monitor", "prefect_server_cpu_s"),
        "idle_cpu_s": _median(runs, "monitor", "idle", "cpu_s"),
        "floor_cpu_s": _median(runs, "monitor", "floor", "cpu_s"),
        "first_flow_s": _median(runs, "monitor", "first_flow_s"),
        "prefect_server_start_s": round(server_start, 1),
        "baseline_extracted": runs[-1]["baseline"]["extracted"],
        "counts": counts,
        "idle_counts": last["idle_counts"],
        "db_articles": last["db_article"],
        "db_seen_urls": last["db_seen_url"],
        "counts_ok": counts["new"] == args.pages
        and accounted == args.pages
        and last["db_seen_url"] == args.pages
        and last["db_article"] == counts["stored"]
        and last["idle_counts"]["new"] == 0,
        "benchmark_host": {
            "allowed_networks": list(ALLOWED_NETWORKS),
            **BENCH_FETCH,
            "note": "raised from the shipped 2 per host, 1.0 s delay and 200 candidates per "
            "source per run, for 127.0.0.1 only",
        },
        "per_run": [
            {
                "baseline_s": round(r["baseline"]["wall_s"], 3),
                "ceiling_s": round(r["ceiling"]["wall_s"], 3),
                "fetch_cpu_s": round(r["fetch"]["cpu_s"], 3),
                "pipeline_s": round(r["monitor"]["run"]["wall_s"], 3),
                # the ceiling and the pipeline of one run are measured a minute apart, the
                # medians of the parts possibly minutes apart: this ratio drifts less
                "ratio_pipeline_vs_ceiling": round(
                    r["monitor"]["run"]["wall_s"] / r["ceiling"]["wall_s"], 3
                ),
                "idle_s": round(r["monitor"]["idle"]["wall_s"], 3),
                "floor_s": round(r["monitor"]["floor"]["wall_s"], 3),
                "peak_rss_mb": round(r["monitor"]["peak_rss_mb"], 1),
            }
            for r in runs
        ],
        **({"stages": stages} if stages else {}),
        "total_s": round(total, 1),
    }


def report(result: dict[str, Any]) -> str:
    """Return the human summary printed before the JSON line."""
    r, host = result, result["benchmark_host"]
    lines = [
        f"pages served        {r['pages']} ({r['distinct_pages']} distinct, {r['feeds']} feeds)",
        f"(a) baseline        {r['baseline_s']:8.2f} s  {r['baseline_articles_per_s']:7.1f}/s"
        f"  cpu {r['baseline_cpu_s']:.1f} s",
        f"(b) straitwatch     {r['pipeline_s']:8.2f} s  {r['articles_per_s']:7.1f}/s"
        f"  cpu {r['pipeline_cpu_s']:.1f} s + workers {r['pipeline_worker_cpu_s']:.1f} s",
        f"    servers         page server {r['site_cpu_s']:.1f} s cpu, Prefect server "
        f"{r['prefect_server_cpu_s']:.1f} s cpu (the monitor child's runs and floors)",
        f"    (b)/(a)         {r['ratio_pipeline_vs_baseline']:8.3f}",
        f"(e) ceiling         {r['ceiling_s']:8.2f} s  extraction alone, "
        f"{r['ceiling_workers']} workers",
        f"    (b)/(e)         {r['ratio_pipeline_vs_ceiling']:8.3f}",
        f"(f) fetch alone     {r['fetch_s']:8.2f} s  cpu {r['fetch_cpu_s']:.1f} s + page server "
        f"{r['fetch_site_cpu_s']:.1f} s",
        f"    (e)+(d)+(f)cpu  {r['bound_s']:8.2f} s  a run whose other parts were free, "
        f"/(e) {r['ratio_bound_vs_ceiling']:.3f}",
        f"(c) idle run        {r['idle_s']:8.2f} s  cpu {r['idle_cpu_s']:.2f} s",
        f"(d) Prefect floor   {r['floor_s']:8.2f} s  cpu {r['floor_cpu_s']:.2f} s",
        f"    (c)/(d)         {r['ratio_idle_vs_floor']:8.3f}",
        f"peak RSS            monitor {r['peak_rss_mb']:.0f} MB, extraction worker "
        f"{r['peak_worker_rss_mb']:.0f} MB, baseline {r['baseline_peak_rss_mb']:.0f} MB",
        f"allocator           {r['allocator'] or 'as the system set it'}",
        f"counts              {r['counts']} (consistent: {r['counts_ok']})",
        f"benchmark host      {', '.join(host['allowed_networks'])} allowed; per-host "
        f"concurrency {host['per_host_concurrency']}, delay {host['per_host_delay_seconds']} s, "
        f"{host['max_candidates_per_source']} candidates per source per run "
        "(shipped profile: 2, 1.0 s, 200)",
        f"medians of {r['runs']} run(s); total {r['total_s']:.0f} s",
    ]
    return "\n".join(lines)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=200, help="pages to serve (default 200)")
    parser.add_argument("--corpus", help="a folder of .html/.html.gz pages (default: corpus)")
    parser.add_argument("--runs", type=int, default=3, help="runs to take medians of")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--stages", action="store_true", help="add a per-stage timing run")
    parser.add_argument("--cprofile", help="with --stages: write cProfile stats of its run here")
    parser.add_argument("--prefect-api", help="use this Prefect API instead of starting one")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--child-urls", help=argparse.SUPPRESS)
    parser.add_argument("--child-db", help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=200, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pages < 1 or args.runs < 1:
        parser.error("--pages and --runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with --child, one measured part of it)."""
    args = _arguments(argv)
    if args.child:
        if args.child == "baseline":
            result = child_baseline(Path(args.child_urls))
        elif args.child == "fetch":
            result = child_fetch(Path(args.child_urls))
        elif args.child == "ceiling":
            result = child_ceiling(Path(args.child_urls), Path(args.corpus))
        elif args.child == "monitor":
            result = child_monitor(Path(args.child_db))
        else:
            result = child_stages(Path(args.corpus), args.sample, args.cprofile)
        Path(args.child_out).write_text(json.dumps(result, default=str))
        return
    result = measure(args)
    if not args.json:
        print(report(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
