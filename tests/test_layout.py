"""The rooms keep to their roles: the layers import downwards only (README, Layout)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPO

# Each room, and the top-level modules it may not import (by prefix).
RULES = {
    "extractors": ("flows", "storage", "prefect"),
    "storage": ("flows", "prefect"),
    # Queries live in storage/: flows/ holds sessions, never builds a query or reads a table.
    "flows": ("sqlmodel.select", "sqlmodel.col", "sqlalchemy.select", "storage.models"),
    "flows/stages": (
        "prefect",
        "typer",
        "flows.cli",
        "flows.demo",
        "flows.monitor",
        "flows.backfill",
    ),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("room", sorted(RULES))
def test_a_room_imports_no_layer_above_it(room: str) -> None:
    files = sorted((REPO / room).rglob("*.py"))
    assert files, f"{room} has no modules"
    breaks = [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in files
        for line, name in _imports(path)
        if any(name == banned or name.startswith(banned + ".") for banned in RULES[room])
    ]
    assert breaks == []


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from flows.stages import pipeline\nimport prefect.tasks\n", encoding="utf-8")
    assert [name for _, name in _imports(module)] == [
        "flows.stages",
        "flows.stages.pipeline",
        "prefect.tasks",
    ]
