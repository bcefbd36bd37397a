"""Phones on weak links, and a server killed under phones, against a real ``formserver serve`` (issue #12).

    .venv/bin/python bench/crash.py [--databases sqlite postgresql] [--stalled 100] [--slow 100]
                                    [--rate 1024] [--idle 10] [--seconds 20] [--phones 4]
    .venv/bin/python bench/crash.py --stalled 40 --slow 40     # issue #12 as it was found
    .venv/bin/python bench/crash.py --kill-rounds 5 [--phones 32] [--seconds 20]

Two modes, each on a fresh database per database kind (per round, when killing) with a device
account, as bench/ingest.py makes them, and ``formserver serve`` with its defaults.

Weak links (the default): ``FORMSERVER_UPLOAD_IDLE_SECONDS=--idle``; ``--stalled`` uploads send
their headers and half of a household submission and stop, as a phone does when the signal drops;
``--slow`` uploads send theirs at ``--rate`` bytes a second (about ``--seconds`` of upload each, the
household's notes made long). Meanwhile ``--phones`` (4) other Collect-like phones, each on its own
keep-alive connection, send households (``HEAD`` then ``POST /submission``) for ``--seconds``, and
a new phone asks ``HEAD /submission`` on a connection of its own every half second.

Printed: how many of the other phones' requests were answered, and how long a new phone's HEAD and
a submission took (p50, p95, max); how the slow uploads ended (201) and how long they took; how the
stalled ones ended (408) and how long after their last byte; the threads of the server processes
(before the uploads, with them open, after the other phones) and its database connections
(PostgreSQL, after the other phones), and its memory; then the check:
every slow upload and every acknowledged submission stored once, no stalled one stored, and no
file left in the spool folder.

Kill rounds (``--kill-rounds N``, instead of the weak links): N rounds per database, each as
tests/crash_phones.py runs it. ``--phones`` (32) Collect-like phones send households, a third
with a 1–3 MB photo, half of those with a second photo in a POST of its own (``*isIncomplete*``);
at a random moment of ``--seconds`` every process of the server is stopped and killed with
SIGKILL; the server starts again and each phone sends again what was not answered 201.
Printed per round: when the kill came, households acknowledged (answered 201) before it, stored
(exactly once, with every file they were answered 201 for, byte for byte by sha256), lost,
duplicated, sent again and completed; orphan files (no row refers to them) with the server down
after the kill, after the resends, and after ``integrity.repair`` with no age limit; then ok or
what is wrong. tests/test_crash_safety.py is the short variant.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import itertools
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from household import THAI_WORDS  # noqa: E402
from ingest import (  # noqa: E402
    DEFAULT_PG, USER_AGENT, collect_date, database_backends, fresh_database, household_xml, machine, multipart, prepare,
    rss_bytes, verify,
)

from formserver.config import Settings  # noqa: E402
from tests.crash_phones import PHOTO_FORM, crash_round  # noqa: E402
from tests.servers import process_tree, running_server, server_environment  # noqa: E402
from tests.slow_phones import Upload, Uploads, post_request  # noqa: E402


def long_household(rng: random.Random, number: int, size: int) -> tuple[str, bytes]:
    """A household whose notes make its XML about ``size`` bytes."""
    instance_id, xml = household_xml(rng, number)
    notes = " ".join(rng.choices(THAI_WORDS, k=max(1, (size - len(xml)) // 12)))
    return instance_id, xml.replace(b"<notes>", f"<notes>{notes} ".encode(), 1)


def server_threads(pid: int) -> int:
    """Threads of the server process and its workers."""
    total = 0
    for process in process_tree(pid):
        try:
            total += int(next(line for line in Path(f"/proc/{process}/status").read_text().splitlines()
                              if line.startswith("Threads:")).split()[1])
        except (OSError, StopIteration):
            pass
    return total


def percentiles(values: list[float], unit: str = "ms") -> str:
    if not values:
        return "none"
    scale = 1000 if unit == "ms" else 1
    ordered = [value * scale for value in sorted(values)]
    at = lambda p: ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]  # noqa: E731
    return f"p50 {at(50):.1f} {unit}, p95 {at(95):.1f} {unit}, max {ordered[-1]:.1f} {unit}"


class OtherPhones:
    """Phones with a good signal sending households, and new phones asking HEAD, while the uploads are open."""

    def __init__(self, port: int, token: str, phones: int, seconds: float, rng: random.Random):
        self.port = port
        self.path = f"/key/{token}/o/bench/submission?deviceID=collect%3AAbCdEf0123456789"
        self.stop_at = time.monotonic() + seconds
        self.rng = rng
        self.numbers = itertools.count(900_000)
        self.lock = threading.Lock()
        self.heads: list[float] = []
        self.submissions: list[float] = []
        self.acknowledged: list[str] = []
        self.asked = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self.phone) for _ in range(phones)]
        self.threads.append(threading.Thread(target=self.new_phones))

    def headers(self) -> dict[str, str]:
        return {"User-Agent": USER_AGENT, "X-OpenRosa-Version": "1.0", "Date": collect_date()}

    def phone(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while time.monotonic() < self.stop_at:
            with self.lock:
                instance_id, xml = household_xml(self.rng, next(self.numbers))
                self.asked += 2
            body, content_type = multipart(xml)
            began = time.monotonic()
            try:
                for method, extra, expected in (("HEAD", {}, 204), ("POST", {"Content-Type": content_type}, 201)):
                    connection.request(method, self.path, body=body if method == "POST" else None, headers=self.headers() | extra)
                    answer = connection.getresponse()
                    answer.read()
                    if answer.status != expected:
                        raise http.client.HTTPException(f"{method} {answer.status}")
            except (OSError, http.client.HTTPException) as error:
                self.failures.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            self.submissions.append(time.monotonic() - began)
            self.acknowledged.append(instance_id)
        connection.close()

    def new_phones(self) -> None:
        while time.monotonic() < self.stop_at:
            with self.lock:
                self.asked += 1
            began = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                connection.request("HEAD", self.path, headers=self.headers())
                answer = connection.getresponse()
                answer.read()
                if answer.status == 204:
                    self.heads.append(time.monotonic() - began)
                else:
                    self.failures.append(f"new phone HEAD {answer.status}")
            except (OSError, http.client.HTTPException) as error:
                self.failures.append(repr(error))
            finally:
                connection.close()
            time.sleep(0.5)

    def run(self) -> None:
        for thread in self.threads:
            thread.start()
        for thread in self.threads:
            thread.join()


@contextlib.contextmanager
def installation(kind: str, args: argparse.Namespace, form: tuple[bytes, str] | None = None):
    """A data folder and a fresh database with a form and a device account of ``bench``: (settings, environment, token)."""
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp, fresh_database(kind, args.postgresql_url, Path(tmp)) as url:
        folder = Path(tmp)
        token = prepare(url, folder, form)
        settings = Settings(data_dir=folder, database_url=url, secret_key="bench", validate_with_java=False)
        yield settings, server_environment(settings), token


def run_one(kind: str, args: argparse.Namespace) -> bool:
    rng = random.Random(12)
    with installation(kind, args) as (settings, env, token):
        folder, url = settings.data_dir, settings.database_url
        env["FORMSERVER_UPLOAD_IDLE_SECONDS"] = str(args.idle)
        with running_server(env, workers=None, log=folder / "server.log", timeout=60) as (base, pid):
            port = int(base.rsplit(":", 1)[1])
            host, path = f"127.0.0.1:{port}", f"/key/{token}/o/bench/submission"
            threads_before = server_threads(pid)
            slow_ids, slow, stalled_ids, stalled = [], [], [], []
            for n in range(args.slow):
                instance_id, xml = long_household(rng, n, int(args.rate * args.seconds * 0.8))
                slow_ids.append(instance_id)
                slow.append(Upload(post_request(host, path, *multipart(xml)), rate=args.rate))
            for n in range(args.stalled):
                instance_id, xml = household_xml(rng, 500_000 + n)
                stalled_ids.append(instance_id)
                request = post_request(host, path, *multipart(xml))
                stalled.append(Upload(request, stall_after=len(request) // 2))
            others = OtherPhones(port, token, args.phones, args.seconds, rng)
            with Uploads(("127.0.0.1", port), stalled + slow) as uploads:
                time.sleep(1)
                threads_open = server_threads(pid)
                others.run()
                threads_after, connections = server_threads(pid), len(database_backends(url))
                rss = rss_bytes(process_tree(pid))
                everything_ended = uploads.wait(timeout=args.idle + args.seconds + 30)
            spool_left = list((folder / "spool").glob("*"))
        answered = len(others.heads) + 2 * len(others.submissions)
        print(f"{kind:10} {args.stalled} stalled + {args.slow} slow uploads at {args.rate} B/s, idle limit {args.idle} s, "
              f"{args.phones} other phones for {args.seconds:g} s")
        print(f"{kind:10} other phones: {answered}/{others.asked} requests answered"
              + (f", failures {len(others.failures)}: {sorted(set(others.failures))[:3]}" if others.failures else ""))
        print(f"{kind:10}   a new phone's HEAD /submission ({len(others.heads)}): {percentiles(others.heads)}")
        print(f"{kind:10}   a submission, HEAD + POST ({len(others.submissions)}): {percentiles(others.submissions)}")
        slow_201 = [u for u in slow if u.status == 201]
        print(f"{kind:10} slow uploads: {len(slow_201)}/{len(slow)} answered 201, "
              f"taking {percentiles([u.answered - u.started for u in slow_201], 's')}")
        stalled_408 = [u for u in stalled if u.status == 408]
        print(f"{kind:10} stalled uploads: {len(stalled_408)}/{len(stalled)} dropped with 408, "
              f"after their last byte: {percentiles([u.answered - u.last_sent for u in stalled_408], 's')}")
        print(f"{kind:10} server: {threads_before} threads before the uploads, {threads_open} with them open, "
              f"{threads_after} after the other phones; {connections if url.startswith('postgresql') else 'no'} "
              f"database connections; RSS {rss / 1e6:.0f} MB")
        acknowledged = [u for u, up in zip(slow_ids, slow) if up.status == 201] + others.acknowledged
        total, once, _ = verify(url, acknowledged)
        stored_stalled = verify(url, stalled_ids)[1]
        ok = (everything_ended and once == total and stored_stalled == 0 and not spool_left
              and len(slow_201) == len(slow) and len(stalled_408) == len(stalled) and not others.failures)
        print(f"{kind:10} check: {once}/{total} acknowledged stored once, {stored_stalled} stalled stored, "
              f"{len(spool_left)} files left in the spool: {'ok' if ok else 'FAILED'}", flush=True)
        return ok


KILL_COLUMNS = ("round", "kill at", "acknowledged", "stored", "lost", "duplicated", "sent again", "completed",
                "orphans after kill (blobs)", "after resends", "after repair", "check")


def kill_rounds(kind: str, args: argparse.Namespace) -> bool:
    """``--kill-rounds`` rounds on fresh databases of this kind, a table row each; True when every one was safe."""
    print(f"{kind}: {args.phones} phones, killed at a random moment of {args.seconds:g} s")
    print("| " + " | ".join(KILL_COLUMNS) + " |")
    print("| " + " | ".join("---" if n < 2 or n == len(KILL_COLUMNS) - 1 else "---:" for n in range(len(KILL_COLUMNS))) + " |")
    rng = random.Random(f"{kind}-kill")
    ok = True
    for number in range(1, args.kill_rounds + 1):
        with installation(kind, args, (PHOTO_FORM, "household_photos.xlsx")) as (settings, environment, token):
            result = crash_round(
                settings, environment, f"/key/{token}/o/bench", phones=args.phones,
                kill_after=rng.uniform(1, args.seconds), seed=number, logs=settings.data_dir,
            )  # fmt: skip
        cells = (
            number, f"{result.seconds:.1f} s", result.acknowledged, result.stored, result.lost, result.duplicated,
            result.unanswered, result.completed, f"{result.orphans_after_kill} ({result.orphan_blobs_after_kill})",
            result.orphans_after_retries, result.orphans_after_repair,
            "ok" if not result.problems else "FAILED: " + "; ".join(result.problems[:5]),
        )
        print("| " + " | ".join(str(cell) for cell in cells) + " |", flush=True)
        ok = ok and not result.problems
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--stalled", type=int, default=100, help="uploads that stop half-way")
    parser.add_argument("--slow", type=int, default=100, help="uploads that trickle in")
    parser.add_argument("--rate", type=int, default=1024, help="bytes a second of a slow upload")
    parser.add_argument("--idle", type=int, default=10, help="FORMSERVER_UPLOAD_IDLE_SECONDS for the server")
    parser.add_argument("--seconds", type=float, default=20,
                        help="how long the other phones send; with --kill-rounds, the kill comes at a random moment of it")
    parser.add_argument("--phones", type=int, help="phones sending households (default: 4 beside the weak links, "
                        "32 in the kill rounds)")
    parser.add_argument("--kill-rounds", type=int, default=0,
                        help="instead of the weak links, this many rounds per database of a server killed under phones")
    parser.add_argument("--postgresql-url", default=os.environ.get("FORMSERVER_BENCH_POSTGRESQL_URL", DEFAULT_PG))
    args = parser.parse_args(argv)
    if args.phones is None:
        args.phones = 32 if args.kill_rounds else 4
    print(f"machine: {machine()}")
    mode = kill_rounds if args.kill_rounds else run_one
    results = [mode(kind, args) for kind in args.databases]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
