"""Encrypted submissions at ingest: the envelope is recognised, checked and stored untouched.

Collect sends an encrypted instance as a plaintext envelope (``encryption.read_envelope``)
with one ``.enc`` file per media file and the encrypted instance XML. The server cannot
read the answers, so an envelope has no flattened copy; the files it expects are the
``.enc`` files it names, so that split uploads and the attachment counts work as for
plain forms. Dedupe and resends need nothing more: they compare the stored XML.
"""

from __future__ import annotations

import dataclasses

from ..encryption import BadEnvelope, Envelope, is_encrypted, read_envelope
from ..problems import Problem
from ..xml import UnsafeOrBadXml, parse


def recognise(instance):
    """The instance with its envelope when it is an encrypted one; ``Problem`` (400) when the envelope is bad."""
    if not is_encrypted(instance.root):
        return instance
    try:
        envelope = read_envelope(instance.root)
    except BadEnvelope as error:
        raise Problem("submission.bad_envelope", detail=str(error)) from None
    return dataclasses.replace(instance, envelope=envelope)


def envelope_columns(envelope: Envelope) -> dict:
    """No flattened copy (the answers are sealed); the envelope's ``.enc`` files are the expected attachments."""
    return {"data": None, "attachments_expected": len(envelope.parts)}


def is_envelope(xml: bytes) -> bool:
    """Whether stored XML is an encrypted envelope: pages then show only what it says openly."""
    try:
        return is_encrypted(parse(xml))
    except UnsafeOrBadXml:
        return False
