"""Draw the README's report screenshot from the 2015–2025 replay, offline.

    .venv/bin/python scripts/report_screenshot.py [REPLAY.jsonl GOLD.json] [--out docs/report.png]

Runs ``straitwatch eval replay … --report`` on the shared replay (default
``../shared/corpus/replay``), opens the page in headless Chromium (Debian's ``chromium``)
with every request sent to a closed port on 127.0.0.1 and no name resolving, and writes a
palette PNG of the top of the page (a few tens of KB).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from chromium_shot import screenshot

REPO = Path(__file__).resolve().parents[1]
REPLAY = REPO.parent / "shared" / "corpus" / "replay"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("replay", nargs="?", type=Path, default=REPLAY / "replay-dev.jsonl")
    parser.add_argument("gold", nargs="?", type=Path, default=REPLAY / "gold-dev.json")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report.png")
    parser.add_argument("--height", type=int, default=1000, help="Pixels of the page to keep.")
    args = parser.parse_args()
    straitwatch = Path(sys.executable).with_name("straitwatch")
    with tempfile.TemporaryDirectory(prefix="straitwatch-shot-") as tmp:
        page = Path(tmp) / "report.html"
        subprocess.run(  # noqa: S603 - our own command
            [straitwatch, "eval", "replay", args.replay, "--gold", args.gold, "--json"]
            + ["--report", page],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        screenshot(page, args.out, 1400, args.height)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
