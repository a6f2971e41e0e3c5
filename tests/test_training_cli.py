"""``straitwatch train`` and ``eval stages --cv`` through the installed command."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from extractors.stage_model import file_sha256
from tests.support.cli import cli_env, run_cli
from tests.support.paths import REPO
from tests.test_stage_model import pair_items

pytest.importorskip("sklearn")


def _labelled(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for item in pair_items():
            out.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
    return path


def test_train_records_the_hash_and_runs_use_the_model(tmp_path: Path) -> None:
    data = _labelled(tmp_path / "mine.jsonl")
    profile = tmp_path / "profile.toml"
    profile.write_text(
        f'extends = "{REPO / "seeds" / "monitor.toml"}"\n\n'
        '[stages.model]\nfile = "mine-model.json"\nsha256 = ""\n',
        encoding="utf-8",
    )
    env = cli_env(tmp_path)
    trained = run_cli(["train", str(data), "--profile", str(profile), "--record", "--json"], env)
    assert trained.returncode == 0, trained.stderr[-2000:]
    result = json.loads(trained.stdout)
    model = tmp_path / "mine-model.json"
    assert result["sha256"] == file_sha256(model)
    assert f'sha256 = "{result["sha256"]}"' in profile.read_text(encoding="utf-8")
    assert result["items"] == len(pair_items())

    scored = run_cli(["eval", "stages", str(data), "--profile", str(profile), "--json"], env)
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert json.loads(scored.stdout)["n"] == len(pair_items())

    # An altered model file is refused, naming the file.
    model.write_bytes(model.read_bytes().replace(b"\n", b"\n\n", 1))
    refused = run_cli(["eval", "stages", str(data), "--profile", str(profile), "--json"], env)
    assert refused.returncode != 0
    assert "mine-model.json" in refused.stderr + refused.stdout


def test_eval_stages_cross_validates(tmp_path: Path) -> None:
    data = _labelled(tmp_path / "mine.jsonl")
    done = run_cli(
        ["eval", "stages", str(data), str(data), "--cv", "3", "--json"], cli_env(tmp_path)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["k"] == 3 and len(result["folds"]) == 3
    # The same file twice: duplicates share a group, so no fold tests what it trained on.
    assert result["n"] == 2 * len(pair_items())
