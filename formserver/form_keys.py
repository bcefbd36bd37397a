"""Encryption turned on by the server: a key pair made here, the private key kept only sealed.

As ODK Central does for its users: the manager chooses a passphrase, the server makes an RSA
key pair, keeps the private key sealed under the passphrase (``encryption.seal_private_key``)
with the hint the manager gave, and publishes a new version of the form carrying the public
key, under a server-assigned version, so phones switch at their next form update. The
passphrase is used once, here, and never stored, logged or shown again.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from . import audit, forms
from .encryption import MIN_PASSPHRASE, WeakPassphrase, make_key_pair, seal_private_key
from .models import Form, FormVersion, User
from .network.sharing import withdraw_encrypted
from .problems import Problem
from .xlsform import assigned_version, with_public_key

MAX_HINT = 500


def turn_on_encryption(
    session: Session, form: Form, passphrase: str, *, hint: str | None = None, actor: User | None = None
) -> FormVersion:
    """Make the form's key pair and publish the version phones encrypt with; ``Problem`` when it cannot."""
    base = forms.served_version(session, form) or forms.newest_version(session, form)
    if form.sealed_private_key is not None or any(v.is_encrypted for v in form.versions):
        raise Problem("form.already_encrypted", form_id=form.form_id)
    keys = make_key_pair()
    try:
        sealed = seal_private_key(keys.private_pem, passphrase)
    except WeakPassphrase:
        raise Problem("form.weak_passphrase", minimum=MIN_PASSPHRASE) from None
    number = assigned_version()
    if any(v.version == number for v in form.versions):
        raise Problem("form.version_exists", form_id=form.form_id, version=number)
    xform = with_public_key(base.xform, keys.public_key, number)
    version = FormVersion(
        form_id=form.id,
        version=number,
        title=base.title,
        xform=xform,
        xform_md5=hashlib.md5(xform).hexdigest(),
        source=xform,
        source_filename=f"{form.form_id}.xml",
        source_sha256=hashlib.sha256(xform).hexdigest(),
        field_tree=base.field_tree,
        network=base.network,
        expected_media=list(base.expected_media),
        warnings=[],
        public_key=keys.public_key,
        created_by_id=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    forms.carry_media_forward(session, form, version, set())
    form.sealed_private_key = sealed
    form.key_hint = (hint or "").strip()[:MAX_HINT] or None
    withdraw_encrypted(session, form, actor=actor)
    forms.publish(session, version, actor=actor)
    audit.record(session, "form.encrypt", organisation=form.organisation, user=actor, target=f"{form.form_id}@{number}")
    session.flush()
    session.refresh(version)
    return version
