"""Charts kept between reports: an SVG drawn once is reused while what it draws stays.

Drawing is most of a report's cost (importing Matplotlib alone takes about 0.4 s), and
most monitor runs change nothing a chart shows. Each chart is kept in a folder beside the
reports, named by a digest of everything that decides it (what it shows, the drawing code,
Matplotlib's version), and only the newest few of each kind stay.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

KEPT = 8  # per kind: the newest few, so a report of another window finds its own


def kept_svg(folder: Path | None, kind: str, key: object, draw: Callable[[], str]) -> str:
    """Return the chart of this ``key``: kept in ``folder`` by an earlier report, or drawn
    now and kept (``folder`` None: always drawn). ``key`` must hold everything the picture
    depends on; its ``repr`` is digested."""
    if folder is None:
        return draw()
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    path = folder / f"{kind}-{digest}.svg"
    try:
        svg = path.read_text(encoding="utf-8")
        path.touch()  # recently used: kept longest
        return svg
    except (OSError, UnicodeDecodeError):
        pass  # not kept yet, or damaged: drawn again
    svg = draw()
    _keep(folder, kind, path, svg)
    return svg


def _keep(folder: Path, kind: str, path: Path, svg: str) -> None:
    partial = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{kind}-", suffix=".part")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(svg)
        os.replace(partial, path)  # whole or not at all, even with two runs at once
        partial = None
        kept = sorted(folder.glob(f"{kind}-*.svg"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-KEPT]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a chart that cannot be kept is drawn again next time
    finally:
        if partial is not None:
            Path(partial).unlink(missing_ok=True)
