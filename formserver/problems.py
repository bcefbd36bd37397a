"""The catalogue of what can go wrong, each with a stable code, an HTTP status and its words.

As ODK Central keeps its problems in one file, tests, logs and translations all
name the same thing. Raise ``Problem("form.version_exists", version="3")``;
each blueprint turns it into its own kind of answer in one place. The words
are English, marked for the gettext catalogue (``formserver/translations``),
and translated only when a problem is shown in another language: the command
line, which speaks English, never reads a catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from .translations import N_, Nn_, Text, bilingual, translate


@dataclass(frozen=True)
class Kind:
    status: int
    message: str | Text


CATALOGUE: dict[str, Kind] = {
    # Forms
    "form.invalid": Kind(400, N_("The form could not be converted: %(detail)s")),
    "form.unreadable": Kind(400, N_("The file %(filename)s is not an XLSForm (.xlsx or .xls) or an XForm (.xml).")),
    "form.validation_failed": Kind(400, N_("ODK Validate (JavaRosa) rejected the form: %(detail)s")),
    "form.macros": Kind(
        400,
        N_(
            "The workbook %(filename)s contains macros, which are not accepted: save it as an Excel workbook (.xlsx) "
            "without macros and upload it again."
        ),
    ),
    "form.too_large": Kind(
        413,
        N_("The workbook %(filename)s unpacks to more than %(limit_mb)s MB, the limit for an XLSForm. Nothing was stored."),
    ),
    "form.too_many_rows": Kind(
        413,
        N_(
            "The survey and choices sheets of %(filename)s have more than %(limit)s rows, the limit for an XLSForm. "
            "Split the form, or move long choice lists to a CSV file (select_one_from_file)."
        ),
    ),
    "form.version_exists": Kind(
        409,
        N_(
            "Form %(form_id)s already has a different version %(version)s. Change the version in the settings "
            "sheet before uploading again: phones decide by content, and two different forms under one version "
            "confuse them."
        ),
    ),
    "form.encryption_dropped": Kind(
        409,
        N_(
            "Form %(form_id)s is encrypted, and this version has no public_key: encryption cannot be turned "
            "off. Put the same public_key in the settings sheet and upload again."
        ),
    ),
    "form.already_encrypted": Kind(409, N_("Form %(form_id)s is encrypted already.")),
    "form.weak_passphrase": Kind(400, N_("A passphrase needs at least %(minimum)s characters.")),
    "form.not_assigned": Kind(404, N_("Form %(form_id)s is not assigned to %(who)s.")),
    "form.not_found": Kind(404, N_("There is no form %(form_id)s here.")),
    "form.version_not_found": Kind(404, N_("Form %(form_id)s has no version %(version)s.")),
    "form.closed": Kind(409, N_("Form %(form_id)s is closed and no longer accepts submissions.")),
    "form.bad_state": Kind(400, N_("%(state)s is not a form state: use open, closing or closed.")),
    # The network's figures
    "network.encrypted_form": Kind(
        409, N_("Form %(form_id)s is encrypted: its submissions cannot be counted in the network figures.")
    ),
    "network.no_form": Kind(404, N_("No organisation shares a form %(form_id)s with the network.")),
    "network.no_dimension": Kind(400, N_("Form %(form_id)s cannot be counted by %(field)s.")),
    "media.not_expected": Kind(400, N_("Form %(form_id)s does not use a media file named %(filename)s.")),
    "media.not_found": Kind(404, N_("Form %(form_id)s has no media file named %(filename)s.")),
    # Organisations and people
    "organisation.exists": Kind(409, N_("Organisation %(slug)s already exists.")),
    "organisation.not_found": Kind(404, N_("There is no organisation %(slug)s.")),
    "organisation.bad_slug": Kind(
        400,
        N_("%(slug)s cannot be an organisation's short name: use 2 to 64 lowercase letters, digits and hyphens."),
    ),
    "user.exists": Kind(409, N_("A user %(email)s already exists.")),
    "user.not_found": Kind(404, N_("There is no user %(email)s.")),
    "user.bad_email": Kind(400, N_("%(email)s is not an email address.")),
    "user.weak_password": Kind(400, N_("A password needs at least 10 characters.")),
    "member.bad_role": Kind(400, N_("%(role)s is not a role: use manager, collector or viewer.")),
    "member.not_found": Kind(404, N_("%(email)s is not a member of organisation %(slug)s.")),
    "member.last_manager": Kind(
        409, N_("%(email)s is the last manager of this organisation: make someone else a manager first.")
    ),
    # Signing in on the web
    "signin.failed": Kind(401, N_("The e-mail address or the password is not right.")),
    "signin.throttled": Kind(
        429,
        Nn_(
            "Too many failed sign-ins for this account. Wait %(minutes)s minute, then try again.",
            "Too many failed sign-ins for this account. Wait %(minutes)s minutes, then try again.",
            "minutes",
        ),
    ),
    # Submissions from phones (formserver/submissions.py, formserver/openrosa/). Collect shows these words.
    "submission.no_xml": Kind(
        400, N_("The request has no xml_submission_file part: send the submission as multipart/form-data.")
    ),
    "submission.malformed": Kind(400, N_("The submission is not valid XML: %(detail)s")),
    "submission.bad_envelope": Kind(400, N_("The submission cannot be stored: %(detail)s")),
    "submission.no_form_id": Kind(400, N_("The submission does not say which form it belongs to (no id).")),
    "submission.no_instance_id": Kind(400, N_("The submission has no meta/instanceID.")),
    "submission.unknown_form": Kind(404, N_("There is no form %(form_id)s in this organisation.")),
    "submission.unknown_version": Kind(404, N_("Form %(form_id)s has no version %(version)s: get blank forms again.")),
    "submission.conflict": Kind(
        409,
        N_(
            "A submission with ID %(instance_id)s already exists with different XML. Yours was kept aside for a "
            "manager."
        ),
    ),
    "submission.too_large": Kind(
        413, N_("%(filename)s is larger than the limit of %(limit_mb)s MB. Nothing was stored.")
    ),
    "submission.body_too_large": Kind(413, N_("The upload is larger than the limit of %(limit_mb)s MB. Nothing was stored.")),
    "submission.bad_file_name": Kind(
        400,
        N_(
            "The file name %(filename)s cannot be stored: a file name has no folders, no control characters and at "
            "most 255 characters. Nothing was stored."
        ),
    ),
    "submission.file_names_differ_in_case": Kind(
        400,
        N_(
            "The files %(first)s and %(second)s have names that differ only in capital letters, which computers that "
            "ignore case mix up. Nothing was stored."
        ),
    ),
    "submission.cut_off": Kind(400, N_("The upload was cut off before its end: send it again.")),
    "submission.failed": Kind(
        500, N_("The server could not store this submission; nothing was kept. It will be sent again.")
    ),
    "submission.forbidden": Kind(403, N_("This account may not send submissions to organisation %(slug)s.")),
    "submission.not_assigned": Kind(403, N_("Form %(form_id)s is not assigned to this account.")),
    "submission.conflict_not_found": Kind(404, N_("There is no kept-aside submission %(conflict_id)s.")),
    "submission.conflict_resolved": Kind(
        409, N_("Kept-aside submission %(conflict_id)s was already resolved (%(resolution)s).")
    ),
    "submission.bad_resolution": Kind(400, N_("%(resolution)s is not a resolution: use keep_stored or take_new.")),
    # Phones and device accounts (formserver/appusers.py, formserver/openrosa/auth.py)
    "appuser.exists": Kind(409, N_("Device account %(name)s already exists.")),
    "appuser.not_found": Kind(404, N_("There is no device account %(name)s.")),
    "appuser.bad_name": Kind(400, N_("A device account needs a name of 1 to 200 characters.")),
    "appuser.revoked": Kind(409, N_("Device account %(name)s was revoked.")),
    "appuser.sign_in_required": Kind(401, N_("Sign in with your e-mail address and password.")),
    "appuser.token_invalid": Kind(
        401, N_("This server address is not valid or was revoked: ask your coordinator for a new QR code.")
    ),
    "appuser.no_access": Kind(403, N_("This account may not use the forms of organisation %(slug)s.")),
    "address.not_found": Kind(
        404, N_("There is nothing at this address: check the server URL in ODK Collect's settings.")
    ),
    # Exports (formserver/exports/)
    "export.bad_option": Kind(400, N_("The export option %(option)s cannot be %(value)s.")),
    "export.forbidden": Kind(403, N_("Only managers and viewers of the organisation may export its data.")),
    "export.not_found": Kind(404, N_("There is no export %(job_id)s here.")),
    "export.not_ready": Kind(409, N_("Export %(job_id)s is %(status)s: there is no file to download.")),
    "export.expired": Kind(410, N_("The file of export %(job_id)s is no longer kept. Start a new export.")),
    "export.key_needed": Kind(
        400, N_("Form %(form_id)s is encrypted: give its passphrase or its private key to export it.")
    ),
    "export.wrong_passphrase": Kind(400, N_("The passphrase does not open the key of form %(form_id)s.")),
    "export.no_sealed_key": Kind(
        400, N_("Form %(form_id)s uses a key brought by its designer: give the private key file instead of a passphrase.")
    ),
    "export.key_unreadable": Kind(500, N_("The stored key of form %(form_id)s cannot be read: %(detail)s")),
    "export.not_a_private_key": Kind(400, N_("The file given is not a private key: %(detail)s")),
    "export.key_mismatch": Kind(400, N_("This private key does not belong to form %(form_id)s.")),
}


class Problem(Exception):
    """A domain error: a catalogue code plus the values its message needs."""

    def __init__(self, code: str, **values: object):
        if code not in CATALOGUE:
            raise KeyError(f"unknown problem code {code}")
        self.code = code
        self.values = values
        super().__init__(self.en)

    @property
    def kind(self) -> Kind:
        return CATALOGUE[self.code]

    @property
    def status(self) -> int:
        return self.kind.status

    def text(self, language: str) -> str:
        return translate(self.kind.message, language, **self.values)

    @property
    def en(self) -> str:
        return self.text("en")

    @property
    def bilingual(self) -> str:
        """The message in every language, as phones show it: "แบบฟอร์ม … ปิดรับข้อมูลแล้ว / Form … is closed …"."""
        return bilingual(self.kind.message, **self.values)
