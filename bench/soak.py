"""Soak: phones and coordinators at the same time against a real ``formserver serve``, for a long while.

    .venv/bin/python bench/soak.py [--minutes 20] [--phones 4] [--coordinators 2]
                                   [--database sqlite|postgresql] [--interval 10]
                                   [--postgresql-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                   [--database-url URL] [--workers N] [--threads N]

It makes a fresh database (an SQLite file in a temporary folder, or a new database on the
PostgreSQL server, dropped afterwards; ``--database-url`` uses that migrated database instead),
loads bench/ingest.py's household form and a small form with a photo question, creates device
accounts, a collector and the coordinators, and starts ``formserver serve`` on 127.0.0.1 (its
defaults unless ``--workers``/``--threads``). Then, until ``--minutes`` have passed:

- phones (tests/collect_client.py, as ODK Collect sends): HEAD then POST ``/submission``, one
  household after another (bench/ingest.py's instances), a fifth of them the photo form with a
  JPEG; every phone but the first uses a device account's token URL, the first signs in with HTTP
  Digest as a collector;
- coordinators, as a browser does (cookies, the CSRF token of each page): sign in through the real
  sign-in form, open the organisation, a page of submissions, one submission and its photo, set its
  review state with a comment; every few rounds start an export (Excel or CSV), follow its progress
  and download the file; every so often sign out and in again.

Every ``--interval`` seconds it samples, from /proc, the resident memory (RSS) of every process of
the server (the ``formserver serve`` process and its workers) and their open file descriptors, and
the database connections the server holds (PostgreSQL: ``pg_stat_activity`` rows of the server's
``application_name``; SQLite: open descriptors of the database file).

It fails (exit status 1) if

- any request is answered 5xx, fails to connect, or gets an answer its client did not expect
  (a phone's HEAD must be 204 and its POST 201; each page 200, each change 302, an export 202);
- any acknowledged (201) submission is not stored exactly once at the end;
- any metric grows without bound: the least-squares slope of its samples over the second half of
  the run (the first half is warm-up) is above its limit, ``LIMITS``: the RSS of all the server's
  processes together 1 MiB/min (1.4 GiB a day) or, when stricter, 10 % of its mean per hour (about
  0.5 MiB/min for a 2-worker server); open descriptors 0.5 per minute; database connections 0.25 per
  minute (one more every 4 minutes). Each process's RSS is shown but judged only in the sum, where a
  leak in any of them shows. Growth is judged only when the second half spans at least two minutes
  and six samples (a shorter run says so).

It prints the samples' summary (minimum, median, maximum and second-half slope of each metric),
the requests by kind with their answers and p50/p99 latency, and every failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from household import THAI_WORDS, xlsform  # noqa: E402
from ingest import DEFAULT_PG, fresh_database, household_xml, machine, prepare, rss_bytes, server, verify  # noqa: E402

from tests.collect_client import CollectClient, HttpTransport  # noqa: E402
from tests.servers import process_tree  # noqa: E402

ORGANISATION = "bench"  # made by ingest.prepare
PASSWORD = "soak-password-1234"
REVIEW_STATES = ["has_issues", "approved", "rejected", "received"]
MIB = 1024 * 1024


# --------------------------------------------------------------------------- what the phones send


def photo_form() -> bytes:
    """A small form with a photo of the house, Thai and English labels."""
    survey = [
        ("start", "start", "", ""),
        ("text", "household_code", "รหัสครัวเรือน", "Household code"),
        ("image", "house_photo", "รูปบ้าน", "Photo of the house"),
        ("text", "notes", "หมายเหตุ", "Notes"),
    ]
    return xlsform(survey, {}, {"form_id": "house_photo", "version": "1", "form_title": "รูปบ้าน (soak)"}, {})


def photo_instance(rng: random.Random, number: int) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    """(instanceID, XML, [(file name, JPEG bytes)]) of one photo-form submission; every photo is different."""
    instance_id = f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    name = f"{1_700_000_000_000 + number}.jpg"
    notes = " ".join(rng.choices(THAI_WORDS, k=rng.randint(2, 8)))
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<data xmlns:orx="http://openrosa.org/xforms" id="house_photo" version="1">'
        f"<start>2026-01-05T09:00:00.000+07:00</start><household_code>HH-{number:06d}</household_code>"
        f"<house_photo>{name}</house_photo><notes>{notes}</notes>"
        f"<orx:meta><orx:instanceID>{instance_id}</orx:instanceID></orx:meta></data>"
    ).encode("utf-8")
    photo = b"\xff\xd8\xff\xe0" + rng.randbytes(rng.randint(20_000, 60_000)) + b"\xff\xd9"
    return instance_id, xml, [(name, photo)]


# --------------------------------------------------------------------------- what happened


@dataclass
class Record:
    """Every request's kind, answer and time; acknowledged submissions; failures. Shared by all threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    acknowledged: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0
    exports: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, kind: str, status: int | None, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status if status is not None else "error"] += 1

    def fail(self, message: str) -> None:
        with self.lock:
            self.failure_count += 1
            if len(self.failures) < 50:
                self.failures.append(message)

    def server_errors(self) -> int:
        return sum(n for counts in self.statuses.values() for status, n in counts.items() if isinstance(status, int) and status >= 500)


class RecordingTransport:
    """tests/collect_client.py's HttpTransport, each request timed and recorded under the phone's current kind."""

    def __init__(self, record: Record):
        self.inner = HttpTransport(timeout=60)
        self.record = record
        self.kind = "phone"

    def request(self, method, url, headers, body=None):
        began = time.perf_counter()
        try:
            response = self.inner.request(method, url, headers, body)
        except (OSError, http.client.HTTPException):
            self.record.answer(f"{self.kind} {method}", None, time.perf_counter() - began)
            raise
        self.record.answer(f"{self.kind} {method}", response.status, time.perf_counter() - began)
        return response

    def close(self) -> None:
        self.inner.close()


# --------------------------------------------------------------------------- phones


def phone(index: int, url: str, credentials: tuple[str, str] | None, record: Record, stop_at: float, pause: float) -> None:
    """Send submissions one after another until ``stop_at`` (at most 100,000), as a phone with signal does."""
    transport = RecordingTransport(record)
    username, password = credentials or (None, None)
    client = CollectClient(url, transport, username=username, password=password, device_id=f"collect:soak{index:04d}")
    rng = random.Random(index)
    try:
        for number in range(100_000):
            if time.monotonic() >= stop_at:
                break
            serial = index * 1_000_000 + number
            if rng.random() < 0.2:
                instance_id, xml, files = photo_instance(rng, serial)
                transport.kind, form_name = "phone photo", "House photo"
            else:
                (instance_id, xml), files = household_xml(rng, serial), []
                transport.kind, form_name = "phone household", "Household"
            try:
                result = client.send_instance(xml, files, form_name=form_name)
            except (OSError, http.client.HTTPException) as error:
                record.fail(f"phone {index}: {error!r}")
                continue
            if result.ok:
                with record.lock:
                    record.acknowledged.append(instance_id)
            else:
                record.fail(f"phone {index}: {transport.kind} answered {result.last.status} {result.last.body[:200]!r}")
            time.sleep(pause)
    finally:
        transport.close()


# --------------------------------------------------------------------------- coordinators

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A browser's part in a coordinator's work: one keep-alive connection, cookies, every request recorded."""

    def __init__(self, base: str, record: Record, name: str):
        self.host, self.port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        self.cookies: dict[str, str] = {}
        self.record = record
        self.name = name

    def request(self, kind: str, method: str, path: str, *, form: dict | None = None, json: bool = False, expect: int = 200):
        """(status, body); an answer other than ``expect`` is a failure."""
        headers = {"Accept": "application/json" if json else "text/html", "Accept-Language": "th,en;q=0.8"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form).encode() if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        try:
            status, cookies, data = self._send(method, path, body, headers)
        except (OSError, http.client.HTTPException) as error:
            self.record.answer(kind, None, time.perf_counter() - began)
            self.record.fail(f"{self.name}: {method} {path}: {error!r}")
            return None, b""
        self.record.answer(kind, status, time.perf_counter() - began)
        for cookie in cookies:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if value and "expires=thu, 01 jan 1970" not in cookie.lower():
                self.cookies[name.strip()] = value.strip()
            else:
                self.cookies.pop(name.strip(), None)
        if status != expect:
            self.record.fail(f"{self.name}: {method} {path} answered {status}, expected {expect}: {data[:200]!r}")
        return status, data

    def _send(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, list[str], bytes]:
        try:
            return self._send_once(method, path, body, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.connection.close()  # a kept-alive connection the server closed: once more on a new one
            return self._send_once(method, path, body, headers)

    def _send_once(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, list[str], bytes]:
        self.connection.request(method, path, body=body, headers=headers)
        answer = self.connection.getresponse()
        return answer.status, answer.msg.get_all("Set-Cookie") or [], answer.read()

    def close(self) -> None:
        self.connection.close()


def csrf_of(page: bytes) -> str:
    found = CSRF.search(page.decode("utf-8", "replace"))
    return found.group(1) if found else ""


def sign_in(browser: Browser, email: str) -> str:
    """Through the real sign-in form with its CSRF token; the CSRF token of the new session."""
    _, page = browser.request("web sign-in", "GET", "/login")
    _, _ = browser.request(
        "web sign-in", "POST", "/login", form={"csrf_token": csrf_of(page), "email": email, "password": PASSWORD, "next": "/"},
        expect=302,
    )
    _, page = browser.request("web page", "GET", f"/orgs/{ORGANISATION}")
    return csrf_of(page)


def coordinator(index: int, base: str, email: str, record: Record, stop_at: float, pause: float) -> None:
    """Browse, review and export until ``stop_at`` (at most 100,000 rounds)."""
    rng = random.Random(1000 + index)
    browser = Browser(base, record, f"coordinator {index}")
    org = f"/orgs/{ORGANISATION}"
    try:
        token = sign_in(browser, email)
        for round_number in range(1, 100_000):
            if time.monotonic() >= stop_at:
                break
            form_id = rng.choice(["household_bench", "household_bench", "house_photo"])
            browser.request("web page", "GET", org)
            query = f"?page={rng.randint(1, 3)}" if rng.random() < 0.7 else f"?review={rng.choice(REVIEW_STATES)}"
            _, page = browser.request("web page", "GET", f"{org}/forms/{form_id}/submissions{query}")
            ids = sorted(set(re.findall(rf'href="{org}/submissions/(\d+)"', page.decode("utf-8", "replace"))))
            if ids:
                review(browser, rng, org, rng.choice(ids))
            if round_number % 8 == index % 8:
                export(browser, rng, org, form_id, token, stop_at)
            if round_number % 25 == 0:
                browser.request("web sign-out", "POST", "/logout", form={"csrf_token": token}, expect=302)
                token = sign_in(browser, email)
            time.sleep(pause)
    finally:
        browser.close()


def review(browser: Browser, rng: random.Random, org: str, submission_id: str) -> None:
    """Open one submission (and its photo), set its review state with a comment."""
    _, page = browser.request("web submission", "GET", f"{org}/submissions/{submission_id}")
    text = page.decode("utf-8", "replace")
    for photo in sorted(set(re.findall(rf'href="({org}/submissions/{submission_id}/attachments/[^"]+)"', text)))[:1]:
        browser.request("web photo", "GET", photo)
    browser.request(
        "web review",
        "POST",
        f"{org}/submissions/{submission_id}/review",
        form={
            "csrf_token": csrf_of(page),
            "state": rng.choice(REVIEW_STATES),
            "comment": f"ตรวจแล้ว {rng.choice(THAI_WORDS)} / checked ({rng.randrange(1000)})",
        },
        expect=302,
    )


def export(browser: Browser, rng: random.Random, org: str, form_id: str, token: str, stop_at: float) -> None:
    """Start an export as the page's script does, follow its progress, download the file."""
    _, body = browser.request(
        "web export start", "POST", f"{org}/forms/{form_id}/export", json=True, expect=202,
        form={"csrf_token": token, "format": rng.choice(["xlsx", "csv"]), "language": rng.choice(["th", "en"])},
    )
    try:
        job = json.loads(body)
    except ValueError:
        return
    give_up = min(stop_at + 60, time.monotonic() + 300)
    while job.get("status") in ("queued", "running") and time.monotonic() < give_up:
        time.sleep(0.5)
        status, body = browser.request("web export progress", "GET", job["progress_url"], json=True)
        if status != 200:
            return
        job = json.loads(body)
    if job.get("status") == "failed":
        browser.record.fail(f"{browser.name}: export of {form_id} failed: {job.get('error')}")
    elif job.get("status") == "complete":
        _, data = browser.request("web export download", "GET", job["download_url"])
        if not data.startswith(b"PK"):
            browser.record.fail(f"{browser.name}: the export of {form_id} is not a zip/xlsx ({len(data)} bytes)")
        with browser.record.lock:
            browser.record.exports += 1


# --------------------------------------------------------------------------- the server's resources


@dataclass
class Sample:
    seconds: float
    rss: dict[int, int]  # pid -> bytes
    fds: int
    connections: int | None


class Sampler:
    """Reads the server's processes from /proc and the database's connections."""

    def __init__(self, server_pid: int, url: str, application_name: str | None, sqlite_file: Path | None):
        self.server_pid = server_pid
        self.sqlite_file = sqlite_file
        self.started = time.monotonic()
        self.samples: list[Sample] = []
        self.roles: dict[int, str] = {}
        self._query = None
        if application_name is not None:
            from sqlalchemy import create_engine, text

            self._engine = create_engine(url, pool_size=1)
            self._connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._query = lambda: self._connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"), {"name": application_name}
            ).scalar_one()

    def sample(self) -> Sample:
        pids = process_tree(self.server_pid)
        for pid in pids:
            self.roles.setdefault(pid, "serve" if pid == self.server_pid else "worker")
        rss = {pid: rss_bytes([pid]) for pid in pids}
        descriptors = [target for pid in pids for target in _descriptors(pid)]
        if self._query is not None:
            connections = self._query()
        elif self.sqlite_file is not None:
            connections = sum(1 for target in descriptors if target == str(self.sqlite_file))
        else:
            connections = None
        taken = Sample(time.monotonic() - self.started, {p: b for p, b in rss.items() if b}, len(descriptors), connections)
        self.samples.append(taken)
        return taken

    def close(self) -> None:
        if self._query is not None:
            self._connection.close()
            self._engine.dispose()


def _descriptors(pid: int) -> list[str]:
    folder = Path(f"/proc/{pid}/fd")
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    targets = []
    for name in names:
        try:
            targets.append(os.readlink(folder / name))
        except OSError:
            pass
    return targets


# --------------------------------------------------------------------------- judging growth

# Largest slope (per minute) over the second half that is not growth; for RSS also at most
# RELATIVE_PER_HOUR of its mean per hour, whichever is stricter.
LIMITS = {"rss": 1.0, "fds": 0.5, "connections": 0.25}
RELATIVE_PER_HOUR = 0.10
MIN_JUDGED_SECONDS = 120
MIN_JUDGED_SAMPLES = 6


@dataclass
class Metric:
    name: str
    kind: str  # a key of LIMITS
    unit: str
    points: list[tuple[float, float]]  # (seconds, value)


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of the points, per minute."""
    if len(points) < 2 or len({t for t, _ in points}) < 2:
        return 0.0
    return statistics.linear_regression([t for t, _ in points], [v for _, v in points]).slope * 60


def second_half(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return points[len(points) // 2:]


def each_process(sampler: Sampler) -> list[Metric]:
    """The RSS of each server process, shown beside the judged sum."""
    return [
        Metric(f"  RSS {sampler.roles.get(pid, 'process')} {pid}", "rss", "MiB",
               [(s.seconds, s.rss[pid] / MIB) for s in sampler.samples if pid in s.rss])
        for pid in sorted({pid for s in sampler.samples for pid in s.rss})
    ]


def growth_limit(metric: Metric) -> float:
    limit = LIMITS[metric.kind]
    if metric.kind == "rss":
        mean = statistics.fmean(v for _, v in second_half(metric.points))
        limit = min(limit, mean * RELATIVE_PER_HOUR / 60)
    return limit


def judge(metric: Metric) -> str | None:
    """Why this metric grows without bound, or None; a run too short to judge is not growth."""
    late = second_half(metric.points)
    if len(late) < MIN_JUDGED_SAMPLES or late[-1][0] - late[0][0] < MIN_JUDGED_SECONDS:
        return None
    slope, limit = slope_per_minute(late), growth_limit(metric)
    if slope > limit:
        return f"{metric.name} grows {slope:.2f} {metric.unit}/min over the second half (limit {limit:.2f})"
    return None


def judged(metrics: list[Metric]) -> bool:
    late = second_half(metrics[0].points) if metrics else []
    return len(late) >= MIN_JUDGED_SAMPLES and late[-1][0] - late[0][0] >= MIN_JUDGED_SECONDS


def metrics_of(sampler: Sampler) -> list[Metric]:
    """The judged metrics: RSS of all the server's processes, open descriptors, database connections."""
    samples = sampler.samples
    metrics = [Metric("server RSS, all processes", "rss", "MiB", [(s.seconds, sum(s.rss.values()) / MIB) for s in samples])]
    metrics.append(Metric("open file descriptors", "fds", "fds", [(s.seconds, s.fds) for s in samples]))
    if samples and samples[0].connections is not None:
        metrics.append(Metric("database connections", "connections", "conn", [(s.seconds, s.connections) for s in samples]))
    return metrics


# --------------------------------------------------------------------------- set-up and main


def add_people(url: str, folder: Path, phones: int, coordinators: int) -> tuple[list[str], list[str], str]:
    """The photo form, a device account per phone after the first, a collector and the coordinators (managers).

    Returns (device tokens, coordinator e-mails, collector e-mail)."""
    from formserver import accounts, appusers, forms
    from formserver.config import Settings
    from formserver.db import Database
    from formserver.storage import BlobStore

    settings = Settings(data_dir=folder, database_url=url, secret_key="bench", validate_with_java=False)
    database = Database(settings)
    with database.session_scope() as session:
        organisation = accounts.organisation_by_slug(session, ORGANISATION)
        forms.add_form_version(session, BlobStore(settings.blob_dir), organisation, photo_form(), "house_photo.xlsx")
        tokens = [appusers.create_app_user(session, organisation, f"soak phone {i}").token for i in range(1, phones)]
        collector = "collector@soak.example.org"
        user = accounts.create_user(session, collector, PASSWORD, realm=settings.digest_realm)
        accounts.add_member(session, organisation, user, "collector")
        emails = [f"coordinator{i}@soak.example.org" for i in range(coordinators)]
        for email in emails:
            accounts.add_member(session, organisation, accounts.create_user(session, email, PASSWORD, realm=settings.digest_realm), "manager")
    database.dispose()
    return tokens, emails, collector


def with_application_name(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)


@contextmanager
def database_for(args, folder: Path):
    if args.database_url:
        yield args.database_url
    else:
        with fresh_database(args.database, args.postgresql_url, folder) as url:
            yield url


def run(args) -> tuple[Record, Sampler, tuple[int, int, int], str]:
    """Set up, serve, drive phones and coordinators while sampling; (record, sampler, stored check, server log)."""
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-soak-")))
        url = stack.enter_context(database_for(args, folder))
        tokens = [prepare(url, folder)]
        more_tokens, emails, collector = add_people(url, folder, args.phones, args.coordinators)
        tokens += more_tokens
        postgresql = url.startswith("postgresql")
        application_name = f"formserver-soak-{uuid.uuid4().hex[:8]}" if postgresql else None
        server_url = with_application_name(url, application_name) if postgresql else url
        sqlite_file = None if postgresql else Path(url.removeprefix("sqlite:///")).resolve()
        record = Record()
        with server(server_url, folder, workers=args.workers, threads=args.threads) as (port, pid):
            base = f"http://127.0.0.1:{port}"
            sampler = Sampler(pid, url, application_name, sqlite_file)
            stop_at = time.monotonic() + args.minutes * 60
            threads = []
            for index in range(args.phones):
                digest = index == 0 and args.phones > 1  # one phone signs in as a person, the others are device accounts
                target = f"{base}/o/{ORGANISATION}" if digest else f"{base}/key/{tokens[index]}/o/{ORGANISATION}"
                credentials = (collector, PASSWORD) if digest else None
                threads.append(guarded(f"phone {index}", phone, record, index, target, credentials, record, stop_at, args.phone_pause))
            for index, email in enumerate(emails):
                threads.append(
                    guarded(f"coordinator {index}", coordinator, record, index, base, email, record, stop_at, args.coordinator_pause)
                )
            for thread in threads:
                thread.start()
            try:
                sample_until_done(sampler, threads, args.interval, args.quiet)
            finally:
                sampler.close()
        server_log = (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
        return record, sampler, verify(url, record.acknowledged), server_log


def guarded(name: str, work, record: Record, *args) -> threading.Thread:
    """A client thread whose unexpected error is a failure of the soak, not a silently missing client."""

    def run() -> None:
        try:
            work(*args)
        except Exception as error:  # noqa: BLE001 - whatever stopped a client is reported
            record.fail(f"{name} stopped: {error!r}")

    return threading.Thread(target=run, name=name, daemon=True)


def sample_until_done(sampler: Sampler, threads: list[threading.Thread], interval: float, quiet: bool) -> None:
    """A sample now, then every ``interval`` seconds while any client is still working (only under load)."""
    next_at = time.monotonic()
    while any(thread.is_alive() for thread in threads):
        if time.monotonic() >= next_at:
            taken = sampler.sample()
            next_at += interval
            if not quiet:
                connections = "" if taken.connections is None else f"  db connections {taken.connections}"
                each = " + ".join(f"{rss / MIB:.1f}" for _, rss in sorted(taken.rss.items()))
                print(
                    f"{taken.seconds:7.0f} s  RSS {sum(taken.rss.values()) / MIB:7.1f} MiB ({each})"
                    f"  fds {taken.fds}{connections}",
                    flush=True,
                )
        time.sleep(min(0.2, max(0.0, next_at - time.monotonic())))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000 if ordered else float("nan")


def report(args, record: Record, sampler: Sampler, stored: tuple[int, int, int], server_log: str) -> dict:
    """Print the summary; the verdict as a dict (passed, reasons, samples, ...)."""
    metrics = metrics_of(sampler)
    reasons = [reason for metric in metrics if (reason := judge(metric))]
    errors = record.server_errors()
    if errors:
        reasons.append(f"{errors} requests answered 5xx")
    if record.failure_count:
        reasons.append(f"{record.failure_count} requests failed or got an unexpected answer")
    total, once, rows = stored
    if once != total:
        reasons.append(f"{total - once} of {total} acknowledged submissions are not stored exactly once")
    print()
    print(f"machine: {machine()}")
    print(f"soak: {args.minutes:g} min, {args.phones} phones, {args.coordinators} coordinators, {args.database}, "
          f"{len(sampler.samples)} samples every {args.interval:g} s")
    print()
    print(f"{'metric':32} {'min':>9} {'median':>9} {'max':>9} {'slope/min, 2nd half':>20} {'limit':>7}")
    for metric in metrics[:1] + each_process(sampler) + metrics[1:]:
        values = [v for _, v in metric.points]
        late = second_half(metric.points)
        limit = "" if metric.name.startswith(" ") else f"{growth_limit(metric):7.2f}"
        print(f"{metric.name:32} {min(values):9.1f} {statistics.median(values):9.1f} {max(values):9.1f} "
              f"{slope_per_minute(late):14.2f} {metric.unit:>5} {limit:>7}")
    if not judged(metrics):
        print(f"(growth not judged: the second half is shorter than {MIN_JUDGED_SECONDS} s or {MIN_JUDGED_SAMPLES} samples)")
    print()
    print(f"{'requests':24} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}  answers")
    for kind in sorted(record.latencies):
        latencies = record.latencies[kind]
        answers = ", ".join(f"{status}×{n}" for status, n in sorted(record.statuses[kind].items(), key=str))
        print(f"{kind:24} {len(latencies):7} {percentile(latencies, 50):8.1f} {percentile(latencies, 99):8.1f}  {answers}")
    print()
    print(f"submissions: {once}/{total} acknowledged stored exactly once ({rows} rows); exports downloaded: {record.exports}")
    for failure in record.failures:
        print(f"  failure: {failure}")
    if reasons or "Traceback" in server_log:
        kept = Path(tempfile.gettempdir()) / f"soak-server-{os.getpid()}.log"
        kept.write_text(server_log)
        print(f"the server's log: {kept}")
    print("PASSED" if not reasons else "FAILED: " + "; ".join(reasons))
    return {"passed": not reasons, "reasons": reasons, "samples": len(sampler.samples), "acknowledged": total, "stored_once": once,
            "requests": sum(len(v) for v in record.latencies.values()), "exports": record.exports, "metrics": metrics}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--phones", type=int, default=4)
    parser.add_argument("--coordinators", type=int, default=2)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--postgresql-url", default=os.environ.get("FORMSERVER_BENCH_POSTGRESQL_URL", DEFAULT_PG),
                        help="the server on which a fresh database is made (and dropped afterwards)")
    parser.add_argument("--database-url", help="use this database (migrated if needed) instead of a fresh one")
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    parser.add_argument("--phone-pause", type=float, default=0.2, help="seconds a phone waits between submissions")
    parser.add_argument("--coordinator-pause", type=float, default=1.0, help="seconds a coordinator waits between rounds")
    parser.add_argument("--workers", type=int, default=None, help="default: formserver serve's own default")
    parser.add_argument("--threads", type=int, default=None, help="default: formserver serve's own default")
    parser.add_argument("--quiet", action="store_true", help="print only the summary, not each sample")
    args = parser.parse_args(argv)
    if args.phones < 1 or args.coordinators < 0 or args.minutes <= 0 or args.interval <= 0:
        parser.error("--phones must be at least 1, --minutes and --interval positive")
    if args.database_url:
        args.database = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
    return args


def soak(argv: list[str] | None = None) -> dict:
    """Run the soak and print its summary; the verdict (see ``report``)."""
    args = parse(argv)
    record, sampler, stored, server_log = run(args)
    return report(args, record, sampler, stored, server_log)


def main(argv: list[str] | None = None) -> int:
    # Stopped early (SIGTERM as well as Ctrl-C): unwind, so that the server stops and the database goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    return 0 if soak(argv)["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
