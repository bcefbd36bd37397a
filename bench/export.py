"""Benchmark of the whole export (database read to finished file) against the raw limit.

    .venv/bin/python bench/export.py [--shapes reference intake] [--sizes 20000 100000] [--runs 3]
                                     [--formats xlsx csv]
                                     [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                     [--encrypted]

Two forms ("shapes"):

- reference: the issue's shape, which its targets are judged on: a household form of 34 fields (22
  questions in the household, 10 in a member repeat of 1-6 members, instanceID and instanceName), Thai
  labels and answers, built here with openpyxl (``reference_form``): 40 columns on the main sheet and 15
  on the member sheet, 1.83 million cells for 20,000 households;
- intake: forms/household_status_intake.xlsx, much wider (86 + 64 columns: every choice of a
  select_multiple has its own 0/1 column), about 6.5 million cells for 20,000 households.

For each shape and size N it fills a fresh database (an SQLite file in a temporary folder by default;
with --database-url a fresh schema on that server, dropped afterwards) with N synthetic household
submissions (1-6 members, Thai text, every question answered as relevance allows, 88 % of the others,
30 % with a photo), bulk-inserted with their XML and their flattened copy, not through HTTP. Then it
times:

- export: ``run_export`` from the database to the finished .xlsx (or CSV zip), through
  ``reading_session`` exactly as a background job runs it, each run in a fresh child process;
- raw limit, as the issue defines and measured it ("writing the sheet XML directly into a deflated zip
  (inline strings, compression level 1)": 1.2 s for 1.8 million cells): the same cells, read back from
  the export beforehand and held in memory as Python values, written as the plainest sheet XML (every
  text an inline string, numbers as numbers, no styles, no cell references) or as csv.writer rows,
  deflated at compresslevel 1 in one thread: no database, no formatting;
- deflate floor (for information): the very bytes of the export's tables, decompressed beforehand,
  only deflated and written: what no writer of those bytes can beat.

With --encrypted, the same households also go, sealed as ODK Collect seals them, into a second
organisation whose form has encryption on; the encrypted export (opened with the passphrase) is timed
beside the plain one and the decryption alone (``decrypt_submission`` of envelopes held in memory), against
the target: encrypted export <= decryption alone + 1.5 x plain export.

Prints the medians, the ratio and the peak RSS of the export process (VmHWM: the interpreter and
libraries included); with --traced also tracemalloc's peak of one more run (what Python allocates;
slow).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from household import THAI_FAMILY, THAI_GIVEN, THAI_WORDS, xlsform  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

INTAKE_FORM = ROOT / "forms" / "household_status_intake.xlsx"
POOL = 1000
PASSPHRASE = "benchmark passphrase, not a secret"


# -- the forms -----------------------------------------------------------------------------------


def reference_form() -> bytes:
    """The issue's reference shape: a household form of 34 fields (22 questions in the household, 10 in a
    member repeat, instanceID and instanceName), Thai labels and answers.

    With the export's metadata columns the main sheet has 40 columns (the select_multiple adds one 0/1
    column per choice, the geopoint four) and the member sheet 15, so 20,000 households with 3.5 members
    on average make 20,000 x 40 + 70,000 x 15 = 1.85 million cells, the issue's 1.8 million.
    """
    survey = [
        ("start", "start", "", ""), ("end", "end", "", ""),
        ("text", "interviewer_id", "รหัสผู้สัมภาษณ์", "Interviewer"),
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
        ("decimal", "income", "รายได้ต่อเดือน (บาท)", "Monthly income (THB)"),
        ("date", "visit_date", "วันที่เยี่ยม", "Visit date"),
        ("geopoint", "location", "ตำแหน่ง", "Location"),
        ("image", "photo", "รูปบ้าน", "Photo of the house"),
        ("begin_repeat", "member", "สมาชิก", "Member"),
        ("text", "member_name", "ชื่อ", "Name"),
        ("select_one gender", "member_gender", "เพศ", "Gender"),
        ("integer", "age", "อายุ", "Age"),
        ("date", "birth_date", "วันเกิด", "Date of birth"),
        ("select_one relation", "relation", "ความสัมพันธ์", "Relation"),
        ("select_one status", "member_status", "สถานะทางกฎหมาย", "Legal status"),
        ("text", "id_number", "เลขประจำตัว", "ID number"),
        ("select_one yes_no", "born_in_thailand", "เกิดในประเทศไทย", "Born in Thailand"),
        ("select_one school", "school", "การศึกษา", "School"),
        ("text", "occupation", "อาชีพ", "Occupation"),
        ("end_repeat", "member", "", ""),
        ("text", "notes", "หมายเหตุ", "Notes"),
    ]
    lists = {
        "village": ["ban_mai", "huai_nam_khun", "pa_tueng", "doi_tung", "mae_salong"],
        "gender": ["female", "male"], "yes_no": ["yes", "no"],
        "status": ["thai", "id_card_pink", "id_card_13", "stateless", "unknown"],
        "document": ["birth", "house_reg", "id_card"], "house": ["wood", "brick", "bamboo"],
        "relation": ["head", "spouse", "child", "parent", "other"],
        "school": ["none", "primary", "secondary", "university"],
    }
    labels = {"female": "หญิง", "male": "ชาย", "yes": "ใช่", "no": "ไม่ใช่", "wood": "ไม้", "brick": "อิฐ"}
    settings = {
        "form_id": "household_reference", "version": "1", "form_title": "ครัวเรือน (benchmark)",
        "instance_name": "concat(${household_code}, ' ', ${head_name})",
    }
    return xlsform(survey, lists, settings, labels)


SHAPES = {
    "reference": ("reference shape (34 fields, 40 + 15 columns)", "household_reference.xlsx", reference_form),
    "intake": ("household intake form (wide: 86 + 64 columns)", INTAKE_FORM.name, INTAKE_FORM.read_bytes),
}


# -- synthetic households ------------------------------------------------------------------------


class Households:
    """Flattened values, instance XML and the row to insert, for the household form, deterministic per seed."""

    def __init__(self, tree: dict, seed: int = 7):
        self.tree = tree
        self.rng = random.Random(seed)
        self.prefix = "/" + tree["root"] + "/"
        self.start = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))

    def values(self, number: int) -> dict:
        row: dict = {}
        self._fill(self.tree["fields"], row, "", number)
        if "intake/member" in row:  # the intake form: what its relevance needs
            row["consent/consent_sensitive"] = "yes"
            row["intake/household/member_count"] = str(len(row["intake/member"]))
        return row

    def _fill(self, nodes, row: dict, base: str, number: int) -> None:
        rng = self.rng
        for node in nodes:
            path = node["path"][len(self.prefix):]
            key = path[len(base) + 1:] if base else path
            kind = node["kind"]
            if kind == "repeat":
                if path.endswith("member"):
                    count = rng.randint(1, 6)
                else:
                    count = rng.choice([0, 0, 0, 0, 1, 2])
                entries = []
                for _ in range(count):
                    entry: dict = {}
                    self._fill(node.get("children", []), entry, path, number)
                    entries.append(entry)
                if entries:
                    row[key] = entries
            elif kind == "group":
                self._fill(node.get("children", []), row, base, number)
            else:
                value = self._value(node, path, number)
                if value:
                    row[key] = value

    def _value(self, node: dict, path: str, number: int) -> str | None:
        rng = self.rng
        name = node["name"]
        if node.get("readonly") in ("true()", "true") and not node.get("calculate") and name != "instanceID":
            return None  # a note
        if name == "instanceID":
            return f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        if name == "instanceName":
            return f"HH-{number:06d} 2026-01-05"
        if name.endswith("_other") or name.startswith("violation") and rng.random() < 0.5:
            return None if rng.random() < 0.9 else " ".join(rng.choices(THAI_WORDS, k=3))
        if rng.random() < 0.12:
            return None  # not relevant, not answered
        kind = node.get("type")
        choices = node.get("choices") or []
        if kind == "select1" and choices:
            return rng.choice(choices)["name"]
        if kind == "select" and choices:
            return " ".join(c["name"] for c in rng.sample(choices, k=min(len(choices), rng.randint(1, 3))))
        if kind == "int":
            return str(rng.randint(1, 30))
        if kind == "decimal":
            return f"{rng.uniform(0, 5000):.2f}"
        if kind == "date":
            return (dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(27_000))).isoformat()
        if kind == "dateTime":
            moment = self.start + dt.timedelta(minutes=number * 7 + rng.randrange(60))
            return moment.isoformat(timespec="milliseconds")
        if kind == "geopoint":
            return f"{rng.uniform(18.5, 20.4):.6f} {rng.uniform(97.5, 100.9):.6f} {rng.uniform(200, 1500):.1f} {rng.uniform(3, 20):.1f}"
        if kind == "binary":
            return f"{1767600000000 + number * 10 + rng.randrange(10)}.jpg" if rng.random() < 0.3 else None
        if name == "id_number":
            return f"{rng.choice('05678')}{rng.randrange(10**12):012d}"
        if name in ("head_name", "member_name"):
            return f"{rng.choice(THAI_GIVEN)} {rng.choice(THAI_FAMILY)}"
        if name == "age":
            return str(rng.randint(0, 90))
        if name in ("head_phone",):
            return f"08{rng.randrange(10**8):08d}"
        if name in ("household_code", "interviewer_id", "follow_up_staff", "deviceid", "username"):
            return f"{name[:3].upper()}-{rng.randrange(10**5):05d}"
        return " ".join(rng.choices(THAI_WORDS, k=rng.randint(1, 4)))

    def xml(self, values: dict) -> bytes:
        parts = [f'<?xml version="1.0" encoding="UTF-8"?><{self.tree["root"]} id="{self.tree["form_id"]}" version="{self.tree["version"]}">']
        self._xml(self.tree["fields"], values, "", parts)
        parts.append(f"</{self.tree['root']}>")
        return "".join(parts).encode("utf-8")

    def _xml(self, nodes, row: dict, base: str, parts: list) -> None:
        for node in nodes:
            path = node["path"][len(self.prefix):]
            key = path[len(base) + 1:] if base else path
            name = node["name"]
            if node["kind"] == "repeat":
                for entry in row.get(key) or ():
                    parts.append(f"<{name}>")
                    self._xml(node.get("children", []), entry, path, parts)
                    parts.append(f"</{name}>")
            elif node["kind"] == "group":
                parts.append(f"<{name}>")
                self._xml(node.get("children", []), row, base, parts)
                parts.append(f"</{name}>")
            else:
                value = row.get(key)
                if value is None:
                    parts.append(f"<{name}/>")
                else:
                    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    parts.append(f"<{name}>{escaped}</{name}>")


def fill(url: str, households: int, folder: Path, shape: str, encrypted: bool = False) -> dict:
    """A migrated database with the household form and ``households`` submissions in the organisation
    "bench"; with ``encrypted`` the same households again in "bench-sealed", whose form has encryption on
    (``PASSPHRASE``) and whose submissions are envelopes sealed as ODK Collect seals them. Returns the ids
    of "bench"'s organisation, form and form version (bench/api.py reads them)."""
    from formserver import form_keys, forms, migrate
    from formserver.accounts import create_organisation
    from formserver.db import Database
    from formserver.exports.flatten import flatten, repeat_paths
    from formserver.storage import BlobStore
    from formserver.config import Settings

    settings = Settings(data_dir=folder, database_url=url, secret_key="bench", validate_with_java=False)
    database = Database(settings)
    migrate.upgrade(database.engine)
    targets = []
    with database.session_scope() as session:
        for slug in ["bench", "bench-sealed"] if encrypted else ["bench"]:
            organisation = create_organisation(session, slug, "Benchmark network")
            _title, file_name, form_bytes = SHAPES[shape]
            version = forms.add_form_version(session, BlobStore(settings.blob_dir), organisation, form_bytes(), file_name).version
            if slug == "bench-sealed":
                version = form_keys.turn_on_encryption(session, version.form, PASSPHRASE)
            session.flush()
            tree = dict(version.field_tree, version=version.version)
            targets.append(({"organisation": organisation.id, "form": version.form_id, "version": version.id},
                            tree, version.public_key, version.title))
    for ids, tree, public_key, title in targets:
        maker = Households(tree)
        sample = maker.values(0)
        assert flatten(maker.xml(sample), repeat_paths(tree)) == sample, "the synthetic flattened copy must equal flatten(xml)"
        seal = Sealer(BlobStore(settings.blob_dir), public_key, title) if public_key else None
        insert_households(database, ids, maker, households, seal)
    database.dispose()
    return targets[0][0]


class Sealer:
    """What a phone sends for an encrypted form: the envelope (stored as the submission's XML) and
    ``submission.xml.enc``, sealed by the tests' Collect-like helper and written into the blob store's
    layout directly (no fsync per file: this only fills a benchmark's database)."""

    def __init__(self, blobs, public_key: str, title: str):
        from tests.encrypted_collect import encrypt_like_collect

        self.encrypt = encrypt_like_collect
        self.blobs = blobs
        self.public_key = public_key
        self.title = title
        self.saved_at = dt.datetime(2026, 1, 5, 8, 0)
        self.files: dict[str, tuple[str, int]] = {}  # instanceID -> (sha256, size) of its submission.xml.enc

    def __call__(self, instance_id: str, xml: bytes) -> bytes:
        upload = self.encrypt(xml, [], self.public_key, form_title=self.title, saved_at=self.saved_at)
        (name, content), = upload.files
        sha256 = hashlib.sha256(content).hexdigest()
        path = self.blobs.path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.files[instance_id] = (sha256, len(content))
        return upload.envelope


def insert_households(database, ids: dict, maker: Households, households: int, seal: Sealer | None) -> None:
    """Bulk-insert ``households`` submissions (and, sealed, their ``submission.xml.enc`` attachments)."""
    from sqlalchemy import select

    from formserver.models import Submission, SubmissionAttachment

    received = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.timezone.utc)
    # A pool of distinct households, each stored many times under its own instanceID: generating
    # 100,000 from scratch would take longer than the export being measured.
    pool = []
    for number in range(min(households, POOL)):
        values = maker.values(number)
        pool.append((values, maker.xml(values), values["meta/instanceID"].encode()))
    batch = []
    table = Submission.__table__
    with database.engine.begin() as connection:
        for number in range(1, households + 1):
            base, base_xml, base_id = pool[number % len(pool)]
            instance_id = f"uuid:{uuid.UUID(int=maker.rng.getrandbits(128), version=4)}"
            values = dict(base)
            values["meta/instanceID"] = instance_id
            xml = base_xml.replace(base_id, instance_id.encode())
            if seal is not None:
                xml = seal(instance_id, xml)
            batch.append(
                {
                    "organisation_id": ids["organisation"],
                    "form_id": ids["form"],
                    "form_version_id": ids["version"],
                    "instance_id": values["meta/instanceID"],
                    "instance_name": None if seal else values.get("meta/instanceName"),
                    "xml": xml,
                    "xml_sha256": hashlib.sha256(xml).hexdigest(),
                    "data": None if seal else values,
                    "received_at": received + dt.timedelta(seconds=number * 13),
                    "device_id": f"collect:{number % 40:016d}",
                    "review_state": "received",
                    "is_current": True,
                    "attachments_expected": 1 if seal else 0,
                }
            )
            if len(batch) == 2000:
                connection.execute(insert(table), batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
        if seal is not None:
            rows = connection.execute(select(table.c.id, table.c.instance_id).where(table.c.form_id == ids["form"]))
            attachments = [
                {"submission_id": submission_id, "name": "submission.xml.enc", "sha256": seal.files[instance_id][0],
                 "size": seal.files[instance_id][1], "content_type": "application/octet-stream", "received_at": received}
                for submission_id, instance_id in rows
            ]
            for start in range(0, len(attachments), 2000):
                connection.execute(insert(SubmissionAttachment.__table__), attachments[start:start + 2000])


# -- one measured export (in a child process) -------------------------------------------------------


def child(url: str, fmt: str, output: str, traced: bool, sealed: bool) -> None:
    """One export, as a background job runs it; ``sealed``: the encrypted form's, opened with the passphrase
    (the key's opening, a deliberately slow scrypt, is timed apart and included in the total)."""
    import tracemalloc

    from formserver.config import Settings
    from formserver.exports.decrypting import export_key
    from formserver.exports.export import run_export
    from formserver.db import reading_session
    from formserver.models import Form, Organisation

    folder = Path(output).parent
    settings = Settings(data_dir=folder, database_url=url, secret_key="bench", validate_with_java=False)
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    with reading_session(settings) as session:
        organisation = session.query(Organisation).filter_by(slug="bench-sealed" if sealed else "bench").one()
        form = session.query(Form).filter_by(organisation_id=organisation.id).one()
        key = export_key(session, form, passphrase=PASSPHRASE) if sealed else None
        key_seconds = time.perf_counter() - started
        result = run_export(session, settings, organisation, form, {"format": fmt, "lang": "th"}, output,
                            spool_dir=folder, key=key)
    seconds = time.perf_counter() - started
    assert result.not_decrypted == 0, "every envelope of the benchmark must decrypt"
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
    print(json.dumps({
        "seconds": seconds,
        "key_seconds": key_seconds,
        "max_rss_mib": peak_rss_mib(),
        "traced_peak_mib": peak,
        "tables": result.tables,
    }))


def decryption_alone(url: str, folder: str) -> None:
    """The floor of a decrypting export: every envelope and its ``submission.xml.enc`` read into memory
    beforehand, then only ``decrypt_submission`` timed (two RSA-2048 private-key operations, the key and
    the signature, and the AES and MD5 of each submission)."""
    from sqlalchemy import select

    from formserver.config import Settings
    from formserver.db import reading_session
    from formserver.encryption import decrypt_submission, read_envelope
    from formserver.exports.decrypting import export_key
    from formserver.models import Form, Organisation, Submission, SubmissionAttachment
    from formserver.storage import BlobStore
    from formserver.xml import parse

    settings = Settings(data_dir=Path(folder), database_url=url, secret_key="bench", validate_with_java=False)
    with reading_session(settings) as session:
        organisation = session.query(Organisation).filter_by(slug="bench-sealed").one()
        form = session.query(Form).filter_by(organisation_id=organisation.id).one()
        key = export_key(session, form, passphrase=PASSPHRASE)
        rows = session.execute(
            select(Submission.xml, SubmissionAttachment.sha256)
            .join(SubmissionAttachment, SubmissionAttachment.submission_id == Submission.id)
            .where(Submission.form_id == form.id)
        ).all()
    blobs = BlobStore(settings.blob_dir)
    sealed = [(read_envelope(parse(bytes(xml))), blobs.read(sha256)) for xml, sha256 in rows]
    started = time.perf_counter()
    for envelope, content in sealed:
        decrypt_submission(envelope, key, lambda _name, content=content: content)
    print(json.dumps({"seconds": time.perf_counter() - started, "submissions": len(sealed)}))


def peak_rss_mib() -> float:
    """This process's peak RSS. Linux's VmHWM starts afresh at exec; ru_maxrss would count the parent's
    memory at fork time (the benchmark's parent holds the raw input)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, fmt: str, output: Path, traced: bool = False, sealed: bool = False) -> dict:
    flags = (["--traced"] if traced else []) + (["--sealed"] if sealed else [])
    return in_child(["--child", url, fmt, str(output)] + flags)


def in_child(arguments: list[str]) -> dict:
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run([sys.executable, __file__] + arguments, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the raw limit ---------------------------------------------------------------------------------


def table_parts(path: Path, fmt: str) -> list[list[bytes]]:
    """The export's table contents (sheet XML or CSV text), decompressed, in chunks of about 4 MiB."""
    tables = []
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if (n.startswith("xl/worksheets/sheet") if fmt == "xlsx" else n.endswith(".csv"))]
        for name in names:
            chunks = []
            with archive.open(name) as handle:
                while chunk := handle.read(4 << 20):
                    chunks.append(chunk)
            tables.append(chunks)
    return tables


def table_cells(path: Path, fmt: str) -> list[list[list]]:
    """The export's cells as Python values, table by table (python-calamine for the workbook)."""
    if fmt == "csv":
        import csv
        import io

        with zipfile.ZipFile(path) as archive:
            return [
                list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
                for name in archive.namelist() if name.endswith(".csv")
            ]
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return [workbook.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in workbook.sheet_names]


def raw_limit(tables: list[list[list]], fmt: str, target: Path) -> float:
    """The issue's raw limit: the cells straight into a deflated zip, no database, no formatting."""
    from xml.sax.saxutils import escape

    def sheet_rows(rows):
        yield '<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        for row in rows:
            parts = ["<row>"]
            for value in row:
                if type(value) is str and value:
                    parts.append('<c t="inlineStr"><is><t>' + escape(value) + "</t></is></c>")
                elif value is None or value == "":
                    parts.append("<c/>")
                elif isinstance(value, (int, float)):
                    parts.append("<c><v>" + str(value) + "</v></c>")
                else:  # a date or time: as text, there is no formatting here
                    parts.append('<c t="inlineStr"><is><t>' + escape(str(value)) + "</t></is></c>")
            parts.append("</row>")
            yield "".join(parts)
        yield "</sheetData></worksheet>"

    def csv_rows(rows):
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for start in range(0, len(rows), 1000):
            writer.writerows(rows[start:start + 1000])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    started = time.perf_counter()
    with open(target, "wb") as handle:
        for rows in tables:
            compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
            crc, pending = 0, []
            for text_part in (sheet_rows(rows) if fmt == "xlsx" else csv_rows(rows)):
                pending.append(text_part)
                if len(pending) >= 1000 or fmt == "csv":
                    chunk = "".join(pending).encode("utf-8")
                    pending.clear()
                    crc = zlib.crc32(chunk, crc)
                    handle.write(compressor.compress(chunk))
            chunk = "".join(pending).encode("utf-8")
            crc = zlib.crc32(chunk, crc)
            handle.write(compressor.compress(chunk) + compressor.flush())
    return time.perf_counter() - started


def deflate_floor(tables: list[list[bytes]], target: Path) -> float:
    started = time.perf_counter()
    with open(target, "wb") as handle:
        for chunks in tables:
            compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
            crc = 0
            for chunk in chunks:
                crc = zlib.crc32(chunk, crc)
                handle.write(compressor.compress(chunk))
            handle.write(compressor.flush())
    return time.perf_counter() - started


# -- main ----------------------------------------------------------------------------------------


def fresh_database(base_url: str | None, folder: Path, prefix: str = "bench_export"):
    """An SQLite file in ``folder``, or a fresh schema of the PostgreSQL server (``drop`` removes it)."""
    if not base_url:
        return f"sqlite:///{folder / 'bench.sqlite3'}", None
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}", (admin, schema)


def drop(handle) -> None:
    if handle:
        admin, schema = handle
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["xlsx", "csv"], choices=["xlsx", "csv"])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES),
                        help="reference: the issue's shape, which the targets are judged on; intake: the wide intake form")
    parser.add_argument("--database-url", help="a PostgreSQL server database (a fresh schema is used); default: SQLite")
    parser.add_argument("--encrypted", action="store_true",
                        help="also the same households in an encrypted form, exported with the passphrase, "
                             "beside the decryption alone")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--sealed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--decryption-alone", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true",
                        help="also report tracemalloc's peak of one more run (slow: tracemalloc slows Python several times)")
    args = parser.parse_args()
    if args.child:
        child(*args.child, traced=args.traced, sealed=args.sealed)
        return
    if args.decryption_alone:
        decryption_alone(*args.decryption_alone)
        return

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu()}; Python {platform.python_version()}; "
          f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    results, sealed = [], []
    for shape in args.shapes:
        for households in args.sizes:
            plain, encrypted = run_size(args, shape, households)
            results += plain
            sealed += encrypted
    database = "PostgreSQL" if args.database_url else "SQLite"
    print("\n| shape | households | database | format | export | raw limit | ratio | deflate floor | peak RSS |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for shape, households, fmt, export, raw, floor, rss in results:
        print(f"| {shape} | {households:,} | {database} | {fmt} | {export:.2f} s | {raw:.2f} s | {export / raw:.1f}x "
              f"| {floor:.2f} s ({export / floor:.1f}x) | {rss:.0f} MiB |")
    if sealed:
        print("\n| shape | households | database | format | decryption alone | plain export | encrypted export "
              "(key opening left out) | target (decryption + 1.5 x plain) | peak RSS plain / encrypted |")
        print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for shape, households, fmt, decryption, plain, export, rss_plain, rss in sealed:
            target = decryption + 1.5 * plain
            print(f"| {shape} | {households:,} | {database} | {fmt} | {decryption:.2f} s | {plain:.2f} s | {export:.2f} s "
                  f"| {target:.2f} s ({'met' if export <= target else f'missed by {export - target:.2f} s'}) "
                  f"| {rss_plain:.0f} / {rss:.0f} MiB |")


def run_size(args, shape: str, households: int) -> tuple[list[tuple], list[tuple]]:
    """Fill a fresh database with ``households`` of ``shape`` and measure every format (and, with
    --encrypted, the encrypted form's exports and the decryption alone)."""
    with tempfile.TemporaryDirectory(prefix="bench-export-") as name:
        folder = Path(name)
        url, handle = fresh_database(args.database_url, folder)
        try:
            started = time.perf_counter()
            fill(url, households, folder, shape, encrypted=args.encrypted)
            print(f"\n{SHAPES[shape][0]}, {households:,} households{' (and as many encrypted)' if args.encrypted else ''}: "
                  f"filled in {time.perf_counter() - started:.1f} s", flush=True)
            plain = [(shape, households, fmt, *measure_format(args, url, fmt, folder)) for fmt in args.formats]
            if not args.encrypted:
                return plain, []
            decryption = measure_decryption(args, url, folder)
            sealed = []
            for _shape, _households, fmt, export, _raw, _floor, rss in plain:
                encrypted, encrypted_rss = measure_sealed(args, url, fmt, folder)
                sealed.append((shape, households, fmt, decryption, export, encrypted, rss, encrypted_rss))
            return plain, sealed
        finally:
            drop(handle)


def measure_decryption(args, url: str, folder: Path) -> float:
    runs = [in_child(["--decryption-alone", url, str(folder)]) for _ in range(args.runs)]
    print(f"  decryption alone of {runs[0]['submissions']:,} envelopes (s): "
          f"{', '.join(format(r['seconds'], '.2f') for r in runs)}", flush=True)
    return statistics.median(r["seconds"] for r in runs)


def measure_sealed(args, url: str, fmt: str, folder: Path) -> tuple[float, float]:
    """Median time and peak RSS of the encrypted form's export, opened with the passphrase; the time leaves
    out the key's opening (scrypt, about 1.5 s and 128 MiB whatever the number of submissions)."""
    output = folder / ("sealed.xlsx" if fmt == "xlsx" else "sealed.csv.zip")
    runs = [measure(url, fmt, output, sealed=True) for _ in range(args.runs)]
    print(f"  encrypted {fmt} runs (s): {', '.join(format(r['seconds'], '.2f') for r in runs)} "
          f"(of which opening the key: {', '.join(format(r['key_seconds'], '.2f') for r in runs)}); "
          f"peak RSS {max(r['max_rss_mib'] for r in runs):.0f} MiB", flush=True)
    return statistics.median(r["seconds"] - r["key_seconds"] for r in runs), max(r["max_rss_mib"] for r in runs)


def measure_format(args, url: str, fmt: str, folder: Path) -> tuple[float, float, float, float]:
    """Median export time, median raw limit, median deflate floor and peak RSS of one format."""
    output = folder / ("export.xlsx" if fmt == "xlsx" else "export.csv.zip")
    runs = []
    for _ in range(args.runs):
        runs.append(measure(url, fmt, output))
        print(f"    {fmt} run: {runs[-1]['seconds']:.2f} s, peak RSS {runs[-1]['max_rss_mib']:.0f} MiB", flush=True)
    traced = measure(url, fmt, output, traced=True)["traced_peak_mib"] if args.traced else None
    tables = table_parts(output, fmt)
    floors = [deflate_floor(tables, folder / "raw.bin") for _ in range(args.runs)]
    size = sum(len(c) for chunks in tables for c in chunks)
    widths = [header_width(chunks[0], fmt) for chunks in tables]
    del tables
    cells = table_cells(output, fmt)
    raws = [raw_limit(cells, fmt, folder / "raw.bin") for _ in range(args.runs)]
    del cells
    export_median = statistics.median(r["seconds"] for r in runs)
    raw_median = statistics.median(raws)
    floor_median = statistics.median(floors)
    rows = runs[0]["tables"]
    cells = sum(count * width for count, width in zip(rows.values(), widths))
    print(f"  {fmt}: rows {', '.join(f'{k} {v:,}' for k, v in rows.items())}; columns {', '.join(map(str, widths))}; "
          f"{cells / 1e6:.2f} M cells; table bytes {size / 2**20:.0f} MiB; file {output.stat().st_size / 2**20:.1f} MiB")
    print(f"    export runs (s): {', '.join(format(r['seconds'], '.2f') for r in runs)}; "
          f"raw runs (s): {', '.join(f'{r:.2f}' for r in raws)}; deflate floor runs (s): {', '.join(f'{r:.2f}' for r in floors)}")
    print(f"    export median {export_median:.2f} s; raw limit median {raw_median:.2f} s; "
          f"ratio {export_median / raw_median:.2f}x; deflate floor {floor_median:.2f} s "
          f"({export_median / floor_median:.1f}x); peak RSS {max(r['max_rss_mib'] for r in runs):.0f} MiB"
          + (f"; tracemalloc peak {traced:.1f} MiB" if traced is not None else ""), flush=True)
    return export_median, raw_median, floor_median, max(r["max_rss_mib"] for r in runs)


def header_width(first_chunk: bytes, fmt: str) -> int:
    """Columns of a table, from its first (header) row."""
    if fmt == "csv":
        import csv
        import io

        return len(next(csv.reader(io.StringIO(first_chunk.decode("utf-8-sig").split("\r\n", 1)[0]))))
    head = first_chunk[first_chunk.index(b"<row "):]
    return head[: head.index(b"</row>")].count(b"<c ")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
