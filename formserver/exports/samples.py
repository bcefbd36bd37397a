"""Submissions made without a phone: instance XML from plain values, stored as ingest would store them.

For tests, benchmarks and demonstrations. Values are given in the shape of the
flattened copy (``flatten.py``): answers keyed by their path relative to the
row's node, repeats as lists of such dicts::

    add_submission(session, version, {
        "intake/household/head_name": "สมชาย",
        "intake/member": [{"member_name": "นา"}, {"member_name": "แดง"}],
    })
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from lxml import etree
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ..models import AppUser, FormVersion, Submission, SubmissionAttachment, User, utcnow
from ..storage import BlobStore
from .flatten import flatten, repeat_paths


def instance_xml(tree: dict, values: dict, *, instance_id: str | None = None, deprecated_id: str | None = None) -> bytes:
    """An instance of the form as Collect sends it: every element of the tree, in the tree's order."""
    prefix = "/" + tree["root"] + "/"
    root = etree.Element(tree["root"], id=tree["form_id"])
    if tree.get("version"):
        root.set("version", tree["version"])
    values = dict(values)
    if instance_id is not None:
        values.setdefault("meta/instanceID", instance_id)
    if deprecated_id is not None:
        values.setdefault("meta/deprecatedID", deprecated_id)

    def build(parent, nodes: list[dict], row: dict, base: str) -> None:
        for node in nodes:
            path = node["path"][len(prefix):]
            relative = path[len(base) + 1:] if base else path
            if node["kind"] == "repeat":
                for entry in row.get(relative) or ():
                    element = etree.SubElement(parent, node["name"])
                    build(element, node.get("children", []), entry, path)
            elif node["kind"] == "group":
                element = etree.SubElement(parent, node["name"])
                build(element, node.get("children", []), row, base)
            else:
                element = etree.SubElement(parent, node["name"])
                value = row.get(relative)
                if value is not None:
                    element.text = str(value)
        if not base:
            # deprecatedID is not in the form; Collect adds it to meta when a record is edited.
            if "meta/deprecatedID" in row:
                meta = parent.find("meta")
                if meta is None:
                    meta = etree.SubElement(parent, "meta")
                etree.SubElement(meta, "deprecatedID").text = row["meta/deprecatedID"]

    build(root, tree["fields"], values, "")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def add_submission(
    session: Session,
    version: FormVersion,
    values: dict,
    *,
    instance_id: str | None = None,
    edit_of: Submission | None = None,
    **details,
) -> Submission:
    """Store one submission of ``version`` made from ``values`` (see ``add_instance`` for ``details``)."""
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    xml = instance_xml(
        version.field_tree, values, instance_id=instance_id, deprecated_id=edit_of.instance_id if edit_of else None
    )
    return add_instance(session, version, xml, instance_id=instance_id, edit_of=edit_of, **details)


def add_instance(
    session: Session,
    version: FormVersion,
    xml: bytes,
    *,
    instance_id: str | None = None,
    received_at: datetime | None = None,
    user: User | None = None,
    app_user: AppUser | None = None,
    device_id: str | None = None,
    review_state: str = "received",
    edit_of: Submission | None = None,
    attachments: dict[str, bytes] | None = None,
    blobs: BlobStore | None = None,
    attachments_expected: int | None = None,
    flattened: bool = True,
) -> Submission:
    """Store an instance's XML as ingest would, with its flattened copy (unless ``flattened=False``).

    The instance id is read from ``meta/instanceID`` when not given.
    """
    if instance_id is None:
        found = etree.fromstring(xml).xpath("//*[local-name()='meta']/*[local-name()='instanceID']/text()")
        instance_id = found[0].strip() if found else f"uuid:{uuid.uuid4()}"
    form = version.form
    submission = Submission(
        organisation_id=form.organisation_id,
        form_id=form.id,
        form_version_id=version.id,
        instance_id=instance_id,
        xml=xml,
        xml_sha256=hashlib.sha256(xml).hexdigest(),
        data=flatten(xml, repeat_paths(version.field_tree)) if flattened else None,
        received_at=received_at or utcnow(),
        submitter_user_id=user.id if user else None,
        submitter_app_user_id=app_user.id if app_user else None,
        device_id=device_id,
        review_state=review_state,
        deprecated_id=edit_of.instance_id if edit_of else None,
        is_current=True,
        attachments_expected=attachments_expected if attachments_expected is not None else len(attachments or {}),
    )
    if edit_of is not None:
        root = edit_of.root_id or edit_of.id
        submission.root_id = root
        session.execute(
            update(Submission)
            .where(or_(Submission.id == root, Submission.root_id == root), Submission.is_current.is_(True))
            .values(is_current=False)
        )
    for name, content in (attachments or {}).items():
        blob = blobs.put_bytes(content)
        submission.attachments.append(
            SubmissionAttachment(name=name, sha256=blob.sha256, size=blob.size, content_type="application/octet-stream")
        )
    session.add(submission)
    session.flush()
    if edit_of is not None:
        session.refresh(edit_of)
    return submission
