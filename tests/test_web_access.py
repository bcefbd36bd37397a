"""Who may open which page: a generated table of route × role × organisation with the expected answer.

Roles: network administrator, manager, viewer, collector (members of "own"), and
someone not signed in. Scopes: "own" (the role's organisation), "other" (an
organisation the person does not belong to) and "cross" (their own organisation's
address with another organisation's ids in it, as someone guessing addresses would
try). Outsiders get 404, never 403: an address of another organisation tells them
nothing. Members without the verb get 403; anonymous visitors go to the sign-in page.

Every change below is one that is refused after the permission check (a missing
field, a last manager) or changes nothing (publishing a published version), so the
whole table runs against one world built once for the module.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .web_fixtures import CSRF, shared_app, shared_settings, shared_web, sign_in  # noqa: F401

ROLES = ["admin", "manager", "viewer", "collector", "anonymous"]
SCOPES = ["own", "other", "cross"]
EVERYONE = {"manager", "viewer", "collector"}
READERS = {"manager", "viewer"}
MANAGERS = {"manager"}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str  # placeholders filled from a Place
    members: frozenset  # roles of the organisation allowed (the administrator always is)
    ok: int = 200  # the answer when allowed (changes: the refusal after the permission check)
    data: tuple = ()

    @property
    def has_ids(self) -> bool:
        return any(key in self.path for key in ("{draft_version}", "{published_version}", "{submission}", "{conflict}", "{app_user}", "{revoked_app_user}", "{job}", "{viewer}", "{manager}"))


def route(endpoint, method, path, members, ok=200, **data):
    return Route(endpoint, method, path, frozenset(members), ok, tuple(sorted(data.items())))


ORG = "/orgs/{slug}"
FORM = ORG + "/forms/{form_id}"
SUB = ORG + "/submissions/{submission}"
ROUTES = [
    route("organisation_home", "GET", ORG, EVERYONE),
    route("upload_form", "GET", ORG + "/forms/new", MANAGERS),
    route("upload_form", "POST", ORG + "/forms/new", MANAGERS, 400),  # no file chosen
    route("form_page", "GET", FORM, READERS),
    route("change_state", "POST", FORM + "/state", MANAGERS, 400, state="archived"),
    route("encrypt_form", "POST", FORM + "/encryption", MANAGERS, 400, passphrase="a", passphrase_again="b"),
    route("assign_form", "POST", FORM + "/assignments", MANAGERS, 404, who="app_user:0"),
    route("unassign_form", "POST", FORM + "/assignments/remove", MANAGERS, 404, who="user:0"),
    route("form_version", "GET", FORM + "/versions/{draft_version}", READERS),
    route("version_source", "GET", FORM + "/versions/{published_version}/xlsform", READERS),
    route("version_xform", "GET", FORM + "/versions/{published_version}/xform", READERS),
    route("publish_version", "POST", FORM + "/versions/{published_version}/publish", MANAGERS, 302),  # already published
    route("upload_media", "POST", FORM + "/versions/{draft_version}/media", MANAGERS, 400),  # no files
    route("submissions_page", "GET", FORM + "/submissions", READERS),
    route("submission_page", "GET", SUB, READERS),
    route("submission_xml", "GET", SUB + "/xml", READERS),
    route("submission_attachment", "GET", SUB + "/attachments/photo.png", READERS),
    route("review_submission", "POST", SUB + "/review", MANAGERS, 400, state="lost"),
    route("comment_submission", "POST", SUB + "/comments", MANAGERS, 400, text=" "),
    route("conflicts_page", "GET", ORG + "/conflicts", MANAGERS),
    route("conflict_page", "GET", ORG + "/conflicts/{conflict}", MANAGERS),
    route("resolve_conflict", "POST", ORG + "/conflicts/{conflict}/resolve", MANAGERS, 400),  # no choice made
    route("conflict_attachment", "GET", ORG + "/conflicts/{conflict}/attachments/none.jpg", MANAGERS, 404),  # none sent
    route("phones_page", "GET", ORG + "/phones", EVERYONE),
    route("create_phone", "POST", ORG + "/phones", MANAGERS, 400, name=" "),
    route("phone_page", "GET", ORG + "/phones/{app_user}", MANAGERS),
    route("revoke_phone", "POST", ORG + "/phones/{revoked_app_user}/revoke", MANAGERS, 302),  # already revoked
    route("members_page", "GET", ORG + "/members", MANAGERS),
    route("add_member", "POST", ORG + "/members", MANAGERS, 400, email="not an address", role="viewer"),
    route("change_role", "POST", ORG + "/members/{viewer}/role", MANAGERS, 400, role="owner"),
    route("remove_member", "POST", ORG + "/members/{manager}/remove", MANAGERS, 409),  # the last manager
    route("audit_log", "GET", ORG + "/audit", MANAGERS),
    route("exports_page", "GET", ORG + "/exports", READERS),
    route("export_form_page", "GET", FORM + "/export", READERS),
    route("start_export", "POST", FORM + "/export", READERS, 400, format="pdf"),
    route("export_progress", "GET", ORG + "/exports/{job}", READERS),
    route("export_download", "GET", ORG + "/exports/{job}/download", READERS, 410),  # its file is not kept
]
# Pages of the signed-in person and of network administrators, outside any organisation.
PERSONAL = [
    route("change_password", "GET", "/account/password", EVERYONE),
    route("change_password", "POST", "/account/password", EVERYONE, 400, current="wrong"),
    route("logout", "POST", "/logout", EVERYONE, 302),
    route("admin_organisations", "GET", "/admin/organisations", set()),
    route("admin_organisations", "POST", "/admin/organisations", set(), 400, slug="X!"),
    route("admin_users", "GET", "/admin/users", set()),
    route("admin_users", "POST", "/admin/users", set(), 400, email="nobody"),
    route("admin_audit", "GET", "/admin/audit", set()),
]
PUBLIC = {"home", "login", "switch_language", "static"}


def expected(route: Route, role: str, scope: str) -> int:
    if role == "anonymous":
        return 302
    if scope == "cross":
        allowed = role == "admin" or role in route.members
        return 404 if allowed else 403  # the verb is checked first, then the ids are not found
    if scope == "other" and role != "admin":
        return 404
    return route.ok if (role == "admin" or role in route.members) else 403


def table():
    for r in ROUTES:
        for role in ROLES:
            for scope in SCOPES:
                if scope == "cross" and not r.has_ids:
                    continue
                yield pytest.param(r, role, scope, expected(r, role, scope), id=f"{r.method} {r.endpoint} {role} {scope}")


def fill(path: str, web, scope: str) -> str:
    place = web.own if scope == "own" else web.other
    ids = dict(vars(place))
    if scope == "cross":
        ids["slug"] = web.own.slug
    return path.format(**ids)


def ask(client, route: Route, url: str):
    if route.method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": CSRF, **dict(route.data)})


@pytest.mark.parametrize("route, role, scope, status", list(table()))
def test_organisation_pages(shared_app, shared_web, route, role, scope, status):
    client = shared_app.test_client()
    sign_in(client, shared_app, shared_web.users.get(role))
    response = ask(client, route, fill(route.path, shared_web, scope))
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if status == 302 and role == "anonymous":
        assert response.location.startswith("/login?next=")


@pytest.mark.parametrize(
    "route, role",
    [pytest.param(r, role, id=f"{r.method} {r.endpoint} {role}") for r in PERSONAL for role in ROLES],
)
def test_personal_and_administration_pages(shared_app, shared_web, route, role):
    client = shared_app.test_client()
    sign_in(client, shared_app, shared_web.users.get(role))
    response = ask(client, route, route.path)
    want = 302 if role == "anonymous" else (route.ok if role == "admin" or role in route.members else 403)
    assert response.status_code == want


def test_every_web_route_is_in_the_table(shared_app):
    """A new page cannot be added without saying who may open it."""
    covered = {(r.endpoint, r.method) for r in ROUTES + PERSONAL}
    for rule in shared_app.url_map.iter_rules():
        if not rule.endpoint.startswith("web.") or rule.endpoint.split(".", 1)[1] in PUBLIC:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (rule.endpoint.split(".", 1)[1], method) in covered, f"{method} {rule.rule} is not in the table"


def test_every_organisation_route_checks_a_verb_through_the_one_helper(shared_app):
    for rule in shared_app.url_map.iter_rules():
        if rule.rule.startswith("/orgs/<slug>"):
            view = shared_app.view_functions[rule.endpoint]
            kind, verb = view.access
            assert kind == "organisation" and verb, rule.rule


def test_the_public_pages_answer_everyone(shared_app, shared_web):
    for role in ROLES:
        client = shared_app.test_client()
        sign_in(client, shared_app, shared_web.users.get(role))
        assert client.get("/").status_code in (200, 302)
        assert client.get("/login").status_code in (200, 302)
        assert client.post("/language", data={"csrf_token": CSRF, "lang": "en"}).status_code == 302
        assert client.get("/assets/style.css").status_code == 200
