"""A real ``formserver serve`` process for tests that must talk HTTP to what users run."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def formserver_executable() -> str:
    executable = shutil.which("formserver", path=str(Path(sys.executable).parent))
    if executable is None:
        raise RuntimeError("the formserver command is not installed in this environment (pip install -e .)")
    return executable


@contextlib.contextmanager
def running_server(environment: dict[str, str], *, workers: int = 2, timeout: float = 30) -> Iterator[str]:
    """Start ``formserver serve`` on a free port and yield its base URL; stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [formserver_executable(), "serve", "--port", str(port), "--workers", str(workers)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"formserver serve did not start: {process.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
