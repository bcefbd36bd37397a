"""The narrow facts the network counts, kept for the forms their organisations share.

One ``network_unit`` row per household (submission) and per row of each of its repeats, holding
the organisation, the pooled form id, the month, the received time and the keyed hash of the
declared identity (or none); one ``network_value`` row per counted answer (a choice name, one per
chosen choice of a select_multiple, or a band). Nothing else of a submission is copied: no name,
no ID number, no free text, no date, no place.

Facts are written at ingest in the submission's own transaction (``store``), only for a shared
form and never for an encrypted submission; an edit replaces its record's facts (only the current
version counts). Sharing a form builds its facts from the stored submissions, withdrawing it
deletes them (``build_form``, ``drop_form``); ``rebuild`` makes every shared form's facts anew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models import Form, FormVersion, NetworkUnit, NetworkValue, Organisation, Submission
from .declaration import BANDS, DIMENSION, IDENTITY, band_of, declare
from .identity import identity_hash

_UNIT = NetworkUnit.__table__
_VALUE = NetworkValue.__table__
_SUBMISSION = Submission.__table__
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
    household first. Pure: what ingest, rebuilds and tests share."""
    by_repeat: dict[str, list[dict]] = {}
    for declared in declaration.get("fields", ()):
        by_repeat.setdefault(declared["repeat"], []).append(declared)
    children: dict[str, list[str]] = {}
    for path, repeat in declaration.get("repeats", {}).items():
        children.setdefault(repeat["parent"], []).append(path)
    units: list[Unit] = []

    def walk(row: dict, repeat: str) -> None:
        units.append(_unit(row, repeat, by_repeat.get(repeat, ())))
        for child in children.get(repeat, ()):
            for entry in row.get(declaration["repeats"][child]["key"], ()):
                if isinstance(entry, dict):
                    walk(entry, child)

    walk(data or {}, "")
    return units


def _unit(row: dict, repeat: str, declared: list[dict]) -> Unit:
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
) -> None:
    """Insert the facts of one submission (no commit: ingest's transaction or a rebuild's batch)."""
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


def forget_record(connection: Connection, root_pk: int, current_pk: int) -> None:
    """Drop the facts of a record's earlier versions: only the current one counts."""
    earlier = select(_SUBMISSION.c.id).where(
        (_SUBMISSION.c.id == root_pk) | (_SUBMISSION.c.root_id == root_pk), _SUBMISSION.c.id != current_pk
    )
    connection.execute(delete(_UNIT).where(_UNIT.c.submission_id.in_(earlier)))


def declaration_of(version: FormVersion) -> dict:
    """A version's declaration; versions stored before the network column was read count their selects."""
    return version.network if version.network is not None else declare(version.field_tree, None)


_DECLARATIONS: dict[str, dict] = {}
_DECLARATION = select(FormVersion.network, FormVersion.field_tree).where(FormVersion.id == bindparam("version_pk"))


def cached_declaration(connection: Connection, version_pk: int, xform_md5: str) -> dict:
    """The declaration of a version, cached by the XForm's md5 as ingest caches the field tree's readings."""
    found = _DECLARATIONS.get(xform_md5)
    if found is None:
        network, tree = connection.execute(_DECLARATION, {"version_pk": version_pk}).one()
        found = _DECLARATIONS[xform_md5] = network if network is not None else declare(tree, None)
    return found


def drop_form(session: Session, form: Form) -> None:
    """Delete a form's facts (sharing withdrawn): its organisation leaves the figures at once."""
    submissions = select(Submission.id).where(Submission.form_id == form.id)
    session.execute(delete(NetworkUnit).where(NetworkUnit.submission_id.in_(submissions)))


def build_form(session: Session, key: bytes, form: Form, *, progress=None) -> int:
    """Make the facts of a form's current, unencrypted submissions anew; returns how many. No commit."""
    from ..exports.flatten import flatten, repeat_paths

    drop_form(session, form)
    organisation = session.get(Organisation, form.organisation_id)
    declarations = {version.id: declaration_of(version) for version in form.versions}
    repeats = {version.id: repeat_paths(version.field_tree) for version in form.versions}
    encrypted = {version.id for version in form.versions if version.is_encrypted}
    connection = session.connection()
    done, last_id = 0, 0
    while True:
        batch = session.execute(
            select(Submission.id, Submission.form_version_id, Submission.data, Submission.xml, Submission.received_at)
            .where(Submission.form_id == form.id, Submission.is_current.is_(True), Submission.id > last_id)
            .order_by(Submission.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return done
        for pk, version_pk, data, xml, received_at in batch:
            if version_pk in encrypted or b"base64EncryptedKey" in xml[:4096]:
                continue
            if data is None:
                data = flatten(xml, repeats[version_pk])
            store(
                connection, key, declarations[version_pk], data,
                submission_id=pk, organisation_id=form.organisation_id, form_id=form.form_id,
                month=month_of(received_at, organisation.time_zone), received_at=received_at,
            )
            done += 1
        last_id = batch[-1][0]
        if progress is not None:
            progress(done)


def rebuild(session: Session, key: bytes, *, progress=None) -> int:
    """Make the facts of every shared form anew (after restoring a backup without its key, or to
    repair them); forms not shared keep none. Commits after each form."""
    done = 0
    for form in session.scalars(select(Form).where(Form.network_shared.is_(True)).order_by(Form.id)):
        done += build_form(session, key, form, progress=progress)
        session.commit()
    unshared = select(Submission.id).join(Form, Form.id == Submission.form_id).where(Form.network_shared.is_(False))
    session.execute(delete(NetworkUnit).where(NetworkUnit.submission_id.in_(unshared)))
    session.commit()
    return done
