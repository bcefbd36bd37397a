"""Who may ask what of which organisation: a table generated from every route the application answers.

Routes: every rule of ``app.url_map`` (every blueprint: the web pages and downloads, the phones'
OpenRosa URLs, the REST API under ``/v1``, whatever comes later) and the ``/submission`` endpoint
that answers in front of Flask, at both its addresses. Requesters: a network administrator, a member
in each role of ``permissions.VERBS_BY_ROLE`` (a role added later is in the table by itself), a
former member, someone whose password changed since they signed in, and someone not signed in, all
with the web's session or with HTTP Digest; on token URLs a device account, a revoked one and an
unknown token. The API is asked with bearer tokens (one from ``POST /v1/sessions``), HTTP Basic
over https (and over plain http, refused), an expired token, a device account's token as a bearer,
and no credentials. Scopes: the requester's own organisation ("own"), another one ("other"), and
the own organisation's address (its slug, its project id) with another organisation's ids in it or
in the body ("cross", as someone guessing addresses would try).

A route the table cannot ask (a URL variable it cannot fill, a blueprint without a surface, a POST
without a harmless request, a phone URL without its verb) fails, naming it: nothing is skipped.
HEAD of a Flask route runs its GET view, so only the ``/submission`` endpoint is asked HEAD.

The answer to a member of another organisation is deliberate, per surface (``SURFACES``): the web
answers 404 (an address of another organisation tells nothing), the phones' URLs 403 (Collect
shows the reason to someone who typed the organisation's address), the API 404 as Central does
(``{"code": 404.1, ...}``; every API error is in Central's shape). A member without the verb gets
403, someone not signed in the sign-in page (web) or a challenge (401); the API reads nothing for
a device account (403 in its own organisation).

A leak is data of another organisation in any answer (body or headers) to anyone but a network
administrator, whatever its status: "rivernet" holds canaries (``isolation_world``) and none may
appear, except a value the request itself carried.

Every change asked is refused after the permission check (a missing field, the last manager) or
changes nothing (publishing a published version, sending a stored submission again), so the whole
table runs against one world built once for the module.
"""

from __future__ import annotations

import html
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from formserver import create_app
from formserver.config import Settings
from formserver.openrosa import PREFIXES
from formserver.openrosa import submission as submission_endpoint
from formserver.openrosa.auth import APP_USER_VERBS
from formserver.permissions import NETWORK_READ, VERBS_BY_ROLE
from formserver.web.access import PUBLIC, SIGNED_IN

from .api_fixtures import basic, bearer
from .collect_client import CollectClient, FlaskTransport, multipart_body
from .isolation_world import Matrix, build_matrix
from .web_fixtures import CSRF, PASSWORD, shared_app, shared_settings, shared_web, sign_in  # noqa: F401

PHONE_BASE = "http://formserver.test"
HTTPS_BASE = "https://formserver.test"
WEB, PHONES, API = "web", "phones", "api"  # how a surface's requesters prove who they are


@dataclass(frozen=True)
class Surface:
    """How one blueprint answers: what it tells a member of another organisation, and its requesters."""

    outsider: int  # deliberate: the answer to a member of another organisation
    signed_out: int
    callers: str  # WEB: the web's signed session; PHONES: Digest and token URLs; API: tokens and Basic
    fills: dict = field(default_factory=dict)  # URL variables filled otherwise than FILLS says
    device_verbs: frozenset = frozenset()  # what a device account may do there


SURFACES = {
    "web": Surface(outsider=404, signed_out=302, callers=WEB),
    "openrosa": Surface(
        outsider=403, signed_out=401, callers=PHONES, fills={"form_id": "media_form", "filename": "media_file"},
        device_verbs=APP_USER_VERBS,
    ),
    "api": Surface(
        outsider=404, signed_out=401, callers=API,
        fills={"project_id": "org_id", "xml_form_id": "form_id", "instance_id": "instance_id", "filename": "attachment"},
    ),
}
# The verb each phone URL checks (the web's routes carry theirs: ``view.access``).
PHONE_VERBS = {
    "openrosa.form_list": "form.list_open",
    "openrosa.form_xml": "form.list_open",
    "openrosa.manifest": "form.list_open",
    "openrosa.media": "form.list_open",
    "openrosa.submission": "submission.create",
    "openrosa.unknown_address": None,  # an address Collect never uses: every caller gets the same 404
}
# URL variable -> the world's value that fills it.
FILLS = {
    "slug": "slug",
    "form_id": "form_id",
    "version_id": "published_version",
    "submission_id": "submission",
    "name": "attachment",
    "conflict_id": "conflict",
    "job_id": "job",
    "app_user_id": "app_user",
    "user_id": "viewer",
    "filename": "media_file",
}


@dataclass(frozen=True)
class Ask:
    """How the table asks one route: the answer when allowed, harmless form fields, particular values."""

    ok: int | Callable = 200  # or a function of the requester
    data: dict = field(default_factory=dict)  # form fields (web), JSON (API)
    fills: dict = field(default_factory=dict)  # URL variable -> the world's value, for this route
    literal: dict = field(default_factory=dict)  # URL variable -> a fixed value
    body: str | None = None  # the world's value sent as the body (a submission)
    fresh: dict = field(default_factory=dict)  # URL variable -> the person whose new API token fills it


# The REST API: a form's own addresses name the form with media (the other's id is a canary).
API_FORM = Ask(fills={"xml_form_id": "media_form"})


# GET routes not listed are asked as Ask(); every POST must be listed (a request that changes nothing).
ASKS = {
    ("web.home", "GET"): Ask(lambda r: 302 if r.signed_in and r.role else 200),  # a member of one organisation goes there
    ("web.login", "GET"): Ask(lambda r: 302 if r.signed_in else 200),
    ("web.login", "POST"): Ask(401, data={"email": "nobody@nowhere.example", "password": "wrong"}),
    ("web.switch_language", "POST"): Ask(302, data={"lang": "en"}),
    ("web.static", "GET"): Ask(literal={"filename": "style.css"}),
    **{("openrosa.unknown_address", method): Ask(404, literal={"rest": "formList/extra"}) for method in ("GET", "POST", "PUT", "DELETE")},
    ("web.logout", "POST"): Ask(302),
    ("web.change_password", "POST"): Ask(400, data={"current": "wrong"}),
    ("web.admin_organisations", "POST"): Ask(400, data={"slug": "X!"}),
    ("web.admin_users", "POST"): Ask(400, data={"email": "nobody"}),
    ("web.set_analyst", "POST"): Ask(302, data={"analyst": "no"}),  # the viewer is no analyst: nothing changes
    # Published snapshots (network administrators; the public page for anyone): no form shared, none published.
    ("web.publish_snapshot", "POST"): Ask(404, data={"form": "household_visit", "rows": "province"}),
    ("web.revoke_snapshot", "POST"): Ask(404, literal={"snapshot_id": "0"}),
    ("web.public_snapshot", "GET"): Ask(404, literal={"token": "no-snapshot-at-this-address"}),
    ("web.upload_form", "POST"): Ask(400),  # no file chosen
    ("web.change_state", "POST"): Ask(400, data={"state": "archived"}),
    ("web.encrypt_form", "POST"): Ask(400, data={"passphrase": "a", "passphrase_again": "b"}),
    ("web.share_form", "POST"): Ask(302, data={"shared": "off"}),  # not shared: nothing changes
    ("web.assign_form", "POST"): Ask(404, data={"who": "app_user:0"}),
    ("web.unassign_form", "POST"): Ask(404, data={"who": "user:0"}),
    ("web.form_version", "GET"): Ask(fills={"version_id": "draft_version"}),
    ("web.publish_version", "POST"): Ask(302),  # already published
    ("web.upload_media", "POST"): Ask(400, fills={"version_id": "draft_version"}),  # no files
    ("web.review_submission", "POST"): Ask(400, data={"state": "lost"}),
    ("web.comment_submission", "POST"): Ask(400, data={"text": " "}),
    ("web.conflict_attachment", "GET"): Ask(fills={"name": "conflict_file"}),
    ("web.resolve_conflict", "POST"): Ask(400),  # no choice made
    ("web.create_phone", "POST"): Ask(400, data={"name": " "}),
    ("web.revoke_phone", "POST"): Ask(302, fills={"app_user_id": "revoked_app_user"}),  # already revoked
    ("web.add_member", "POST"): Ask(400, data={"email": "not an address", "role": "viewer"}),
    ("web.change_role", "POST"): Ask(400, data={"role": "owner"}),
    ("web.remove_member", "POST"): Ask(409, fills={"user_id": "manager"}),  # the last manager
    ("web.start_export", "POST"): Ask(400, data={"format": "pdf"}),
    # The network's figures: nobody shares a form in this world, so there is no table to take away.
    ("web.network_workbook", "GET"): Ask(404),
    ("web.network_csv", "GET"): Ask(404),
    ("openrosa.submission", "HEAD"): Ask(204),
    ("openrosa.submission", "GET"): Ask(204),
    ("openrosa.submission", "POST"): Ask(201, body="instance"),  # a stored submission again
    ("api.create_session", "POST"): Ask(401, data={"email": "nobody@nowhere.example", "password": "wrong"}),
    # Signing out another person: the network administrator may (a token made for the purpose), nobody else.
    ("api.delete_session", "DELETE"): Ask(lambda r: 200 if r.admin else 403, fresh={"token": "river manager"}),
    ("api.current_user", "GET"): Ask(lambda r: 403 if r.token else 200),  # a device account is no user
    **{(f"api.{name}", "GET"): API_FORM for name in ("form", "form_xml", "form_versions", "form_attachments", "form_fields")},
    ("api.table_rows", "GET"): Ask(literal={"table_name": "Submissions"}),
    ("api.create_submission", "POST"): Ask(409, body="instance", fills={"xml_form_id": "media_form"}),  # stored already
    ("api.review_submission", "PATCH"): Ask(400, data={"reviewState": "lost"}),
    ("api.post_comment", "POST"): Ask(400, data={"body": " "}),
    # A passphrase for a key the form does not have is ignored, as Central ignores it: the plain zip.
    ("api.submissions_csv_zip", "POST"): Ask(data={"1": "not the passphrase of any key"}),
    **{("api.unknown", method): Ask(404, literal={"_anything": "nothing/here"}) for method in ("GET", "POST", "PUT", "PATCH", "DELETE")},
}


@dataclass(frozen=True)
class Requester:
    name: str
    user: str | None = None  # the world's person (Matrix.users), None: nobody
    role: str | None = None  # their role in the own organisation
    admin: bool = False
    signed_in: bool = True  # the server accepts their session, Digest answer or token
    token: str | None = None  # a device account's (Matrix.tokens)
    api_token: str | None = None  # their API bearer token (Matrix.api_tokens)
    via: str = ""  # how else they call the API: SESSIONS, BASIC or BASIC_HTTP

    @property
    def member(self) -> bool:
        return self.role is not None or self.token is not None


PEOPLE = [
    Requester("network administrator", "admin", admin=True),
    *(Requester(role, role, role) for role in VERBS_BY_ROLE),
    Requester("former member", "former"),
    Requester("network analyst", "analyst"),  # network figures only: every organisation page is 404
    Requester("password changed", "changed", "viewer", signed_in=False),
    Requester("signed out", signed_in=False),
]
DEVICES = [
    Requester("device account", token="device"),
    Requester("revoked device account", token="revoked", signed_in=False),
    Requester("unknown token", token="unknown", signed_in=False),
]
SESSIONS, BASIC, BASIC_HTTP = "a token from POST /v1/sessions", "Basic over https", "Basic over plain http"
API_CALLERS = [
    Requester(f"network administrator, {SESSIONS}", "admin", admin=True, via=SESSIONS),
    Requester(f"network administrator, {BASIC}", "admin", admin=True, via=BASIC),
    *(Requester(f"{role}, bearer token", role, role, api_token=role) for role in VERBS_BY_ROLE),
    *(Requester(f"{role}, {BASIC}", role, role, via=BASIC) for role in VERBS_BY_ROLE),
    Requester("former member, bearer token", "former", api_token="former"),
    Requester("network analyst, bearer token", "analyst", api_token="analyst"),
    Requester("password changed since the token", "changed", "viewer", signed_in=False, api_token="changed"),
    Requester("expired token", "viewer", "viewer", signed_in=False, api_token="expired"),
    Requester(f"manager, {BASIC_HTTP}", "manager", "manager", signed_in=False, via=BASIC_HTTP),
    Requester(f"unknown address, {BASIC}", signed_in=False, via=BASIC),
    *(replace(device, name=f"{device.name} as a bearer token") for device in DEVICES),
    Requester("no credentials", signed_in=False),
]


# --------------------------------------------------------------------------- the routes


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    methods: tuple[str, ...]

    @property
    def blueprint(self) -> str | None:
        return self.endpoint.rpartition(".")[0] or None

    @property
    def entry(self) -> str:
        """The endpoint without its address prefix: a phone URL and its token URL share one entry."""
        blueprint, _, name = self.endpoint.rpartition(".")
        if blueprint == "openrosa":
            name = next((name[len(p) :] for p in PREFIXES if p and name.startswith(p)), name)
        return f"{blueprint}.{name}" if blueprint else name

    @property
    def variables(self) -> list[str]:
        return re.findall(r"<(?:[^<>:]+:)?([^<>]+)>", self.rule)


def submission_routes() -> list[Route]:
    """``/submission`` answers in front of Flask (openrosa/submission.py): its addresses under both prefixes."""
    routes = []
    for name, prefix in PREFIXES.items():
        route = Route(f"openrosa.{name}submission", prefix + "/submission", submission_endpoint.METHODS)
        example = re.sub(r"<[^<>]+>", "x", route.rule)
        assert submission_endpoint.PATH.fullmatch(example), f"{route.rule} is not the endpoint's address"
        routes.append(route)
    return routes


def application_routes() -> list[Route]:
    """Every route of the application, read from a fresh one when the tests are collected."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder), database_url="sqlite:///:memory:", secret_key="routes", public_url=PHONE_BASE
        )
        app = create_app(settings)
        rules = list(app.url_map.iter_rules())
        app.extensions["formserver.db"].dispose()
    routes = []
    for rule in rules:
        methods = set(rule.methods) - {"OPTIONS"}
        if "GET" in methods:
            methods.discard("HEAD")  # Flask answers HEAD with the GET view
        routes.append(Route(rule.endpoint, rule.rule, tuple(sorted(methods))))
    return routes + submission_routes()


ROUTES = application_routes()


# --------------------------------------------------------------------------- what to ask, what to expect


class NotInTable(Exception):
    """The table cannot ask this route: the message says what it lacks."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    data: tuple = ()
    body: bytes | None = None

    @property
    def carried(self) -> bytes:
        """Everything the requester sent, so that an echo of it is not taken for a leak."""
        return self.path.encode() + repr(self.data).encode() + (self.body or b"")


@dataclass(frozen=True)
class Plan:
    route: Route
    method: str
    surface: Surface
    access: tuple[str, str | None]
    ask: Ask

    @property
    def requesters(self) -> list[Requester]:
        if self.surface.callers == API:
            return API_CALLERS
        if self.surface.callers == WEB:
            return PEOPLE
        return DEVICES if "token" in self.route.variables else PEOPLE

    def request(self, values: dict, requester: Requester, matrix: Matrix) -> Request:
        def fill(match) -> str:
            variable = match[1]
            if variable in self.ask.literal:
                return quote(self.ask.literal[variable], safe="")
            if variable in self.ask.fresh:
                return matrix.open_api_token(self.ask.fresh[variable])
            if variable == "token":
                return matrix.tokens[requester.token]
            key = self.ask.fills.get(variable) or self.surface.fills.get(variable) or FILLS.get(variable)
            if key is None:
                raise NotInTable(f"{self.method} {self.route.rule}: no value for <{variable}> (FILLS)")
            return quote(str(values[key]), safe="")

        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", fill, self.route.rule)
        body = values[self.ask.body] if self.ask.body else None
        return Request(self.method, path, tuple(sorted(self.ask.data.items())), body)

    def requests(self, matrix: Matrix, requester: Requester):
        """(scope, request): own, then other and cross where they ask something else."""
        own, other = matrix.values["own"], matrix.values["other"]
        asked = {}
        cross = {**other, "slug": own["slug"], "org_id": own["org_id"]}
        for scope, values in (("own", own), ("other", other), ("cross", cross)):
            request = self.request(values, requester, matrix)
            if request not in asked.values():
                asked[scope] = request
        return asked.items()

    def expected(self, requester: Requester, scope: str) -> int:
        kind, verb = self.access
        ok = self.ask.ok(requester) if callable(self.ask.ok) else self.ask.ok
        if kind == PUBLIC:
            return ok
        if not requester.signed_in:
            return self.surface.signed_out
        if kind == SIGNED_IN:
            # Network-wide verbs are the administrators', and the network's figures also the analyst's (no
            # organisation shares a form in this world, so its managers read no figures).
            return ok if verb is None or requester.admin or (verb == NETWORK_READ and requester.user == "analyst") else 403
        if not requester.admin and (scope == "other" or not requester.member):
            return self.surface.outsider
        if not may(requester, verb, self.surface):
            return 403  # the verb is checked before the ids are looked up
        return 404 if scope == "cross" else ok


def may(requester: Requester, verb: str, surface: Surface) -> bool:
    if requester.admin:
        return True
    if requester.token is not None:
        return verb in surface.device_verbs
    return verb in VERBS_BY_ROLE[requester.role]


def plan(app: Flask, route: Route, method: str) -> Plan:
    surface = SURFACES.get(route.blueprint)
    if surface is None:
        raise NotInTable(f"{method} {route.rule}: blueprint {route.blueprint!r} has no entry in SURFACES")
    if surface.callers == PHONES:
        if route.entry not in PHONE_VERBS:
            raise NotInTable(f"{method} {route.rule}: no verb in PHONE_VERBS")
        verb = PHONE_VERBS[route.entry]
        access = (PUBLIC, None) if verb is None else ("organisation", verb)
    elif route.entry.rpartition(".")[2] == "static":
        access = (PUBLIC, None)  # Flask's own route for a static folder
    else:
        access = getattr(app.view_functions.get(route.endpoint), "access", None)
        if access is None:
            raise NotInTable(f"{method} {route.rule}: not registered through web/access.py (no view.access)")
    ask = ASKS.get((route.entry, method))
    if ask is None and method != "GET":
        raise NotInTable(f"{method} {route.rule}: a change needs a harmless request in ASKS")
    return Plan(route, method, surface, access, ask or Ask())


# --------------------------------------------------------------------------- asking


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def seen(self) -> bytes:
        """All a requester gets to read (the session cookie is their own), a zip's files unpacked."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers if k.lower() != "set-cookie")
        return head.encode() + b"\n" + self.body + b"\n" + unzipped(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def unzipped(body: bytes) -> bytes:
    """The names and contents of the files of a zip (an export), or nothing if it is no zip."""
    if not body.startswith(b"PK\x03\x04"):
        return b""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return b"\n".join(name.encode() + b"\n" + archive.read(name) for name in archive.namelist())
    except zipfile.BadZipFile:
        return b""


def web_asker(app: Flask, matrix: Matrix, requester: Requester) -> Callable[[Request], Answer]:
    client = app.test_client()
    sign_in(client, app, matrix.users.get(requester.user), fingerprint=matrix.fingerprints.get(requester.user))

    def ask(request: Request) -> Answer:
        data = {"csrf_token": CSRF, **dict(request.data)} if request.method == "POST" else None
        response = client.open(request.path, method=request.method, data=data)
        return Answer(response.status_code, list(response.headers.items()), response.get_data())

    return ask


def phone_asker(app: Flask, matrix: Matrix, requester: Requester) -> Callable[[Request], Answer]:
    """A Collect-like client: Digest after a challenge for people, nothing but the URL for device accounts."""
    phone = CollectClient(
        PHONE_BASE, FlaskTransport(app.test_client()), username=matrix.emails.get(requester.user), password=PASSWORD
    )

    def ask(request: Request) -> Answer:
        body, headers = None, {}
        if request.body is not None:
            body, content_type = multipart_body([("xml_submission_file", "instance.xml", "text/xml", request.body)])
            headers["Content-Type"] = content_type
        response = phone.request(request.method, PHONE_BASE + request.path, body=body, headers=headers)
        return Answer(response.status, response.headers, response.body)

    return ask


def api_credentials(client, matrix: Matrix, requester: Requester) -> tuple[dict, str]:
    """(headers, base URL) of an API caller: a bearer token, Basic over https or http, or nothing."""
    if requester.token is not None:
        return bearer(matrix.tokens[requester.token]), PHONE_BASE
    if requester.api_token is not None:
        return bearer(matrix.api_tokens[requester.api_token]), PHONE_BASE
    if requester.via == SESSIONS:
        signed_in = client.post("/v1/sessions", json={"email": matrix.emails[requester.user], "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.get_json()
        return bearer(signed_in.get_json()["token"]), PHONE_BASE
    if requester.via in (BASIC, BASIC_HTTP):
        email = matrix.emails[requester.user] if requester.user else "nobody@nowhere.example"
        return basic(email), HTTPS_BASE if requester.via == BASIC else PHONE_BASE
    return {}, PHONE_BASE


def api_asker(app: Flask, matrix: Matrix, requester: Requester) -> Callable[[Request], Answer]:
    client = app.test_client()
    headers, base_url = api_credentials(client, matrix, requester)

    def ask(request: Request) -> Answer:
        options = {"headers": headers, "base_url": base_url}
        if request.body is not None:
            options.update(data=request.body, content_type="application/xml")
        elif request.data:
            options["json"] = dict(request.data)
        response = client.open(request.path, method=request.method, **options)
        return Answer(response.status_code, list(response.headers.items()), response.get_data())

    return ask


ASKERS = {WEB: web_asker, PHONES: phone_asker, API: api_asker}


def asker(app: Flask, matrix: Matrix, table: Plan, requester: Requester) -> Callable[[Request], Answer]:
    return ASKERS[table.surface.callers](app, matrix, requester)


def centrals_shape(answer: Answer) -> str | None:
    """What is wrong with an API error, if anything: Central's ``{"code": 404.1, "message": ...}``, every
    404 (another organisation's, or nothing there) the same 404.1."""
    try:
        body = json.loads(answer.body)
    except ValueError:
        return "not JSON"
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, float) or int(code) != answer.status or not isinstance(body.get("message"), str):
        return f"not Central's error shape: {answer.body[:120]!r}"
    if answer.status == 404 and code != 404.1:
        return f"code {code}, not 404.1"
    return None


def spellings(value: str) -> set[bytes]:
    """A value as it may appear in an answer: as is, in JSON, HTML, a URL or XML character references."""
    return {
        value.encode(),
        json.dumps(value)[1:-1].encode(),
        html.escape(value).encode(),
        quote(value, safe="").encode(),
        value.encode("ascii", "xmlcharrefreplace"),
    }


def leaked(matrix: Matrix, request: Request, answer: Answer) -> list[str]:
    """The canaries in an answer, except those the request carried itself."""
    found = []
    for what, value in matrix.canaries.items():
        forms = spellings(value)
        if not any(f in request.carried for f in forms) and any(f in answer.seen for f in forms):
            found.append(what)
    return found


@pytest.fixture(scope="module")
def matrix(shared_app, shared_settings, shared_web) -> Matrix:
    extensions = shared_app.extensions
    return build_matrix(extensions["formserver.db"], extensions["formserver.blobs"], shared_settings, shared_web)


@pytest.fixture(scope="module", autouse=True)
def quick_unknown_sign_ins():
    """A sign-in with an unknown address checks a scrypt hash (0.3 s) to take as long as a known one."""
    from werkzeug.security import generate_password_hash

    from formserver.web import auth

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_dummy_hash", lambda: generate_password_hash("x", method="pbkdf2:sha256:1"))
        yield


# --------------------------------------------------------------------------- the table


@pytest.mark.parametrize("route, method", [pytest.param(r, m, id=f"{m} {r.rule}") for r in ROUTES for m in r.methods])
def test_every_route_answers_each_requester_as_the_table_says_and_leaks_nothing(shared_app, matrix, route, method):
    try:
        wrong = mistakes(shared_app, matrix, plan(shared_app, route, method))
    except NotInTable as missing:
        pytest.fail(str(missing))
    assert not wrong, f"{method} {route.rule}:\n" + "\n".join(wrong)


def mistakes(app: Flask, matrix: Matrix, table: Plan) -> list[str]:
    """Every answer of the route that is not the table's, and every leak."""
    wrong = []
    for requester in table.requesters:
        ask = asker(app, matrix, table, requester)
        for scope, request in table.requests(matrix, requester):
            answer = ask(request)
            want = table.expected(requester, scope)
            # The changed viewer's phone keeps sending the old password: after a few, the account is slowed
            # down and a phone gets 429 where it got 401 (tests/test_openrosa_auth.py tests that on its own).
            slowed_down = table.surface.callers == PHONES and (want, answer.status) == (401, 429)
            if answer.status != want and not slowed_down:
                wrong.append(f"{requester.name}, {scope}: {answer.status}, not {want}  ({request.path})")
            elif table.surface.callers == API and want >= 400:
                if (problem := centrals_shape(answer)) is not None:
                    wrong.append(f"{requester.name}, {scope}: {problem}")
            elif want == 302 and table.access[0] != PUBLIC and not requester.signed_in:
                if not (answer.header("Location") or "").startswith("/login?next="):
                    wrong.append(f"{requester.name}, {scope}: sent to {answer.header('Location')}, not the sign-in page")
            if not requester.admin:
                wrong += [f"{requester.name}, {scope}: LEAK of {what} ({answer.status})" for what in leaked(matrix, request, answer)]
    return wrong


def test_the_canaries_reach_whoever_may_see_them(shared_app, matrix):
    """The network administrator, asking the other organisation's addresses, finds every canary somewhere:
    they are in the data the table asks for, and the search for them finds them."""
    seen = []
    for route in ROUTES:
        for method in route.methods:
            table = plan(shared_app, route, method)
            admin = next((r for r in table.requesters if r.admin), None)
            if admin is None:
                continue
            request = dict(table.requests(matrix, admin)).get("other")
            if request is not None:
                seen.append((request, asker(shared_app, matrix, table, admin)(request)))
    unseen = set(matrix.canaries) - {what for request, answer in seen for what in leaked(matrix, request, answer)}
    assert unseen == {"a revoked device account's token"}  # shown to nobody once revoked


def test_an_address_nobody_answers_is_the_web_404_page(shared_app):
    """/static/… was Flask's route for a static folder the application does not have, and answered 500."""
    for path in ("/static/style.css", "/nothing/here"):
        response = shared_app.test_client().get(path)
        assert response.status_code == 404 and response.mimetype == "text/html", path


def test_every_layer_in_front_of_flask_is_in_the_table(shared_app, shared_settings):
    """A WSGI endpoint answering before Flask's routes (as /submission does) must bring its addresses here."""
    known = {submission_endpoint.SubmissionEndpoint: "fallback", ProxyFix: "app"}
    for app in (shared_app, create_app(replace(shared_settings, behind_proxy=True))):
        layer = app.wsgi_app
        while getattr(layer, "__func__", None) is not Flask.wsgi_app:
            assert type(layer) in known, f"{type(layer).__name__} answers before Flask and is not in the table"
            layer = getattr(layer, known[type(layer)])
    assert {r.endpoint for r in submission_routes()} <= {r.endpoint for r in ROUTES}


def test_every_organisation_route_checks_a_verb_through_the_one_helper(shared_app):
    for rule in shared_app.url_map.iter_rules():
        if rule.rule.startswith(("/orgs/<slug>", "/v1/projects/<int:project_id>")):
            view = shared_app.view_functions[rule.endpoint]
            kind, verb = view.access
            assert kind == "organisation" and verb, rule.rule
