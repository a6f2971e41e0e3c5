"""Where things are: the checkout, the shared corpus beside it, the virtualenv's commands."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
VENV_BIN = Path(sys.executable).parent
