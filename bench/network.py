"""The network's figures at the network's size: cross-tables over pooled facts, and what facts cost at ingest.

    .venv/bin/python bench/network.py [--households 100000] [--runs 5] [--ingest 300 --rounds 4]
                                      [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Fills a fresh database (an SQLite file in a temporary folder by default; with --database-url a fresh
schema on that PostgreSQL server, dropped afterwards) with 10 organisations sharing the household
intake form (forms/household_status_intake.xlsx) and N households (1-6 members, about 3.5 each) spread
over 12 months. 10 % of the households are registered again by a second organisation (same head's ID,
same members' IDs, newer answers), so that about 10 % of persons are registered by two organisations;
a quarter of the members have no ID number. The fill inserts submissions and their facts in bulk (as
``network/facts.py`` would make them, not through ingest: posting 100,000 households would take hours),
works out who counts once (``counting.recount``, timed), and runs VACUUM ANALYZE as autovacuum would.

Then, in a fresh child process (peak RSS = its VmHWM, interpreter and libraries included), it times
several cross-tables of two dimensions with filters through ``figures.cross_table`` as the pages call
it (pooled form read once, as a page reads it per request: included in the time), median of --runs.

Last, the server's CPU per submission at ingest: ``submissions.ingest`` in this process on real intake
instances (XML made from the form's field tree), in interleaved blocks with the form shared and not
shared, process CPU time (the database server's own CPU is not in it); and, apart, the CPU per
submission of the catch-up that makes a shared block's facts in one go (``facts.catch_up``, run by
the next table), the price of the facts, paid outside ingest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from export import drop, fresh_database  # noqa: E402 - bench/export.py, beside this file

INTAKE_FORM = ROOT / "forms" / "household_status_intake.xlsx"
ORGANISATIONS = [f"org{n:02d}" for n in range(10)]
FORM_ID = "household_status_intake"
BATCH = 2000

TABLES = [
    ("persons: legal status x province", dict(rows="legal_status", columns="province", unit="member")),
    ("persons: documents (multiple) x province, since month 7", dict(rows="documents", columns="province", unit="member", since=date(2026, 7, 1))),
    ("persons: age band x sex, provinces 50 and 57", dict(rows="age", columns="sex", unit="member", filters={"province": ("50", "57")})),
    ("persons: process step x organisation, 3 organisations", dict(rows="process_step", columns="_organisation", unit="member", filters={"_organisation": tuple(ORGANISATIONS[:3])})),
    ("persons: legal status x month, province 57", dict(rows="legal_status", columns="_month", unit="member", filters={"province": ("57",)})),
    ("households: district x organisation, Chiang Rai", dict(rows="district", columns="_organisation", filters={"province": ("57",)})),
]


def settings_for(url: str, folder: Path):
    from formserver.config import Settings

    return Settings(data_dir=folder, database_url=url, secret_key="bench", validate_with_java=False)


class People:
    """Deterministic households of the intake form: the answers the network counts, by choice name."""

    def __init__(self, tree: dict, seed: int = 13):
        from formserver.xform import iter_fields

        self.rng = random.Random(seed)
        self.choices = {n["name"]: [c["name"] for c in n.get("choices", [])] for n in iter_fields(tree["fields"]) if n.get("choices")}
        self.districts = {}
        for name in self.choices["district"]:
            self.districts.setdefault(name[:2], []).append(name)
        self.provinces = [p for p in self.choices["province"] if p in self.districts]

    def pick(self, field: str) -> str:
        return self.rng.choice(self.choices[field])

    def identity(self) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(13))

    def household(self) -> dict:
        province = self.rng.choice(self.provinces)
        members = [self.member() for _ in range(self.rng.randint(1, 6))]
        return {"province": province, "district": self.rng.choice(self.districts[province]), "members": members}

    def member(self) -> dict:
        answers = {name: self.pick(name) for name in ("sex", "legal_status", "process_step", "health_cover", "work_permit", "schooling", "travel")}
        answers["age"] = str(self.rng.randint(0, 85))
        answers["documents"] = " ".join(self.rng.sample(self.choices["documents"], self.rng.randint(1, 3)))
        answers["status_problem"] = " ".join(self.rng.sample(self.choices["status_problem"], self.rng.randint(1, 2)))
        answers["id_number"] = self.identity() if self.rng.random() < 0.75 else ""
        return answers

    def answered_again(self, household: dict) -> dict:
        """The same family registered by another organisation later: same IDs, some answers changed."""
        members = [dict(m, legal_status=self.pick("legal_status"), process_step=self.pick("process_step")) for m in household["members"]]
        return dict(household, members=members)


def fill(url: str, folder: Path, households: int) -> dict:
    """Ten organisations sharing the intake form and ``households`` submissions with their facts, in bulk."""
    from sqlalchemy import text

    from formserver import forms, migrate
    from formserver.accounts import create_organisation
    from formserver.db import Database
    from formserver.models import NetworkUnit, NetworkValue, Submission
    from formserver.network.counting import recount
    from formserver.network.facts import unit_from
    from formserver.network.identity import identity_hash, installation_key
    from formserver.storage import BlobStore

    settings = settings_for(url, folder)
    database = Database(settings)
    migrate.upgrade(database.engine)
    key = installation_key(settings.data_dir)
    targets = []
    with database.session_scope() as session:
        for slug in ORGANISATIONS:
            organisation = create_organisation(session, slug, f"Organisation {slug}")
            version = forms.add_form_version(session, BlobStore(settings.blob_dir), organisation, INTAKE_FORM.read_bytes(), INTAKE_FORM.name).version
            version.form.network_shared = True
            session.flush()
            targets.append((organisation.id, version.form_id, version.id))
        declaration, tree = version.network, version.field_tree
        session.commit()
    people = People(tree)
    by_repeat: dict[str, list[dict]] = {}
    for item in declaration["fields"]:
        by_repeat.setdefault(item["repeat"], []).append(item)
    keys = {item["name"]: item["key"] for item in declaration["fields"]}
    started = time.perf_counter()
    first = datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc)
    submissions, units, values = [], [], []
    submission_id = unit_id = 0
    made: list[dict] = []
    counts = {"households": 0, "persons": 0, "values": 0}

    def flush_rows(connection):
        if submissions:
            connection.execute(Submission.__table__.insert(), submissions)
            connection.execute(NetworkUnit.__table__.insert(), units)
            connection.execute(NetworkValue.__table__.insert(), values)
        submissions.clear(), units.clear(), values.clear()

    with database.engine.begin() as connection:
        for number in range(households):
            again = bool(made) and people.rng.random() < 0.10
            if again:  # registered again by another organisation than the first one
                original = people.rng.choice(made)
                index = (original["owner"] + 1 + people.rng.randrange(9)) % 10
                household = people.answered_again(original)
            else:
                index = number % 10
                household = people.household()
                household.update(head_id=household["members"][0]["id_number"], owner=index)
                if len(made) < 50000:
                    made.append(household)
            organisation_id, form_pk, version_pk = targets[index]
            received = first + timedelta(seconds=int(number * 365 * 86400 / households))
            month = received.astimezone(timezone(timedelta(hours=7))).strftime("%Y-%m")
            submission_id += 1
            submissions.append(dict(
                id=submission_id, organisation_id=organisation_id, form_id=form_pk, form_version_id=version_pk,
                instance_id=f"uuid:{submission_id}", xml=b"<data/>", xml_sha256="0" * 64, received_at=received,
                review_state="received", is_current=True, attachments_expected=0,
            ))
            row = {keys["province"]: household["province"], keys["district"]: household["district"], keys["head_id_number"]: household.get("head_id", "")}
            unit_id += 1
            household_pk = unit_id
            common = dict(submission_id=submission_id, organisation_id=organisation_id, form_id=FORM_ID, month=month, received_at=received)
            unit = unit_from(row, "", by_repeat[""])
            units.append(dict(common, id=household_pk, repeat="", household_id=None, identity=identity_hash(key, unit.identity)))
            values.extend({"unit_id": household_pk, "field": f, "choice": c} for f, c in unit.values)
            for member in household["members"]:
                unit = unit_from({keys.get(k, k): v for k, v in member.items()}, "intake/member", by_repeat["intake/member"])
                unit_id += 1
                units.append(dict(common, id=unit_id, repeat="intake/member", household_id=household_pk, identity=identity_hash(key, unit.identity)))
                values.extend({"unit_id": unit_id, "field": f, "choice": c} for f, c in unit.values)
                counts["persons"] += 1
            counts["households"] += 1
            if len(submissions) >= BATCH:
                counts["values"] += len(values)
                flush_rows(connection)
        counts["values"] += len(values)
        flush_rows(connection)
        if connection.dialect.name == "postgresql":
            for table in ("submission", "network_unit"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    counts["fill_seconds"] = round(time.perf_counter() - started, 1)
    with database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    started = time.perf_counter()
    with database.engine.begin() as connection:  # who counts, as sharing the form would work it out
        recount(connection, FORM_ID)
    counts["recount_seconds"] = round(time.perf_counter() - started, 1)
    # What autovacuum does on a live server after so many new rows: statistics, and the visibility map
    # that lets PostgreSQL read the values from their index alone.
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))
    with database.session_scope() as session:
        twice = session.execute(text(
            "select count(*) from (select identity from network_unit where repeat = 'intake/member' and identity is not null "
            "group by identity having count(distinct organisation_id) > 1) as twice"
        )).scalar()
        counts["persons registered by two organisations"] = twice
    database.dispose()
    return counts


def child(url: str, folder: str, runs: int) -> None:
    """Time the tables in a fresh process; print JSON with each table's times and this process's peak RSS."""
    from formserver.db import Database
    from formserver.network.figures import cross_table, pooled_forms
    from formserver.network.identity import installation_key
    from formserver.network.table import TableRequest

    database = Database(settings_for(url, Path(folder)))
    key = installation_key(Path(folder))
    results = []
    for name, options in TABLES:
        times = []
        for _ in range(runs):
            with database.session_scope() as session:
                started = time.perf_counter()
                pooled = pooled_forms(session)[FORM_ID]  # cross_table catches up with new submissions first, timed too
                table = cross_table(session, TableRequest(FORM_ID, **options), key=key, pooled=pooled)
                times.append(time.perf_counter() - started)
        results.append({"table": name, "median_s": statistics.median(times), "times": times, "total": table.total,
                        "without_identity": table.without_identity})
    database.dispose()
    print(json.dumps({"tables": results, "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ingest_cost(url: str, folder: Path, per_block: int, rounds: int) -> dict:
    """Server CPU per submission at ingest into a shared form and one not shared, in interleaved blocks,
    and of the catch-up that makes the shared block's facts."""
    from formserver import forms
    from formserver.accounts import create_organisation
    from formserver.db import Database
    from formserver.exports.samples import instance_xml
    from formserver.models import Organisation
    from formserver.network.facts import catch_up
    from formserver.network.identity import installation_key
    from formserver.storage import BlobStore
    from formserver.submissions import ingest

    settings = settings_for(url, folder)
    database = Database(settings)
    blobs = BlobStore(settings.blob_dir)
    places = {}
    with database.session_scope() as session:
        for shared in (True, False):  # one organisation shares its intake form, the other does not
            organisation = create_organisation(session, f"ingest-{'shared' if shared else 'alone'}", "Ingest benchmark")
            version = forms.add_form_version(session, blobs, organisation, INTAKE_FORM.read_bytes(), INTAKE_FORM.name).version
            version.form.network_shared = shared
            places[shared] = organisation.id
            tree = dict(version.field_tree, version=version.version)
        session.commit()
    people = People(tree, seed=99)
    cpu = {True: [], False: []}
    catching_up = []
    key = installation_key(settings.data_dir)
    for round_number in range(rounds):
        for shared in ((False, True) if round_number % 2 == 0 else (True, False)):
            xmls = [instance_xml(tree, intake_values(people.household()), instance_id=f"uuid:{uuid.uuid4()}") for _ in range(per_block)]
            with database.session_scope() as session:
                organisation = session.get(Organisation, places[shared])
                started = time.process_time()
                for xml in xmls:
                    ingest(session, blobs, organisation, xml)
                cpu[shared].append((time.process_time() - started) * 1000 / per_block)
                if shared:  # the facts of this block, made in one catch-up as the next table would
                    started = time.process_time()
                    assert catch_up(session, key) == per_block
                    catching_up.append((time.process_time() - started) * 1000 / per_block)
    database.dispose()
    without, with_facts = statistics.median(cpu[False]), statistics.median(cpu[True])
    return {"not_shared_ms": round(without, 3), "shared_ms": round(with_facts, 3),
            "increase_pct": round((with_facts / without - 1) * 100, 1),
            "catch_up_ms_per_submission": round(statistics.median(catching_up), 3),
            "blocks_ms": {("shared" if k else "not shared"): [round(v, 3) for v in vs] for k, vs in cpu.items()}}


def intake_values(household: dict) -> dict:
    """A household as the intake form's flattened copy: what its relevance needs, and the counted answers."""
    members = [
        {"member_name": "นา ใจดี", "sex": m["sex"], "age": m["age"], "record_status": "yes", "id_type": "thai_id" if m["id_number"] else "none",
         "id_number": m["id_number"], "legal_status": m["legal_status"], "documents": m["documents"], "status_problem": m["status_problem"],
         "process_step": m["process_step"], "health_cover": m["health_cover"], "schooling": m["schooling"], "travel": m["travel"]}
        for m in household["members"]
    ]
    return {
        "consent/consent_sensitive": "yes", "intake/location/province": household["province"], "intake/location/district": household["district"],
        "intake/location/village_name": "บ้านบนดอย", "intake/household/head_name": "สมชาย ใจดี",
        "intake/household/member_count": str(len(members)), "intake/household/head_id_number": members[0]["id_number"],
        "intake/member": members,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="The network's figures at the network's size.")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ingest", type=int, default=300, help="submissions per ingest block")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved pairs of ingest blocks")
    parser.add_argument("--database-url", help="a PostgreSQL server database (a fresh schema is used); default: SQLite")
    parser.add_argument("--tables-only", action="store_true", help="fill and time the tables, skip the ingest part")
    parser.add_argument("--child", nargs=3, metavar=("URL", "FOLDER", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    with tempfile.TemporaryDirectory(prefix="bench-network-") as folder:
        url, handle = fresh_database(args.database_url, Path(folder), prefix="bench_network")
        try:
            print(f"database: {'PostgreSQL' if handle else 'SQLite'}; households: {args.households}", flush=True)
            print(json.dumps(fill(url, Path(folder), args.households)), flush=True)
            done = subprocess.run([sys.executable, __file__, "--child", url, folder, str(args.runs)],
                                  capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONHASHSEED="0"))
            report = json.loads(done.stdout.strip().splitlines()[-1])
            for table in report["tables"]:
                print(f"  {table['median_s']:.3f} s median  {table['table']}  (total {table['total']}, "
                      f"without identity {table['without_identity']}; runs {', '.join(f'{t:.3f}' for t in table['times'])})")
            print(f"  peak RSS of the process that made the tables: {report['peak_rss_mib']:.0f} MiB", flush=True)
            if not args.tables_only:
                print("ingest:", json.dumps(ingest_cost(url, Path(folder), args.ingest, args.rounds)))
        finally:
            drop(handle)


if __name__ == "__main__":
    main()
