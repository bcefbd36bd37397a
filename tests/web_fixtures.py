"""A small world for the web tests: two organisations, people in every role, a Thai form with a photo,
submissions sent the way phones send them, a kept-aside resubmission, device accounts and an export.

``build_world`` is a plain function; ``web`` builds it for one test (on the conftest
``app``), ``shared_web`` once per module for the table of routes × roles.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from formserver import appusers, create_app, forms
from formserver.accounts import add_member, create_organisation, digest_ha1
from formserver.config import Settings
from formserver.db import Database
from formserver.models import ExportJob, User, WebSession, utcnow
from formserver.permissions import VERBS_BY_ROLE
from formserver.problems import Problem
from formserver.storage import BlobStore
from formserver.web.auth import password_fingerprint

from .xlsforms import xlsform

PASSWORD = "correct horse battery"
CSRF = "test-csrf-token"
PHOTO = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)

TH, EN = "label::Thai (th)", "label::English (en)"
SURVEY = [
    {"type": "text", "name": "name", TH: "ชื่อผู้ให้ข้อมูล", EN: "Respondent's name"},
    {"type": "select_one yesno", "name": "consent", TH: "ยินยอมให้ข้อมูลหรือไม่", EN: "Do you consent?", "required": "yes"},
    {"type": "begin_group", "name": "household", TH: "ครัวเรือน", EN: "Household", "relevant": "${consent} = 'yes'"},
    {"type": "integer", "name": "members", TH: "จำนวนสมาชิก", EN: "Number of members"},
    {"type": "image", "name": "photo", TH: "ภาพถ่ายเอกสาร", EN: "Photo of the document"},
    {"type": "end_group"},
    {"type": "begin_repeat", "name": "member", TH: "สมาชิก", EN: "Member"},
    {"type": "text", "name": "member_name", TH: "ชื่อสมาชิก", EN: "Member's name"},
    {"type": "end_repeat"},
]
CHOICES = [
    {"list_name": "yesno", "name": "yes", TH: "ยินยอม", EN: "Yes"},
    {"list_name": "yesno", "name": "no", TH: "ไม่ยินยอม", EN: "No"},
]


def intake_form(version: str = "1", survey=None, choices=None) -> bytes:
    if survey is None and choices is None:
        return _standard_intake_form(version)
    return _intake_form(version, survey, choices)


@functools.cache
def _standard_intake_form(version: str) -> bytes:
    return _intake_form(version, None, None)


def _intake_form(version: str, survey, choices) -> bytes:
    return xlsform(
        survey or SURVEY,
        choices=choices or CHOICES,
        settings={"form_id": "intake", "form_title": "แบบสำรวจครัวเรือน", "version": version, "default_language": "Thai (th)"},
    )


def instance(instance_id: str, name: str = "สมชาย", members: str = "3", photo: str | None = "photo.png", version: str = "1") -> bytes:
    photo_xml = f"<photo>{photo}</photo>" if photo else "<photo/>"
    return (
        f'<data id="intake" version="{version}"><name>{name}</name><consent>yes</consent>'
        f"<household><members>{members}</members>{photo_xml}</household>"
        "<member><member_name>นิด</member_name></member><member><member_name>น้อย</member_name></member>"
        f"<meta><instanceID>{instance_id}</instanceID><instanceName>{name}</instanceName></meta></data>"
    ).encode("utf-8")


def make_user(session, email: str, *, admin: bool = False, realm: str = "formserver") -> User:
    """A user with a quick password hash (the tests sign in many times)."""
    user = User(
        email=email,
        is_admin=admin,
        password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        digest_ha1=digest_ha1(email, realm, PASSWORD),
    )
    session.add(user)
    session.flush()
    return user


@dataclass
class Place:
    """One organisation's things, by the ids and names that appear in addresses."""

    slug: str
    org_id: int
    form_id: str = "intake"
    published_version: int = 0
    draft_version: int = 0
    submission: int = 0
    attachment: str = "photo.png"
    app_user: int = 0
    revoked_app_user: int = 0
    conflict: int = 0
    job: int = 0
    manager: int = 0
    viewer: int = 0
    collector: int = 0


@dataclass
class World:
    own: Place
    other: Place
    users: dict[str, int] = field(default_factory=dict)  # role -> user id ("admin", "manager", ...)


def submit(session, blobs, organisation, xml: bytes, *, files=(), app_user=None):
    from formserver.submissions import ReceivedFile, ingest

    received = [ReceivedFile.from_bytes(blobs, name, content, content_type) for name, content, content_type in files]
    return ingest(session, blobs, organisation, xml, received, app_user=app_user, device_id="collect:test")


def build_place(session, blobs, settings: Settings, slug: str, name: str, people: dict[str, User]) -> Place:
    organisation = create_organisation(session, slug, name)
    for role, user in people.items():
        add_member(session, organisation, user, role)
    first = forms.add_form_version(session, blobs, organisation, intake_form("1"), "intake.xlsx")
    draft = forms.add_form_version(
        session,
        blobs,
        organisation,
        intake_form("2", survey=SURVEY + [{"type": "text", "name": "village", TH: "หมู่บ้าน", EN: "Village"}]),
        "intake.xlsx",
        draft=True,
    )
    phone = appusers.create_app_user(session, organisation, "โทรศัพท์ 1")
    lost = appusers.create_app_user(session, organisation, "lost phone")
    appusers.revoke_app_user(session, organisation, "lost phone")
    session.commit()
    outcome = submit(
        session, blobs, organisation, instance(f"uuid:{slug}-1"), files=[("photo.png", PHOTO, "image/png")], app_user=phone
    )
    try:
        submit(session, blobs, organisation, instance(f"uuid:{slug}-1", members="4"), app_user=phone)
    except Problem as problem:
        assert problem.code == "submission.conflict"
    from formserver.submissions import conflicts_of

    conflict = conflicts_of(session, organisation)[0]
    job = ExportJob(
        organisation_id=organisation.id,
        form_id=first.form.id,
        options={"format": "xlsx", "language": "th"},
        status="complete",
        rows_done=1,
        rows_total=1,
        file_name="intake.xlsx",
        created_at=utcnow(),
        finished_at=utcnow(),
    )
    session.add(job)
    session.commit()
    return Place(
        slug=slug,
        org_id=organisation.id,
        published_version=first.version.id,
        draft_version=draft.version.id,
        submission=outcome.submission.id,
        app_user=phone.id,
        revoked_app_user=lost.id,
        conflict=conflict.id,
        job=job.id,
        manager=people["manager"].id,
        viewer=people["viewer"].id,
        collector=people["collector"].id,
    )


_CONVERTED: dict[tuple[bytes, str], object] = {}


@contextlib.contextmanager
def _converting_each_workbook_once():
    """The world uploads the same few workbooks in every test: convert each once per run."""
    real = forms.convert

    def convert(content, filename, **options):
        key = (content, filename)
        if key not in _CONVERTED:
            _CONVERTED[key] = real(content, filename, **options)
        return copy.deepcopy(_CONVERTED[key])

    forms.convert = convert
    try:
        yield
    finally:
        forms.convert = real


def build_world(database: Database, blobs: BlobStore, settings: Settings) -> World:
    with _converting_each_workbook_once(), database.session_scope() as session:
        admin = make_user(session, "admin@example.org", admin=True)
        # A person in every role the code knows, so that a role added later is in every table of the tests.
        people = {role: make_user(session, f"{role}@hill.example") for role in VERBS_BY_ROLE}
        others = {role: make_user(session, f"{role}@river.example") for role in VERBS_BY_ROLE}
        session.commit()
        own = build_place(session, blobs, settings, "hillnet", "เครือข่ายบนดอย", people)
        other = build_place(session, blobs, settings, "rivernet", "River network", others)
        users = {"admin": admin.id, **{role: user.id for role, user in people.items()}}
        return World(own=own, other=other, users=users)


def sign_in(client, app, user_id: int | None, *, fingerprint: str | None = None) -> None:
    """Open a session as a sign-in would, with its ``WebSession`` row (quicker than posting the form every time).

    ``fingerprint``: that of the password the session was opened with, if it has changed since.
    """
    with client.session_transaction() as session:
        session.clear()
        session["csrf_token"] = CSRF
        if user_id is None:
            return
        with app.app_context():
            database = app.extensions["formserver.db"]
            with database.session_scope() as db:
                user = db.get(User, user_id)
                token = secrets.token_urlsafe(16)
                db.add(WebSession(user_id=user.id, token_sha256=hashlib.sha256(token.encode()).hexdigest()))
                session["_user_id"] = f"{user.id}.{fingerprint or password_fingerprint(user)}.{token}"
        session["_fresh"] = True
        session["seen"] = int(time.time())
        session.permanent = True


_SNAPSHOT: dict[str, object] = {}


@pytest.fixture
def web(app, settings, tmp_path_factory):
    """The world for one test. On SQLite it is built once and copied (database file and blobs) for each test."""
    database = app.extensions["formserver.db"]
    blobs = app.extensions["formserver.blobs"]
    if not settings.database_url.startswith("sqlite:///"):
        return build_world(database, blobs, settings)
    path = Path(settings.database_url.split("///", 1)[1])
    if "world" not in _SNAPSHOT:
        world = build_world(database, blobs, settings)
        database.dispose()  # the last connection closes: the WAL is checkpointed into the file
        folder = tmp_path_factory.mktemp("web-world")
        shutil.copyfile(path, folder / "world.sqlite3")
        shutil.copytree(settings.blob_dir, folder / "blobs")
        _SNAPSHOT.update(world=world, folder=folder)
        return copy.deepcopy(world)
    database.dispose()
    folder = _SNAPSHOT["folder"]
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.copyfile(folder / "world.sqlite3", path)
    shutil.copytree(folder / "blobs", settings.blob_dir, dirs_exist_ok=True)
    return copy.deepcopy(_SNAPSHOT["world"])


@pytest.fixture(scope="module")
def shared_settings(migrated_database, tmp_path_factory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("web-data")
    return Settings(
        data_dir=data_dir,
        database_url=migrated_database(),
        secret_key="test-secret-key",
        public_url="http://formserver.test",
        validate_with_java=False,
    )


@pytest.fixture(scope="module")
def shared_app(shared_settings):
    app = create_app(shared_settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["formserver.db"].dispose()


@pytest.fixture(scope="module")
def shared_web(shared_app, shared_settings) -> World:
    return build_world(shared_app.extensions["formserver.db"], shared_app.extensions["formserver.blobs"], shared_settings)
