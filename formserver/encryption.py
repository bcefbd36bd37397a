"""Encrypted forms: the envelope ODK Collect sends, the keys that open it, and decryption.

A form whose settings carry a ``public_key`` makes Collect encrypt each finalised
instance on the phone (Collect's ``EncryptionUtils``; the ODK XForms encryption
specification describes the same steps, with an older envelope):

- a fresh 256-bit AES key per instance, RSA-OAEP encrypted with the form's key
  (SHA-256 and MGF1 with SHA-256, as Bouncy Castle reads "OAEPWithSHA256AndMGF1Padding"),
  base64 in ``base64EncryptedKey``;
- the media files, in the order the envelope lists them, then the instance XML, each
  AES-CFB (128-bit segments) with PKCS#7 padding under its own IV: MD5(instanceID, key)
  with one more byte raised by one before each file (``counter % 16``, cumulative);
- a signature: the MD5 of the lines form id, version (when the form has one), the
  encrypted key, the instanceID, then ``name::md5`` of each plaintext file in the same
  order, RSA-OAEP encrypted like the key.

The server never holds a usable private key at rest: it is sealed under a key derived
from a passphrase that only people know (scrypt, then AES-GCM), or brought as a PEM file
at export time. Pure functions only: ingest reads envelopes with ``read_envelope``,
exports open keys and call ``decrypt_submission``; pages never do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from lxml import etree

KEY_BITS = 2048
MAX_NAME = 255
MIN_PASSPHRASE = 10
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
SEALED_FORMAT = "formserver sealed private key"
_SEAL_LABEL = b"formserver sealed private key 1"
# Collect's "RSA/NONE/OAEPWithSHA256AndMGF1Padding" from Bouncy Castle: SHA-256 for the
# digest and for MGF1 (Java's own provider would use SHA-1 for MGF1; ODK Central unpads
# with SHA-256 for both and decrypts what Collect sends).
_OAEP = OAEP(mgf=MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


# --------------------------------------------------------------------------- errors


class EncryptionError(ValueError):
    """A domain error as ``problems.Problem`` has them: a stable code, the values, an English sentence."""

    code = "encryption.error"
    template = "{detail}"

    def __init__(self, **values: object):
        self.values = values
        super().__init__(self.template.format(**values))


class BadEnvelope(EncryptionError):
    """The plaintext envelope is not what Collect sends: ingest refuses it (400), storing nothing."""

    code, template = "encryption.bad_envelope", "the encrypted submission's envelope is not valid: {element} {detail}"


class NotAPrivateKey(EncryptionError):
    code, template = "encryption.not_a_private_key", "this is not an RSA private key in PEM form: {detail}"


class WeakPassphrase(EncryptionError):
    code, template = "encryption.weak_passphrase", "a passphrase needs at least {minimum} characters"


class SealedKeyUnreadable(EncryptionError):
    code, template = "encryption.sealed_key_unreadable", "the stored private key cannot be read: {detail}"


class WrongPassphrase(EncryptionError):
    code, template = "encryption.wrong_passphrase", "the passphrase does not open this private key"


class NotDecrypted(EncryptionError):
    """One submission that cannot be decrypted; an export lists it with this reason and goes on."""

    code = "encryption.not_decrypted"


class WrongKey(NotDecrypted):
    code, template = "encryption.wrong_key", "the submission was encrypted for another key than this one"


class MissingPart(NotDecrypted):
    code, template = "encryption.missing_part", "the encrypted file {name} has not been received"


class CorruptPart(NotDecrypted):
    code, template = "encryption.corrupt_part", "the encrypted file {name} is damaged: {detail}"


class BadSignature(NotDecrypted):
    code = "encryption.bad_signature"
    template = "the signature does not match the files: something was changed after the phone sealed them"


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_key: str  # what goes into the XLSForm's settings ``public_key``


def make_key_pair() -> KeyPair:
    """A new RSA key pair for a form (2048 bits, as ODK's documentation and Central make)."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyPair(private_pem=pem, public_key=public_key_for_form(private_key))


def public_key_for_form(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """Base64 of the DER SubjectPublicKeyInfo, on one line: the PEM body Collect expects."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """A private key from an unprotected PEM file (``openssl genrsa`` output, or ours)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise NotAPrivateKey(detail="the file is protected by its own password; remove it with openssl first") from None
    except (ValueError, UnsupportedAlgorithm) as error:
        raise NotAPrivateKey(detail=str(error) or "unreadable") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise NotAPrivateKey(detail="the key is not an RSA key")
    return key


def _passphrase_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """The AES key from the passphrase; NFC so that one passphrase typed on two keyboards is one key."""
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret)


def seal_private_key(private_pem: bytes, passphrase: str) -> bytes:
    """The private key encrypted under the passphrase, as JSON with everything but the passphrase."""
    load_private_key(private_pem)
    if len(passphrase.strip()) < MIN_PASSPHRASE:
        raise WeakPassphrase(minimum=MIN_PASSPHRASE)
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _passphrase_key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    sealed = {
        "format": SEALED_FORMAT,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "cipher": "AES-256-GCM",
        "nonce": _b64(nonce),
        "ciphertext": _b64(AESGCM(key).encrypt(nonce, private_pem, _SEAL_LABEL)),
    }
    return json.dumps(sealed, sort_keys=True).encode("ascii")


def open_private_key(sealed: bytes, passphrase: str) -> rsa.RSAPrivateKey:
    """The private key a sealed blob holds; ``WrongPassphrase`` before any other work is done."""
    try:
        blob = json.loads(sealed)
        kdf = blob["kdf"]
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        salt, nonce, ciphertext = _unb64(kdf["salt"]), _unb64(blob["nonce"]), _unb64(blob["ciphertext"])
        known = blob["format"] == SEALED_FORMAT and kdf["name"] == "scrypt" and blob["cipher"] == "AES-256-GCM"
    except (ValueError, KeyError, TypeError) as error:
        raise SealedKeyUnreadable(detail=f"not a sealed key ({error})") from None
    # bounds, so that a damaged row cannot ask for gigabytes of memory
    if not known or n not in (2**k for k in range(14, 21)) or not (1 <= r <= 16 and 1 <= p <= 4):
        raise SealedKeyUnreadable(detail="unknown format or key derivation settings")
    if len(salt) < 16 or len(nonce) != 12:
        raise SealedKeyUnreadable(detail="salt or nonce of the wrong length")
    try:
        pem = AESGCM(_passphrase_key(passphrase, salt, n, r, p)).decrypt(nonce, ciphertext, _SEAL_LABEL)
    except InvalidTag:
        raise WrongPassphrase() from None
    return load_private_key(pem)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


# --------------------------------------------------------------------------- the envelope


@dataclass(frozen=True)
class Envelope:
    """What the plaintext envelope says; file names are as listed (with ``.enc``), in encryption order."""

    form_id: str
    version: str | None
    instance_id: str
    base64_key: str
    xml_file: str
    media_files: tuple[str, ...]
    signature: str

    @property
    def parts(self) -> tuple[str, ...]:
        """Every encrypted file in the order it was encrypted: media first, the instance XML last."""
        return self.media_files + (self.xml_file,)


def is_encrypted(root: etree._Element) -> bool:
    """Whether a submitted root claims to be an encrypted envelope (``read_envelope`` then judges it)."""
    return root.get("encrypted") is not None or _children(root, "base64EncryptedKey") != []


def read_envelope(root: etree._Element) -> Envelope:
    """The envelope's contents, or ``BadEnvelope`` naming the element that is wrong.

    Elements are found by local name in any namespace: Collect writes them in
    ``http://www.opendatakit.org/xforms/encrypted`` with ``orx:meta``, the specification's
    example in ``http://opendatakit.org/submissions``.
    """
    if root.get("encrypted") != "yes":
        raise BadEnvelope(element="encrypted", detail='must be the attribute encrypted="yes" on the root element')
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise BadEnvelope(element="id", detail="is missing: the root element names no form")
    metas = _children(root, "meta")
    if len(metas) > 1:
        raise BadEnvelope(element="meta", detail="appears more than once")
    instance_id = _single_text(metas[0] if metas else None, "instanceID", "meta/instanceID")
    if len(instance_id) > MAX_NAME:
        raise BadEnvelope(element="meta/instanceID", detail=f"is longer than {MAX_NAME} characters")
    media = [_part_name(file.text, "media/file") for holder in _children(root, "media") for file in _files(holder)]
    xml_file = _part_name(_single_text(root, "encryptedXmlFile"), "encryptedXmlFile")
    if len(set(media + [xml_file])) != len(media) + 1:
        raise BadEnvelope(element="media/file", detail="names the same file twice")
    return Envelope(
        form_id=form_id,
        version=root.get("version"),
        instance_id=instance_id,
        base64_key=_base64_text(root, "base64EncryptedKey"),
        xml_file=xml_file,
        media_files=tuple(media),
        signature=_base64_text(root, "base64EncryptedElementSignature"),
    )


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return element.findall("{*}" + name)


def _files(media: etree._Element) -> list[etree._Element]:
    files = _children(media, "file")
    if not files:
        raise BadEnvelope(element="media/file", detail="is missing: a media element lists no file")
    return files


def _single_text(parent: etree._Element | None, name: str, path: str | None = None) -> str:
    path = path or name
    found = _children(parent, name) if parent is not None else []
    if len(found) > 1:
        raise BadEnvelope(element=path, detail="appears more than once")
    text = (found[0].text or "").strip() if found else ""
    if not text:
        raise BadEnvelope(element=path, detail="is missing or empty")
    return text


def _base64_text(root: etree._Element, name: str) -> str:
    text = _single_text(root, name)
    try:
        _unb64(text)
    except (binascii.Error, ValueError):
        raise BadEnvelope(element=name, detail="is not base64") from None
    return text


def _part_name(text: str | None, path: str) -> str:
    """An encrypted file's name as Collect lists it: a plain file name ending in ``.enc``, no folders."""
    name = (text or "").strip()
    if not name:
        raise BadEnvelope(element=path, detail="is empty")
    unsafe = "/" in name or "\\" in name or name.startswith(".") or any(c < " " or c == "\x7f" for c in name)
    if unsafe or len(name) > MAX_NAME:
        raise BadEnvelope(element=path, detail=f"{name!r} is not a plain file name")
    if not name.endswith(".enc") or len(name) == len(".enc"):
        raise BadEnvelope(element=path, detail=f"{name!r} does not end in .enc")
    return name


# --------------------------------------------------------------------------- decryption


@dataclass(frozen=True)
class Decrypted:
    """The instance XML as the phone made it, and its media by their own names (without ``.enc``)."""

    xml: bytes
    media: dict[str, bytes]


def part_ivs(instance_id: str, key: bytes, count: int) -> list[bytes]:
    """The IV of each file in encryption order: the MD5 seed with one byte raised before each file."""
    seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + key).digest())
    ivs = []
    for counter in range(count):
        seed[counter % 16] = (seed[counter % 16] + 1) % 256
        ivs.append(bytes(seed))
    return ivs


def signature_text(envelope: Envelope, plaintext_md5s: Sequence[str]) -> str:
    """The lines the phone hashed and signed; ``plaintext_md5s`` are hex MD5s in ``envelope.parts`` order."""
    lines = [envelope.form_id]
    if envelope.version is not None:
        lines.append(envelope.version)
    lines += [envelope.base64_key, envelope.instance_id]
    lines += [f"{name[: -len('.enc')]}::{md5}" for name, md5 in zip(envelope.parts, plaintext_md5s, strict=True)]
    return "".join(line + "\n" for line in lines)


def unwrap_key(envelope: Envelope, private_key: rsa.RSAPrivateKey) -> bytes:
    """The submission's AES key (one RSA private-key operation); ``WrongKey`` when it was sealed for another key."""
    key = _rsa_decrypt(private_key, envelope.base64_key)
    if key is None or len(key) != 32:
        raise WrongKey()
    return key


def decrypt_instance(envelope: Envelope, aes_key: bytes, data: bytes | None) -> bytes:
    """The instance XML alone (the file sealed last), its signature not checked: enough to read its
    ``meta`` before the whole submission is decrypted. ``data``: the bytes of ``envelope.xml_file``."""
    if data is None:
        raise MissingPart(name=envelope.xml_file)
    iv = part_ivs(envelope.instance_id, aes_key, len(envelope.parts))[-1]
    return _decrypt_part(envelope.xml_file, aes_key, iv, data)


def decrypt_submission(
    envelope: Envelope, private_key: rsa.RSAPrivateKey, read_part: Callable[[str], bytes | None],
    aes_key: bytes | None = None,
) -> Decrypted:
    """Decrypt every file of one submission and check its signature.

    ``read_part(name)`` gives an encrypted file's bytes, or None when it was not received.
    ``aes_key``: the submission's key when ``unwrap_key`` gave it already (RSA is then needed only
    for the signature). Raises a ``NotDecrypted`` (``WrongKey``, ``MissingPart``, ``CorruptPart``, ``BadSignature``).
    """
    key = aes_key if aes_key is not None else unwrap_key(envelope, private_key)
    plaintexts = []
    for name, iv in zip(envelope.parts, part_ivs(envelope.instance_id, key, len(envelope.parts))):
        data = read_part(name)
        if data is None:
            raise MissingPart(name=name)
        plaintexts.append(_decrypt_part(name, key, iv, data))
    digest = hashlib.md5(signature_text(envelope, [hashlib.md5(p).hexdigest() for p in plaintexts]).encode("utf-8"))
    signed = _rsa_decrypt(private_key, envelope.signature)
    if signed is None or not hmac.compare_digest(signed, digest.digest()):
        raise BadSignature()
    media = {name[: -len(".enc")]: content for name, content in zip(envelope.media_files, plaintexts)}
    return Decrypted(xml=plaintexts[-1], media=media)


def _rsa_decrypt(private_key: rsa.RSAPrivateKey, text: str) -> bytes | None:
    try:
        return private_key.decrypt(_unb64(text), _OAEP)
    except ValueError:
        return None


def _decrypt_part(name: str, key: bytes, iv: bytes, data: bytes) -> bytes:
    if not data or len(data) % 16:
        raise CorruptPart(name=name, detail=f"{len(data)} bytes is not a whole number of 16-byte blocks")
    decryptor = Cipher(algorithms.AES(key), CFB(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(decryptor.update(data) + decryptor.finalize()) + unpadder.finalize()
    except ValueError:
        raise CorruptPart(name=name, detail="its padding is wrong (cut short, or changed)") from None
