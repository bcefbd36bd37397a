"""Encrypt a finalised instance exactly as ODK Collect does, for tests.

Written from Collect's own code (getodk/collect: ``utilities/EncryptionUtils.java``,
``tasks/SaveFormToDisk.java``, ``instancemanagement/LocalInstancesUseCases.kt``,
``utilities/FormNameUtils.java``), step by step and apart from formserver's decryption,
so that the two only agree when both follow Collect:

1. The instance is written to ``submission.xml`` beside the instance file
   ``<form name>_<yyyy-MM-dd_HH-mm-ss>.xml``, whose name keeps letters and digits of the
   form's title and turns everything else into single spaces.
2. ``EncryptedFormInformation``: 32 random bytes of AES key; the IV seed is the MD5 of
   the instanceID (UTF-8) followed by the key; the key is RSA-OAEP encrypted with
   Bouncy Castle's "OAEPWithSHA256AndMGF1Padding" (SHA-256, MGF1 with SHA-256) and
   base64 encoded without line breaks; the signature source starts with the lines form
   id, version (only when the form has one), encrypted key, instanceID.
3. Every file of the instance folder except the instance file, ``submission.xml``,
   folders and names starting with a dot, in folder-listing order, then
   ``submission.xml`` last: for each, the line ``name::md5`` of its plaintext joins
   the signature source, the seed byte at ``counter % 16`` goes up by one, the counter
   too, and the file is encrypted with ``AES/CFB/PKCS5Padding`` under that seed as IV
   into ``name.enc``.
4. The envelope, written with kXML (no XML declaration): root ``data`` in
   ``http://www.opendatakit.org/xforms/encrypted`` with ``id``, ``version`` when there
   is one, ``encrypted="yes"`` and the namespace declared after them;
   ``base64EncryptedKey``, ``orx:meta/orx:instanceID``, a line break, one
   ``media/file`` per encrypted media file each followed by a line break,
   ``encryptedXmlFile``, and ``base64EncryptedElementSignature``: the raw MD5 of the
   signature source, RSA-OAEP encrypted like the key.
5. The envelope replaces the instance file (the rename in ``SaveFormToDisk``), so it is
   uploaded under the instance file's name, with the ``.enc`` files.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from lxml import etree

ENCRYPTED_NAMESPACE = "http://www.opendatakit.org/xforms/encrypted"
OPENROSA_NAMESPACE = "http://openrosa.org/xforms"
_LETTER_OR_DIGIT = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"}  # Java's \p{L} and \p{Digit}


@dataclass
class CollectUpload:
    """What Collect uploads for one encrypted instance, plus what a test may want to look at."""

    xml_name: str
    envelope: bytes
    files: list[tuple[str, bytes]]
    aes_key: bytes
    ivs: list[bytes] = field(default_factory=list)
    signature_source: str = ""


class _FormInformation:
    """Collect's ``EncryptedFormInformation``: the key, the IV seed and the signature source of one instance."""

    def __init__(self, form_id: str, version: str | None, instance_id: str, public_key: str, aes_key: bytes):
        self.public_key = serialization.load_der_public_key(base64.b64decode(public_key))
        self.key = aes_key
        self.iv_seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + aes_key).digest())
        self.iv_counter = 0
        self.ivs: list[bytes] = []
        self.base64_key = self._rsa_encrypt(aes_key)
        self.source = ""
        self.append(form_id)
        if version is not None:
            self.append(version)
        self.append(self.base64_key)
        self.append(instance_id)

    def _rsa_encrypt(self, data: bytes) -> str:
        oaep = OAEP(mgf=MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        return base64.b64encode(self.public_key.encrypt(data, oaep)).decode("ascii")

    def append(self, value: str) -> None:
        self.source += value + "\n"

    def encrypt_file(self, name: str, content: bytes) -> bytes:
        self.append(f"{name}::{hashlib.md5(content).hexdigest()}")
        index = self.iv_counter % len(self.iv_seed)
        self.iv_seed[index] = (self.iv_seed[index] + 1) & 0xFF
        self.iv_counter += 1
        iv = bytes(self.iv_seed)
        self.ivs.append(iv)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(content) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self.key), CFB(iv)).encryptor()
        return encryptor.update(padded) + encryptor.finalize()

    def element_signature(self) -> str:
        return self._rsa_encrypt(hashlib.md5(self.source.encode("utf-8")).digest())


def instance_file_name(form_title: str, saved_at: datetime) -> str:
    """``LocalInstancesUseCases.createInstanceFile``: letters and digits of the title, then the time."""
    kept = "".join(c if unicodedata.category(c) in _LETTER_OR_DIGIT else " " for c in form_title)
    return f"{' '.join(kept.split())}_{saved_at.strftime('%Y-%m-%d_%H-%M-%S')}.xml"


def encrypt_like_collect(
    instance_xml: bytes,
    media: list[tuple[str, bytes]],
    public_key: str,
    *,
    form_title: str = "Form",
    saved_at: datetime | None = None,
    aes_key: bytes | None = None,
) -> CollectUpload:
    """Encrypt ``instance_xml`` (Collect's ``submission.xml``) and ``media`` (folder-listing order)."""
    root = etree.fromstring(instance_xml, etree.XMLParser(resolve_entities=False, no_network=True))
    form_id, version = root.get("id"), root.get("version")
    instance_id = root.find("{*}meta/{*}instanceID").text
    info = _FormInformation(form_id, version, instance_id, public_key, aes_key or secrets.token_bytes(32))
    listed = [(name, content) for name, content in media if not name.startswith(".") and not name.endswith(".enc")]
    files = [(name + ".enc", info.encrypt_file(name, content)) for name, content in listed]
    files.append(("submission.xml.enc", info.encrypt_file("submission.xml", instance_xml)))
    envelope = _envelope(form_id, version, instance_id, info, [name for name, _ in files[:-1]])
    return CollectUpload(
        xml_name=instance_file_name(form_title, saved_at or datetime.now()),
        envelope=envelope.encode("utf-8"),
        files=files,
        aes_key=info.key,
        ivs=info.ivs,
        signature_source=info.source,
    )


def _envelope(form_id: str, version: str | None, instance_id: str, info: _FormInformation, media: list[str]) -> str:
    """``writeSubmissionManifest`` as kXML serialises it: attributes first, namespace declarations last."""
    attributes = f" id={_attribute(form_id)}"
    if version is not None:
        attributes += f" version={_attribute(version)}"
    out = f'<data{attributes} encrypted="yes" xmlns="{ENCRYPTED_NAMESPACE}">'
    out += f"<base64EncryptedKey>{info.base64_key}</base64EncryptedKey>"
    out += f'<orx:meta xmlns:orx="{OPENROSA_NAMESPACE}">'
    out += f"<orx:instanceID>{_text(instance_id)}</orx:instanceID></orx:meta>\n"
    out += "".join(f"<media><file>{_text(name)}</file></media>\n" for name in media)
    out += "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
    out += f"<base64EncryptedElementSignature>{info.element_signature()}</base64EncryptedElementSignature>"
    return out + "</data>"


def _text(value: str) -> str:
    return "".join(_escaped(c, quote=None) for c in value)


def _attribute(value: str) -> str:
    quote = '"' if '"' not in value else "'"
    return quote + "".join(_escaped(c, quote) for c in value) + quote


def _escaped(c: str, quote: str | None) -> str:
    """kXML's ``writeEscaped``: markup characters, the quote in use, line breaks inside attributes,
    and characters beyond 16 bits as numeric references."""
    named = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
    if c in "&<>" or (quote is not None and c == quote):
        return named[c]
    if (c in "\n\r\t" and quote is not None) or ord(c) > 0xFFFF:
        return f"&#{ord(c)};"
    return c
