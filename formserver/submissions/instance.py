"""What a submission says and who sent it.

The ids of its instance, read with the one safe parser; the form and version
the instance names within the organisation; the columns derived from the
instance when it is stored (the flattened copy exports read, and how many
files its answers name); and the sender recorded with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from ..db import read_first
from ..encryption import Envelope
from ..exports.flatten import flattened_copy
from ..models import AppUser, Form, FormAssignment, FormVersion, Organisation, User
from ..problems import Problem
from ..xml import UnsafeOrBadXml, local_name, parse
from .encrypted import envelope_columns, recognise

MAX_NAME = 255  # characters in the columns of names and ids


def cut(value: str | None) -> str | None:
    """Text a phone sends about itself (device id, user agent, content type), cut to its column."""
    return value[:MAX_NAME] if value else None


@dataclass(frozen=True)
class Sender:
    """Who sent a submission, recorded with it (and with a kept-aside conflict)."""

    user: User | None
    app_user: AppUser | None
    device_id: str | None
    user_agent: str | None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def app_user_id(self) -> int | None:
        return self.app_user.id if self.app_user else None


# --------------------------------------------------------------------------- the instance


@dataclass(frozen=True)
class Instance:
    """What ingest needs from a submitted instance."""

    root: etree._Element
    form_id: str
    version: str | None
    instance_id: str
    deprecated_id: str | None
    instance_name: str | None
    envelope: Envelope | None = None  # set by ``encrypted.recognise`` for an encrypted submission


def read_instance(xml: bytes) -> Instance:
    """Parse with the one safe parser and pick out the ids, and an encrypted envelope's contents;
    raises ``Problem`` (400)."""
    try:
        root = parse(xml)
    except UnsafeOrBadXml as error:
        raise Problem("submission.malformed", detail=str(error)) from None
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise Problem("submission.no_form_id")
    meta = _child(root, "meta")
    instance_id = _text(_child(meta, "instanceID")) or (root.get("instanceID") or "").strip()
    if not instance_id:
        raise Problem("submission.no_instance_id")
    if len(instance_id) > MAX_NAME:
        raise Problem("submission.malformed", detail="the instanceID is longer than 255 characters")
    return recognise(Instance(
        root=root,
        form_id=form_id,
        version=(root.get("version") or "").strip() or None,
        instance_id=instance_id,
        deprecated_id=(_text(_child(meta, "deprecatedID")) or None),
        instance_name=(_text(_child(meta, "instanceName")) or None),
    ))


def _child(element, name: str):
    """The first child element with this local name, in any namespace or none (meta may be ``orx:meta``)."""
    return element.find("{*}" + name) if element is not None else None


def _text(element) -> str:
    return (element.text or "").strip() if element is not None else ""


_BINARY_PATHS: dict[str, frozenset[str]] = {}


def binary_paths(session: Session, version_pk: int, xform_md5: str) -> frozenset[str]:
    """Paths (below the instance root) of the form's binary fields; cached by the XForm's md5,
    since the field tree is derived from the XForm and a stored XForm never changes."""
    cached = _BINARY_PATHS.get(xform_md5)
    if cached is None:
        tree = session.scalar(select(FormVersion.field_tree).where(FormVersion.id == version_pk)) or {}
        paths = set()
        stack = list(tree.get("fields", []))
        while stack:
            node = stack.pop()
            if node.get("kind") == "field" and node.get("type") == "binary":
                paths.add(node["path"].split("/", 2)[-1])
            stack.extend(node.get("children", []))
        cached = _BINARY_PATHS[xform_md5] = frozenset(paths)
    return cached


def count_expected_attachments(root: etree._Element, paths: frozenset[str]) -> int:
    """How many binary fields have a value in this instance (repeats counted once per row)."""
    if not paths:
        return 0
    count = 0

    def walk(element, prefix: str) -> None:
        nonlocal count
        for child in element:
            if not isinstance(child.tag, str):
                continue
            path = f"{prefix}{local_name(child)}"
            if path in paths:
                if (child.text or "").strip():
                    count += 1
            elif len(child):
                walk(child, path + "/")

    walk(root, "")
    return count


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Target:
    form_pk: int
    form_id: str
    state: str
    version_pk: int
    version: str
    xform_md5: str
    has_assignments: bool


def _target_query(with_version: bool):
    form, version, assignment = Form.__table__, FormVersion.__table__, FormAssignment.__table__
    has_assignments = exists().where(assignment.c.form_id == form.c.id).correlate(form)
    query = (
        select(
            form.c.id.label("form_pk"),
            form.c.state,
            version.c.id.label("version_pk"),
            version.c.version,
            version.c.xform_md5,
            has_assignments.label("has_assignments"),
        )
        .select_from(form.join(version, version.c.form_id == form.c.id))
        .where(form.c.organisation_id == bindparam("organisation_pk"), form.c.form_id == bindparam("form_id"))
    )
    if with_version:
        return query.where(version.c.version == bindparam("version"))
    return (
        query.where(version.c.published_at.is_not(None))
        .order_by(version.c.published_at.desc(), version.c.id.desc())
        .limit(1)
    )


_TARGET = {True: _target_query(True), False: _target_query(False)}


def find_target(session: Session, organisation: Organisation, form_id: str, version: str | None) -> Target:
    """The form and version an instance names, in one query; 404 problems when either is unknown.

    An instance without a version attribute is taken as the version phones are served.
    Read outside the storing transaction (``read_first``): a form closed a moment later
    changes nothing, and the read costs no lock and less CPU.
    """
    parameters = {"organisation_pk": organisation.id, "form_id": form_id}
    if version is not None:
        parameters["version"] = version
    row = read_first(session, _TARGET[version is not None], parameters)
    if row is None:
        known = session.scalar(
            select(Form.id).where(Form.organisation_id == organisation.id, Form.form_id == form_id)
        )
        if known is None:
            raise Problem("submission.unknown_form", form_id=form_id)
        raise Problem("submission.unknown_version", form_id=form_id, version=version or "-")
    return Target(
        row["form_pk"], form_id, row["state"], row["version_pk"], row["version"], row["xform_md5"], bool(row["has_assignments"])
    )


def derived_columns(session: Session, target: Target, instance: Instance) -> dict:
    """The columns computed from the parsed instance when it is stored: the flattened copy that exports
    read (rebuildable from the XML) and how many files its answers name."""
    if instance.envelope is not None:
        return envelope_columns(instance.envelope)
    return {
        "data": flattened_copy(session, target.version_pk, instance.root, target.xform_md5),
        "attachments_expected": count_expected_attachments(
            instance.root, binary_paths(session, target.version_pk, target.xform_md5)
        ),
    }
