"""A backfill and the scheduled monitor at the same time, on one database: neither corrupts
the other, and no alert is sent twice."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from flows.backfill import run_backfill
from flows.demo.run import DEMO_SITE, demo_profile_text
from flows.demo.server import serve_site
from flows.monitor import AlertConfig, Steps, run_monitor
from flows.stages.context import RunConfig
from tests.e2e.history_site import DAY_OF_STEP, history_profile, serve_history
from tests.support.mail import decoded_subject

pytestmark = pytest.mark.e2e


def test_backfill_and_monitor_at_once(tmp_path: Path, database_url: str, smtp_server) -> None:
    with (
        serve_site(DEMO_SITE) as demo,
        serve_history(DAY_OF_STEP, gdelt_articles=150, throttle_every=0) as history,
    ):
        demo_profile = tmp_path / "demo.toml"
        demo_profile.write_text(demo_profile_text(demo.base_url), encoding="utf-8")
        both = tmp_path / "both.toml"
        # The history's sources on top of the demo's feeds: one monitor, one database.
        text_ = history_profile(history, str(demo_profile)).replace(
            "[[sources]]", "[[more_sources]]"
        )
        both.write_text(text_, encoding="utf-8")
        merged = _merge_sources(demo_profile, both)
        config = RunConfig(
            db_url=database_url, profile_path=merged, batch_size=25, extract_workers=1
        )
        alerts = AlertConfig(urls=(smtp_server.url(),))
        results: dict[str, Any] = {}
        errors: list[BaseException] = []

        def backfill() -> None:
            try:
                results["backfill"] = run_backfill(
                    config,
                    alerts,
                    date(2019, 8, 22),
                    date(2019, 8, 22),
                    sources=["gdelt", "harbor", "ledger"],
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def monitor() -> None:
            try:
                results["monitor"] = [run_monitor(config, alerts, Steps()) for _ in range(2)]
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=backfill), threading.Thread(target=monitor)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert errors == []
    subjects = sorted(decoded_subject(m) for m in smtp_server.messages)
    assert len(subjects) == len(set(subjects)) == 2, subjects
    assert any(s.startswith("Security escalation: ") for s in subjects)  # the live escalation
    assert any(s.startswith("Backfill 2019-08-22 to 2019-08-22") for s in subjects)  # summary
    engine = create_engine(database_url)
    with engine.connect() as conn:
        urls = [r[0] for r in conn.execute(text("SELECT canonical_url FROM article"))]
        keys = [r[0] for r in conn.execute(text("SELECT key FROM stage_transition"))]
        statuses = [r[0] for r in conn.execute(text("SELECT status FROM alert_outbox"))]
    engine.dispose()
    assert len(urls) == len(set(urls)) == 150 + 2 + 7  # history, and the demo's stored pages
    assert len(keys) == len(set(keys)) == 2  # the 2019 step and today's, each once
    assert "pending" not in statuses


def _merge_sources(demo_profile: Path, both: Path) -> Path:
    """Write one profile holding the demo feeds and the history sources."""
    import tomllib

    demo = tomllib.loads(demo_profile.read_text())
    extra = tomllib.loads(both.read_text())
    lines = [both.read_text().split("[[more_sources]]", 1)[0]]
    for source in demo["sources"] + extra["more_sources"]:
        lines.append("[[sources]]")
        lines += [f"{key} = {_toml(value)}" for key, value in source.items()]
    merged = both.with_name("merged.toml")
    merged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return merged


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)
