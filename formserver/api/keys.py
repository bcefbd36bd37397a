"""A form's encryption keys as ODK Central lists them, and the passphrases a CSV zip request posts.

Central keeps keys in a table of their own and numbers them; a client reads the number from
``…/submissions/keys`` and posts the passphrase keyed by it (``{"7": "passphrase"}``, as ruODK's
``submission_export(pp = …)`` does). formserver keeps a form's public key on each of its versions,
so a key's id is the id of the first version of the form that carried it: an integer as Central's,
stable (versions are never deleted or renumbered), the same for every later version with that key,
and never shared by two forms. The *managed* key is the one the server made
(``form_keys.turn_on_encryption``): the first key of a form whose private key is kept sealed, since
encryption can only be turned on for a form that had no key. Other keys were brought by the form's
designer ("bring your own key"): as Central, formserver cannot decrypt with them.

As Central: the listing names the keys of the versions that have encrypted submissions; a
passphrase for a key that is not the form's managed key is ignored (those submissions stay
``not decrypted``); a wrong one for the managed key refuses the whole request (400.12) before
anything is read. Passphrases are taken only from a POST's body: in an address they would stay in
proxies' logs and browsers' histories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from flask import jsonify, request
from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from ..central import iso
from ..db import request_session
from ..exports.decrypting import export_key
from ..models import Form, FormVersion, Organisation, Submission
from ..problems import Problem
from .access import form_in, project_route
from .errors import ApiError


@dataclass(frozen=True)
class Key:
    id: int
    public: str
    managed: bool
    hint: str | None
    created_at: datetime

    def as_central(self) -> dict:
        return {"id": self.id, "public": self.public, "managed": self.managed, "hint": self.hint,
                "createdAt": iso(self.created_at)}


def keys_of(session: Session, form: Form) -> list[Key]:
    """Every key of the form, in the order its versions first carried them."""
    rows = session.execute(
        select(FormVersion.id, FormVersion.public_key, FormVersion.created_at)
        .where(FormVersion.form_id == form.id, FormVersion.public_key.is_not(None))
        .order_by(FormVersion.id)
    )
    found: dict[str, Key] = {}
    for version_id, public, created_at in rows:
        if public not in found:
            managed = not found and form.sealed_private_key is not None
            found[public] = Key(version_id, public, managed, form.key_hint if managed else None, created_at)
    return list(found.values())


def key_id(form: Form, version: FormVersion | None) -> int | None:
    """The id of the key a version carries (Central's ``keyId`` of a form), None for a plain version."""
    if version is None or version.public_key is None:
        return None
    return min(v.id for v in form.versions if v.public_key == version.public_key)


def listed_keys(session: Session, form: Form) -> list[Key]:
    """Central's listing: the keys of versions with encrypted submissions (no flattened copy), newest first."""
    envelope = or_(Submission.data.is_(None), cast(Submission.data, Text) == "null")
    used = set(
        session.scalars(
            select(func.distinct(FormVersion.public_key))
            .join(Submission, Submission.form_version_id == FormVersion.id)
            .where(FormVersion.form_id == form.id, FormVersion.public_key.is_not(None), Submission.is_current.is_(True), envelope)
        )
    )
    return sorted((key for key in keys_of(session, form) if key.public in used), key=lambda key: key.id, reverse=True)


@project_route("/forms/<xml_form_id>/submissions/keys", "submission.read", methods=["GET"])
def submission_keys(organisation: Organisation, xml_form_id: str):
    form = form_in(organisation, xml_form_id)
    return jsonify([key.as_central() for key in listed_keys(request_session(), form)])


def posted_passphrases() -> dict[int, str]:
    """The passphrases of a POST's body, form-encoded or JSON, by key id (Central's ``{keyId}=passphrase``).

    Other fields are options, not passphrases; a key id in the address is refused, never read."""
    if any(name.isdigit() for name in request.args):
        raise ApiError(400.8, field="keyId", detail="a passphrase is taken only in the body of a POST, never in the address")
    if request.method != "POST":
        return {}
    body = request.get_json(silent=True) if request.is_json else request.form
    if not hasattr(body, "items"):  # no body, or JSON that is not an object
        return {}
    return {int(name): value for name, value in body.items() if name.isdigit() and isinstance(value, str)}


def decryption_key(session: Session, form: Form, passphrases: dict[int, str]) -> RSAPrivateKey | None:
    """The form's private key, opened with the passphrase posted for its managed key; None without one.

    A wrong passphrase is ``ApiError(400.12)``, said before any row is read."""
    managed = next((key for key in keys_of(session, form) if key.managed), None)
    if managed is None or managed.id not in passphrases:
        return None
    passphrase = passphrases[managed.id]
    if not passphrase:
        raise ApiError(400.12)
    try:
        return export_key(session, form, passphrase=passphrase)
    except Problem as problem:
        if problem.code == "export.wrong_passphrase":
            raise ApiError(400.12) from None
        raise
