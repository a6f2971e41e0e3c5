"""``straitwatch label`` and ``straitwatch labels export``: an analyst corrects a decision.

A correction names the article (its id, or its URL in any form that canonicalises to the
stored one) and says it is not relevant, or relevant in a space with an action. The export
writes the corrections in force as labelled JSON Lines, which ``straitwatch eval stages``
reads and ``straitwatch train`` learns from.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from extractors.evaluation.labelled import ACTIONS, SPACES
from flows.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from extractors.profile import Profile

labels_app = typer.Typer(help="Analysts' corrections.", no_args_is_help=True)
console = Console()
_FAILED = 1

ProfileOption = Annotated[
    Path | None,
    typer.Option("--profile", help="Monitor profile (TOML). Default: STRAITWATCH_PROFILE."),
]


def _fail(message: str, code: int = _FAILED) -> NoReturn:
    Console(stderr=True, soft_wrap=True).print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def _open(profile: Path | None) -> tuple[Profile, Engine]:
    from extractors.profile import load_profile
    from storage.db import make_engine, migrate

    settings = Settings()
    path = profile.resolve() if profile is not None else settings.profile
    engine = make_engine(settings.db_url)
    migrate(engine)
    return load_profile(path), engine


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def label(
    article: Annotated[str, typer.Argument(help="The article's id or URL (any form of it).")],
    space: Annotated[
        str | None, typer.Option("--space", help=f"One of: {', '.join(SPACES)}.")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help=f"One of: {', '.join(ACTIONS)}.")
    ] = None,
    not_relevant: Annotated[
        bool, typer.Option("--not-relevant", help="The article is not about the dispute.")
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Who corrects. Default: the OS user.")
    ] = None,
    profile: ProfileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Correct an article's decision (a later correction supersedes, the earlier stays)."""
    from storage import corrections as store
    from storage.db import write_session

    if not_relevant and (space or action):
        _fail("give either --not-relevant or --space and --action, not both", 2)
    if not not_relevant:
        if space is None or action is None:
            _fail("give --space and --action, or --not-relevant", 2)
        if space not in SPACES:
            _fail(f"unknown space {space!r}; valid spaces: {', '.join(SPACES)}", 2)
        if action not in ACTIONS:
            _fail(f"unknown action {action!r}; valid actions: {', '.join(ACTIONS)}", 2)
    loaded, engine = _open(profile)
    monitor = loaded.monitor.name
    with write_session(engine) as session:
        row = store.find_article(session, monitor, article)
        if row is None:
            _fail(f"no article {article!r} in monitor {monitor!r} (give its id or URL)")
        correction = store.record_correction(
            session,
            monitor,
            row.id or 0,
            relevant=not not_relevant,
            space=space,
            action=action,
            by=by or _user(),
            at=datetime.now(UTC),
        )
        out = {
            "id": correction.id,
            "article_id": row.id,
            "url": row.url,
            "relevant": correction.relevant,
            "space": correction.space,
            "action": correction.action,
            "by": correction.by,
            "at": correction.at.isoformat(),
        }
    if as_json:
        sys.stdout.write(json.dumps(out) + "\n")
        return
    decision = f"{space}/{action}" if not not_relevant else "not relevant"
    console.print(
        f"Correction {out['id']}: article {out['article_id']} is {decision} "
        f"(by {out['by']}, {out['at']})",
        markup=False,
        highlight=False,
    )


@labels_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="The labelled JSONL file to write.")],
    profile: ProfileOption = None,
) -> None:
    """Write the corrections in force as labelled JSON Lines (for eval and train)."""
    from flows.stages.corrections import export_labelled
    from storage import corrections as store
    from storage.db import read_session

    loaded, engine = _open(profile)
    with read_session(engine) as session:
        count = export_labelled(store.corrections(session, loaded.monitor.name), path)
    console.print(f"Wrote {count} labelled items to {path}", markup=False, highlight=False)
