"""The narrow facts the network counts, kept for the forms their organisations share.

One ``network_unit`` row per household (submission) and per row of each of its repeats, holding
the organisation, the pooled form id, the month, the received time and the keyed hash of the
declared identity (or none); one ``network_value`` row per counted answer (a choice name, one per
chosen choice of a select_multiple, or a band). Nothing else of a submission is copied: no name,
no ID number, no free text, no date, no place.

Facts are derived from the flattened copy (``Submission.data``) in batches, not in ingest's own
transaction: written there they cost ingest 83 % more CPU per submission (bench/network.py), while
a batch costs little per submission and ingest nothing. ``catch_up`` brings them up to date before
every count (``figures.cross_table`` calls it): it makes the facts of the newest current submissions
of shared forms that have none, and drops those of versions that an edit or a conflict taken new
replaced (only the current version counts). Sharing a form builds its facts at once, withdrawing
it deletes them (``build_form``, ``drop_form``); ``rebuild`` makes every shared form's facts anew.
Encrypted forms are never shared (``sharing.py``), so never read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models import Form, FormVersion, NetworkUnit, NetworkValue, Organisation, Submission
from .counting import recount
from .declaration import BANDS, DIMENSION, IDENTITY, band_of, declare
from .identity import identity_hash

_UNIT = NetworkUnit.__table__
_VALUE = NetworkValue.__table__
BATCH = 500


@dataclass
class Unit:
    """One counted unit of a flattened submission: its repeat ("" for the household), the raw
    identity answer (hashed before it is stored) and its counted (field, choice) pairs."""

    repeat: str
    identity: str | None = None
    values: list[tuple[str, str]] = field(default_factory=list)


def units_of(declaration: dict, data: dict) -> list[Unit]:
    """The household and every repeat row of a flattened copy, with their counted answers; the
    household first. Pure: what catch-ups, rebuilds, the benchmark and tests share."""
    by_repeat: dict[str, list[dict]] = {}
    for declared in declaration.get("fields", ()):
        by_repeat.setdefault(declared["repeat"], []).append(declared)
    children: dict[str, list[str]] = {}
    for path, repeat in declaration.get("repeats", {}).items():
        children.setdefault(repeat["parent"], []).append(path)
    units: list[Unit] = []

    def walk(row: dict, repeat: str) -> None:
        units.append(unit_from(row, repeat, by_repeat.get(repeat, ())))
        for child in children.get(repeat, ()):
            for entry in row.get(declaration["repeats"][child]["key"], ()):
                if isinstance(entry, dict):
                    walk(entry, child)

    walk(data or {}, "")
    return units


def unit_from(row: dict, repeat: str, declared: list[dict]) -> Unit:
    """One row of a flattened copy (the household's, or a repeat entry) as a unit: its declared fields only."""
    unit = Unit(repeat)
    for item in declared:
        answer = row.get(item["key"])
        if not isinstance(answer, str) or not answer.strip():
            continue
        if item["kind"] == IDENTITY:
            unit.identity = answer
        elif item["kind"] == BANDS:
            band = band_of(answer, item["bands"])
            if band is not None:
                unit.values.append((item["name"], band))
        elif item["kind"] == DIMENSION:
            chosen = answer.split() if item["type"] == "select" else [answer.strip()]
            unit.values.extend((item["name"], choice) for choice in dict.fromkeys(chosen))
    return unit


def month_of(moment: datetime, time_zone: str) -> str:
    """The month a submission counts in: its received time in its organisation's time zone."""
    return moment.astimezone(ZoneInfo(time_zone or "Asia/Bangkok")).strftime("%Y-%m")


def store(
    connection: Connection,
    key: bytes,
    declaration: dict,
    data: dict | None,
    *,
    submission_id: int,
    organisation_id: int,
    form_id: str,
    month: str,
    received_at: datetime,
) -> tuple[int, set[int]]:
    """Insert the facts of one submission (no commit; ``counting.recount`` then says what counts);
    returns the household's unit id and its people's identity hashes."""
    units = units_of(declaration, data or {})
    common = dict(
        submission_id=submission_id, organisation_id=organisation_id, form_id=form_id, month=month, received_at=received_at
    )
    household = units[0]
    household_pk = connection.execute(
        _UNIT.insert().returning(_UNIT.c.id),
        dict(common, repeat="", household_id=None, identity=identity_hash(key, household.identity)),
    ).scalar_one()
    ids = [household_pk]
    rows: list[dict] = []
    if len(units) > 1:
        rows = [
            dict(common, repeat=unit.repeat, household_id=household_pk, identity=identity_hash(key, unit.identity))
            for unit in units[1:]
        ]
        result = connection.execute(_UNIT.insert().returning(_UNIT.c.id, sort_by_parameter_order=True), rows)
        ids.extend(result.scalars())
    values = [
        {"unit_id": unit_pk, "field": name, "choice": choice[:255]}
        for unit_pk, unit in zip(ids, units)
        for name, choice in unit.values
    ]
    if values:
        connection.execute(_VALUE.insert(), values)
    return household_pk, {row["identity"] for row in rows if row["identity"] is not None} if len(units) > 1 else set()


def declaration_of(version: FormVersion) -> dict:
    """A version's declaration; versions stored before the network column was read count their selects."""
    return version.network if version.network is not None else declare(version.field_tree, None)


_LOCK = 0x6E6574  # "net": the advisory lock that makes catch-ups wait for each other on PostgreSQL
# Submissions are looked for among the newest ids only: one stored in a transaction that committed
# after this many later ones had been caught up is found by ``rebuild`` (never seen: ingest commits
# within the request), and a catch-up reads no more than this many ids whatever the network's size.
WINDOW = 10_000


def catch_up(session: Session, key: bytes) -> int:
    """Bring the facts up to date with the stored submissions; returns how many submissions it read.
    Commits. Catch-ups wait for each other (PostgreSQL: an advisory lock; SQLite: one writer), so
    that two pages read at once do not both make the same facts."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _LOCK})
    newest = session.scalar(select(func.max(NetworkUnit.submission_id))) or 0
    missing = select(Submission.form_id, Submission.id, Submission.root_id).where(
        Submission.id > newest - WINDOW,
        Submission.form_id.in_(select(Form.id).where(Form.network_shared.is_(True))),
        Submission.is_current.is_(True),
        ~exists().where(NetworkUnit.submission_id == Submission.id),
    )
    by_form: dict[int, list[int]] = {}
    replaced: dict[int, tuple[set[int], set[int]]] = {}
    for form_pk, submission_pk, root_pk in session.execute(missing):
        by_form.setdefault(form_pk, []).append(submission_pk)
        if root_pk is not None:  # an edit, or a conflict taken new: the record's earlier versions count no more
            earlier = select(Submission.id).where(or_(Submission.id == root_pk, Submission.root_id == root_pk), Submission.id != submission_pk)
            gone = select(NetworkUnit.repeat, NetworkUnit.identity).where(NetworkUnit.submission_id.in_(earlier), NetworkUnit.identity.is_not(None))
            households, persons = replaced.setdefault(form_pk, (set(), set()))
            for repeat, identity in session.execute(gone):
                (households if repeat == "" else persons).add(identity)
            connection.execute(delete(NetworkUnit).where(NetworkUnit.submission_id.in_(earlier)))
    for form_pk, ids in by_form.items():
        form = session.get(Form, form_pk)
        households, persons = _store_batches(session, key, form, sorted(ids))
        gone_households, gone_persons = replaced.get(form_pk, (set(), set()))
        recount(connection, form.form_id, households=households, household_identities=gone_households, person_identities=persons | gone_persons)
    session.commit()
    return sum(len(ids) for ids in by_form.values())


def drop_form(session: Session, form: Form) -> None:
    """Delete a form's facts (sharing withdrawn): its organisation leaves the figures at once, and
    whom its records hid (older records of the same people elsewhere) count again."""
    _delete(session, form)
    recount(session.connection(), form.form_id)


def _delete(session: Session, form: Form) -> None:
    submissions = select(Submission.id).where(Submission.form_id == form.id)
    session.execute(delete(NetworkUnit).where(NetworkUnit.submission_id.in_(submissions)))


def build_form(session: Session, key: bytes, form: Form, *, counting: bool = True) -> int:
    """Make the facts of a form's current submissions anew; returns how many. No commit.
    ``counting=False``: the caller recounts the pooled form once all its organisations' are built."""
    _delete(session, form)
    ids = list(session.scalars(
        select(Submission.id).where(Submission.form_id == form.id, Submission.is_current.is_(True)).order_by(Submission.id)
    ))
    _store_batches(session, key, form, ids)
    if counting:
        recount(session.connection(), form.form_id)
    return len(ids)


def _store_batches(session: Session, key: bytes, form: Form, ids: list[int]) -> tuple[list[int], set[int]]:
    """Store the facts of these submissions of the form, a batch at a time; returns the households'
    unit ids and the people's identity hashes, for ``recount``."""
    from ..exports.flatten import repeat_paths

    organisation = session.get(Organisation, form.organisation_id)
    declarations = {version.id: declaration_of(version) for version in form.versions}
    repeats = {version.id: repeat_paths(version.field_tree) for version in form.versions}
    connection = session.connection()
    households: list[int] = []
    persons: set[int] = set()
    for start in range(0, len(ids), BATCH):
        rows = session.execute(
            select(Submission.id, Submission.form_version_id, Submission.data, Submission.xml, Submission.received_at)
            .where(Submission.id.in_(ids[start : start + BATCH]))
        ).all()
        for pk, version_pk, data, xml, received_at in rows:
            household_pk, identities = store(
                connection, key, declarations[version_pk], data if data is not None else _readable(xml, repeats[version_pk]),
                submission_id=pk, organisation_id=form.organisation_id, form_id=form.form_id,
                month=month_of(received_at, organisation.time_zone), received_at=received_at,
            )
            households.append(household_pk)
            persons.update(identities)
    return households, persons


def _readable(xml: bytes, repeats: frozenset[str]) -> dict:
    """The flattened copy made again; nothing counted (the household still is) if it cannot be read."""
    from lxml import etree

    from ..exports.flatten import flatten

    try:
        return flatten(xml, repeats)
    except (ValueError, etree.LxmlError):
        return {}


def rebuild(session: Session, key: bytes) -> int:
    """Make the facts of every shared form anew (after restoring a backup without its key, or to
    repair them); forms not shared keep none. Commits after each form."""
    done = 0
    for form in session.scalars(select(Form).where(Form.network_shared.is_(True)).order_by(Form.id)).all():
        done += build_form(session, key, form, counting=False)
        session.commit()
    unshared = select(Submission.id).join(Form, Form.id == Submission.form_id).where(Form.network_shared.is_(False))
    session.execute(delete(NetworkUnit).where(NetworkUnit.submission_id.in_(unshared)))
    for form_id in sorted(set(session.scalars(select(Form.form_id).where(Form.network_shared.is_(True))))):
        recount(session.connection(), form_id)
    session.commit()
    return done
