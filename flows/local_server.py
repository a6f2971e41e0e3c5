"""A Prefect server for `straitwatch serve` on one box, when no PREFECT_API_URL is set.

Prefect's temporary in-process server runs flows but has no scheduler, so a schedule served
against it never fires. `serve` therefore starts `prefect server start` on 127.0.0.1 as a
child process it owns, and stops it by its PID on the way out.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_prefect_server(
    log_path: Path, timeout: float = 120.0, *, ui: bool = True, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start a Prefect server on 127.0.0.1; yield its API URL; stop it on exit."""
    port = _free_port()
    args = ["server", "start", "--host", "127.0.0.1", "--port", str(port)]
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - the prefect command of this environment
            [prefect, *args, *([] if ui else ["--no-ui"])],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {}), "PREFECT_API_URL": ""},
        )
        url = f"http://127.0.0.1:{port}/api"
        try:
            _wait_healthy(process, url, timeout, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_healthy(
    process: subprocess.Popen[bytes], url: str, timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server stopped at start; see {log_path}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the Prefect server was not healthy after {timeout:.0f} s; see {log_path}")


def running_flow_runs(api_url: str, flow_name: str) -> list[str]:
    """Return the names of the flow runs of ``flow_name`` RUNNING on that Prefect API.

    One small request (3 s at most); an API that does not answer gives an empty list.
    """
    body = {
        "flows": {"name": {"any_": [flow_name]}},
        "flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}},
        "limit": 5,
    }
    try:
        answer = httpx.post(f"{api_url.rstrip('/')}/flow_runs/filter", json=body, timeout=3)
        answer.raise_for_status()
        return [str(run.get("name", "")) for run in answer.json()]
    except (httpx.HTTPError, ValueError):
        return []
