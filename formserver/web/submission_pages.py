"""Submissions: the paged table, one record with its answers and photos, edits, review and comments,
attachments served through access checks, and differing resubmissions for a manager to resolve."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, or_, select

from .. import audit, submissions
from ..db import request_session
from ..models import (
    AppUser,
    Form,
    FormVersion,
    Organisation,
    ReviewState,
    Submission,
    SubmissionComment,
    SubmissionConflict,
    User,
    utcnow,
)
from ..problems import Problem
from ..submissions.encrypted import is_envelope
from ..xml import UnsafeOrBadXml, parse
from . import display
from .access import attachment_in, conflict_in, form_in, may, org_route, submission_in
from .auth import signed_in_user
from .download import INLINE_TYPES, private_headers, refuse, send_bytes
from ..translations import N_
from .i18n import _, current_language, flash_text, label_of

PAGE_SIZE = 50
REVIEW_STATES = [s.value for s in ReviewState]
MAX_COMMENT = 5000


# -- the table ----------------------------------------------------------------------------------


def _day(value: str | None, zone: ZoneInfo) -> datetime | None:
    try:
        return datetime.combine(datetime.strptime(value or "", "%Y-%m-%d").date(), time(0), zone)
    except ValueError:
        return None


def submissions_query(organisation: Organisation, form: Form, args) -> tuple:
    """The organisation's submissions of one form, filtered as the page asks; (query, filters)."""
    zone = ZoneInfo(organisation.time_zone or "Asia/Bangkok")
    query = select(Submission).where(Submission.organisation_id == organisation.id, Submission.form_id == form.id)
    filters = {k: (args.get(k) or "").strip() for k in ("from", "to", "submitter", "review", "q")}
    search = filters["q"]
    if search:
        # An instanceID finds its record in every version (also superseded ones and the edit that replaced it).
        ids = {search} if search.startswith("uuid:") else {search, "uuid:" + search}
        conditions = []
        for value in ids:
            conditions += [
                Submission.instance_id == value,
                Submission.instance_id.startswith(value + "~superseded-", autoescape=True),
                Submission.deprecated_id == value,
            ]
        query = query.where(or_(*conditions))
    else:
        query = query.where(Submission.is_current.is_(True))
    start, end = _day(filters["from"], zone), _day(filters["to"], zone)
    if start:
        query = query.where(Submission.received_at >= start)
    if end:
        query = query.where(Submission.received_at < end + timedelta(days=1))
    kind, _sep, number = filters["submitter"].partition(":")
    if number.isdigit():
        if kind == "app":
            query = query.where(Submission.submitter_app_user_id == int(number))
        elif kind == "user":
            query = query.where(Submission.submitter_user_id == int(number))
    if filters["review"] in REVIEW_STATES:
        query = query.where(Submission.review_state == filters["review"])
    return query, filters


def _submitters(organisation: Organisation, form: Form) -> list[tuple[str, str]]:
    """Everyone who has sent this form something: ("app:3", "Phone 3"), ("user:5", "a@b")."""
    session = request_session()
    apps = session.execute(
        select(AppUser.id, AppUser.name)
        .where(AppUser.id.in_(select(Submission.submitter_app_user_id).where(Submission.form_id == form.id)))
        .where(AppUser.organisation_id == organisation.id)
        .order_by(AppUser.name)
    ).all()
    people = session.execute(
        select(User.id, User.email)
        .where(User.id.in_(select(Submission.submitter_user_id).where(Submission.form_id == form.id)))
        .order_by(User.email)
    ).all()
    return [(f"app:{i}", name) for i, name in apps] + [(f"user:{i}", email) for i, email in people]


def submitter_names(submissions) -> dict[int, str]:
    """Submission id -> who sent it (device account name or e-mail)."""
    session = request_session()
    app_ids = {s.submitter_app_user_id for s in submissions if s.submitter_app_user_id}
    user_ids = {s.submitter_user_id for s in submissions if s.submitter_user_id}
    apps = dict(session.execute(select(AppUser.id, AppUser.name).where(AppUser.id.in_(app_ids))).all()) if app_ids else {}
    users = dict(session.execute(select(User.id, User.email).where(User.id.in_(user_ids))).all()) if user_ids else {}
    return {
        s.id: apps.get(s.submitter_app_user_id) or users.get(s.submitter_user_id) or "" for s in submissions
    }


@org_route("/forms/<form_id>/submissions", "submission.read", methods=["GET"])
def submissions_page(organisation: Organisation, form_id: str):
    session = request_session()
    form = form_in(organisation, form_id)
    query, filters = submissions_query(organisation, form, request.args)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    rows = session.scalars(
        query.order_by(Submission.received_at.desc(), Submission.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    present = dict(
        session.execute(
            select(Submission.id, func.count())
            .join(Submission.attachments)
            .where(Submission.id.in_([s.id for s in rows]))
            .group_by(Submission.id)
        ).all()
    ) if rows else {}
    versions = dict(session.execute(select(FormVersion.id, FormVersion.version).where(FormVersion.form_id == form.id)).all())
    return render_template(
        "submissions.html",
        organisation=organisation,
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        submitters=_submitters(organisation, form),
        names=submitter_names(rows),
        present=present,
        versions=versions,
        encrypted={s.id for s in rows if s.data is None},  # an envelope is the only submission without a flattened copy
        review_states=REVIEW_STATES,
        page_args={k: v for k, v in filters.items() if v},
    )


# -- one record ---------------------------------------------------------------------------------


def record_versions(submission: Submission) -> list[Submission]:
    """Every version of the record this submission belongs to, oldest first (edits and taken resubmissions)."""
    root = submission.root_id or submission.id
    return list(
        request_session().scalars(
            select(Submission)
            .where(Submission.organisation_id == submission.organisation_id)
            .where(or_(Submission.id == root, Submission.root_id == root))
            .order_by(Submission.received_at, Submission.id)
        )
    )


def answers_of(version: FormVersion, xml: bytes) -> list[display.Answer] | None:
    try:
        return display.walk(version.field_tree, xml)
    except UnsafeOrBadXml:
        return None


@org_route("/submissions/<int:submission_id>", "submission.read", methods=["GET"])
def submission_page(organisation: Organisation, submission_id: int):
    session = request_session()
    submission = submission_in(organisation, submission_id)
    form = session.get(Form, submission.form_id)
    version = submission.form_version
    tree = version.field_tree
    language = current_language()
    attachments = {a.name: a for a in submission.attachments}
    comments = session.execute(
        select(SubmissionComment, User.email)
        .outerjoin(User, User.id == SubmissionComment.user_id)
        .where(SubmissionComment.submission_id == submission.id)
        .order_by(SubmissionComment.created_at, SubmissionComment.id)
    ).all()
    conflicts = []
    if may("submission.resolve_conflict"):
        conflicts = session.scalars(
            select(SubmissionConflict).where(
                SubmissionConflict.submission_id == submission.id, SubmissionConflict.resolved_at.is_(None)
            )
        ).all()
    return render_template(
        "submission.html",
        organisation=organisation,
        form=form,
        submission=submission,
        version=version,
        encrypted=(encrypted := is_envelope(submission.xml)),
        answers=None if encrypted else answers_of(version, submission.xml),
        attachments=attachments,
        inline_types=display.INLINE_IMAGE_TYPES,
        label=lambda labels: label_of(labels, tree, language),
        versions=record_versions(submission),
        names=submitter_names([submission]),
        comments=comments,
        conflicts=conflicts,
        review_states=REVIEW_STATES,
    )


@org_route("/submissions/<int:submission_id>/xml", "submission.read", methods=["GET"])
def submission_xml(organisation: Organisation, submission_id: int):
    submission = submission_in(organisation, submission_id)
    session = request_session()
    audit.record(session, "submission.download", organisation=organisation, user=signed_in_user(), target=submission.instance_id)
    session.commit()
    name = submission.instance_id.replace("uuid:", "").split("~")[0] or str(submission.id)
    return send_bytes(submission.xml, f"{name}.xml", "application/xml")


@org_route("/submissions/<int:submission_id>/attachments/<path:name>", "attachment.read", methods=["GET"])
def submission_attachment(organisation: Organisation, submission_id: int, name: str):
    """A submission's file, only through this access check, never cached, logged in the audit."""
    submission = submission_in(organisation, submission_id)
    attachment = attachment_in(submission, name)
    return _send_file(organisation, attachment.sha256, attachment.name, attachment.content_type, submission.instance_id)


def _send_file(organisation: Organisation, sha256: str, name: str, content_type: str | None, instance_id: str):
    """A stored file to a signed-in reader: audited, never cached, shown inline only when harmless."""
    blobs = current_app.extensions["formserver.blobs"]
    try:
        handle = blobs.open(sha256)
    except (OSError, ValueError):
        return refuse(_("This file was announced by the phone but has not arrived yet."), status=404)
    return stored_file(handle, organisation, name, content_type, instance_id, signed_in_user())


def stored_file(handle, organisation: Organisation, name: str, content_type: str | None, instance_id: str, user: User, **details):
    """The answer for an open stored file (the web's and the API's): audited, never cached, inline only when harmless."""
    session = request_session()
    audit.record(session, "attachment.download", organisation=organisation, user=user, target=f"{instance_id}/{name}", **details)
    session.commit()
    content_type = (content_type or "").split(";")[0].strip().lower()
    inline = content_type in INLINE_TYPES
    response = send_file(
        handle,
        mimetype=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    return private_headers(response, name, inline=inline)


def set_review(session, organisation: Organisation, submission: Submission, user: User, state: str, **details) -> None:
    """Set a submission's review state (one of ``REVIEW_STATES``), audited when it changes."""
    if state != submission.review_state:
        submission.review_state = state
        audit.record(
            session, "submission.review", organisation=organisation, user=user, target=submission.instance_id, state=state, **details
        )


@org_route("/submissions/<int:submission_id>/review", "submission.update", methods=["POST"])
def review_submission(organisation: Organisation, submission_id: int):
    submission = submission_in(organisation, submission_id)
    state = request.form.get("state", "")
    if state not in REVIEW_STATES:
        return refuse(_("Choose a review state."), url_for("web.submission_page", slug=organisation.slug, submission_id=submission.id))
    session = request_session()
    user = signed_in_user()
    text = (request.form.get("comment") or "").strip()[:MAX_COMMENT]
    set_review(session, organisation, submission, user, state)
    if text:
        add_comment(session, organisation, submission, user, text)
    session.commit()
    flash_text(N_("Review state: %(state)s."), "success", words={"state": state})
    return redirect(url_for("web.submission_page", slug=organisation.slug, submission_id=submission.id))


def add_comment(session, organisation: Organisation, submission: Submission, user: User, text: str, **details) -> SubmissionComment:
    """A comment on a submission (at most ``MAX_COMMENT`` characters kept), audited."""
    comment = SubmissionComment(submission_id=submission.id, user_id=user.id, text=text[:MAX_COMMENT], created_at=utcnow())
    session.add(comment)
    audit.record(session, "submission.comment", organisation=organisation, user=user, target=submission.instance_id, **details)
    return comment


@org_route("/submissions/<int:submission_id>/comments", "submission.update", methods=["POST"])
def comment_submission(organisation: Organisation, submission_id: int):
    submission = submission_in(organisation, submission_id)
    text = (request.form.get("text") or "").strip()
    back = url_for("web.submission_page", slug=organisation.slug, submission_id=submission.id)
    if not text:
        return refuse(_("Write a comment first."), back)
    session = request_session()
    add_comment(session, organisation, submission, signed_in_user(), text)
    session.commit()
    return redirect(back + "#comments")


# -- differing resubmissions --------------------------------------------------------------------


@org_route("/conflicts", "submission.resolve_conflict", methods=["GET"])
def conflicts_page(organisation: Organisation):
    session = request_session()
    conflicts = submissions.conflicts_of(session, organisation, unresolved_only=request.args.get("all") != "1")
    forms_by_id = dict(
        session.execute(select(Form.id, Form).where(Form.organisation_id == organisation.id)).all()
    )
    return render_template(
        "conflicts.html",
        organisation=organisation,
        conflicts=conflicts,
        forms=forms_by_id,
        show_all=request.args.get("all") == "1",
    )


def _version_of_xml(form_pk: int, xml: bytes, fallback: FormVersion) -> FormVersion:
    try:
        version = parse(xml).get("version")
    except UnsafeOrBadXml:
        return fallback
    found = request_session().scalar(select(FormVersion).where(FormVersion.form_id == form_pk, FormVersion.version == version))
    return found or fallback


@org_route("/conflicts/<int:conflict_id>", "submission.resolve_conflict", methods=["GET"])
def conflict_page(organisation: Organisation, conflict_id: int):
    conflict = conflict_in(organisation, conflict_id)
    stored = conflict.submission
    language = current_language()
    stored_version = stored.form_version
    new_version = _version_of_xml(stored.form_id, conflict.xml, stored_version)
    stored_answers = answers_of(stored_version, stored.xml) or []
    new_answers = answers_of(new_version, conflict.xml) or []
    tree = stored_version.field_tree
    return render_template(
        "conflict.html",
        organisation=organisation,
        conflict=conflict,
        stored=stored,
        form=request_session().get(Form, stored.form_id),
        rows=display.side_by_side(stored_answers, new_answers),
        label=lambda labels: label_of(labels, tree, language),
        names=submitter_names([stored]),
    )


@org_route("/conflicts/<int:conflict_id>/attachments/<path:name>", "submission.resolve_conflict", methods=["GET"])
def conflict_attachment(organisation: Organisation, conflict_id: int, name: str):
    """A file sent with a kept-aside resubmission, so a manager can compare photos before deciding."""
    conflict = conflict_in(organisation, conflict_id)
    sent = next((f for f in conflict.attachments if f["name"] == name), None)
    if sent is None:
        abort(404)
    return _send_file(organisation, sent["sha256"], sent["name"], sent.get("content_type"), conflict.submission.instance_id)


@org_route("/conflicts/<int:conflict_id>/resolve", "submission.resolve_conflict", methods=["POST"])
def resolve_conflict(organisation: Organisation, conflict_id: int):
    conflict = conflict_in(organisation, conflict_id)
    resolution = request.form.get("resolution", "")
    back = url_for("web.conflict_page", slug=organisation.slug, conflict_id=conflict.id)
    if resolution not in submissions.RESOLUTIONS:
        return refuse(_("Choose which version to keep."), back)
    session = request_session()
    try:
        current = submissions.resolve_conflict(session, conflict, resolution, actor=signed_in_user())
    except Problem as problem:
        session.rollback()
        raise problem
    session.commit()
    flash_text(
        N_("Kept the stored submission.") if resolution == "keep_stored" else N_("The resubmission is now the current version."),
        "success",
    )
    return redirect(url_for("web.submission_page", slug=organisation.slug, submission_id=current.id))
