"""``straitwatch train``: fit the stage model on labelled data and write its file.

The default data is what the project ships under ``seeds/training/`` (briefs of real
articles in our own words) plus any corrections exported with ``straitwatch labels
export``. The file is JSON data, never serialized Python objects; the command prints the
SHA-256 to record in the profile's ``[stages.model]`` table, or records it with ``--record``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flows.settings import Settings

console = Console()


def _default_data(profile: Path) -> list[Path]:
    return sorted((profile.parent / "training").glob("*.jsonl"))


def train(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Labelled JSONL files. Default: training/*.jsonl beside the profile."),
    ] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Monitor profile (TOML).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Model file to write. Default: the profile's [stages.model] file."
        ),
    ] = None,
    record: Annotated[
        bool,
        typer.Option("--record", help="Write the new SHA-256 into the profile's [stages.model]."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
) -> None:
    """Train the stage model (the second opinion where no direction rule is sure)."""
    from extractors.evaluation.crossval import train_from_files
    from extractors.profile import load_profile
    from extractors.stage_model import file_sha256
    from extractors.stages import StageClassifier

    profile_path = (profile or Settings().profile).resolve()
    loaded = load_profile(profile_path)
    data = paths or _default_data(profile_path)
    if not data:
        console.print(
            f"[red]no labelled data: give files, or put them in {profile_path.parent / 'training'}"
        )
        raise typer.Exit(2)
    classifier = StageClassifier(loaded, use_model=False)
    target = out or (Path(classifier.rules.model_file) if classifier.rules.model_file else None)
    if target is None:
        console.print("[red]no model file: give --out, or name one in [stages.model] file")
        raise typer.Exit(2)
    model = train_from_files(data, classifier)
    target.write_bytes(model.to_json())
    digest = file_sha256(target)
    if record:
        _record_hash(profile_path, digest)
    result = {
        "model": str(target),
        "sha256": digest,
        "items": model.about["items"],
        "classes": model.about["classes"],
        "features": len(model.grams) + len(model.extras),
        "recorded": record,
    }
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    console.print(
        f"wrote {target} ({result['features']} features, trained on {result['items']} items: "
        + ", ".join(f"{name} {count}" for name, count in result["classes"].items())
        + ")"
    )
    if record:
        console.print(f'recorded sha256 = "{digest}" in {profile_path}')
    else:
        console.print(f'record it in the profile\'s [stages.model] table: sha256 = "{digest}"')


def _record_hash(profile: Path, digest: str) -> None:
    """Replace the sha256 line of the profile's [stages.model] table, keeping the rest."""
    text = profile.read_text(encoding="utf-8")
    table = re.search(r"^\[stages\.model\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if table is None:
        raise typer.BadParameter(f"{profile} has no [stages.model] table to record the hash in")
    body = table.group(1)
    line = f'sha256 = "{digest}"'
    if re.search(r"^sha256\s*=.*$", body, re.M):
        body = re.sub(r"^sha256\s*=.*$", line, body, count=1, flags=re.M)
    else:
        body = body.rstrip("\n") + "\n" + line + "\n\n"
    profile.write_text(text[: table.start(1)] + body + text[table.end(1) :], encoding="utf-8")
