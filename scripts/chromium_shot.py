"""Screenshots of the project's own pages in headless Chromium (Debian's ``chromium``),
offline: every request goes to a closed port on 127.0.0.1 and no name resolves."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

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


def screenshot(page: Path, out: Path, width: int, height: int) -> None:
    """Write a palette PNG of the top of a local page (a few tens of KB)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="straitwatch-shot-") as tmp, socket.socket() as closed:
        raw = Path(tmp) / "shot.png"
        closed.bind(("127.0.0.1", 0))  # bound, never listening: any request is refused
        subprocess.run(  # noqa: S603 - Chromium on our own local file
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--proxy-server=http://127.0.0.1:{closed.getsockname()[1]}",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--screenshot={raw}",
                f"--window-size={width},{height}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        from PIL import Image

        with Image.open(raw) as image:
            small = image.convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
            out.parent.mkdir(parents=True, exist_ok=True)
            small.save(out, optimize=True)
