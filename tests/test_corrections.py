"""Corrections: recorded with who and when, superseded not erased, replayed in memory."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.escalation import EscalationRules
from extractors.evaluation.labelled import load_labelled
from extractors.profile import load_profile
from extractors.urls import canonical_url
from flows.settings import DEFAULT_PROFILE
from flows.stages.corrections import corrections_status, export_labelled, what_if
from flows.stages.tracking import replay_reports
from storage import corrections as store
from storage import tracker
from storage.db import make_engine, migrate, read_session, write_session
from storage.models import Article, Correction, StageTransition
from tests.support.cli import cli_env, run_cli

DAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KEY = "escalation:security:2026-11-02"
URLS = {
    "a": "https://news-a.example/world/drill?utm_source=feed",
    "b": "https://news-b.example/politics/drill-2",
    "c": "https://news-c.example/sport/match",
}


def seed(url: str) -> dict[str, int]:
    """Two outlets report a security step (a confirmed transition); a third is off-topic."""
    monitor = load_profile(DEFAULT_PROFILE).monitor.name
    engine = make_engine(url)
    migrate(engine)
    ids = {}
    with write_session(engine) as session:
        for n, (name, link) in enumerate(URLS.items()):
            staged = name != "c"
            row = Article(
                monitor=monitor,
                canonical_url=canonical_url(link) or link,
                url=link,
                outlet=f"Outlet {name.upper()}",
                title=f"[bold]Headline {name}[/bold]",
                text=f"Body of article {name}.",
                published_at=DAY + timedelta(hours=n),
                language="en",
                relevant=staged,
                space="security" if staged else None,
                action="step" if staged else None,
                stage_evidence=[f"evidence {name}"],
                first_seen_at=DAY + timedelta(hours=n),
                escalated_at=DAY + timedelta(hours=n) if staged else None,
            )
            session.add(row)
            session.flush()
            ids[name] = row.id
        session.add(
            StageTransition(
                monitor=monitor,
                key=KEY,
                kind="escalation",
                space="security",
                episode=1,
                severity="critical",
                at=DAY + timedelta(hours=1),
                evidence=[canonical_url(URLS["a"]), canonical_url(URLS["b"])],
                outlets=["Outlet A", "Outlet B"],
                active_after=["security"],
                created_at=DAY + timedelta(hours=1),
            )
        )
    return ids


def test_latest_correction_supersedes_and_earlier_stays(database_url: str) -> None:
    ids = seed(database_url)
    monitor = load_profile(DEFAULT_PROFILE).monitor.name
    engine = make_engine(database_url)
    with write_session(engine) as session:
        found = store.find_article(session, monitor, "http://www.news-a.example/world/drill")
        assert found is not None and found.id == ids["a"]
        assert store.find_article(session, monitor, str(ids["b"])).id == ids["b"]
        assert store.find_article(session, monitor, "https://nowhere.example/x") is None
        for at, space in ((DAY, "economic"), (DAY + timedelta(minutes=5), None)):
            store.record_correction(
                session,
                monitor,
                ids["a"],
                relevant=space is not None,
                space=space,
                action="step" if space else None,
                by="ana",
                at=at,
            )
    with read_session(engine) as session:
        views = store.corrections(session, monitor)
        assert [(v.correction.relevant, v.superseded) for v in views] == [
            (False, False),
            (True, True),
        ]
        assert len(store.current_corrections(session, monitor)) == 1
        assert len(session.exec(__import__("sqlmodel").select(Correction)).all()) == 2


def test_what_if_replays_without_the_corrected_decision(database_url: str) -> None:
    ids = seed(database_url)
    profile = load_profile(DEFAULT_PROFILE)
    monitor = profile.monitor.name
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with read_session(engine) as session:
        rows = tracker.pending_reports(session, monitor, everything=True)
        _, decided = replay_reports(rows, now, EscalationRules.from_profile(profile))
        assert KEY in {t.key for t, _ in decided}  # the seeded history is what a replay decides
    with write_session(engine) as session:
        store.record_correction(
            session, monitor, ids["b"], relevant=False, space=None, action=None, by="ana", at=now
        )
    with read_session(engine) as session:
        views = store.corrections(session, monitor)
        effect = what_if(session, profile, views, now)
        assert effect == {
            views[0].correction.id: [{"transition": KEY, "still_decided": False, "instead": []}]
        }
        # nothing written by the replay
        assert len(session.exec(__import__("sqlmodel").select(StageTransition)).all()) == 1
    with write_session(engine) as session:  # corrected to the same space again: still decided
        store.record_correction(
            session,
            monitor,
            ids["b"],
            relevant=True,
            space="security",
            action="step",
            by="ana",
            at=now + timedelta(seconds=1),
        )
    with read_session(engine) as session:
        rows = corrections_status(session, profile, 10, now)
        assert rows[0]["what_if"][0]["still_decided"] is True
        assert rows[1]["superseded"] is True


def test_export_is_labelled_jsonl(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    ids = seed(url)
    monitor = load_profile(DEFAULT_PROFILE).monitor.name
    engine = make_engine(url)
    with write_session(engine) as session:
        store.record_correction(
            session,
            monitor,
            ids["c"],
            relevant=True,
            space="cooperation",
            action="talk",
            by="ana",
            at=DAY,
        )
    with read_session(engine) as session:
        assert export_labelled(store.corrections(session, monitor), tmp_path / "x.jsonl") == 1
    (item,) = load_labelled(tmp_path / "x.jsonl")
    assert (item.relevant, item.space, item.action) == (True, "cooperation", "talk")
    assert item.text == "Body of article c." and item.published == "2026-11-02"


# --- the real command on a real SQLite file ---------------------------------------------


@pytest.fixture
def cli(tmp_path: Path) -> tuple[dict[str, str], dict[str, int]]:
    env = cli_env(tmp_path)
    (tmp_path / "data").mkdir()
    return env, seed(f"sqlite:///{tmp_path / 'data' / 'straitwatch.db'}")


def test_cli_bad_input_is_one_line(cli: tuple[dict[str, str], dict[str, int]]) -> None:
    env, ids = cli
    cases = [
        (["label", "https://nowhere.example/x", "--not-relevant"], "no article"),
        (["label", str(ids["a"]), "--space", "naval", "--action", "step"], "valid spaces:"),
        (["label", str(ids["a"]), "--space", "security", "--action", "hint"], "valid actions:"),
        (["label", str(ids["a"]), "--space", "security", "--not-relevant"], "not both"),
    ]
    for args, expected in cases:
        done = run_cli(args, env)
        assert done.returncode != 0, args
        assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_cli_label_status_export_eval_train(
    cli: tuple[dict[str, str], dict[str, int]], tmp_path: Path
) -> None:
    env, ids = cli
    done = run_cli(
        [
            "label",
            URLS["b"].replace("https://", "http://"),
            "--space",
            "economic",
            "--action",
            "step",
            "--by",
            "ana",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr
    done = run_cli(["label", str(ids["b"]), "--not-relevant", "--by", "ben"], env)
    assert done.returncode == 0, done.stderr
    done = run_cli(
        ["label", str(ids["c"]), "--space", "security", "--action", "talk", "--json"], env
    )
    assert json.loads(done.stdout)["space"] == "security"

    done = run_cli(["status", "--json"], env)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["corrections"]
    assert [r["superseded"] for r in rows] == [False, False, True]
    ben = rows[1]
    assert ben["by"] == "ben" and ben["relevant"] is False
    assert ben["what_if"] == [{"transition": KEY, "still_decided": False, "instead": []}]
    done = run_cli(["status"], {**env, "COLUMNS": "300"})
    assert done.returncode == 0, done.stderr
    assert "Latest corrections" in done.stdout and "[bold]Headline b" in done.stdout
    assert "not decided" in done.stdout

    out = tmp_path / "corrections.jsonl"
    done = run_cli(["labels", "export", str(out)], env)
    assert done.returncode == 0, done.stderr
    assert len(load_labelled(out)) == 2
    done = run_cli(["eval", "stages", str(out), "--json"], env)
    assert done.returncode == 0, done.stderr
    training = sorted((Path(DEFAULT_PROFILE).parent / "training").glob("*.jsonl"))
    model = tmp_path / "model.json"
    done = run_cli(["train", *map(str, training), str(out), "--out", str(model), "--json"], env)
    assert done.returncode == 0, done.stderr
    assert model.stat().st_size > 0


def test_migration_0011_round_trip(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from storage.db import alembic_config

    engine = make_engine(database_url)
    migrate(engine)
    config = alembic_config(engine)
    command.downgrade(config, "0010")
    assert "correction" not in inspect(engine).get_table_names()
    command.upgrade(config, "head")
    assert "correction" in inspect(engine).get_table_names()
