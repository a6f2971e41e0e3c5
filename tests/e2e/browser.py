"""Headless Chromium for the report's tests: screenshots, the DOM after scripts, and a
recording proxy on 127.0.0.1 that sees any request a page tries to make."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-pings",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    # No name resolves but the proxy's address: nothing can leave 127.0.0.1.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
# Chromium's own services, which it calls whatever the page (updates, sign-in); a page's
# requests are everything else.
CHROMIUM_SERVICES = ("google.com", "googleapis.com", "gstatic.com")


def chromium_or_skip() -> str:
    """Return Chromium's path; skip without it, but fail in CI, which installs it."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run must install it")
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    return path


class RecordingProxy:
    """A proxy on 127.0.0.1 that answers nothing and records every connection made to it."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.requests.append(conn.recv(4096))
                except OSError:
                    self.requests.append(b"")

    @property
    def hosts(self) -> list[str]:
        """Return the host each recorded request asked for (CONNECT or absolute-URI GET)."""
        hosts = []
        for request in self.requests:
            target = request.split(b" ")[1].decode("latin-1") if b" " in request else ""
            hosts.append(urlsplit(target if "://" in target else f"//{target}").hostname or "")
        return hosts

    @property
    def page_requests(self) -> list[str]:
        """Return the hosts asked for by pages, leaving out Chromium's own services."""
        # A connection that sent no bytes before closing (Chromium opens spare sockets
        # ahead of need) asked for nothing and carried nothing: it is not a request.
        return [
            host
            for raw, host in zip(self.requests, self.hosts, strict=True)
            if raw and not any(host == s or host.endswith("." + s) for s in CHROMIUM_SERVICES)
        ]

    @contextmanager
    def running(self) -> Iterator[RecordingProxy]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self._socket.close()


def run_chromium(page: Path, workdir: Path, *extra: str, proxy_port: int | None = None) -> str:
    """Open ``page`` in a fresh headless Chromium profile; return what Chromium printed."""
    profile = workdir / f"chromium-profile-{len(list(workdir.glob('chromium-profile-*')))}"
    args = [
        chromium_or_skip(),
        *FLAGS,
        f"--user-data-dir={profile}",
        *([f"--proxy-server=http://127.0.0.1:{proxy_port}"] if proxy_port else []),
        *extra,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(  # noqa: S603 - the test's own Chromium on a local file
        args, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dom_after_scripts(page: Path, workdir: Path, proxy_port: int | None = None) -> str:
    """Return the page's DOM once its scripts (if any) have run."""
    return run_chromium(
        page, workdir, "--virtual-time-budget=5000", "--dump-dom", proxy_port=proxy_port
    )


def screenshot(page: Path, out: Path, workdir: Path, proxy_port: int | None = None) -> Path:
    """Write a 1400×1000 screenshot of ``page`` to ``out``; return ``out``."""
    run_chromium(
        page,
        workdir,
        f"--screenshot={out}",
        "--window-size=1400,1000",
        "--virtual-time-budget=5000",
        proxy_port=proxy_port,
    )
    assert out.exists(), f"Chromium wrote no screenshot to {out}"
    return out


def colours(png: Path) -> set[tuple[int, int, int]]:
    """Return the distinct RGB colours of a PNG (Pillow comes with Matplotlib)."""
    from PIL import Image

    with Image.open(png) as image:
        return {rgb for _, rgb in image.convert("RGB").getcolors(1 << 24) or []}
