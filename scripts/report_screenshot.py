"""Draw the README's report screenshot from the 2015–2025 replay, offline.

    .venv/bin/python scripts/report_screenshot.py [REPLAY.jsonl GOLD.json] [--out docs/report.png]

Runs ``straitwatch eval replay … --report`` on the shared replay (default
``../shared/corpus/replay``), opens the page in headless Chromium (Debian's ``chromium``)
with every request sent to a closed port on 127.0.0.1 and no name resolving, and writes a
palette PNG of the top of the page (a few tens of KB).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REPLAY = REPO.parent / "shared" / "corpus" / "replay"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("replay", nargs="?", type=Path, default=REPLAY / "replay-dev.jsonl")
    parser.add_argument("gold", nargs="?", type=Path, default=REPLAY / "gold-dev.json")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report.png")
    parser.add_argument("--height", type=int, default=1000, help="Pixels of the page to keep.")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    straitwatch = Path(sys.executable).with_name("straitwatch")
    with tempfile.TemporaryDirectory(prefix="straitwatch-shot-") as tmp, socket.socket() as closed:
        page, raw = Path(tmp) / "report.html", Path(tmp) / "report.png"
        subprocess.run(  # noqa: S603 - our own command
            [straitwatch, "eval", "replay", args.replay, "--gold", args.gold, "--json"]
            + ["--report", page],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        closed.bind(("127.0.0.1", 0))  # bound, never listening: any request is refused
        subprocess.run(  # noqa: S603 - Chromium on our own local file
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--proxy-server=http://127.0.0.1:{closed.getsockname()[1]}",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--screenshot={raw}",
                f"--window-size=1400,{args.height}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        from PIL import Image

        with Image.open(raw) as image:
            small = image.convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            small.save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
