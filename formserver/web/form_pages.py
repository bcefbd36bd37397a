"""Forms: upload an XLSForm as a draft, preview it with what changes for exports, publish, media, state,
who may fill it (assignments), sharing with the network, history."""

from __future__ import annotations

from pathlib import PurePath

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import appusers, forms
from ..db import request_session
from ..models import FormState, FormVersion, Organisation, User
from ..network import sharing
from ..network.identity import installation_key
from ..problems import Problem
from ..workbooks import Limits
from ..xlsform import FormError
from . import changes as form_changes
from .access import form_in, org_route, version_in
from .auth import signed_in_user
from .display import type_name
from .download import refuse, send_bytes
from ..translations import N_
from .i18n import _, current_language, flash_problem, flash_text, label_of
from .relevance import as_written, in_words


def _settings():
    return current_app.extensions["formserver.settings"]


def _blobs():
    return current_app.extensions["formserver.blobs"]


@org_route("/forms/new", "form.create", methods=["GET", "POST"])
def upload_form(organisation: Organisation):
    if request.method == "GET":
        return render_template("form_upload.html", organisation=organisation)
    upload = request.files.get("xlsform")
    if upload is None or not upload.filename:
        return render_template(
            "form_upload.html", organisation=organisation, error=_("Choose an XLSForm file (.xlsx) to upload.")
        ), 400
    media = [(f.filename, f.read()) for f in request.files.getlist("media") if f and f.filename]
    session = request_session()
    try:
        result = forms.add_form_version(
            session,
            _blobs(),
            organisation,
            upload.read(),
            PurePath(upload.filename.replace("\\", "/")).name,
            media=media,
            draft=True,
            validate_with_java=_settings().java_available,
            limits=Limits.of(_settings()),
            actor=signed_in_user(),
        )
    except FormError as error:
        session.rollback()
        return render_template("form_upload.html", organisation=organisation, form_error=error, filename=upload.filename), 400
    except Problem as problem:
        session.rollback()
        return render_template("form_upload.html", organisation=organisation, problem=problem, filename=upload.filename), problem.status
    session.commit()
    if not result.created:
        flash_text(N_("This file is already stored as version %(version)s: nothing changed."), "info", version=result.version.version)
    elif result.version.is_draft:
        flash_text(N_("Version %(version)s is kept as a draft. Check the preview, then publish it."), "success", version=result.version.version)
    return redirect(url_for("web.form_version", slug=organisation.slug, form_id=result.form.form_id, version_id=result.version.id))


@org_route("/forms/<form_id>", "form.read", methods=["GET"])
def form_page(organisation: Organisation, form_id: str):
    session = request_session()
    form = form_in(organisation, form_id)
    versions = list(reversed(form.versions))
    creators = _emails({v.created_by_id for v in versions})
    summary = next((s for s in forms.summaries(session, organisation) if s.form.id == form.id), None)
    return render_template(
        "form.html",
        organisation=organisation,
        form=form,
        versions=versions,
        creators=creators,
        summary=summary,
        served=forms.served_version(session, form),
        encrypted=any(v.is_encrypted for v in versions),
        states=[s.value for s in FormState],
        assignments=appusers.assignments_of(session, form),
        assignable=appusers.assignable(session, organisation),
    )


def _emails(user_ids: set) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict(request_session().execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def _base_version(version: FormVersion) -> FormVersion | None:
    """What a version is compared with: the published version before it (for a draft, the one phones get now)."""
    session = request_session()
    query = select(FormVersion).where(
        FormVersion.form_id == version.form_id, FormVersion.published_at.is_not(None), FormVersion.id != version.id
    )
    if version.published_at is not None:
        query = query.where(FormVersion.published_at <= version.published_at, FormVersion.id < version.id)
    return session.scalar(query.order_by(FormVersion.published_at.desc(), FormVersion.id.desc()).limit(1))


@org_route("/forms/<form_id>/versions/<int:version_id>", "form.read", methods=["GET"])
def form_version(organisation: Organisation, form_id: str, version_id: int):
    form = form_in(organisation, form_id)
    version = version_in(form, version_id)
    tree = version.field_tree
    base = _base_version(version)
    language = current_language()

    def label(labels: dict | None) -> str:
        return label_of(labels, tree, language)

    def relevance(node: dict) -> tuple[str, bool]:
        """(text, in words?) for a node's relevance."""
        expression = node.get("relevant")
        words = in_words(expression, node["path"], tree.get("fields", []), language, label)
        return (words, True) if words else (as_written(expression), False)

    return render_template(
        "form_version.html",
        organisation=organisation,
        form=form,
        version=version,
        tree=tree,
        base=base,
        changes=form_changes.compare(base.field_tree if base else None, tree),
        label=label,
        relevance=relevance,
        as_written=as_written,
        type_name=type_name,
        creator=_emails({version.created_by_id}).get(version.created_by_id),
    )


@org_route("/forms/<form_id>/versions/<int:version_id>/publish", "form.update", methods=["POST"])
def publish_version(organisation: Organisation, form_id: str, version_id: int):
    form = form_in(organisation, form_id)
    version = version_in(form, version_id)
    session = request_session()
    if version.is_draft:
        forms.publish(session, version, actor=signed_in_user())
        session.commit()
        if version.missing_media:
            flash_text(
                N_("Version %(version)s is published, but phones will only get it once the missing media files are uploaded."),
                "warning",
                version=version.version,
            )
        else:
            flash_text(N_("Version %(version)s is published: phones get it the next time they fetch blank forms."), "success", version=version.version)
    return redirect(url_for("web.form_version", slug=organisation.slug, form_id=form.form_id, version_id=version.id))


@org_route("/forms/<form_id>/versions/<int:version_id>/media", "form.update", methods=["POST"])
def upload_media(organisation: Organisation, form_id: str, version_id: int):
    form = form_in(organisation, form_id)
    version = version_in(form, version_id)
    files = [f for f in request.files.getlist("media") if f and f.filename]
    if not files:
        return refuse(
            _("Choose one or more media files to upload."),
            url_for("web.form_version", slug=organisation.slug, form_id=form.form_id, version_id=version.id),
        )
    session = request_session()
    stored = []
    for upload in files:
        try:
            forms.attach_media(session, _blobs(), version, upload.filename, upload.read(), actor=signed_in_user())
            stored.append(PurePath(upload.filename.replace("\\", "/")).name)
        except Problem as problem:
            flash_problem(problem)
    session.commit()
    if stored:
        flash_text(N_("Stored: %(names)s."), "success", names=", ".join(stored))
    return redirect(url_for("web.form_version", slug=organisation.slug, form_id=form.form_id, version_id=version.id))


@org_route("/forms/<form_id>/state", "form.update", methods=["POST"])
def change_state(organisation: Organisation, form_id: str):
    form = form_in(organisation, form_id)
    session = request_session()
    state = request.form.get("state", "")
    forms.set_state(session, form, state, actor=signed_in_user())  # a Problem becomes the error page
    session.commit()
    flash_text(N_("The form is now %(state)s."), "success", words={"state": state})
    return redirect(url_for("web.form_page", slug=organisation.slug, form_id=form.form_id))


@org_route("/forms/<form_id>/network", "network.share", methods=["POST"])
def share_form(organisation: Organisation, form_id: str):
    """Count this form's submissions in the network figures, or stop: at once, audited."""
    form = form_in(organisation, form_id)
    session = request_session()
    shared = request.form.get("shared") == "on"
    key = installation_key(_blobs().data_dir)
    sharing.set_shared(session, key, form, shared, actor=signed_in_user())  # a Problem becomes the error page
    session.commit()
    if shared:
        flash_text(N_("This form's submissions now count in the network figures."), "success")
    else:
        flash_text(N_("This form's submissions no longer count in the network figures."), "success")
    return redirect(url_for("web.form_page", slug=organisation.slug, form_id=form.form_id))


@org_route("/forms/<form_id>/encryption", "form.update", methods=["POST"])
def encrypt_form(organisation: Organisation, form_id: str):
    """Turn encryption on with a passphrase typed twice; the passphrase goes no further than the key's seal."""
    form = form_in(organisation, form_id)
    back = url_for("web.form_page", slug=organisation.slug, form_id=form.form_id)
    passphrase = request.form.get("passphrase", "")
    if passphrase != request.form.get("passphrase_again", ""):
        return refuse(_("The two passphrases are not the same: type them again."), back)
    from ..form_keys import turn_on_encryption  # RSA key generation, only when asked for

    session = request_session()
    version = turn_on_encryption(session, form, passphrase, hint=request.form.get("hint"), actor=signed_in_user())
    session.commit()
    flash_text(
        N_("Encryption is on: version %(version)s carries the key, and phones switch to it at their next form update."),
        "success",
        version=version.version,
    )
    return redirect(back)


@org_route("/forms/<form_id>/assignments", "form.update", methods=["POST"])
def assign_form(organisation: Organisation, form_id: str):
    return _change_assignment(organisation, form_id, appusers.assign_form)


@org_route("/forms/<form_id>/assignments/remove", "form.update", methods=["POST"])
def unassign_form(organisation: Organisation, form_id: str):
    return _change_assignment(organisation, form_id, appusers.unassign_form)


def _change_assignment(organisation: Organisation, form_id: str, change):
    """Add or remove the account named by the ``who`` field (a Problem becomes the error page)."""
    form = form_in(organisation, form_id)
    session = request_session()
    change(session, form, **appusers.assignee_by_key(session, organisation, request.form.get("who", "")), actor=signed_in_user())
    session.commit()
    if appusers.assignments_of(session, form):
        flash_text(N_("Only the assigned accounts get this form."), "success")
    else:
        flash_text(N_("Every phone and collector of the organisation gets this form."), "success")
    return redirect(url_for("web.form_page", slug=organisation.slug, form_id=form.form_id))


@org_route("/forms/<form_id>/versions/<int:version_id>/xlsform", "form.read", methods=["GET"])
def version_source(organisation: Organisation, form_id: str, version_id: int):
    version = version_in(form_in(organisation, form_id), version_id)
    name = version.source_filename or f"{form_id}-{version.version}.xlsx"
    if version.source is None:
        return redirect(url_for("web.version_xform", slug=organisation.slug, form_id=form_id, version_id=version_id))
    return send_bytes(version.source, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@org_route("/forms/<form_id>/versions/<int:version_id>/xform", "form.read", methods=["GET"])
def version_xform(organisation: Organisation, form_id: str, version_id: int):
    version = version_in(form_in(organisation, form_id), version_id)
    return send_bytes(version.xform, f"{form_id}-{version.version}.xml", "application/xml")
