"""Projects (organisations) and their forms: the list, one form, its XForm, versions, media and fields."""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import Response, jsonify
from sqlalchemy import select

from .. import forms as form_store
from ..db import request_session
from ..models import FormVersion, Organisation
from ..web.access import organisations_of
from ..xform import iter_fields
from . import json
from .access import actor_route, form_in, project_route
from .auth import Actor
from .errors import ApiError

MEDIA_TYPES = {
    "image": {".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".bmp"},
    "audio": {".mp3", ".wav", ".ogg", ".m4a", ".amr", ".aac"},
    "video": {".mp4", ".3gp", ".webm", ".mov", ".avi"},
}


@actor_route("/projects", methods=["GET"])
def projects(actor: Actor):
    """The organisations the caller can open (all of them for a network administrator)."""
    if actor.user is None:
        return jsonify([])
    return jsonify([json.project(organisation) for organisation, _role in organisations_of(actor.user)])


@project_route("", "organisation.read", methods=["GET"])
def project(organisation: Organisation):
    return jsonify(json.project(organisation))


def current_version(form) -> FormVersion | None:
    """The version Central would call the form's: the one phones get, else the newest draft."""
    session = request_session()
    return form_store.served_version(session, form) or form_store.newest_version(session, form)


@project_route("/forms", "form.read", methods=["GET"])
def forms(organisation: Organisation):
    session = request_session()
    return jsonify([json.form(f, current_version(f)) for f in form_store.forms_of(session, organisation)])


@project_route("/forms/<xml_form_id>", "form.read", methods=["GET"])
def form(organisation: Organisation, xml_form_id: str):
    found = form_in(organisation, xml_form_id)
    return jsonify(json.form(found, current_version(found)))


@project_route("/forms/<xml_form_id>.xml", "form.read", methods=["GET"])
def form_xml(organisation: Organisation, xml_form_id: str):
    version = current_version(form_in(organisation, xml_form_id))
    if version is None:
        raise ApiError(404.1)
    return Response(version.xform, mimetype="application/xml")


@project_route("/forms/<xml_form_id>/versions", "form.read", methods=["GET"])
def form_versions(organisation: Organisation, xml_form_id: str):
    """The published versions, newest first."""
    found = form_in(organisation, xml_form_id)
    published = request_session().scalars(
        select(FormVersion)
        .where(FormVersion.form_id == found.id, FormVersion.published_at.is_not(None))
        .order_by(FormVersion.published_at.desc(), FormVersion.id.desc())
    )
    return jsonify([json.form(found, version) for version in published])


def media_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return next((kind for kind, suffixes in MEDIA_TYPES.items() if suffix in suffixes), "file")


@project_route("/forms/<xml_form_id>/attachments", "form.read", methods=["GET"])
def form_attachments(organisation: Organisation, xml_form_id: str):
    """The media files the current version uses, and whether each has been uploaded."""
    version = current_version(form_in(organisation, xml_form_id))
    if version is None:
        return jsonify([])
    present = {m.filename: m for m in version.media}
    return jsonify(
        [
            {
                "name": name,
                "type": media_type(name),
                "exists": name in present,
                "blobExists": name in present,
                "datasetExists": False,
                "updatedAt": json.iso(version.created_at) if name in present else None,
            }
            for name in version.expected_media
        ]
    )


def field_type(node: dict) -> str:
    """Central's type of a field-tree node: the bind type, selects as strings, groups as structures."""
    if node["kind"] == "group":
        return "structure"
    if node["kind"] == "repeat":
        return "repeat"
    kind = node.get("type") or "string"
    return "string" if kind in ("select1", "select", "odk:rank", "rank") else kind


def fields(tree: dict) -> list[dict]:
    """Every node of the form as Central's field list: paths below the root, in document order."""
    prefix = "/" + tree["root"]
    return [
        {
            "path": node["path"][len(prefix):] if node["path"].startswith(prefix + "/") else node["path"],
            "name": node["name"],
            "type": field_type(node),
            "binary": True if node.get("type") == "binary" else None,
            "selectMultiple": True if node.get("type") == "select" else None,
        }
        for node in iter_fields(tree["fields"])
    ]


@project_route("/forms/<xml_form_id>/fields", "form.read", methods=["GET"])
def form_fields(organisation: Organisation, xml_form_id: str):
    version = current_version(form_in(organisation, xml_form_id))
    return jsonify(fields(version.field_tree) if version is not None else [])
