"""Submissions through the API: the list, one record, its XML, files, versions, review and comments,
and new submissions as raw XML through the same ``ingest`` as ODK Collect's."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from sqlalchemy import or_, select

from .. import audit
from ..central import OUR_REVIEW, record_key
from ..db import request_session
from ..exports.flatten import flatten
from ..models import Organisation, Submission, SubmissionComment
from ..submissions import ingest
from ..submissions.instance import read_instance
from ..web.submission_pages import add_comment, record_versions, set_review, stored_file
from . import json
from .access import attachment_in, form_in, project_route, record_in
from .auth import current_actor
from .errors import ApiError
from .records import binary_answers, records

SUBMISSIONS = "/forms/<xml_form_id>/submissions"
ONE = SUBMISSIONS + "/<instance_id>"


def _number(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise ApiError(400.8, field=name, detail=value)
    return int(value)


@project_route(SUBMISSIONS, "submission.read", methods=["GET"])
def list_submissions(organisation: Organisation, xml_form_id: str):
    """Every record, newest first; ``limit`` and ``offset`` page through them."""
    form = form_in(organisation, xml_form_id)
    query = records(form).order_by(Submission.received_at.desc(), Submission.id.desc())
    limit, offset = _number("limit"), _number("offset")
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    rows = request_session().execute(query).all()
    return jsonify([json.submission(record_key(first.instance_id), first, current, edits) for current, first, edits in rows])


def _record(organisation: Organisation, xml_form_id: str, instance_id: str):
    form = form_in(organisation, xml_form_id)
    first, current = record_in(form, instance_id)
    return form, first, current


def _edits(first: Submission) -> int:
    return len(record_versions(first)) - 1


@project_route(ONE, "submission.read", methods=["GET"])
def get_submission(organisation: Organisation, xml_form_id: str, instance_id: str):
    _form, first, current = _record(organisation, xml_form_id, instance_id)
    return jsonify(json.submission(record_key(first.instance_id), first, current, _edits(first)))


@project_route(ONE + ".xml", "submission.read", methods=["GET"])
def submission_xml(organisation: Organisation, xml_form_id: str, instance_id: str):
    _form, _first, current = _record(organisation, xml_form_id, instance_id)
    session = request_session()
    audit.record(
        session, "submission.download", organisation=organisation, user=current_actor().user, target=current.instance_id, source="api"
    )
    session.commit()
    return Response(current.xml, mimetype="application/xml")


@project_route(ONE + "/versions", "submission.read", methods=["GET"])
def submission_versions(organisation: Organisation, xml_form_id: str, instance_id: str):
    """Every version of the record, newest first, as Central lists them."""
    _form, first, current = _record(organisation, xml_form_id, instance_id)
    return jsonify([json.version(row, current) for row in reversed(record_versions(first))])


@project_route(ONE + "/attachments", "attachment.read", methods=["GET"])
def submission_attachments(organisation: Organisation, xml_form_id: str, instance_id: str):
    """The files the current version's answers name, and whether each has arrived."""
    _form, _first, current = _record(organisation, xml_form_id, instance_id)
    stored = {a.name for a in current.attachments}
    data = current.data if current.data is not None else flatten(current.xml, current.form_version.field_tree)
    named = binary_answers(current.form_version.field_tree, data)
    names = named + sorted(stored - set(named))
    return jsonify([{"name": name, "exists": name in stored} for name in names])


@project_route(ONE + "/attachments/<path:filename>", "attachment.read", methods=["GET"])
def submission_attachment(organisation: Organisation, xml_form_id: str, instance_id: str, filename: str):
    _form, _first, current = _record(organisation, xml_form_id, instance_id)
    attachment = attachment_in(current, filename)
    try:
        handle = current_app.extensions["formserver.blobs"].open(attachment.sha256)
    except (OSError, ValueError):
        raise ApiError(404.1) from None
    return stored_file(
        handle, organisation, attachment.name, attachment.content_type, current.instance_id, current_actor().user, source="api"
    )


@project_route(ONE, "submission.update", methods=["PATCH"])
def review_submission(organisation: Organisation, xml_form_id: str, instance_id: str):
    """Set ``reviewState`` with Central's words (null, hasIssues, edited, approved, rejected)."""
    _form, first, current = _record(organisation, xml_form_id, instance_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "reviewState" not in body:
        raise ApiError(400.2, field="reviewState")
    if body["reviewState"] not in OUR_REVIEW:
        raise ApiError(400.8, field="reviewState", detail=str(body["reviewState"]))
    session = request_session()
    set_review(session, organisation, current, current_actor().user, OUR_REVIEW[body["reviewState"]], source="api")
    session.commit()
    return jsonify(json.submission(record_key(first.instance_id), first, current, _edits(first)))


@project_route(ONE + "/comments", "submission.read", methods=["GET"])
def list_comments(organisation: Organisation, xml_form_id: str, instance_id: str):
    """The comments on every version of the record, newest first."""
    _form, first, _current = _record(organisation, xml_form_id, instance_id)
    root = first.id
    rows = request_session().scalars(
        select(SubmissionComment)
        .join(Submission, Submission.id == SubmissionComment.submission_id)
        .where(or_(Submission.id == root, Submission.root_id == root))
        .order_by(SubmissionComment.created_at.desc(), SubmissionComment.id.desc())
    )
    return jsonify([json.comment(row) for row in rows])


@project_route(ONE + "/comments", "submission.update", methods=["POST"])
def post_comment(organisation: Organisation, xml_form_id: str, instance_id: str):
    _form, _first, current = _record(organisation, xml_form_id, instance_id)
    body = request.get_json(silent=True)
    text = body.get("body") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400.2, field="body")
    session = request_session()
    comment = add_comment(session, organisation, current, current_actor().user, text.strip(), source="api")
    session.commit()
    return jsonify(json.comment(comment))


@project_route(SUBMISSIONS, "submission.create", methods=["POST"])
def create_submission(organisation: Organisation, xml_form_id: str):
    """A submission as raw XML, stored by ``ingest`` as Collect's are: an instanceID already stored is 409.3."""
    form = form_in(organisation, xml_form_id)
    xml = request.get_data(cache=False)
    if read_instance(xml).form_id != form.form_id:
        raise ApiError(400.8, field="id", detail="the XML names another form than the address")
    session = request_session()
    outcome = ingest(
        session,
        current_app.extensions["formserver.blobs"],
        organisation,
        xml,
        user=current_actor().user,
        device_id=request.args.get("deviceID"),
        user_agent=request.headers.get("User-Agent"),
    )
    stored = outcome.submission
    if outcome.status == "duplicate":
        raise ApiError(409.3, instance_id=stored.instance_id)
    first, current = record_in(form, _first_id_of(stored))
    return jsonify(json.submission(record_key(first.instance_id), first, current, _edits(first)))


def _first_id_of(stored: Submission) -> str:
    if stored.root_id is None:
        return record_key(stored.instance_id)
    return record_key(request_session().get(Submission, stored.root_id).instance_id)
