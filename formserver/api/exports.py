"""``submissions.csv.zip``: a form's submissions in ODK Central's CSV layout, which ruODK and scripts
written for Central parse, made by formserver's exporter (``layout="central"``) and streamed.

Central's options: ``attachments`` (true: the files in ``media/``), ``splitSelectMultiples`` (a 0/1
column per choice), ``groupPaths`` (column names with their groups) and ``$filter`` on the metadata
as in the OData feed. ``deletedFields`` is accepted: the columns of fields that only older versions
had are always there, at the end.

Encrypted forms as Central: ``POST`` the passphrase in the body (form-encoded or JSON, keyed by the
key id ``…/submissions/keys`` lists) and the zip is decrypted while it streams, never kept; a wrong
passphrase is 400.12 before the first byte. Without one (or for a key the designer brought), each
encrypted submission is a row of metadata with Status ``not decrypted`` and no files.
"""

from __future__ import annotations

import itertools

from flask import Response, current_app, request

from .. import audit
from ..db import reading_session, request_session
from ..exports.export import ExportOptions, run_export
from ..exports.streaming import streamed
from ..models import Form, Organisation, Submission
from ..web.download import private_headers
from .access import form_in, project_route
from .auth import current_actor
from .errors import ApiError
from .keys import decryption_key, posted_passphrases
from .odata_filter import parse_filter
from .records import records

FLAGS = {"attachments": True, "splitSelectMultiples": False, "groupPaths": True, "deletedFields": False}


def _flag(name: str) -> bool:
    value = request.args.get(name)
    if value is None:
        return FLAGS[name]
    if value not in ("true", "false"):
        raise ApiError(400.8, field=name, detail=value)
    return value == "true"


def _filtered(form: Form):
    """The ``$filter`` as a condition on ``Submission`` (None without one); other ``$`` options are 501."""
    unknown = [name for name in request.args if name.startswith("$") and name != "$filter"]
    if unknown:
        raise ApiError(501.1, feature=unknown[0])
    text = request.args.get("$filter")
    if not text:
        return None
    every = records(form)
    return Submission.id.in_(every.where(parse_filter(text, every.selected_columns.edits)).with_only_columns(Submission.id))


@project_route("/forms/<xml_form_id>/submissions.csv.zip", "export.create", methods=["GET", "POST"])
def submissions_csv_zip(organisation: Organisation, xml_form_id: str):
    form = form_in(organisation, xml_form_id)
    flags = {name: _flag(name) for name in FLAGS}
    where = _filtered(form)
    key = decryption_key(request_session(), form, posted_passphrases())
    options = ExportOptions(
        format="csv", layout="central", header="names", values="names", bom=False, media=flags["attachments"],
        split_selects=flags["splitSelectMultiples"], group_paths=flags["groupPaths"],
    )
    settings = current_app.extensions["formserver.settings"]
    blobs = current_app.extensions["formserver.blobs"]
    organisation_id, form_pk = organisation.id, form.id

    def write(target) -> None:
        with reading_session(settings) as reader:
            run_export(
                reader, settings, reader.get(Organisation, organisation_id), reader.get(Form, form_pk), options, target,
                blobs=blobs, where=where, key=key, undecrypted=key is None,
            )

    chunks = streamed(write)
    first = next(chunks, b"")  # an export that cannot start is an error answer, not a broken download
    file_name = f"{form.form_id}.csv.zip"
    session = request_session()
    decrypted = {"decrypted": True} if key is not None else {}
    audit.record(
        session, "export.download", organisation=organisation, user=current_actor().user, target=file_name, source="api", **decrypted
    )
    session.commit()
    response = Response(itertools.chain([first], chunks), mimetype="application/zip")
    return private_headers(response, file_name)
