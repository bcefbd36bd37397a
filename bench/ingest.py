"""Benchmark of submission ingest: Collect-like phones against a real ``formserver serve``.

    .venv/bin/python bench/ingest.py [--databases sqlite postgresql] [--concurrency 1 8 32]
                                     [--seconds 15] [--max-submissions 8000] [--runs 3]
                                     [--postgresql-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                     [--workers N] [--threads N] [--client own|collect_load]

For each database and run it makes a fresh database (an SQLite file in a temporary
folder; on PostgreSQL a new database on that server, dropped afterwards), loads a
household-like form (about 30 questions, a member repeat, Thai labels), makes a
device account, and starts ``formserver serve`` on 127.0.0.1 with its defaults
(``--workers``/``--threads`` only when given). Then, for each concurrency level C,
C threads act as C phones: each keeps one keep-alive connection (http.client) and
sends, one after another, household submissions (1–6 members, Thai text) the way
ODK Collect does: ``HEAD /submission``, then ``POST /submission`` (multipart, the
XML as ``xml_submission_file``), with Collect's headers and ``deviceID``. Each level
runs for ``--seconds`` or ``--max-submissions``, whichever comes first.

Printed per level: submissions per second (HEAD+POST pairs answered 201), the
p50/p95/p99 latency of a submission (HEAD+POST, as a phone waits for it), and the
server's memory: the sum of the RSS of the server process and its workers, read
from /proc during the level (peak); and the CPU time used per submission by the
server processes, by the PostgreSQL backends serving them, and by this client
(all on the same cores), and the share of the CPUs other processes on the machine
kept busy meanwhile. Instances are generated before each level starts. Afterwards every acknowledged instanceID is
checked to be stored exactly once. The summary gives medians over the runs.

``--client collect_load`` sends with ``../shared/tools/collect_load.py`` instead (the client that
measured ODK Central, see bench/collect_phones.py): its own form and instances, a fixed number of
submissions per level (enough for about ``--seconds`` at the rate last measured), and latency of
the POST alone, as it reports Central's.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import collect_phones  # noqa: E402
from household import THAI_FAMILY, THAI_GIVEN, THAI_WORDS, xlsform  # noqa: E402

from tests.servers import process_tree, running_server  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
USER_AGENT = "org.odk.collect.android/v2026.3.3 Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/UQ1A.240205.004)"
CENTRAL = {1: (52, None), 8: (95, None), 32: (122, 228)}  # submissions/s, p99 ms (ODK Central, 2 cores)
# ODK Central measured by ../shared/tools/collect_load.py in one run beside formserver (2026-12-05).
CENTRAL_COLLECT_LOAD = {1: (52, None), 8: (129, None), 32: (119, 228)}

# --------------------------------------------------------------------------- the form and its instances

STATUS = ["thai_id", "pink_card", "zero_card", "none", "pending"]
VILLAGES = ["b01", "b02", "b03", "b04", "b05"]


def household_form() -> bytes:
    """An XLSForm of about 30 questions with a member repeat, labels in Thai and English."""
    survey = [
        ("start", "start", "", ""), ("end", "end", "", ""), ("today", "today", "", ""), ("deviceid", "deviceid", "", ""),
        ("text", "interviewer", "ผู้สัมภาษณ์", "Interviewer"),
        ("select_one village", "village", "หมู่บ้าน", "Village"),
        ("text", "district", "อำเภอ", "District"),
        ("text", "household_code", "รหัสครัวเรือน", "Household code"),
        ("text", "head_name", "ชื่อหัวหน้าครัวเรือน", "Head of household"),
        ("select_one gender", "head_gender", "เพศ", "Gender"),
        ("integer", "head_age", "อายุ", "Age"),
        ("text", "head_phone", "โทรศัพท์", "Phone"),
        ("select_one status", "head_status", "สถานะทางกฎหมาย", "Legal status"),
        ("text", "id_number", "เลขประจำตัว", "ID number"),
        ("select_one yes_no", "has_documents", "มีเอกสารหรือไม่", "Has documents"),
        ("select_multiple document", "documents", "เอกสาร", "Documents"),
        ("select_one house", "house_type", "ลักษณะบ้าน", "House"),
        ("select_one yes_no", "water", "มีน้ำประปา", "Piped water"),
        ("select_one yes_no", "electricity", "มีไฟฟ้า", "Electricity"),
        ("select_one yes_no", "land", "มีที่ดินทำกิน", "Farm land"),
        ("decimal", "income", "รายได้ต่อเดือน (บาท)", "Monthly income (THB)"),
        ("select_multiple income", "income_sources", "แหล่งรายได้", "Income sources"),
        ("geopoint", "location", "ตำแหน่ง", "Location"),
        ("begin_repeat", "member", "สมาชิก", "Member"),
        ("text", "member_name", "ชื่อ", "Name"),
        ("select_one gender", "member_gender", "เพศ", "Gender"),
        ("integer", "member_age", "อายุ", "Age"),
        ("select_one relation", "relation", "ความสัมพันธ์", "Relation"),
        ("select_one status", "member_status", "สถานะทางกฎหมาย", "Legal status"),
        ("text", "member_id", "เลขประจำตัว", "ID number"),
        ("select_one yes_no", "born_in_thailand", "เกิดในประเทศไทย", "Born in Thailand"),
        ("end_repeat", "member", "", ""),
        ("select_one yes_no", "needs_follow_up", "ต้องติดตาม", "Needs follow-up"),
        ("text", "notes", "หมายเหตุ", "Notes"),
    ]
    lists = {
        "village": VILLAGES, "gender": ["female", "male", "other"], "status": STATUS, "yes_no": ["yes", "no"],
        "document": ["birth", "house_reg", "id_card", "school", "hospital"], "house": ["wood", "brick", "bamboo"],
        "income": ["farm", "wage", "trade", "remittance", "none"], "relation": ["head", "spouse", "child", "parent", "other"],
    }
    settings = {
        "form_id": "household_bench", "version": "1", "form_title": "ครัวเรือน (benchmark)",
        "instance_name": "concat(${household_code}, ' ', ${head_name})",
    }
    return xlsform(survey, lists, settings, {})


def household_xml(rng: random.Random, number: int) -> tuple[str, bytes]:
    """One household instance as Collect writes it (one line), with a fresh instanceID."""
    instance_id = f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    thai = lambda k: " ".join(rng.choices(THAI_WORDS, k=k))  # noqa: E731
    name = lambda: f"{rng.choice(THAI_GIVEN)} {rng.choice(THAI_FAMILY)}"  # noqa: E731
    members = []
    for i in range(rng.randint(1, 6)):
        members.append(
            f"<member><member_name>{name()}</member_name><member_gender>{rng.choice(['female', 'male'])}</member_gender>"
            f"<member_age>{rng.randint(0, 90)}</member_age><relation>{'head' if i == 0 else rng.choice(['spouse', 'child', 'parent'])}</relation>"
            f"<member_status>{rng.choice(STATUS)}</member_status><member_id>{rng.randrange(10**12):013d}</member_id>"
            f"<born_in_thailand>{rng.choice(['yes', 'no'])}</born_in_thailand></member>"
        )
    code = f"HH-{number:06d}"
    head = name()
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="household_bench" version="1">'
        f"<start>2026-01-05T08:{number % 60:02d}:00.000+07:00</start><end>2026-01-05T08:{number % 60:02d}:42.000+07:00</end>"
        f"<today>2026-01-05</today><deviceid>collect:AbCdEf0123456789</deviceid>"
        f"<interviewer>INT-{rng.randrange(100):03d}</interviewer><village>{rng.choice(VILLAGES)}</village>"
        f"<district>{thai(2)}</district><household_code>{code}</household_code><head_name>{head}</head_name>"
        f"<head_gender>{rng.choice(['female', 'male'])}</head_gender><head_age>{rng.randint(18, 90)}</head_age>"
        f"<head_phone>08{rng.randrange(10**8):08d}</head_phone><head_status>{rng.choice(STATUS)}</head_status>"
        f"<id_number>{rng.randrange(10**12):013d}</id_number><has_documents>yes</has_documents>"
        f"<documents>birth house_reg</documents><house_type>{rng.choice(['wood', 'brick', 'bamboo'])}</house_type>"
        f"<water>yes</water><electricity>yes</electricity><land>no</land><income>{rng.uniform(0, 9000):.2f}</income>"
        f"<income_sources>farm wage</income_sources>"
        f"<location>{rng.uniform(18.5, 20.4):.6f} {rng.uniform(97.5, 100.9):.6f} {rng.uniform(200, 1500):.1f} 5.0</location>"
        + "".join(members)
        + f"<needs_follow_up>{rng.choice(['yes', 'no'])}</needs_follow_up><notes>{thai(rng.randint(3, 12))}</notes>"
        f"<meta><instanceID>{instance_id}</instanceID><instanceName>{code} {head}</instanceName></meta></data>"
    )
    return instance_id, xml.encode("utf-8")


def multipart(xml: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
        f'filename="Household_{time.strftime("%Y-%m-%d_%H-%M-%S")}.xml"\r\nContent-Type: text/xml\r\n\r\n'
    ).encode() + xml + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------- databases and the server


@contextmanager
def fresh_database(kind: str, postgresql_url: str, folder: Path):
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"fs_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgresql_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, folder: Path, form: tuple[bytes, str] | None = None) -> str:
    """Migrate, load the form (the household form unless given as (XLSForm, file name)), make a device account
    of the organisation ``bench``; return its token."""
    from formserver import accounts, appusers, forms, migrate
    from formserver.config import Settings
    from formserver.db import Database
    from formserver.storage import BlobStore

    settings = Settings(data_dir=folder, database_url=url, secret_key="bench", validate_with_java=False)
    database = Database(settings)
    migrate.upgrade(database.engine)
    with database.session_scope() as session:
        organisation = accounts.create_organisation(session, "bench", "เครือข่ายทดสอบ")
        content, name = form or (household_form(), "household_bench.xlsx")
        forms.add_form_version(session, BlobStore(settings.blob_dir), organisation, content, name)
        token = appusers.create_app_user(session, organisation, "bench phone").token
    database.dispose()
    return token


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of these processes (from /proc/PID/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    result = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            result[pid] = (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return result


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings; a process that appeared in between counts from zero."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def server_environment(url: str, folder: Path) -> dict[str, str]:
    """The environment of a benchmark's ``formserver serve``: this database and data folder, nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVER_")}
    env.update(
        FORMSERVER_DATABASE_URL=url,
        FORMSERVER_DATA_DIR=str(folder),
        FORMSERVER_SECRET_KEY="bench",
        FORMSERVER_VALIDATE_WITH_JAVA="0",
    )
    return env


@contextmanager
def server(url: str, folder: Path, *, workers: int | None, threads: int | None):
    """``formserver serve`` with its defaults (unless told) on this database; yields its port and pid."""
    env = server_environment(url, folder)
    with running_server(env, workers=workers, threads=threads, log=folder / "server.log", timeout=60) as (base, pid):
        time.sleep(1.0)  # let every worker finish booting
        yield int(base.rsplit(":", 1)[1]), pid


# --------------------------------------------------------------------------- phones


def collect_date() -> str:
    return time.strftime("%a, %d %b %Y %I:%M:%S GMT", time.gmtime())  # Collect's 12-hour clock


def drive(
    port: int, token: str, concurrency: int, seconds: float, limit: int, seed: int, server_pid: int, database_pids
) -> dict:
    path = f"/key/{token}/o/bench/submission?deviceID=collect%3AAbCdEf0123456789"
    # Like a phone, each instance is ready before it is sent: generating them is not the server's time.
    rng = random.Random(seed)
    prepared = []
    for number in range(limit):
        instance_id, xml = household_xml(rng, seed * 100_000 + number)
        prepared.append((instance_id, *multipart(xml)))
    budget = iter(prepared)
    budget_lock = threading.Lock()
    acknowledged: list[str] = []
    latencies: list[float] = []
    failures: list[str] = []
    start = threading.Barrier(concurrency + 1)

    def phone(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        while time.monotonic() < stop_at:
            with budget_lock:
                item = next(budget, None)
            if item is None:
                break
            instance_id, body, content_type = item
            headers = {"User-Agent": USER_AGENT, "X-OpenRosa-Version": "1.0", "Date": collect_date(), "Accept-Encoding": "gzip"}
            began = time.perf_counter()
            try:
                connection.request("HEAD", path, headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.status != 204:
                    failures.append(f"HEAD {answer.status}")
                    continue
                connection.request("POST", path, body=body, headers=headers | {"Content-Type": content_type})
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException) as error:
                failures.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            elapsed = time.perf_counter() - began
            if answer.status == 201:
                acknowledged.append(instance_id)
                latencies.append(elapsed)
            else:
                failures.append(f"POST {answer.status}")
        connection.close()

    threads = [threading.Thread(target=phone, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    peak = 0
    pids = process_tree(server_pid)
    cpu_before, database_before, client_before = cpu_seconds(pids), cpu_by_pid(database_pids()), time.process_time()
    busy_before = machine_busy_seconds()
    stop_at = time.monotonic() + seconds
    start.wait()
    began = time.monotonic()
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_bytes(pids))
        time.sleep(0.25)
    elapsed = time.monotonic() - began
    for thread in threads:
        thread.join()
    cpu = cpu_seconds(pids) - cpu_before
    database_cpu = cpu_used(database_before, cpu_by_pid(database_pids()))
    client_cpu = time.process_time() - client_before
    others = machine_busy_seconds() - busy_before - cpu - database_cpu - client_cpu
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] * 1000 if latencies else float("nan")

    return {
        "concurrency": concurrency,
        "count": len(acknowledged),
        "rate": len(acknowledged) / elapsed,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "rss_mb": peak / 1e6,
        "cpu_ms": cpu * 1000 / max(1, len(acknowledged)),
        "db_cpu_ms": database_cpu * 1000 / max(1, len(acknowledged)),
        "client_cpu_ms": client_cpu * 1000 / max(1, len(acknowledged)),
        # Share of the machine's cores that other processes (not this benchmark) kept busy.
        "others_pct": max(0.0, others) / (elapsed * (os.cpu_count() or 1)) * 100,
        "failures": failures,
        "acknowledged": acknowledged,
    }


def drive_collect_load(port: int, token: str, concurrency: int, submissions: int, seed: int, server_pid: int, database_pids) -> dict:
    """One level sent by the shared client; the same figures as ``drive`` (latency: the POST alone)."""
    database_before, busy_before, began = cpu_by_pid(database_pids()), machine_busy_seconds(), time.monotonic()
    report = collect_phones.drive(
        f"http://127.0.0.1:{port}/key/{token}/o/bench", submissions=submissions, concurrency=concurrency,
        seed=seed, start_index=seed * 100_000, server_pid=server_pid,
    )
    elapsed = time.monotonic() - began
    database_cpu = cpu_used(database_before, cpu_by_pid(database_pids()))
    (watched,) = report["watched"]
    count = len(report["acknowledged"])
    others = machine_busy_seconds() - busy_before - watched["cpu_s"] - database_cpu - report["client_cpu_s"]
    return {
        "concurrency": concurrency,
        "count": count,
        "rate": report["throughput_per_s"],
        **{key: report["post_ms"][key] for key in ("p50", "p95", "p99")},
        "rss_mb": watched["rss_peak_mb"] * 2**20 / 1e6,
        "cpu_ms": watched["cpu_s"] * 1000 / max(1, count),
        "db_cpu_ms": database_cpu * 1000 / max(1, count),
        "client_cpu_ms": report["client_cpu_s"] * 1000 / max(1, count),
        "others_pct": max(0.0, others) / (elapsed * (os.cpu_count() or 1)) * 100,
        "failures": [f"POST {status}" for status, n in report["post_status"].items() if status not in ("201", "202") for _ in range(n)],
        "acknowledged": report["acknowledged"],
    }


def submissions_for(seconds: float, limit: int, earlier: list[dict]) -> int:
    """Enough submissions for about ``seconds`` at the rate last measured (150/s before any)."""
    rate = earlier[-1]["rate"] if earlier else 150
    return max(50, min(limit, int(rate * seconds)))


def database_backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (none for SQLite)."""
    if not url.startswith("postgresql"):
        return []
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        pids = [pid for (pid,) in connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        )]
    engine.dispose()
    return pids


def verify(url: str, acknowledged: list[str]) -> tuple[int, int, int]:
    """(acknowledged, stored exactly once, stored rows): every acknowledged instanceID must be stored once."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        counts = dict(connection.execute(text("SELECT instance_id, count(*) FROM submission GROUP BY instance_id")).all())
    engine.dispose()
    once = sum(1 for instance_id in acknowledged if counts.get(instance_id) == 1)
    return len(acknowledged), once, sum(counts.values())


# --------------------------------------------------------------------------- main


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--max-submissions", type=int, default=8000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgresql-url", default=os.environ.get("FORMSERVER_BENCH_POSTGRESQL_URL", DEFAULT_PG))
    parser.add_argument("--workers", type=int, default=None, help="default: formserver serve's own default")
    parser.add_argument("--threads", type=int, default=None, help="default: formserver serve's own default")
    parser.add_argument("--client", choices=["own", "collect_load"], default="own",
                        help="collect_load: ../shared/tools/collect_load.py, the client that measured ODK Central")
    args = parser.parse_args(argv)
    shared = args.client == "collect_load"
    form = collect_phones.form_xml() if shared else (household_form(), "household_bench.xlsx")

    print(f"machine: {machine()}")
    print(f"client: {collect_phones.client() if shared else 'bench/ingest.py phones (latency: HEAD + POST)'}")
    print("server: formserver serve defaults" + (f", --workers {args.workers}" if args.workers else "")
          + (f", {args.threads} threads" if args.threads else ""))
    summary: dict[tuple[str, int], list[dict]] = {}
    ok = True
    for kind in args.databases:
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
                folder = Path(tmp)
                with fresh_database(kind, args.postgresql_url, folder) as url:
                    token = prepare(url, folder, form)
                    acknowledged: list[str] = []
                    with server(url, folder, workers=args.workers, threads=args.threads) as (port, pid):
                        previous = None
                        for concurrency in args.concurrency:
                            backends, seed = (lambda: database_backends(url)), run * 100 + concurrency
                            if shared:
                                earlier = summary.get((kind, concurrency)) or summary.get((kind, previous), [])
                                result = drive_collect_load(
                                    port, token, concurrency, submissions_for(args.seconds, args.max_submissions, earlier),
                                    seed, pid, backends,
                                )
                            else:
                                result = drive(port, token, concurrency, args.seconds, args.max_submissions, seed, pid, backends)
                            previous = concurrency
                            acknowledged += result["acknowledged"]
                            summary.setdefault((kind, concurrency), []).append(result)
                            failures = result["failures"]
                            print(
                                f"{kind:10} run {run} c={concurrency:<3} {result['count']:5} submissions "
                                f"{result['rate']:7.1f}/s  p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  "
                                f"p99 {result['p99']:6.1f} ms  server RSS {result['rss_mb']:5.0f} MB  CPU ms/subm: server {result['cpu_ms']:4.1f} "
                                f"database {result['db_cpu_ms']:4.1f} client {result['client_cpu_ms']:4.1f}; other processes {result['others_pct']:3.0f}% of the CPUs"
                                + (f"  failures {len(failures)}: {sorted(set(failures))[:3]}" if failures else ""),
                                flush=True,
                            )
                    total, once, rows = verify(url, acknowledged)
                    print(f"{kind:10} run {run} check: {once}/{total} acknowledged instanceIDs stored exactly once ({rows} rows)", flush=True)
                    ok = ok and once == total
    print()
    print("medians over runs")
    print(f"{'database':10} {'c':>3} {'subm/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'RSS MB':>7} {'CPU ms':>7} {'DB CPU':>7} {'others':>7}   ODK Central (2 cores)")
    for (kind, concurrency), results in summary.items():
        med = {key: statistics.median(r[key] for r in results) for key in ("rate", "p50", "p95", "p99", "rss_mb", "cpu_ms", "db_cpu_ms", "others_pct")}
        central_rate, central_p99 = (CENTRAL_COLLECT_LOAD if shared else CENTRAL).get(concurrency, (None, None))
        central = f"{central_rate}/s" + (f", p99 {central_p99} ms" if central_p99 else "") if central_rate else ""
        print(f"{kind:10} {concurrency:3} {med['rate']:8.1f} {med['p50']:8.1f} {med['p95']:8.1f} {med['p99']:8.1f} {med['rss_mb']:7.0f} {med['cpu_ms']:7.1f} {med['db_cpu_ms']:7.1f} {med['others_pct']:6.0f}%   {central}")
    print("every acknowledged submission stored exactly once" if ok else "SOME ACKNOWLEDGED SUBMISSIONS ARE MISSING OR DUPLICATED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
