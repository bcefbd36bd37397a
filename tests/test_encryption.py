"""Encrypted forms: envelopes as Collect writes them, sealed keys, decryption and its failures.

Submissions are made by ``tests/encrypted_collect.py``, written from Collect's code apart
from formserver's decryption. The last part checks both against the ODK encryption
specification's text with code paths of their own (RSA and OAEP by hand from RFC 8017,
CFB by hand from NIST SP 800-38A over plain AES), so that encryption and decryption do
not merely agree with each other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata
from datetime import datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from formserver import encryption
from formserver.encryption import (
    BadEnvelope,
    BadSignature,
    CorruptPart,
    MissingPart,
    NotAPrivateKey,
    SealedKeyUnreadable,
    WeakPassphrase,
    WrongKey,
    WrongPassphrase,
)
from formserver.xml import parse

from .encrypted_collect import encrypt_like_collect, instance_file_name

PASSPHRASE = "ดอยสุเทพ-2026 cafe\u0301"  # é as e and a combining accent, as some keyboards type it
INSTANCE_ID = "uuid:5b9cf8d1-106f-4004-844f-c072d76762ed"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 40 + b"\xff\xd9"
INSTANCE = f"""<?xml version='1.0' ?><household id="household_survey" version="2026120501" \
xmlns:orx="http://openrosa.org/xforms"><head_name>สมชาย ใจดี</head_name><village>บ้านห้วยน้ำริน</village>\
<photo>1733390000000.jpg</photo><meta><instanceID>{INSTANCE_ID}</instanceID></meta></household>""".encode()


@pytest.fixture(scope="module")
def keys():
    return encryption.make_key_pair()


@pytest.fixture(scope="module")
def private_key(keys):
    return encryption.load_private_key(keys.private_pem)


@pytest.fixture(scope="module")
def sealed(keys):
    return encryption.seal_private_key(keys.private_pem, PASSPHRASE)


@pytest.fixture(scope="module")
def upload(keys):
    return encrypt_like_collect(
        INSTANCE, [("1733390000000.jpg", PHOTO)], keys.public_key, form_title="Household survey"
    )


def decrypt(upload, private_key, files=None):
    envelope = encryption.read_envelope(parse(upload.envelope))
    parts = dict(upload.files if files is None else files)
    return encryption.decrypt_submission(envelope, private_key, parts.get)


# --------------------------------------------------------------------------- round trips


def test_a_thai_instance_and_its_photo_come_back_byte_for_byte(upload, sealed):
    typed_later = unicodedata.normalize("NFC", PASSPHRASE)  # é as one character: the same passphrase
    assert typed_later != PASSPHRASE
    decrypted = decrypt(upload, encryption.open_private_key(sealed, typed_later))

    assert decrypted.xml == INSTANCE
    assert decrypted.media == {"1733390000000.jpg": PHOTO}
    assert "บ้านห้วยน้ำริน" in decrypted.xml.decode("utf-8")


def test_the_envelope_says_what_collect_wrote(upload):
    envelope = encryption.read_envelope(parse(upload.envelope))

    assert (envelope.form_id, envelope.version, envelope.instance_id) == ("household_survey", "2026120501", INSTANCE_ID)
    assert envelope.media_files == ("1733390000000.jpg.enc",)
    assert envelope.xml_file == "submission.xml.enc"
    assert envelope.parts == ("1733390000000.jpg.enc", "submission.xml.enc")
    assert [name for name, _ in upload.files] == ["1733390000000.jpg.enc", "submission.xml.enc"]
    assert encryption.is_encrypted(parse(upload.envelope))
    assert not encryption.is_encrypted(parse(INSTANCE))


def test_a_form_without_version_or_media_signs_without_a_version_line(keys, private_key):
    plain = INSTANCE.replace(b' version="2026120501"', b"")
    made = encrypt_like_collect(plain, [], keys.public_key)

    envelope = encryption.read_envelope(parse(made.envelope))
    assert envelope.version is None and envelope.media_files == ()
    assert made.signature_source.splitlines()[:2] == ["household_survey", envelope.base64_key]
    assert decrypt(made, private_key).xml == plain


def test_collect_names_the_envelope_after_the_instance_file():
    saved = datetime(2026, 12, 5, 14, 3, 9)
    assert instance_file_name("Household survey (v2)", saved) == "Household survey v2_2026-12-05_14-03-09.xml"
    # Thai vowel marks above and below are not letters for Java's \p{L}: Collect turns them into spaces
    assert instance_file_name("สำรวจครัวเรือน", saved) == "สำรวจคร วเร อน_2026-12-05_14-03-09.xml"


# --------------------------------------------------------------------------- keys


def test_the_public_key_for_a_form_is_the_pem_body_on_one_line(keys, private_key):
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = "".join(line for line in pem.decode().splitlines() if not line.startswith("-----"))
    assert keys.public_key == body == encryption.public_key_for_form(private_key.public_key())
    assert private_key.key_size == 2048


def test_a_wrong_passphrase_is_a_clear_error(sealed):
    with pytest.raises(WrongPassphrase):
        encryption.open_private_key(sealed, "ดอยสุเทพ-2026 cafe")


def test_the_sealed_key_keeps_neither_passphrase_nor_plain_key(sealed, keys):
    blob = json.loads(sealed)
    pem_body = keys.private_pem.decode().splitlines()[1]

    assert PASSPHRASE not in sealed.decode("utf-8") and pem_body not in sealed.decode("ascii")
    assert blob["kdf"]["name"] == "scrypt" and blob["kdf"]["n"] >= 2**17 and blob["cipher"] == "AES-256-GCM"
    assert len(base64.b64decode(blob["kdf"]["salt"])) == 16 and len(base64.b64decode(blob["nonce"])) == 12


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: b"not json",
        lambda blob: json.dumps({**json.loads(blob), "kdf": {**json.loads(blob)["kdf"], "n": 2**30}}).encode(),
        lambda blob: json.dumps({**json.loads(blob), "nonce": "***"}).encode(),
        lambda blob: json.dumps({**json.loads(blob), "format": "something else"}).encode(),
    ],
    ids=["not-json", "absurd-cost", "bad-nonce", "other-format"],
)
def test_a_damaged_sealed_key_is_refused_without_work(sealed, damage):
    with pytest.raises(SealedKeyUnreadable):
        encryption.open_private_key(damage(sealed), PASSPHRASE)


def test_sealing_wants_a_real_key_and_a_long_passphrase(keys):
    with pytest.raises(WeakPassphrase):
        encryption.seal_private_key(keys.private_pem, "short")
    with pytest.raises(NotAPrivateKey):
        encryption.seal_private_key(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", PASSPHRASE)


def test_bring_your_own_key_reads_openssl_pems_and_refuses_the_rest(private_key):
    traditional = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert encryption.load_private_key(traditional).private_numbers() == private_key.private_numbers()

    protected = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for pem in (protected, ec_pem, public_pem, b"hello"):
        with pytest.raises(NotAPrivateKey):
            encryption.load_private_key(pem)


# --------------------------------------------------------------------------- submissions that cannot be decrypted


def test_another_key_is_told_apart(upload):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(WrongKey):
        decrypt(upload, other)


def test_a_missing_photo_is_named(upload, private_key):
    with pytest.raises(MissingPart) as raised:
        decrypt(upload, private_key, [(n, c) for n, c in upload.files if n != "1733390000000.jpg.enc"])
    assert raised.value.values == {"name": "1733390000000.jpg.enc"}


def tampered(upload, name, change):
    return [(n, change(c) if n == name else c) for n, c in upload.files]


def test_a_changed_byte_inside_a_file_breaks_the_signature(upload, private_key):
    flip = lambda data: data[:100] + bytes([data[100] ^ 0x01]) + data[101:]  # noqa: E731
    with pytest.raises(BadSignature):
        decrypt(upload, private_key, tampered(upload, "1733390000000.jpg.enc", flip))


@pytest.mark.parametrize(
    "change",
    [lambda data: data[:-1], lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]), lambda data: b""],
    ids=["cut-short", "padding-changed", "empty"],
)
def test_a_damaged_file_is_named(upload, private_key, change):
    with pytest.raises(CorruptPart) as raised:
        decrypt(upload, private_key, tampered(upload, "submission.xml.enc", change))
    assert raised.value.values["name"] == "submission.xml.enc"


def test_a_signature_from_another_submission_does_not_pass(keys, upload, private_key):
    other = encrypt_like_collect(INSTANCE, [("1733390000000.jpg", PHOTO)], keys.public_key)
    swapped = envelope_with(upload, lambda root: set_text(root, "base64EncryptedElementSignature", signature_of(other)))
    envelope = encryption.read_envelope(parse(swapped))
    with pytest.raises(BadSignature):
        encryption.decrypt_submission(envelope, private_key, dict(upload.files).get)


# --------------------------------------------------------------------------- malformed envelopes


E = "{http://www.opendatakit.org/xforms/encrypted}"
ORX = "{http://openrosa.org/xforms}"


def envelope_with(upload, change) -> bytes:
    root = etree.fromstring(upload.envelope)
    change(root)
    return etree.tostring(root)


def signature_of(upload) -> str:
    return etree.fromstring(upload.envelope).find(E + "base64EncryptedElementSignature").text


def set_text(root, name, text):
    root.find(E + name).text = text


def remove(path):
    def change(root):
        element = root.find(path)
        element.getparent().remove(element)

    return change


def add_media(name):
    def change(root):
        media = etree.Element(E + "media")
        etree.SubElement(media, E + "file").text = name
        root.find(E + "encryptedXmlFile").addprevious(media)

    return change


def set_attribute(name, value):
    return lambda root: root.attrib.pop(name) if value is None else root.set(name, value)


def duplicate(name):
    return lambda root: root.find(E + name).addnext(etree.fromstring(etree.tostring(root.find(E + name))))


@pytest.mark.parametrize(
    "change, element",
    [
        (remove(E + "base64EncryptedKey"), "base64EncryptedKey"),
        (remove(E + "encryptedXmlFile"), "encryptedXmlFile"),
        (remove(E + "base64EncryptedElementSignature"), "base64EncryptedElementSignature"),
        (remove(ORX + "meta"), "meta/instanceID"),
        (remove(ORX + "meta/" + ORX + "instanceID"), "meta/instanceID"),
        (remove(E + "media/" + E + "file"), "media/file"),
        (set_attribute("id", None), "id"),
        (set_attribute("encrypted", None), "encrypted"),
        (set_attribute("encrypted", "no"), "encrypted"),
        (lambda root: set_text(root, "base64EncryptedKey", "not base64!"), "base64EncryptedKey"),
        (lambda root: set_text(root, "base64EncryptedElementSignature", ""), "base64EncryptedElementSignature"),
        (duplicate("base64EncryptedKey"), "base64EncryptedKey"),
        (add_media("../../etc/passwd.enc"), "media/file"),
        (add_media("photos/1733390000000.jpg.enc"), "media/file"),
        (add_media("..\\evil.jpg.enc"), "media/file"),
        (add_media(".hidden.enc"), "media/file"),
        (add_media("1733390000000.jpg"), "media/file"),
        (add_media("1733390000000.jpg.enc"), "media/file"),
        (add_media("submission.xml.enc"), "media/file"),
        (lambda root: set_text(root, "encryptedXmlFile", "../submission.xml.enc"), "encryptedXmlFile"),
        (lambda root: set_text(root, "encryptedXmlFile", "submission.xml"), "encryptedXmlFile"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_malformed_envelope_names_what_is_wrong(upload, change, element):
    with pytest.raises(BadEnvelope) as raised:
        encryption.read_envelope(parse(envelope_with(upload, change)))
    assert raised.value.values["element"] == element
    assert element in str(raised.value)


def test_the_specifications_older_envelope_layout_reads_the_same(upload):
    """The specification's example uses another namespace and order; fields are found by name."""
    collect = encryption.read_envelope(parse(upload.envelope))
    older = f"""<data xmlns="http://opendatakit.org/submissions" id="household_survey" encrypted="yes"
    version="2026120501">
    <base64EncryptedKey>{collect.base64_key}</base64EncryptedKey>
    <encryptedXmlFile>submission.xml.enc</encryptedXmlFile>
    <media>
        <file>1733390000000.jpg.enc</file>
    </media>
    <base64EncryptedElementSignature>{collect.signature}</base64EncryptedElementSignature>
    <meta xmlns="http://openrosa.org/xforms">
        <instanceID>{INSTANCE_ID}</instanceID>
    </meta>
</data>"""
    assert encryption.read_envelope(parse(older.encode())) == collect


# --------------------------------------------------------------------------- against the specification, by other paths

# The specification's IV algorithm worked by hand for AES key bytes 0..31 and this instanceID:
# MD5 seed ff25263ae10e1620a737f84aac227353; before file n, byte n % 16 goes up by one (ff wraps to 00).
VECTOR_KEY = bytes(range(32))
VECTOR_INSTANCE = "uuid:0b9e6c1a-7a52-4c1e-9f1d-000000000100"
VECTOR_IVS = {
    0: "0025263ae10e1620a737f84aac227353",
    1: "0026263ae10e1620a737f84aac227353",
    15: "0026273be20f1721a838f94bad237454",
    16: "0126273be20f1721a838f94bad237454",
}


def test_the_ivs_follow_the_specification_vector(keys):
    assert hashlib.md5(VECTOR_INSTANCE.encode() + VECTOR_KEY).hexdigest() == "ff25263ae10e1620a737f84aac227353"
    ivs = encryption.part_ivs(VECTOR_INSTANCE, VECTOR_KEY, 17)
    assert {n: ivs[n].hex() for n in VECTOR_IVS} == VECTOR_IVS

    instance = INSTANCE.replace(INSTANCE_ID.encode(), VECTOR_INSTANCE.encode())
    media = [(f"{n:02d}.jpg", bytes([n])) for n in range(16)]
    made = encrypt_like_collect(instance, media, keys.public_key, aes_key=VECTOR_KEY)
    assert {n: made.ivs[n].hex() for n in VECTOR_IVS} == VECTOR_IVS


def test_the_signature_text_follows_the_specification():
    envelope = encryption.Envelope(
        form_id="household_survey",
        version="2026120501",
        instance_id=INSTANCE_ID,
        base64_key="S0VZ",
        xml_file="submission.xml.enc",
        media_files=("1733390000000.jpg.enc",),
        signature="U0lH",
    )
    md5s = ["0cc175b9c0f1b6a831c399e269772661", "92eb5ffee6ae2fec3ad71c777531578f"]
    assert encryption.signature_text(envelope, md5s) == (
        "household_survey\n2026120501\nS0VZ\n" + INSTANCE_ID + "\n"
        "1733390000000.jpg::0cc175b9c0f1b6a831c399e269772661\n"
        "submission.xml::92eb5ffee6ae2fec3ad71c777531578f\n"
    )


def test_the_collect_helper_writes_collects_envelope_byte_for_byte(upload):
    envelope = encryption.read_envelope(parse(upload.envelope))
    assert upload.envelope.decode() == (
        '<data id="household_survey" version="2026120501" encrypted="yes" '
        'xmlns="http://www.opendatakit.org/xforms/encrypted">'
        f"<base64EncryptedKey>{envelope.base64_key}</base64EncryptedKey>"
        f'<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>{INSTANCE_ID}</orx:instanceID></orx:meta>\n'
        "<media><file>1733390000000.jpg.enc</file></media>\n"
        "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        f"<base64EncryptedElementSignature>{envelope.signature}</base64EncryptedElementSignature></data>"
    )
    assert upload.xml_name.startswith("Household survey_") and upload.xml_name.endswith(".xml")


def mgf1(seed: bytes, length: int, digest) -> bytes:
    """RFC 8017 B.2.1."""
    out, counter = b"", 0
    while len(out) < length:
        out += digest(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def oaep_decode(em: bytes, mgf_digest=hashlib.sha256) -> bytes | None:
    """RFC 8017 7.1.2 step 3 with SHA-256 and an empty label; None when it does not decode."""
    masked_seed, masked_db = em[1:33], em[33:]
    seed = xor(masked_seed, mgf1(masked_db, 32, mgf_digest))
    db = xor(masked_db, mgf1(seed, len(masked_db), mgf_digest))
    rest = db[32:].lstrip(b"\x00")
    if em[0] != 0 or db[:32] != hashlib.sha256(b"").digest() or not rest.startswith(b"\x01"):
        return None
    return rest[1:]


def oaep_encode(message: bytes, k: int, seed: bytes) -> bytes:
    """RFC 8017 7.1.1 step 2 with SHA-256 for the digest and for MGF1, an empty label."""
    db = hashlib.sha256(b"").digest() + bytes(k - len(message) - 66) + b"\x01" + message
    masked_db = xor(db, mgf1(seed, len(db), hashlib.sha256))
    return b"\x00" + xor(seed, mgf1(masked_db, 32, hashlib.sha256)) + masked_db


def raw_rsa(private_key, data: bytes, *, public: bool) -> bytes:
    numbers = private_key.private_numbers()
    n = numbers.public_numbers.n
    exponent = numbers.public_numbers.e if public else numbers.d
    return pow(int.from_bytes(data, "big"), exponent, n).to_bytes((n.bit_length() + 7) // 8, "big")


def cfb128(key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes:
    """NIST SP 800-38A 6.3 with 128-bit segments, over AES on single blocks."""
    block = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    out, previous = b"", iv
    for start in range(0, len(data), 16):
        segment = data[start : start + 16]
        result = xor(segment, block.update(previous)[: len(segment)])
        out += result
        previous = segment if decrypt else result
    return out


def test_what_the_helper_sends_decrypts_by_the_specification_alone(upload, private_key):
    envelope = encryption.read_envelope(parse(upload.envelope))
    em = raw_rsa(private_key, base64.b64decode(envelope.base64_key), public=False)
    aes_key = oaep_decode(em)
    assert aes_key is not None and len(aes_key) == 32
    assert oaep_decode(em, mgf_digest=hashlib.sha1) is None  # MGF1 is SHA-256, not Java's SHA-1 default

    seed = bytearray(hashlib.md5(INSTANCE_ID.encode() + aes_key).digest())
    plaintexts = []
    for counter, (name, content) in enumerate(upload.files):
        seed[counter % 16] = (seed[counter % 16] + 1) % 256
        padded = cfb128(aes_key, bytes(seed), content, decrypt=True)
        assert 1 <= padded[-1] <= 16 and padded.endswith(bytes([padded[-1]]) * padded[-1])
        plaintexts.append(padded[: -padded[-1]])
    assert plaintexts == [PHOTO, INSTANCE]

    text = "".join(
        line + "\n"
        for line in ["household_survey", "2026120501", envelope.base64_key, INSTANCE_ID]
        + [f"1733390000000.jpg::{hashlib.md5(PHOTO).hexdigest()}"]
        + [f"submission.xml::{hashlib.md5(INSTANCE).hexdigest()}"]
    )
    signed = oaep_decode(raw_rsa(private_key, base64.b64decode(envelope.signature), public=False))
    assert signed == hashlib.md5(text.encode()).digest()


def test_an_envelope_made_by_hand_from_the_specification_decrypts(private_key):
    """Key wrapping, CFB and padding done here by hand, the envelope typed as Collect writes it."""
    aes_key, k = VECTOR_KEY, private_key.key_size // 8
    wrap = lambda data, seed: base64.b64encode(  # noqa: E731
        raw_rsa(private_key, oaep_encode(data, k, seed), public=True)
    ).decode()
    instance = INSTANCE.replace(INSTANCE_ID.encode(), VECTOR_INSTANCE.encode())
    files = [("1733390000000.jpg", PHOTO), ("submission.xml", instance)]
    encrypted = {}
    for n, (name, content) in enumerate(files):
        pad = 16 - len(content) % 16
        iv = bytes.fromhex(VECTOR_IVS[n])
        encrypted[name + ".enc"] = cfb128(aes_key, iv, content + bytes([pad]) * pad, decrypt=False)
    base64_key = wrap(aes_key, b"\x11" * 32)
    text = f"household_survey\n2026120501\n{base64_key}\n{VECTOR_INSTANCE}\n" + "".join(
        f"{name}::{hashlib.md5(content).hexdigest()}\n" for name, content in files
    )
    signature = wrap(hashlib.md5(text.encode()).digest(), b"\x22" * 32)
    envelope = (
        '<data id="household_survey" version="2026120501" encrypted="yes" '
        'xmlns="http://www.opendatakit.org/xforms/encrypted">'
        f"<base64EncryptedKey>{base64_key}</base64EncryptedKey>"
        '<orx:meta xmlns:orx="http://openrosa.org/xforms">'
        f"<orx:instanceID>{VECTOR_INSTANCE}</orx:instanceID></orx:meta>\n"
        "<media><file>1733390000000.jpg.enc</file></media>\n"
        "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        f"<base64EncryptedElementSignature>{signature}</base64EncryptedElementSignature></data>"
    ).encode()

    decrypted = encryption.decrypt_submission(encryption.read_envelope(parse(envelope)), private_key, encrypted.get)
    assert decrypted.xml == instance and decrypted.media == {"1733390000000.jpg": PHOTO}
