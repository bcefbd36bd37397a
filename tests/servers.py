"""A real ``formserver serve`` process for tests that must talk HTTP to what users run."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
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


def server_environment(settings) -> dict[str, str]:
    """Environment variables that point a ``formserver`` process at these settings' database and data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVER_")}
    env.update(
        FORMSERVER_DATABASE_URL=settings.database_url,
        FORMSERVER_DATA_DIR=str(settings.data_dir),
        FORMSERVER_SECRET_KEY=settings.secret_key,
        FORMSERVER_PUBLIC_URL=settings.public_url,
        FORMSERVER_VALIDATE_WITH_JAVA="0",
    )
    return env


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (the server and its worker processes)."""
    tree, index = [pid], 0
    while index < len(tree):
        try:
            children = Path(f"/proc/{tree[index]}/task/{tree[index]}/children").read_text().split()
        except OSError:
            children = []
        tree.extend(int(child) for child in children)
        index += 1
    return tree


@contextlib.contextmanager
def running_server(
    environment: dict[str, str],
    *,
    workers: int | None = 2,
    threads: int | None = None,
    log: Path | None = None,
    timeout: float = 30,
) -> Iterator[tuple[str, int]]:
    """``formserver serve`` on a free 127.0.0.1 port: yields its base URL and process id, stops it afterwards.

    ``workers`` or ``threads`` None: the server's own default. The benchmarks start their server here too.
    """
    port = free_port()
    command = [formserver_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    output = open(log, "wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(process, port, timeout, log)
        yield base, process.pid
    finally:
        _stop(process)
        if log:
            output.close()


def _wait_until_answering(process: subprocess.Popen, port: int, timeout: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"formserver serve exited with {process.returncode}" + (f"; see {log}" if log else ""))
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("HEAD", "/o/-/submission")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"formserver serve did not answer within {timeout:g} s")
            time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (a graceful stop), then SIGKILL for anything of the server still running."""
    tree = process_tree(process.pid)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in tree[1:]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
