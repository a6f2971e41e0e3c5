"""``straitwatch eval``: measure relevance, stages, extraction, comments and the timeline.

Each command reads files in the documented layouts (so users can score their own profile
on their own labelled examples), prints a readable table, and with ``--json`` prints one
JSON object on stdout instead.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.settings import Settings

eval_app = typer.Typer(help="Measure the monitor's quality on labelled data.", no_args_is_help=True)
console = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ProfileOption = Annotated[Path | None, typer.Option("--profile", help="Monitor profile (TOML).")]


def _scoring(profile: Path | None) -> tuple[Any, Any]:
    """Return the profile's relevance scorer and stage classifier, the whole profile checked."""
    from flows.stages.context import scoring_of_profile

    return scoring_of_profile(profile or Settings().profile)


def _emit(result: dict[str, Any], as_json: bool, title: str, keys: list[str]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
        return
    table = Table(title=Text(title), title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in keys:
        value = result.get(key)
        table.add_row(key, Text(f"{value:.4f}" if isinstance(value, float) else str(value)))
    console.print(table)


@eval_app.command("relevance")
def eval_relevance(path: Path, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Precision, recall and F1 of the relevance scorer on a labelled JSONL file."""
    from extractors.evaluation.labelled import load_labelled
    from extractors.evaluation.scoring import evaluate_relevance

    scorer, _ = _scoring(profile)
    items = load_labelled(path)
    started = time.perf_counter()
    result = evaluate_relevance(items, scorer)
    scored = max(1, result.get("n", len(items)))
    result["ms_per_article"] = round(1000 * (time.perf_counter() - started) / scored, 3)
    _emit(
        result,
        as_json,
        f"Relevance on {path.name}",
        ["precision", "recall", "f1", "n", "tp", "fp", "fn", "tn", "ms_per_article"],
    )
    if not as_json and result.get("misses"):
        misses = Table(title="Worst misses", title_justify="left")
        for column in ("id", "expected", "got", "title", "reason"):
            misses.add_column(column, overflow="fold")
        for miss in result["misses"][:15]:
            misses.add_row(
                *(Text(str(miss.get(c, ""))) for c in ("id", "expected", "got", "title", "reason"))
            )
        console.print(misses)


@eval_app.command("stages")
def eval_stages(
    paths: Annotated[list[Path], typer.Argument(help="Labelled JSONL files, read as one set.")],
    profile: ProfileOption = None,
    cv: Annotated[
        int,
        typer.Option(
            "--cv",
            help="Grouped K-fold cross-validation: the model is retrained on the other folds "
            "(items about one event stay in one fold). 0 scores the profile's own model.",
        ),
    ] = 0,
    as_json: JsonOption = False,
) -> None:
    """Accuracy and macro F1 of the stage decision on relevant labelled items."""
    from extractors.evaluation.labelled import load_labelled
    from extractors.evaluation.scoring import evaluate_stages

    items = [item for path in paths for item in load_labelled(path)]
    names = ", ".join(path.name for path in paths)
    started = time.perf_counter()
    if cv:
        from extractors.evaluation.crossval import cross_validate_stages
        from extractors.profile import load_profile
        from extractors.stages import StageClassifier

        if cv < 2:
            raise typer.BadParameter("--cv needs at least 2 folds")
        loaded = load_profile(profile or Settings().profile)
        result = cross_validate_stages(items, lambda: StageClassifier(loaded, use_model=False), cv)
        title = f"Stages on {names}, grouped {cv}-fold cross-validation"
    else:
        _, classifier = _scoring(profile)
        result = evaluate_stages(items, classifier)
        title = f"Stages on {names}"
    result["ms_per_article"] = round(
        1000 * (time.perf_counter() - started) / max(1, result.get("n", 1)), 3
    )
    _emit(result, as_json, title, ["accuracy", "macro_f1", "n", "ms_per_article"])
    if not as_json:
        _confusion_table(result.get("confusion", {}))
        if cv:
            console.print(
                "folds: "
                + ", ".join(f"{fold['accuracy']:.3f} (n={fold['n']})" for fold in result["folds"])
                + " · decided by: "
                + ", ".join(f"{kind} {count}" for kind, count in result["decided_by"].items())
            )


def _confusion_table(confusion: dict[str, dict[str, int]]) -> None:
    spaces = sorted({*confusion, *(p for row in confusion.values() for p in row)})
    table = Table(title="Confusion (rows: gold, columns: predicted)", title_justify="left")
    table.add_column("gold")
    for space in spaces:
        table.add_column(Text(space), justify="right")
    for gold in spaces:
        table.add_row(Text(gold), *(str(confusion.get(gold, {}).get(p, 0)) for p in spaces))
    console.print(table)


@eval_app.command("extraction")
def eval_extraction(directory: Path, as_json: JsonOption = False) -> None:
    """Extraction quality against ground truth, beside plain trafilatura in the same run."""
    from extractors.evaluation.extraction import evaluate_extraction

    result = evaluate_extraction(directory)
    keys = (
        [
            "pages",
            "precision",
            "recall",
            "f1",
            "baseline_precision",
            "baseline_recall",
            "baseline_f1",
        ]
        if result.get("layout") == "scrapinghub"
        else ["pages", "segments", "satisfied", "score", "baseline_score"]
    )
    _emit(result, as_json, f"Extraction on {directory.name}", keys)


@eval_app.command("comments")
def eval_comments(directory: Path, as_json: JsonOption = False) -> None:
    """Reader-comment leaks into the extracted body text."""
    from extractors.evaluation.extraction import evaluate_comments

    result = evaluate_comments(directory)
    _emit(result, as_json, f"Comment leaks on {directory.name}", ["pages", "leaks", "leaked_pages"])


@eval_app.command("replay")
def eval_replay(
    path: Path,
    gold: Annotated[Path, typer.Option("--gold")],
    profile: ProfileOption = None,
    as_json: JsonOption = False,
    oracle: Annotated[
        bool,
        typer.Option(
            help="Use the items' own labels instead of the scorer (tests the state machine alone)."
        ),
    ] = False,
    train: Annotated[
        list[Path] | None,
        typer.Option(
            "--train",
            help="Labelled files to train the stage model on, cross-validated: each replayed "
            "item is staged by a model that never saw it (repeat for several files).",
        ),
    ] = None,
    cv: Annotated[int, typer.Option("--cv", help="Folds for --train.")] = 5,
    report_file: Annotated[
        Path | None,
        typer.Option("--report", help="Also draw the replay as a report (one HTML file)."),
    ] = None,
) -> None:
    """Replay dated items through scoring, staging and the escalation tracker; score alerts."""
    from extractors.escalation import EscalationRules
    from extractors.evaluation.labelled import load_labelled
    from extractors.evaluation.replay import alerts_json, oracle_classifier, replay, score_replay
    from extractors.profile import load_profile

    loaded = load_profile(profile or Settings().profile)
    scorer, classifier = _scoring(profile)
    held_out: dict[str, Any] = {}
    if train:
        from extractors.evaluation.crossval import held_out_classifiers
        from extractors.stages import StageClassifier

        training = [item for file in train for item in load_labelled(file)]
        held_out, classifier = held_out_classifiers(
            training, lambda: StageClassifier(loaded, use_model=False), cv
        )

    def classify(item: Any) -> tuple[bool, str | None, str | None]:
        relevance = scorer.score(item.title, item.text)
        if not relevance.relevant:
            return False, None, None
        stage = held_out.get(item.id, classifier).classify(item.title, item.text)
        return True, stage.space, stage.action

    items = load_labelled(path)
    decided: dict[str, tuple[bool, str | None, str | None]] = {}

    def decide(item: Any) -> tuple[bool, str | None, str | None]:
        # The report asks again for each item: score each once.
        if item.id not in decided:
            decided[item.id] = (oracle_classifier if oracle else classify)(item)
        return decided[item.id]

    rules = EscalationRules.from_profile(loaded)
    alerts = replay(items, decide, rules)
    result = score_replay(alerts, json.loads(gold.read_text(encoding="utf-8")))
    result["alert_list"] = alerts_json(alerts)
    if report_file is not None:
        from datetime import UTC, datetime

        from flows.stages.report import report_from_replay, write_report

        data = report_from_replay(
            items,
            decide,
            rules,
            alerts,
            title=f"{loaded.monitor.title or loaded.monitor.name}: replay of {path.name}",
            origin=f"a replay of {path.name}" + (" (the items' own labels)" if oracle else ""),
            now=datetime.now(UTC),
        )
        result["report"] = {"path": str(report_file), "bytes": write_report(data, report_file)}
    _emit(
        result,
        as_json,
        f"Replay of {path.name}",
        ["required", "hit", "missed", "false_alerts", "alerts"],
    )
    if not as_json:
        table = Table(title="Alerts", title_justify="left")
        for column in ("date", "kind", "space", "evidence"):
            table.add_column(column, overflow="fold")
        for alert in alerts:
            table.add_row(str(alert.date), alert.kind, alert.space, Text(", ".join(alert.evidence)))
        console.print(table)
        if report_file is not None:
            console.print(f"report: {report_file} ({result['report']['bytes'] // 1024} KB)")
