"""Draw the README's sample alert: the escalation email as a reader sees it, offline.

    .venv/bin/python scripts/alert_screenshot.py [--out docs/alert.png]

Runs ``straitwatch alerts preview --kind escalation --html …`` (the production composer and
template on fictional stories) and screenshots the HTML part in headless Chromium.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from chromium_shot import screenshot

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "alert.png")
    parser.add_argument("--kind", default="escalation")
    args = parser.parse_args()
    straitwatch = Path(sys.executable).with_name("straitwatch")
    with tempfile.TemporaryDirectory(prefix="straitwatch-alert-") as tmp:
        page = Path(tmp) / "alert.html"
        subprocess.run(  # noqa: S603 - our own command
            [straitwatch, "alerts", "preview", "--kind", args.kind, "--html", page],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        screenshot(page, args.out, 720, 560)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
