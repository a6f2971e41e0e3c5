"""Labelled news items (JSON Lines) used to measure relevance and stage rules.

Each line is one object with ``id, url, outlet, published, lang, title, text, relevant,
space, action``, and optionally ``confidence`` and ``group``; other keys (provenance) are
ignored. ``relevant`` is true, false or null (undecided); ``space`` and ``action`` are null
when not labelled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractors.escalation import ACTIONS as ACTIONS
from extractors.escalation import COOPERATION
from extractors.escalation import SPACES as CONFLICT_SPACES

# A label names a conflict space or cooperation: the spaces the tracker knows, and no other.
SPACES = (*CONFLICT_SPACES, COOPERATION)


class LabelledError(ValueError):
    """A labelled file has a line that is not a valid item."""


@dataclass(frozen=True)
class LabelledItem:
    id: str
    url: str
    outlet: str
    published: str
    lang: str
    title: str
    text: str
    relevant: bool | None
    space: str | None
    action: str | None
    confidence: str = ""  # "high" or "low" where the labeller said
    group: str = ""  # items about one event share a group (cross-validation keeps them together)


def _choice(value: Any, allowed: tuple[str, ...], field: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise LabelledError(f"{where}: {field} must be one of {allowed} or null, not {value!r}")
    return str(value)


def _item(data: Any, where: str) -> LabelledItem:
    if not isinstance(data, dict) or not data.get("id"):
        raise LabelledError(f"{where}: expected an object with an id")
    relevant = data.get("relevant")
    if relevant is not None and not isinstance(relevant, bool):
        raise LabelledError(f"{where}: relevant must be true, false or null")
    return LabelledItem(
        id=str(data["id"]),
        url=str(data.get("url") or ""),
        outlet=str(data.get("outlet") or ""),
        published=str(data.get("published") or ""),
        lang=str(data.get("lang") or ""),
        title=str(data.get("title") or ""),
        text=str(data.get("text") or ""),
        relevant=relevant,
        space=_choice(data.get("space"), SPACES, "space", where),
        action=_choice(data.get("action"), ACTIONS, "action", where),
        confidence=str(data.get("confidence") or ""),
        group=str(data.get("group") or ""),
    )


def load_labelled(path: Path) -> list[LabelledItem]:
    """Return the items of a labelled JSON Lines file, in file order.

    Blank lines are skipped; a malformed line raises LabelledError naming its line number.
    """
    items: list[LabelledItem] = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelledError(f"{where}: not JSON: {exc}") from exc
            items.append(_item(data, where))
    return items
