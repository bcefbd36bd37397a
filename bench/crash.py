"""Phones on weak links against a real ``formserver serve``: slow and stalled uploads must never stop the others.

    .venv/bin/python bench/crash.py [--databases sqlite postgresql] [--stalled 100] [--slow 100]
                                    [--rate 1024] [--idle 10] [--seconds 20] [--phones 4]
    .venv/bin/python bench/crash.py --stalled 40 --slow 40     # issue #12 as it was found

For each database it makes a fresh database and a device account as bench/ingest.py does, and
starts ``formserver serve`` with its defaults and ``FORMSERVER_UPLOAD_IDLE_SECONDS=--idle``. Then
``--stalled`` uploads send their headers and half of a household submission and stop, as a phone
does when the signal drops; ``--slow`` uploads send theirs at ``--rate`` bytes a second (about
``--seconds`` of upload each, the household's notes made long). Meanwhile ``--phones`` other
Collect-like phones, each on its own keep-alive connection, send households (``HEAD`` then
``POST /submission``) for ``--seconds``, and a new phone asks ``HEAD /submission`` on a
connection of its own every half second.

Printed: how many of the other phones' requests were answered, and how long a new phone's HEAD and
a submission took (p50, p95, max); how the slow uploads ended (201) and how long they took; how the
stalled ones ended (408) and how long after their last byte; the threads of the server processes
(before the uploads, with them open, after the other phones) and its database connections
(PostgreSQL, after the other phones), and its memory; then the check:
every slow upload and every acknowledged submission stored once, no stalled one stored, and no
file left in the spool folder.
"""

from __future__ import annotations

import argparse
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

from tests.servers import process_tree, running_server  # noqa: E402
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


def run_one(kind: str, args: argparse.Namespace) -> bool:
    rng = random.Random(12)
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp, fresh_database(kind, args.postgresql_url, Path(tmp)) as url:
        folder = Path(tmp)
        token = prepare(url, folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVER_")}
        env.update(
            FORMSERVER_DATABASE_URL=url, FORMSERVER_DATA_DIR=str(folder), FORMSERVER_SECRET_KEY="bench",
            FORMSERVER_VALIDATE_WITH_JAVA="0", FORMSERVER_UPLOAD_IDLE_SECONDS=str(args.idle),
        )
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--stalled", type=int, default=100, help="uploads that stop half-way")
    parser.add_argument("--slow", type=int, default=100, help="uploads that trickle in")
    parser.add_argument("--rate", type=int, default=1024, help="bytes a second of a slow upload")
    parser.add_argument("--idle", type=int, default=10, help="FORMSERVER_UPLOAD_IDLE_SECONDS for the server")
    parser.add_argument("--seconds", type=float, default=20, help="how long the other phones send")
    parser.add_argument("--phones", type=int, default=4, help="other phones sending households meanwhile")
    parser.add_argument("--postgresql-url", default=os.environ.get("FORMSERVER_BENCH_POSTGRESQL_URL", DEFAULT_PG))
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    results = [run_one(kind, args) for kind in args.databases]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
