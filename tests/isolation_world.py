"""The world of the isolation matrix: the web tests' two organisations, with more in them.

To ``web_fixtures.build_world`` it adds, in each organisation, a form with a media file and a
submission of it (what phones list, download and send again), a kept-aside resubmission with a
photo, and an export whose file is kept; and two more people of "hillnet": a former member, and
a viewer whose password changed after they signed in; and a network analyst, a member of none. For the REST API (``/v1``) it opens a bearer
token for each person (the changed viewer's under their old password), one that has expired, and
opens more on demand (``Matrix.open_api_token``). "rivernet" holds the canaries: values found
nowhere else, whose presence in an answer to a person of "hillnet" is a leak.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from formserver import forms
from formserver.accounts import add_member, digest_ha1
from formserver.config import Settings
from formserver.db import Database
from formserver.api.auth import open_session
from formserver.models import (
    ApiSession,
    AppUser,
    ExportJob,
    Membership,
    Organisation,
    Submission,
    SubmissionConflict,
    User,
    utcnow,
)
from formserver.problems import Problem
from formserver.storage import BlobStore
from formserver.web.auth import password_fingerprint

from .collect_client import as_xform, instance_xml
from .web_fixtures import PHOTO, Place, World, instance, make_user, submit
from .xlsforms import xlsform

CANARY_NAME = "กัลยาณี ริมปิงสิบเก้า"
CANARY_ID_NUMBER = "0-5099-87614-32-7"
CANARY_FORM_ID = "river_secret_census"
CANARY_FORM_TITLE = "ทะเบียนลับชุมชนริมน้ำ"
CANARY_MEDIA = "river-secret-villages.csv"
CANARY_VILLAGE = "บ้านห้วยลับริมน้ำ"
CANARY_INSTANCE_ID = "uuid:7c1e5a2f-river-canary"
CANARY_ATTACHMENT = "river-secret-idcard.png"
CANARY_CONFLICT_FILE = "river-secret-second-photo.png"
CANARY_EXPORT = "river-secret-export.xlsx"


@dataclass
class Matrix:
    """What the table fills addresses with, who asks, and what must never reach them."""

    values: dict[str, dict]  # "own" and "other": URL values and bodies, by name
    users: dict[str, int]  # requester's key -> user id
    emails: dict[str, str]  # requester's key -> e-mail address (Digest user name)
    fingerprints: dict[str, str]  # requester's key -> the password fingerprint their session was opened with
    tokens: dict[str, str]  # requester's key -> device account token
    api_tokens: dict[str, str]  # requester's key -> API bearer token ("expired": one past its 24 hours)
    open_api_token: Callable[[str], str]  # a person's key -> a new API bearer token of theirs
    canaries: dict[str, str]  # what it is -> the value


def media_form(form_id: str, title: str, media: str) -> bytes:
    return as_xform(
        xlsform(
            [{"type": f"select_one_from_file {media}", "name": "village", "label": "Village"}],
            settings={"form_id": form_id, "form_title": title, "version": "1"},
        )
    )


def canary_household(members: int = 1) -> bytes:
    return (
        f'<data id="intake" version="1"><name>{CANARY_NAME}</name><consent>yes</consent>'
        f"<household><members>{members}</members><photo>{CANARY_ATTACHMENT}</photo></household>"
        f"<member><member_name>{CANARY_ID_NUMBER}</member_name></member>"
        f"<meta><instanceID>{CANARY_INSTANCE_ID}</instanceID><instanceName>{CANARY_NAME}</instanceName></meta></data>"
    ).encode("utf-8")


def kept_aside(session, blobs, organisation, xml: bytes, file_name: str, app_user) -> int:
    """Send a differing resubmission with a photo; the id of the conflict it becomes."""
    try:
        submit(session, blobs, organisation, xml, files=[(file_name, PHOTO, "image/png")], app_user=app_user)
    except Problem as problem:
        assert problem.code == "submission.conflict"
    return session.scalar(
        select(SubmissionConflict.id).order_by(SubmissionConflict.id.desc()).limit(1)
    )


def keep_export_file(settings: Settings, session, job_id: int, file_name: str, content: bytes) -> None:
    job = session.get(ExportJob, job_id)
    job.file_name = file_name
    folder = settings.export_dir / str(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_bytes(content)


def tokens_of(session, place: Place) -> tuple[str, str]:
    return session.get(AppUser, place.app_user).token, session.get(AppUser, place.revoked_app_user).token


def fill_place(session, blobs, settings, place: Place, *, form_id, title, media, village, household, household_file,
               conflict_xml, conflict_file, export_name, export_content) -> dict:
    """Add a form with media, a submission of it, a conflict with a photo and a kept export file; the place's values."""
    organisation = session.get(Organisation, place.org_id)
    phone = session.get(AppUser, place.app_user)
    forms.add_form_version(
        session, blobs, organisation, media_form(form_id, title, media), f"{form_id}.xml",
        media=[(media, f"name,label\nv1,{village}\n".encode())],
    )
    session.commit()
    sent = instance_xml(form_id, "1", f"uuid:{place.slug}-villages-1", "<village>v1</village>")
    submit(session, blobs, organisation, sent, app_user=phone)
    values = dict(vars(place), media_form=form_id, media_file=media, instance=sent, conflict_file=conflict_file)
    if household is not None:
        outcome = submit(session, blobs, organisation, household, files=[(household_file, PHOTO, "image/png")], app_user=phone)
        values.update(submission=outcome.submission_id, attachment=household_file)
    values["instance_id"] = session.get(Submission, values["submission"]).instance_id
    values["conflict"] = kept_aside(session, blobs, organisation, conflict_xml, conflict_file, phone)
    keep_export_file(settings, session, place.job, export_name, export_content)
    session.commit()
    return values


def former_member(session, organisation_id: int) -> User:
    user = make_user(session, "former@hill.example")
    add_member(session, session.get(Organisation, organisation_id), user, "collector")
    session.flush()
    session.delete(session.scalar(select(Membership).where(Membership.user_id == user.id)))
    return user


def network_analyst(session) -> User:
    """A network analyst: reads the network's figures, is a member of no organisation."""
    user = make_user(session, "analyst@network.example")
    user.is_analyst = True
    return user


def changed_password(session, organisation_id: int, realm: str) -> tuple[User, str]:
    """A viewer who signed in, and whose password was changed since: the fingerprint of the old one."""
    user = make_user(session, "changed@hill.example")
    add_member(session, session.get(Organisation, organisation_id), user, "viewer")
    fingerprint = password_fingerprint(user)
    user.password_hash = generate_password_hash("an entirely new password", method="pbkdf2:sha256:1000")
    user.digest_ha1 = digest_ha1(user.email, realm, "an entirely new password")
    return user, fingerprint


def api_tokens(session, users: dict[str, int], old_fingerprint: str) -> dict[str, str]:
    """A bearer token per person; the changed viewer's opened under their old password; one expired."""
    tokens = {key: open_session(session, session.get(User, user_id))[0] for key, user_id in users.items()}
    changed = session.scalar(select(ApiSession).where(ApiSession.user_id == users["changed"]))
    changed.password_fingerprint = old_fingerprint
    expired, row = open_session(session, session.get(User, users["viewer"]))
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    return {**tokens, "expired": expired}


def token_opener(database: Database, users: dict[str, int]) -> Callable[[str], str]:
    def open_api_token(key: str) -> str:
        with database.session_scope() as session:
            return open_session(session, session.get(User, users[key]))[0]

    return open_api_token


def build_matrix(database: Database, blobs: BlobStore, settings: Settings, world: World) -> Matrix:
    with database.session_scope() as session:
        own = fill_place(
            session, blobs, settings, world.own,
            form_id="hill_villages", title="หมู่บ้านบนดอย", media="villages.csv", village="บ้านบนดอย",
            household=None, household_file=None,
            conflict_xml=instance(f"uuid:{world.own.slug}-1", members="5"), conflict_file="second-photo.png",
            export_name="intake.xlsx", export_content=b"PK own export",
        )
        other = fill_place(
            session, blobs, settings, world.other,
            form_id=CANARY_FORM_ID, title=CANARY_FORM_TITLE, media=CANARY_MEDIA, village=CANARY_VILLAGE,
            household=canary_household(), household_file=CANARY_ATTACHMENT,
            conflict_xml=canary_household(members=2), conflict_file=CANARY_CONFLICT_FILE,
            export_name=CANARY_EXPORT, export_content=f"PK {CANARY_NAME} {CANARY_ID_NUMBER}".encode(),
        )
        former = former_member(session, world.own.org_id)
        analyst = network_analyst(session)
        changed, old_fingerprint = changed_password(session, world.own.org_id, settings.digest_realm)
        session.commit()
        users = {**world.users, "former": former.id, "analyst": analyst.id, "changed": changed.id, "river manager": world.other.manager}
        bearer_tokens = api_tokens(session, users, old_fingerprint)
        emails = {key: session.get(User, user_id).email for key, user_id in users.items()}
        device, revoked = tokens_of(session, world.own)
        other_device, other_revoked = tokens_of(session, world.other)
        other_name = session.get(Organisation, world.other.org_id).name
    canaries = {
        "a Thai name": CANARY_NAME,
        "an ID number": CANARY_ID_NUMBER,
        "a form id": CANARY_FORM_ID,
        "a form title": CANARY_FORM_TITLE,
        "a media file name": CANARY_MEDIA,
        "a media file's content": CANARY_VILLAGE,
        "an instanceID": CANARY_INSTANCE_ID,
        "an attachment's name": CANARY_ATTACHMENT,
        "a kept-aside photo's name": CANARY_CONFLICT_FILE,
        "an export file name": CANARY_EXPORT,
        "the organisation's name": other_name,
        "its members' e-mail addresses": "@river.example",
        "a device account's token": other_device,
        "a revoked device account's token": other_revoked,
    }
    return Matrix(
        values={"own": own, "other": other},
        users=users,
        emails=emails,
        fingerprints={"changed": old_fingerprint},
        tokens={"device": device, "revoked": revoked, "unknown": "f" * 64},
        api_tokens=bearer_tokens,
        open_api_token=token_opener(database, users),
        canaries=canaries,
    )
