"""A client that behaves as ODK Collect does (see ../shared/openrosa.md), for tests and the benchmark.

- §0 headers on every request: Collect's User-Agent, ``X-OpenRosa-Version: 1.0``,
  a Date in Collect's 12-hour form (``hh`` without AM/PM), ``Accept-Encoding: gzip``,
  no Accept-Language; ``deviceID=collect:…`` added to every URL.
- §4 authentication driven by challenges: nothing is sent until a 401; then the
  first Digest challenge (or Basic, on https only) is answered and cached per
  scheme:host:port, and sent preemptively with the same nonce and nc+1; a 401 to
  a preemptive request drops the cache and starts again unauthenticated; a
  same-nonce retry is given up unless the server says ``stale=true``.
- §3 sending an instance: HEAD first (204 gives the size limit), then POSTs of
  the XML plus as many files as fit, ``*isIncomplete*=yes`` on all but the last.

Two transports: a real keep-alive HTTP connection (``HttpTransport``) and a
Flask test client (``FlaskTransport``), so that the same client checks a real
``formserver serve`` process and the application in-process.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from lxml import etree

USER_AGENT = "org.odk.collect.android/v2026.3.3 Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/UQ1A.240205.004)"
DEVICE_ID = "collect:AbCdEf0123456789"
DEFAULT_LIMIT = 10_000_000
CONTENT_TYPES = {
    "amr": "audio/amr",
    "oga": "audio/ogg",
    "ogv": "video/ogg",
    "webm": "video/webm",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "mp4": "video/mp4",
    "m4a": "audio/mp4",
    "csv": "text/csv",
    "xml": "text/xml",
}


# --------------------------------------------------------------------------- responses and transports


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str = ""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def xml(self):
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        return etree.fromstring(self.body, parser=parser)

    @property
    def message(self) -> str | None:
        """The first <message> of an OpenRosaResponse, as Collect shows it."""
        if b"OpenRosaResponse" not in self.body:
            return None
        element = self.xml().find("{http://openrosa.org/http/response}message")
        return element.text if element is not None else None


class HttpTransport:
    """One keep-alive connection per thread and host, as OkHttp keeps its pool."""

    def __init__(self, timeout: float = 60):
        self.timeout = timeout
        self._local = threading.local()
        self._all: list = []
        self._all_lock = threading.Lock()

    def _connection(self, scheme: str, netloc: str, fresh: bool = False):
        pool = self._local.__dict__.setdefault("pool", {})
        key = (scheme, netloc)
        if fresh and key in pool:
            pool.pop(key).close()
        if key not in pool:
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            pool[key] = cls(netloc, timeout=self.timeout)
            with self._all_lock:
                self._all.append(pool[key])
        return pool[key]

    def request(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> Response:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in range(2):
            connection = self._connection(parts.scheme, parts.netloc, fresh=attempt > 0)
            try:
                connection.request(method, target, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if attempt:
                    raise
        result = Response(answer.status, list(answer.getheaders()), data, url)
        if (result.header("Connection") or "").lower() == "close":
            self._connection(parts.scheme, parts.netloc, fresh=True)
        return result

    def close(self) -> None:
        """Close every connection this transport opened, in any thread."""
        with self._all_lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()


class FlaskTransport:
    """The application in-process through Flask's test client.

    ``before`` runs before each request: tests pass their session's ``commit`` so that
    the application sees what the test wrote and (on SQLite, where every transaction
    takes the write lock) is not kept waiting by the test's own open transaction.
    """

    def __init__(self, client, before=None):
        self.client = client
        self.before = before

    def request(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> Response:
        if self.before is not None:
            self.before()
        answer = self.client.open(url, method=method, headers=headers, data=body)
        data = b"" if method == "HEAD" else answer.get_data()
        return Response(answer.status_code, list(answer.headers.items()), data, url)


# --------------------------------------------------------------------------- authentication


def _parse_challenges(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Each WWW-Authenticate value as (scheme, parameters)."""
    from werkzeug.http import parse_dict_header

    result = []
    for value in values:
        scheme, _, rest = value.partition(" ")
        result.append((scheme.lower(), parse_dict_header(rest)))
    return result


@dataclass
class _Cached:
    scheme: str
    params: dict[str, str]
    nc: int = 0


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- the client


@dataclass
class SendResult:
    head: Response | None
    posts: list[Response] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.posts) and all(p.status in (201, 202) for p in self.posts)

    @property
    def last(self) -> Response:
        return self.posts[-1] if self.posts else self.head


class CollectClient:
    def __init__(
        self,
        server_url: str,
        transport,
        *,
        username: str | None = None,
        password: str | None = None,
        device_id: str = DEVICE_ID,
        user_agent: str = USER_AGENT,
    ):
        self.server_url = server_url.rstrip("/")
        self.transport = transport
        self.username = username
        self.password = password
        self.device_id = device_id
        self.user_agent = user_agent
        self._auth: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        self.sent_authorization: list[str | None] = []  # what each request carried, for tests

    # -- URLs and headers

    def with_device_id(self, url: str) -> str:
        return url + ("&" if "?" in url else "?") + "deviceID=" + quote(self.device_id, safe="")

    @staticmethod
    def collect_date(now: float | None = None) -> str:
        """Collect's Date: ``E, dd MMM yyyy hh:mm:ss zz``, 12-hour clock, no AM/PM."""
        return time.strftime("%a, %d %b %Y %I:%M:%S GMT", time.gmtime(now))

    def base_headers(self) -> dict[str, str]:
        return {
            "User-Agent": self.user_agent,
            "X-OpenRosa-Version": "1.0",
            "Date": self.collect_date(),
            "Accept-Encoding": "gzip",
        }

    # -- authentication (okhttp-digest's behaviour)

    def _authorization(self, method: str, url: str) -> str | None:
        parts = urlsplit(url)
        key = f"{parts.scheme}:{parts.netloc}"
        with self._lock:
            cached = self._auth.get(key)
            if cached is None:
                return None
            if cached.scheme == "basic":
                import base64

                token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
                return f"Basic {token}"
            cached.nc += 1
            nc = f"{cached.nc:08x}"
        params = cached.params
        uri = parts.path + (f"?{parts.query}" if parts.query else "")
        cnonce = secrets.token_hex(8)
        ha1 = _md5(f"{self.username}:{params['realm']}:{self.password}")
        if params.get("algorithm", "MD5").upper() == "MD5-SESS":
            ha1 = _md5(f"{ha1}:{params['nonce']}:{cnonce}")
        ha2 = _md5(f"{method}:{uri}")
        response = _md5(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        fields = [
            f'username="{self.username}"',
            f'realm="{params["realm"]}"',
            f'nonce="{params["nonce"]}"',
            f'uri="{uri}"',
            f'response="{response}"',
            "qop=auth",
            f"nc={nc}",
            f'cnonce="{cnonce}"',
            "algorithm=MD5",
        ]
        if "opaque" in params:
            fields.append(f'opaque="{params["opaque"]}"')
        return "Digest " + ", ".join(fields)

    def _accept_challenge(self, url: str, response: Response) -> bool:
        """Remember the first challenge Collect would answer; False when there is none to answer."""
        if not self.username:
            return False
        parts = urlsplit(url)
        for scheme, params in _parse_challenges(response.header_all("WWW-Authenticate")):
            if scheme == "digest" and "realm" in params and "nonce" in params:
                with self._lock:
                    self._auth[f"{parts.scheme}:{parts.netloc}"] = _Cached("digest", params)
                return True
            if scheme == "basic" and parts.scheme == "https":
                with self._lock:
                    self._auth[f"{parts.scheme}:{parts.netloc}"] = _Cached("basic", params)
                return True
        return False

    def _drop(self, url: str) -> None:
        parts = urlsplit(url)
        with self._lock:
            self._auth.pop(f"{parts.scheme}:{parts.netloc}", None)

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None, device_id: bool = True
    ) -> Response:
        if device_id:
            url = self.with_device_id(url)
        answered = False
        for _ in range(4):
            all_headers = self.base_headers() | (headers or {})
            authorization = self._authorization(method, url)
            if authorization:
                all_headers["Authorization"] = authorization
            self.sent_authorization.append(authorization)
            response = self.transport.request(method, url, all_headers, body)
            if response.status != 401:
                return response
            stale = any(
                params.get("stale", "").lower() == "true"
                for scheme, params in _parse_challenges(response.header_all("WWW-Authenticate"))
                if scheme == "digest"
            )
            if authorization and not stale:
                self._drop(url)
                if answered:
                    return response  # our answer to a fresh challenge failed: wrong password
                continue  # preemptive credentials refused: start again without them
            if not self._accept_challenge(url, response):
                return response
            answered = True
        return response

    def get(self, url: str, **options) -> Response:
        return self.request("GET", url, **options)

    def head(self, url: str, **options) -> Response:
        return self.request("HEAD", url, **options)

    # -- OpenRosa

    def form_list(self) -> Response:
        return self.get(self.server_url + "/formList")

    @property
    def submission_url(self) -> str:
        return self.server_url + "/submission"

    def send_instance(
        self,
        xml: bytes,
        attachments: list[tuple[str, bytes]] = (),
        *,
        form_name: str = "Form",
        limit: int | None = None,
    ) -> SendResult:
        """Send one instance the way Collect's uploader does: HEAD, then split POSTs."""
        url = self.submission_url
        head = self.head(url)
        if head.status == 401:
            return SendResult(head)
        if head.status == 204:
            try:
                advertised = int(head.header("X-OpenRosa-Accept-Content-Length") or DEFAULT_LIMIT)
            except ValueError:
                advertised = DEFAULT_LIMIT
            location = head.header("Location")
            if location:
                if urlsplit(location).netloc.lower() != urlsplit(url).netloc.lower():
                    return SendResult(head)
                url = location
        elif 200 <= head.status < 300:
            return SendResult(head)
        else:
            advertised = DEFAULT_LIMIT
        limit = limit or advertised
        result = SendResult(head)
        files = list(attachments)
        j = 0
        xml_name = f"{form_name}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.xml"
        while True:
            parts = [("xml_submission_file", xml_name, "text/xml", xml)]
            batch = 0
            incomplete = False
            while j < len(files):
                name, content = files[j]
                parts.append((name, name, content_type_of(name), content))
                batch += len(content)
                j += 1
                if j < len(files) and (len(parts) - 1 > 100 or len(xml) + batch + len(files[j][1]) > limit):
                    incomplete = True
                    break
            body, content_type = multipart_body(parts, incomplete=incomplete)
            response = self.request("POST", url, body=body, headers={"Content-Type": content_type})
            result.posts.append(response)
            if response.status not in (201, 202) or j >= len(files):
                return result


def content_type_of(name: str) -> str:
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def multipart_body(parts: list[tuple[str, str | None, str | None, bytes]], *, incomplete: bool = False) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data request; parts are (name, filename, type, content)."""
    boundary = secrets.token_hex(16)
    chunks = []
    for name, filename, content_type, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode())
        if content_type:
            chunks.append(f"Content-Type: {content_type}\r\n".encode())
        chunks.append(b"\r\n" + content + b"\r\n")
    if incomplete:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="*isIncomplete*"\r\n\r\nyes\r\n'.encode())
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def instance_xml(form_id: str, version: str | None, instance_id: str, body: str = "<q>1</q>", *, root: str = "data", deprecated_id: str | None = None) -> bytes:
    version_attribute = f' version="{version}"' if version is not None else ""
    meta = f"<instanceID>{instance_id}</instanceID>"
    if deprecated_id:
        meta += f"<deprecatedID>{deprecated_id}</deprecatedID>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{root} id="{form_id}"{version_attribute} '
        f'xmlns:orx="http://openrosa.org/xforms">{body}<orx:meta>{meta}</orx:meta></{root}>'
    ).encode("utf-8")


# --------------------------------------------------------------------------- quick test data

_XFORMS: dict[bytes, bytes] = {}


def as_xform(xlsx: bytes) -> bytes:
    """The XForm of an XLSForm, converted once per test session: uploading it skips pyxform and openpyxl."""
    if xlsx not in _XFORMS:
        from formserver.xlsform import convert

        _XFORMS[xlsx] = convert(xlsx, "form.xlsx", validate_with_java=False).xform
    return _XFORMS[xlsx]
