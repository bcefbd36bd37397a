"""Benchmark of the OData feed against the CSV export of the same households, in the same run.

    .venv/bin/python bench/api.py [--sizes 20000] [--runs 3] [--shape reference|intake]
                                  [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each size N it fills a fresh database with N synthetic households exactly as bench/export.py does
(``fill``: the reference shape by default, 1-6 members each, bulk-inserted with their XML and flattened
copy), adds a manager with an API token, then times, each run against a fresh process:

- CSV export: ``run_export`` to a zip of CSV files in a child process, as bench/export.py measures it
  (the export a coordinator starts on the web);
- OData feed: ``GET /v1/projects/<id>/forms/<form>.svc/Submissions?$expand=*`` from a real
  ``formserver serve`` (one worker, started for the run), read to its last byte by an HTTP client
  that does nothing else meanwhile: the whole feed in one streamed answer, every member in its
  household, as Power BI or pyodk's ``get_table(expand="*")`` read it;
- for information, ``submissions.csv.zip?attachments=false`` (Central's layout, streamed) from a
  fresh server too.

Memory: the peak RSS (VmHWM) of the export's process and of the server's processes (the largest; the
interpreter, Flask and the libraries included). The feed is then parsed once, untimed, to check
that it has every household and every member the CSV export has.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import platform
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import export as export_bench  # noqa: E402 - bench/export.py, beside this script
from ingest import server_environment  # noqa: E402 - bench/ingest.py, beside this script
from tests.servers import process_tree, running_server  # noqa: E402


def manager_token(url: str, folder: Path, ids: dict) -> tuple[str, str]:
    """An API bearer token of a manager of the benchmark's organisation, and the form's id."""
    from formserver.accounts import add_member
    from formserver.api.auth import open_session
    from formserver.config import Settings
    from formserver.db import Database
    from formserver.models import Form, Organisation, User

    database = Database(Settings(data_dir=folder, database_url=url, secret_key="bench", validate_with_java=False))
    with database.session_scope() as session:
        user = User(email="manager@bench.example", password_hash="!")
        session.add(user)
        session.flush()
        add_member(session, session.get(Organisation, ids["organisation"]), user, "manager")
        session.commit()
        token, _row = open_session(session, user)
        form_id = session.get(Form, ids["form"]).form_id
    database.dispose()
    return token, form_id


def peak_rss_mib(pids: list[int]) -> float:
    """The largest VmHWM among the server's processes."""
    peaks = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks, default=0.0)


def download(base: str, path: str, token: str) -> tuple[float, bytes]:
    """(seconds from the request to the last byte, the body) of one GET."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=600)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    chunks = []
    while chunk := response.read(1 << 20):
        chunks.append(chunk)
    seconds = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status} {b''.join(chunks)[:300]!r}")
    return seconds, b"".join(chunks)


def served(env: dict, folder: Path, path: str, token: str) -> tuple[float, bytes, float]:
    """(seconds, body, the server's peak RSS) of one GET from a server started for it."""
    with running_server(env, workers=1, log=folder / "server.log", timeout=60) as (base, pid):
        seconds, body = download(base, path, token)
        return seconds, body, peak_rss_mib(process_tree(pid))


def check_feed(body: bytes, tables: dict) -> str:
    import orjson

    rows = orjson.loads(body)["value"]
    households, members = tables.values() if len(tables) == 2 else (tables[next(iter(tables))], None)
    found = sum(len(row.get("member") or []) for row in rows)
    assert len(rows) == households, f"the feed has {len(rows)} households, the export {households}"
    assert members is None or found == members, f"the feed has {found} members, the export {members}"
    return f"{len(rows):,} households, {found:,} members"


def run_size(args, households: int) -> tuple:
    with tempfile.TemporaryDirectory(prefix="bench-api-") as name:
        folder = Path(name)
        url, handle = export_bench.fresh_database(args.database_url, folder)
        try:
            started = time.perf_counter()
            ids = export_bench.fill(url, households, folder, args.shape)
            token, form_id = manager_token(url, folder, ids)
            print(f"\n{households:,} households: filled in {time.perf_counter() - started:.1f} s", flush=True)
            return measure(args, url, folder, ids["organisation"], form_id, token)
        finally:
            export_bench.drop(handle)


def measure(args, url: str, folder: Path, project: int, form_id: str, token: str) -> tuple:
    env = server_environment(url, folder)
    feed_path = f"/v1/projects/{project}/forms/{form_id}.svc/Submissions?$expand=*"
    zip_path = f"/v1/projects/{project}/forms/{form_id}/submissions.csv.zip?attachments=false"
    exports, feeds, zips = [], [], []
    for _ in range(args.runs):
        exports.append(export_bench.measure(url, "csv", folder / "export.csv.zip"))
        seconds, body, rss = served(env, folder, feed_path, token)
        feeds.append((seconds, len(body), rss))
        seconds, archive, zip_rss = served(env, folder, zip_path, token)
        zips.append((seconds, len(archive), zip_rss))
        print(f"    run: CSV export {exports[-1]['seconds']:.2f} s ({exports[-1]['max_rss_mib']:.0f} MiB); "
              f"feed {feeds[-1][0]:.2f} s, {feeds[-1][1] / 2**20:.0f} MiB of JSON ({rss:.0f} MiB); "
              f"csv.zip {zips[-1][0]:.2f} s ({zip_rss:.0f} MiB)", flush=True)
    print(f"  checked: the feed has {check_feed(body, exports[0]['tables'])}; csv.zip has "
          f"{', '.join(zipfile.ZipFile(io.BytesIO(archive)).namelist())}")
    export_s = statistics.median(r["seconds"] for r in exports)
    feed_s = statistics.median(r[0] for r in feeds)
    zip_s = statistics.median(r[0] for r in zips)
    return (export_s, max(r["max_rss_mib"] for r in exports), feed_s, max(r[2] for r in feeds), feeds[0][1],
            zip_s, max(r[2] for r in zips))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shape", default="reference", choices=list(export_bench.SHAPES))
    parser.add_argument("--database-url", help="a PostgreSQL server database (a fresh schema is used); default: SQLite")
    args = parser.parse_args()
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {export_bench._cpu()}; "
          f"Python {platform.python_version()}; database: {database}; shape: {args.shape}")
    results = [(households, *run_size(args, households)) for households in args.sizes]
    print("\n| households | database | CSV export | OData feed, $expand=* | ratio | csv.zip (API) | peak RSS: export / feed / csv.zip |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for households, export_s, export_rss, feed_s, feed_rss, feed_bytes, zip_s, zip_rss in results:
        print(f"| {households:,} | {database} | {export_s:.2f} s | {feed_s:.2f} s ({feed_bytes / 2**20:.0f} MiB) "
              f"| {feed_s / export_s:.2f}x | {zip_s:.2f} s | {export_rss:.0f} / {feed_rss:.0f} / {zip_rss:.0f} MiB |")


if __name__ == "__main__":
    main()
