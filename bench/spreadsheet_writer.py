"""Benchmark of the streaming .xlsx writer against the raw limit.

    .venv/bin/python bench/spreadsheet_writer.py [--runs 5] [--households 20000]

Data: a main sheet of N households x 40 columns and a member sheet of 3.5 N
rows x 15 columns (N = 20,000 gives 1.85 million cells), mixed Thai text,
ASCII codes, 13-digit identifiers, integers, decimals, dates, date-times,
booleans and empty cells.  The rows are built before timing, and frozen out
of the garbage collector's way (gc.freeze()) so that they cost neither side.

- writer: ``formserver.exports.spreadsheet.Workbook`` writing both sheets,
  with deflating in a worker thread (the default) and without it;
- raw limit: the very same sheet XML, pre-built as one string per row, joined
  in chunks, encoded and written into a ``zipfile`` entry deflated at
  compresslevel=1: no formatting at all, only encode + deflate + write, in
  one thread.

Prints wall times (each run's writer and raw runs alternate, so both see the
same machine load), their medians and minimums and the ratios, the writer's
peak memory (tracemalloc's peak of what the writer allocates, in a separate
run as tracemalloc slows Python down) at N and 5 N households with rows
generated on the fly, to show that it does not grow with N, and the process's
max RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formserver.exports.spreadsheet import Workbook  # noqa: E402

MAIN_COLUMNS = 40
MEMBER_COLUMNS = 15
MEMBERS_PER_HOUSEHOLD = 3.5

THAI_WORDS = [
    "สมชาย", "ใจดี", "บ้าน", "หมู่ที่", "ตำบล", "อำเภอ", "จังหวัด", "เชียงใหม่",
    "ขอนแก่น", "นาข้าว", "ประปา", "ไฟฟ้า", "โรงเรียน", "สุขภาพ", "ดี", "ปานกลาง",
]
CHOICES = ["yes", "no", "dont_know", "refused", "other"]


def _main_row(rng: random.Random, index: int) -> list:
    base = dt.datetime(2024, 1, 1, 7, 0, 0)
    row: list = [
        index,
        f"uuid:{rng.getrandbits(64):016x}-{index:08d}",
        base + dt.timedelta(minutes=rng.randrange(200_000)),
        base + dt.timedelta(minutes=rng.randrange(200_000), seconds=rng.randrange(60)),
        (base + dt.timedelta(days=rng.randrange(300))).date(),
        f"0{rng.randrange(10**12):012d}",
        " ".join(rng.choices(THAI_WORDS, k=3)),
        " ".join(rng.choices(THAI_WORDS, k=6)),
    ]
    while len(row) < MAIN_COLUMNS:
        kind = len(row) % 8
        if kind == 0:
            row.append(rng.randrange(0, 120))
        elif kind == 1:
            row.append(rng.choice(CHOICES))
        elif kind == 2:
            row.append(round(rng.uniform(0, 5000), 2))
        elif kind == 3:
            row.append(" ".join(rng.choices(THAI_WORDS, k=2)))
        elif kind == 4:
            row.append(None if rng.random() < 0.3 else rng.randrange(1_000_000))
        elif kind == 5:
            row.append(rng.random() < 0.5)
        elif kind == 6:
            row.append(Decimal(rng.randrange(100_000)) / 100)
        else:
            row.append(None if rng.random() < 0.5 else f"note {rng.randrange(1000)}")
    return row


def _member_row(rng: random.Random, index: int) -> list:
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(30_000))
    row: list = [
        index,
        index // 4 + 1,
        " ".join(rng.choices(THAI_WORDS, k=2)),
        rng.choice(["male", "female"]),
        birth,
        rng.randrange(0, 100),
        rng.choice(CHOICES),
        f"0{rng.randrange(10**12):012d}",
    ]
    while len(row) < MEMBER_COLUMNS:
        kind = len(row) % 3
        if kind == 0:
            row.append(rng.randrange(0, 50))
        elif kind == 1:
            row.append(rng.choice(CHOICES))
        else:
            row.append(None if rng.random() < 0.4 else " ".join(rng.choices(THAI_WORDS, k=2)))
    return row


def _header(prefix: str, count: int) -> list[str]:
    return [f"{prefix}_{i:02d}" for i in range(1, count + 1)]


def generate(households: int, seed: int = 1):
    """Yield ("main" | "members", row) pairs, deterministic for a seed."""
    rng = random.Random(seed)
    for index in range(1, households + 1):
        yield "main", _main_row(rng, index)
    for index in range(1, int(households * MEMBERS_PER_HOUSEHOLD) + 1):
        yield "members", _member_row(rng, index)


def write_workbook(target, rows, background: bool = True) -> None:
    with Workbook(target, background=background) as workbook:
        current = None
        sheet = None
        for table, row in rows:
            if table != current:
                current = table
                columns = MAIN_COLUMNS if table == "main" else MEMBER_COLUMNS
                sheet = workbook.add_sheet(table, freeze_rows=1, autofilter=True)
                sheet.write_row(_header(table, columns), style="header")
            sheet.write_row(row)


def sheet_rows_xml(path: str) -> list[list[str]]:
    """The writer's sheet XML, split into one string per row (the raw input)."""
    sheets = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")):
            xml = archive.read(name).decode("utf-8")
            start = xml.index("<sheetData>") + len("<sheetData>")
            end = xml.index("</sheetData>")
            sheets.append(
                [xml[:start]]
                + [piece + "</row>" for piece in xml[start:end].split("</row>") if piece]
                + [xml[end:]]
            )
    return sheets


def write_raw(target, sheets: list[list[str]]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for number, rows in enumerate(sheets, start=1):
            with zf.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as out:
                for start in range(0, len(rows), 512):
                    out.write("".join(rows[start:start + 512]).encode("utf-8"))


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def peak_traced(households: int, target: str) -> float:
    """tracemalloc peak (MiB) of writing with rows generated on the fly."""
    gc.collect()
    tracemalloc.start()
    write_workbook(target, generate(households))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    rows = list(generate(args.households))
    cells = sum(sum(value is not None for value in row) for _, row in rows)
    slots = sum(len(row) for _, row in rows)
    with tempfile.TemporaryDirectory() as folder:
        writer_path = os.path.join(folder, "writer.xlsx")
        raw_path = os.path.join(folder, "raw.xlsx")
        write_workbook(writer_path, rows)  # warm up, and the raw input
        raw_sheets = sheet_rows_xml(writer_path)
        xml_bytes = sum(len(s.encode("utf-8")) for sheet in raw_sheets for s in sheet)
        gc.collect()
        gc.freeze()

        times: dict[str, list[float]] = {"writer": [], "writer, one thread": [], "raw limit": []}
        for _ in range(args.runs):
            times["writer"].append(timed(write_workbook, writer_path, rows, True))
            times["writer, one thread"].append(timed(write_workbook, writer_path, rows, False))
            times["raw limit"].append(timed(write_raw, raw_path, raw_sheets))
        print(f"households: {args.households:,}; member rows: {int(args.households * MEMBERS_PER_HOUSEHOLD):,}")
        print(f"cells: {slots:,} ({cells:,} not empty); sheet XML: {xml_bytes / 2**20:.1f} MiB; "
              f"xlsx: {os.path.getsize(writer_path) / 2**20:.1f} MiB; CPUs: {os.cpu_count()}")
        raw_median = statistics.median(times["raw limit"])
        raw_min = min(times["raw limit"])
        for name, runs in times.items():
            median = statistics.median(runs)
            print(f"{name:19s} runs (s): " + ", ".join(f"{t:.2f}" for t in runs)
                  + f"; median {median:.2f} s, min {min(runs):.2f} s"
                  + ("" if name == "raw limit" else
                     f"; ratio to raw: median {median / raw_median:.2f}x, min {min(runs) / raw_min:.2f}x"))
        writer_median = statistics.median(times["writer"])
        print(f"writer throughput: {slots / writer_median / 1e6:.2f} million cells/s")

        gc.unfreeze()
        del rows, raw_sheets
        gc.collect()
        if not args.skip_memory:
            for households in (args.households, 5 * args.households):
                peak = peak_traced(households, writer_path)
                print(f"writer peak traced memory at {households:,} households "
                      f"(rows generated on the fly): {peak:.1f} MiB")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process max RSS (includes the pre-built rows and raw XML): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
