"""Bad input made in memory for tests/test_bad_input.py: hostile XML, broken multipart bodies, workbooks that are
zip bombs, carry macros or external links, or are no spreadsheet at all, and the requests that carry them."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
import io
import secrets
import struct
import zipfile
from dataclasses import dataclass

from werkzeug.test import EnvironBuilder, run_wsgi_app

from formserver import create_app
from formserver.openrosa.auth import make_nonce

from .collect_client import Response, multipart_body
from .web_fixtures import CSRF, PASSWORD, instance, sign_in
from .xlsforms import simple_form, xlsform

THAI = range(0x0E00, 0x0E80)


# --------------------------------------------------------------------------- what came back


@dataclass
class Answer:
    """A status and the words a person reads: a phone's message (and its challenge), or a page in Thai then English."""

    status: int
    text: str


def phone_answer(status: int, headers: list[tuple[str, str]], body: bytes) -> Answer:
    response = Response(status, headers, body)
    message = response.message or ""
    assert " / " in message and any(ord(c) in THAI for c in message) and any("a" <= c <= "z" for c in message), message
    return Answer(status, "\n".join([message, *response.header_all("WWW-Authenticate")]))


# --------------------------------------------------------------------------- sending


class Sender:
    """Sends bad input to the application in-process: phones through its WSGI front (``/submission`` included),
    people through Flask's test client, signed in as one of the world's people."""

    def __init__(self, app, settings, world, tokens: dict[str, str]):
        self.app, self.settings, self.world, self.tokens = app, settings, world, tokens
        self._small = None

    def small_app(self):
        """The same server and data with a request limit of 10,000 bytes (0.01 MB)."""
        if self._small is None:
            self._small = create_app(dataclasses.replace(self.settings, accept_content_length=10_000))
        return self._small

    def close(self) -> None:
        if self._small is not None:
            self._small.extensions["formserver.db"].dispose()

    # -- phones

    def wsgi(self, method: str, path: str, stream=None, length: int = 0, content_type: str = "", headers=(), app=None) -> Answer:
        """One request through the application's WSGI callable, the body read from any stream."""
        path, _, query = path.partition("?")
        environ = EnvironBuilder(path=path, query_string=query, base_url="http://formserver.test", method=method).get_environ()
        environ.update({"wsgi.input": stream or io.BytesIO(b""), "CONTENT_LENGTH": str(length), "CONTENT_TYPE": content_type})
        environ["RAW_URI"] = environ["REQUEST_URI"] = f"{path}?{query}" if query else path  # as a server gives it
        environ.update({f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers})
        body, status, response_headers = run_wsgi_app(app or self.app, environ, buffered=True)
        return phone_answer(int(status.split()[0]), list(response_headers.items()), b"".join(body))

    def post(self, body: bytes, content_type: str, *, path: str | None = None, headers=(), app=None) -> Answer:
        path = path or f"/key/{self.tokens['hill']}/o/hillnet/submission?deviceID=collect%3Atest"
        return self.wsgi("POST", path, io.BytesIO(body), len(body), content_type, headers, app)

    def submit(self, xml: bytes, files=(), **options) -> Answer:
        """A submission as Collect sends it: the XML, then each file as (name, content)."""
        body, content_type = multipart_body(
            [("xml_submission_file", "intake.xml", "text/xml", xml), *[(name, name, "image/png", data) for name, data in files]]
        )
        return self.post(body, content_type, **options)

    def submit_parts(self, parts: list[bytes]) -> Answer:
        """A multipart body whose parts (headers and content) are written by hand."""
        boundary = "bad-input-boundary"
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode()
        return self.post(body, f"multipart/form-data; boundary={boundary}")

    def digest(self, email: str, path: str, *, nonce: str, password: str = PASSWORD, method: str = "POST") -> str:
        """The Authorization header ODK Collect sends for ``path``, answered with ``nonce``."""
        realm = self.settings.digest_realm
        ha1 = _md5(f"{email}:{realm}:{password}")
        nc, cnonce = "00000001", secrets.token_hex(8)
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{_md5(f'{method}:{path}')}")
        return (
            f'Digest username="{email}", realm="{realm}", nonce="{nonce}", uri="{path}", response="{response}", '
            f'qop=auth, nc={nc}, cnonce="{cnonce}", algorithm=MD5'
        )

    def submit_as(self, email: str, *, nonce: str | None = None, password: str = PASSWORD, slug: str = "hillnet") -> Answer:
        """A person's submission with HTTP Digest, answered with ``nonce`` (a fresh one unless given)."""
        path = f"/o/{slug}/submission?deviceID=collect%3Atest"
        nonce = nonce or make_nonce(self.settings.secret_key)
        body, content_type = multipart_body([("xml_submission_file", "intake.xml", "text/xml", instance("uuid:digest"))])
        authorization = self.digest(email, path, nonce=nonce, password=password)
        return self.post(body, content_type, path=path, headers=[("Authorization", authorization)])

    # -- people

    def client(self, user: str | int | None):
        """A test client signed in as a role of hillnet ("manager"...), a user id, or no one (None)."""
        client = self.app.test_client()
        sign_in(client, self.app, self.world.users[user] if isinstance(user, str) else user)
        return client

    def page(self, method: str, url: str, *, user: str | int | None = "manager", data=None, **options) -> Answer:
        """The same request in Thai, then in English: both must answer alike, and the text holds both pages.
        ``data`` is the form's fields, or a function making them (a file is read once)."""
        answers = []
        for language in ("th", "en"):
            client = self.client(user)
            client.set_cookie("lang", language)
            fields = data() if callable(data) else data
            response = client.open(url, method=method, data=fields, **options)
            answers.append((response.status_code, html.unescape(response.get_data(as_text=True))))
        assert answers[0][0] == answers[1][0], [status for status, _ in answers]
        return Answer(answers[0][0], "\n".join(text for _, text in answers))

    def guess(self, url: str) -> Answer:
        """A page of hillnet's, asked for by rivernet's manager."""
        return self.page("GET", url, user=self.world.other.manager)

    def export(self, options: dict) -> Answer:
        """An export of hillnet's intake form started with ``options``."""
        return self.page("POST", "/orgs/hillnet/forms/intake/export", data={**options, "csrf_token": CSRF})

    def upload(self, content: bytes, filename: str, *, csrf: str | None = CSRF) -> Answer:
        """An XLSForm (or XForm) uploaded by hillnet's manager on the web page."""

        def fields() -> dict:
            return {"xlsform": (io.BytesIO(content), filename)} | ({"csrf_token": csrf} if csrf is not None else {})

        return self.page("POST", "/orgs/hillnet/forms/new", data=fields, content_type="multipart/form-data")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


class HalfWay(io.RawIOBase):
    """A body that stops after ``sent`` bytes: the end of the stream (``error`` None), or a reset connection."""

    def __init__(self, body: bytes, sent: int, error: type[BaseException] | None = None):
        self.data, self.error = io.BytesIO(body[:sent]), error

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.data.read(len(buffer))
        if not data and self.error is not None:
            raise self.error("the phone went away")
        buffer[: len(data)] = data
        return len(data)


# --------------------------------------------------------------------------- XML


XXE = b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)


def with_doctype(doctype: bytes, entity: str | None = None) -> bytes:
    body = instance("uuid:doctype", name=f"&{entity};" if entity else "สมชาย")
    return doctype + body


def nested(depth: int) -> bytes:
    body = instance("uuid:deep")
    return body.replace(b"<name>", b"<name>" + b"<a>" * depth, 1).replace(b"</name>", b"</a>" * depth + b"</name>", 1)


def disposition(filename: bytes | str, *, extended: bool = False) -> bytes:
    """A file part named by hand (the raw bytes of a name, or RFC 2231's ``filename*``), holding a small PNG."""
    name = filename.encode("utf-8") if isinstance(filename, str) else filename
    given = b"filename*=UTF-8''" + name if extended else b'filename="' + name + b'"'
    return b'Content-Disposition: form-data; name="photo.png"; ' + given + b"\r\nContent-Type: image/png\r\n\r\n" + b"\x89PNG"


def xml_part(xml: bytes) -> bytes:
    head = b'Content-Disposition: form-data; name="xml_submission_file"; filename="intake.xml"\r\nContent-Type: text/xml'
    return head + b"\r\n\r\n" + xml


# --------------------------------------------------------------------------- workbooks


def rebuilt(workbook: bytes, change=lambda name, data: data, extra: dict[str, bytes] | None = None) -> bytes:
    """``workbook`` with each entry passed through ``change``, and ``extra`` entries added."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry.filename, change(entry.filename, source.read(entry.filename)))
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


@functools.cache
def zip_bomb() -> bytes:
    """A form of 60 KB that unpacks to 51 MB: the sizes say so in the central directory."""
    return rebuilt(simple_form(), extra={"xl/media/padding.bin": bytes(51_000_000)})


@functools.cache
def lying_zip() -> bytes:
    """A form whose central directory says its sheet is 1,000 bytes while it unpacks to 60 MB."""
    padded = rebuilt(
        simple_form(),
        lambda name, data: data.replace(b"</sheetData>", b"</sheetData><!--" + b" " * 60_000_000 + b"-->")
        if name == "xl/worksheets/sheet1.xml"
        else data,
    )
    raw = bytearray(padded)
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + length] == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", raw, at + 24, 1000)
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


def with_macros() -> bytes:
    return rebuilt(simple_form(), extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 Attribute VB_Name = \"Module1\""})


def xls_with_macros() -> bytes:
    """The start of a compound file (.xls) whose directory names the VBA project's storage."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "_VBA_PROJECT_CUR".encode("utf-16-le") + bytes(64)


def with_external_link(target: str) -> bytes:
    """A valid form whose workbook links to another workbook at ``target``, with a formula using it."""
    link = (
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
        '<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1" t="str"><v>leaked</v></cell></row></sheetData>'
        "</sheetDataSet></externalBook></externalLink>"
    )
    link_rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
        f'Target="{target}" TargetMode="External"/></Relationships>'
    )

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdLink" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                b'externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
            )
        if name == "xl/workbook.xml":
            return data.replace(
                b"</workbook>",
                b'<externalReferences><externalReference xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships" r:id="rIdLink"/></externalReferences></workbook>',
            )
        if name == "[Content_Types].xml":
            return data.replace(
                b"</Types>",
                b'<Override PartName="/xl/externalLinks/externalLink1.xml" '
                b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>',
            )
        if name == "xl/worksheets/sheet1.xml":  # the first question's label: a formula reading the other workbook
            return data.replace(
                b'<c r="C2" t="inlineStr"><is><t>Name</t></is></c>', b'<c r="C2" t="str"><f>[1]Sheet1!A1</f><v>Name</v></c>'
            )
        return data

    parts = {"xl/externalLinks/externalLink1.xml": link, "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels}
    return rebuilt(simple_form(), change, {name: text.encode() for name, text in parts.items()})


def with_entity_in_sheet() -> bytes:
    def change(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            data = data.replace(b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]><worksheet', 1)
            return data.replace(b"<t>Name</t>", b"<t>&x;</t>", 1)
        return data

    return rebuilt(simple_form(), change)


def not_a_workbook_zip() -> bytes:
    """A Word document's shape: a zip, but no workbook in it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


@functools.cache
def questions(count: int) -> bytes:
    """A form of ``count`` text questions (``count`` rows below the survey header)."""
    return xlsform(
        [{"type": "text", "name": f"q{n}", "label": f"Question {n}"} for n in range(count)],
        settings={"form_id": "big", "version": "1"},
    )


def survey(rows: list[dict], choices: list[dict] | None = None) -> bytes:
    return xlsform(rows, choices=choices, settings={"form_id": "broken", "version": "1"})
