"""Exports: choose the options, start a background job, watch its progress, download the file.

The page works without JavaScript (the form posts, the list shows each job's
state); ``static/app.js`` turns the start into a JSON request and polls the
progress endpoint to move the progress bar. Same session and CSRF rules as
every other page.

An encrypted form's export asks for the passphrase (or the private key file)
and is not a job: it is decrypted while it streams to the person who asked,
and kept nowhere (``exports/streamed.py``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import Response, current_app, jsonify, redirect, render_template, request, send_file, stream_with_context, url_for
from sqlalchemy import select

from .. import audit
from ..db import request_session
from ..exports import jobs
from ..exports.decrypting import export_key, form_is_encrypted
from ..exports.export import ExportOptions, time_zone_of
from ..exports.streamed import stream_export
from ..models import ExportJob, Form, Organisation, User
from ..problems import Problem
from .access import form_in, job_in, org_route
from .auth import signed_in_user, wants_json
from .download import private_headers, refuse
from .phones import base_url
from ..translations import N_
from .i18n import _, current_language, flash_text, problem_text

CHOICES = {
    "format": ("xlsx", "csv"),
    "language": ("th", "en"),
    "header": ("both", "names", "labels"),
    "values": ("labels", "names"),
}


def read_options(form, default_language: str) -> dict:
    """The export options from a submitted form; ValueError names the first bad one."""
    options: dict = {}
    for key, allowed in CHOICES.items():
        value = form.get(key) or (default_language if key == "language" else allowed[0])
        if value not in allowed:
            raise ValueError(key)
        options[key] = value
    for key in ("since", "until"):
        value = (form.get(key) or "").strip()
        if value:
            try:
                datetime.strptime(value, "%Y-%m-%d")
            except ValueError:
                raise ValueError(key) from None
        options[key] = value or None
    options["new_only"] = form.get("new_only") in ("1", "yes", "on", "true")
    options["media"] = form.get("media") in ("1", "yes", "on", "true")
    return options


def _jobs(organisation: Organisation, form: Form | None = None) -> list[ExportJob]:
    found = jobs.jobs_of(request_session(), organisation)
    return [j for j in found if form is None or j.form_id == form.id]


def _job_json(organisation: Organisation, job: ExportJob) -> dict:
    state = dict(jobs.progress(job))
    state["id"] = job.id
    state["progress_url"] = url_for("web.export_progress", slug=organisation.slug, job_id=job.id)
    if state.get("status") == "complete" and not state.get("expired"):
        state["download_url"] = url_for("web.export_download", slug=organisation.slug, job_id=job.id)
    return state


def _requesters(jobs_list) -> dict[int, str]:
    ids = {j.requested_by_id for j in jobs_list if j.requested_by_id}
    if not ids:
        return {}
    return dict(request_session().execute(select(User.id, User.email).where(User.id.in_(ids))).all())


@org_route("/exports", "export.read", methods=["GET"])
def exports_page(organisation: Organisation):
    jobs_list = _jobs(organisation)
    forms_by_id = dict(request_session().execute(select(Form.id, Form).where(Form.organisation_id == organisation.id)).all())
    return render_template(
        "exports.html",
        organisation=organisation,
        jobs=jobs_list,
        forms=forms_by_id,
        requesters=_requesters(jobs_list),
        progress={j.id: _job_json(organisation, j) for j in jobs_list},
    )


def connect_tools(organisation: Organisation, form: Form) -> dict:
    """What the "Connect Excel / Power BI / R / Python" box shows: the addresses as this browser reached
    the server, whether that is https (Excel, Power BI and R sign in with Basic, refused over http), the
    signed-in person's e-mail address and the organisation's time zone."""
    base = base_url()
    return {
        "base": base,
        "odata": f"{base}/v1/projects/{organisation.id}/forms/{quote(form.form_id, safe='')}.svc",
        "secure": request.is_secure,
        "email": signed_in_user().email,
        "time_zone": time_zone_of(organisation, current_app.extensions["formserver.settings"])[1],
    }


@org_route("/forms/<form_id>/export", "export.create", methods=["GET"])
def export_form_page(organisation: Organisation, form_id: str):
    form = form_in(organisation, form_id)
    jobs_list = _jobs(organisation, form)
    return render_template(
        "export_form.html",
        organisation=organisation,
        form=form,
        encrypted=form_is_encrypted(form.versions),
        jobs=jobs_list,
        requesters=_requesters(jobs_list),
        progress={j.id: _job_json(organisation, j) for j in jobs_list},
        connect=connect_tools(organisation, form),
    )


@org_route("/forms/<form_id>/export", "export.create", methods=["POST"], endpoint="start_export")
def start_export(organisation: Organisation, form_id: str):
    form = form_in(organisation, form_id)
    try:
        options = read_options(request.form, current_language())
    except ValueError as bad:
        message = _("This export option is not valid: %(option)s.", option=str(bad))
        if wants_json():
            return jsonify(error=message), 400
        return refuse(message, url_for("web.export_form_page", slug=organisation.slug, form_id=form.form_id))
    if form_is_encrypted(form.versions):
        return _decrypted_export(organisation, form, options)
    session = request_session()
    settings = current_app.extensions["formserver.settings"]
    try:
        job = jobs.start_export(session, settings, organisation, form, options, requested_by=signed_in_user())
    except Problem as problem:
        session.rollback()
        if wants_json():
            return jsonify(error=problem_text(problem)), problem.status
        raise
    session.commit()
    if wants_json():
        return jsonify(_job_json(organisation, job)), 202
    flash_text(N_("The export has started. It appears below when it is ready."), "info")
    return redirect(url_for("web.export_form_page", slug=organisation.slug, form_id=form.form_id))


@org_route("/exports/<int:job_id>", "export.read", methods=["GET"])
def export_progress(organisation: Organisation, job_id: int):
    job = job_in(organisation, job_id)
    request_session().refresh(job)
    return jsonify(_job_json(organisation, job))


@org_route("/exports/<int:job_id>/download", "export.read", methods=["GET"])
def export_download(organisation: Organisation, job_id: int):
    job = job_in(organisation, job_id)
    settings = current_app.extensions["formserver.settings"]
    back = url_for("web.exports_page", slug=organisation.slug)
    try:
        path = jobs.export_file(settings, job)
    except Problem as problem:
        return refuse(problem_text(problem), back, status=problem.status)
    if not path.is_file():
        return refuse(_("This export file is no longer kept. Start a new export."), back, status=410)
    session = request_session()
    audit.record(session, "export.download", organisation=organisation, user=signed_in_user(), target=job.file_name or path.name, job=job.id)
    session.commit()
    response = send_file(path, as_attachment=True, download_name=job.file_name or path.name, conditional=False, etag=False, max_age=0)
    return private_headers(response, job.file_name or path.name)


PEM_LIMIT = 64 * 1024  # a 4096-bit PEM is about 3 KB


def _decrypted_export(organisation: Organisation, form: Form, options: dict):
    """Open the key now (a wrong passphrase is said at once), then stream the decrypted export."""
    session = request_session()
    settings = current_app.extensions["formserver.settings"]
    back = url_for("web.export_form_page", slug=organisation.slug, form_id=form.form_id)
    upload = request.files.get("private_key")
    pem = upload.stream.read(PEM_LIMIT) if upload and upload.filename else None
    try:
        parsed = ExportOptions.from_dict(options)
        if parsed.new_only:
            raise Problem("export.bad_option", option="new_only", value="with decryption")
        key = export_key(session, form, passphrase=request.form.get("passphrase") or None, private_pem=pem)
    except Problem as problem:
        session.rollback()
        return refuse(problem_text(problem), back, status=problem.status)
    user = signed_in_user()
    name = jobs.export_file_name(form, parsed, organisation, settings)
    audit.record(
        session, "export.create", organisation=organisation, user=user, target=form.form_id, decrypted=True,
        **{k: v for k, v in parsed.to_dict().items() if v not in (None, False)},
    )
    session.commit()
    chunks = stream_export(
        settings, organisation.id, form.id, parsed, key, requested_by_id=user.id if user else None,
        file_stem=name.split(".")[0],
    )
    response = Response(stream_with_context(chunks), mimetype="application/octet-stream")
    return private_headers(response, name)
