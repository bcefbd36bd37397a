"""Central's JSON shapes of our things: timestamps, projects, users, forms, submissions, comments."""

from __future__ import annotations

import hashlib

from .. import central
from ..central import iso, record_key, submitter_id
from ..models import Form, FormVersion, Organisation, Submission, SubmissionComment, User
from .keys import key_id


def project(organisation: Organisation) -> dict:
    return {
        "id": organisation.id,
        "name": organisation.name,
        "description": None,
        "archived": False,
        "keyId": None,
        "createdAt": iso(organisation.created_at),
        "updatedAt": None,
        "deletedAt": None,
    }


def user(person: User) -> dict:
    return {
        "id": person.id,
        "type": "user",
        "displayName": person.email,
        "email": person.email,
        "createdAt": iso(person.created_at),
        "updatedAt": None,
        "deletedAt": None,
    }


def form(form: Form, version: FormVersion | None) -> dict:
    xform = version.xform if version is not None else b""
    return {
        "projectId": form.organisation_id,
        "xmlFormId": form.form_id,
        "state": form.state,
        "enketoId": None,
        "enketoOnceId": None,
        "hash": version.xform_md5 if version is not None else None,
        "sha": hashlib.sha1(xform).hexdigest() if version is not None else None,
        "sha256": hashlib.sha256(xform).hexdigest() if version is not None else None,
        "version": (version.version if version is not None else "") or "",
        "keyId": key_id(form, version),
        "draftToken": None,
        "publishedAt": iso(version.published_at) if version is not None else None,
        "name": (version.title if version is not None else form.title) or None,
        "createdAt": iso(form.created_at),
        "updatedAt": iso(version.created_at) if version is not None else None,
    }


def submission(key: str, first: Submission, current: Submission, edits: int) -> dict:
    """A record as Central lists it: keyed by its first instanceID, with the current version's metadata."""
    return {
        "instanceId": key,
        "submitterId": submitter_id(first.submitter_user_id, first.submitter_app_user_id),
        "deviceId": first.device_id,
        "userAgent": first.user_agent,
        "instanceName": current.instance_name,
        "reviewState": central.review_state(current.review_state, edits),
        "createdAt": iso(first.received_at),
        "updatedAt": iso(current.received_at) if edits else None,
        "deletedAt": None,
        "currentVersion": version(current, current),
    }


def version(row: Submission, current: Submission) -> dict:
    return {
        "instanceId": record_key(row.instance_id),
        "instanceName": row.instance_name,
        "submitterId": submitter_id(row.submitter_user_id, row.submitter_app_user_id),
        "deviceId": row.device_id,
        "userAgent": row.user_agent,
        "createdAt": iso(row.received_at),
        "current": row.id == current.id,
    }


def comment(row: SubmissionComment) -> dict:
    return {"body": row.text, "actorId": row.user_id, "createdAt": iso(row.created_at)}
