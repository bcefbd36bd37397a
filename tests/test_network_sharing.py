"""Sharing a form with the network, and who may read the network's figures: those who give, see."""

from __future__ import annotations

from sqlalchemy import func, select

from formserver.accounts import add_member, create_user
from formserver.form_keys import turn_on_encryption
from formserver.models import AuditEvent, Form, NetworkUnit, User
from formserver.network.access import may_read_figures
from formserver.problems import Problem

from .network_world import FORM_ID, household_xml, member, send, share, sharing_organisation
from .web_fixtures import CSRF, make_user, sign_in

PASSPHRASE = "a long enough passphrase"


def units(session) -> int:
    return session.scalar(select(func.count()).select_from(NetworkUnit))


def test_sharing_builds_the_facts_of_stored_submissions_and_withdrawing_deletes_them(session, blobs):
    hill, form = sharing_organisation(session, blobs, "hillnet", shared=False)
    send(session, blobs, hill, household_xml("uuid:1", members=[member("นา"), member("คำ")]))
    assert units(session) == 0
    share(session, blobs, form, True)
    assert units(session) == 3
    share(session, blobs, form, False)
    assert units(session) == 0
    actions = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "network.share")).all()
    assert [details["shared"] for details in actions] == [True, False]


def test_an_encrypted_form_cannot_be_shared_and_encrypting_a_shared_form_withdraws_it(session, blobs):
    hill, form = sharing_organisation(session, blobs, "hillnet")
    send(session, blobs, hill, household_xml("uuid:1", members=[member("นา")]))
    turn_on_encryption(session, form, PASSPHRASE)
    session.commit()
    assert not form.network_shared and units(session) == 0
    try:
        share(session, blobs, form, True)
    except Problem as problem:
        assert problem.code == "network.encrypted_form"
    else:
        raise AssertionError("an encrypted form was shared")


def people(session, blobs):
    """An administrator, an analyst, and every role of a sharing and of a non-sharing organisation."""
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, _ = sharing_organisation(session, blobs, "rivernet", shared=False)
    found = {
        "admin": make_user(session, "admin@net.example", admin=True),
        "analyst": create_user(session, "analyst@net.example", "a long password", realm="r", is_analyst=True),
    }
    for organisation in (hill, river):
        for role in ("manager", "viewer", "collector"):
            user = make_user(session, f"{role}@{organisation.slug}.example")
            add_member(session, organisation, user, role)
            found[f"{role} of {organisation.slug}"] = user
    session.commit()
    return found


def test_those_who_give_see(session, blobs):
    everyone = people(session, blobs)
    readers = {name for name, user in everyone.items() if may_read_figures(session, user)}
    assert readers == {"admin", "analyst", "manager of hillnet"}
    assert not may_read_figures(session, None)


def test_a_manager_shares_on_the_forms_page_and_a_viewer_may_not(app, client):
    database, blobs = app.extensions["formserver.db"], app.extensions["formserver.blobs"]
    with database.session_scope() as session:
        everyone = people(session, blobs)
        manager, viewer = everyone["manager of rivernet"].id, everyone["viewer of rivernet"].id
    address = f"/orgs/rivernet/forms/{FORM_ID}/network"
    sign_in(client, app, viewer)
    assert client.post(address, data={"csrf_token": CSRF, "shared": "on"}).status_code == 403
    sign_in(client, app, manager)
    assert client.post(address, data={"shared": "on"}).status_code == 400  # no CSRF token
    answer = client.post(address, data={"csrf_token": CSRF, "shared": "on"}, headers={"Accept-Language": "th"})
    assert answer.status_code == 302
    with database.session_scope() as session:
        assert session.scalar(select(Form.network_shared).where(Form.form_id == FORM_ID, Form.organisation_id == everyone_id(session, "rivernet")))
    page = client.get(f"/orgs/rivernet/forms/{FORM_ID}").get_data(as_text=True)
    assert "ตัวเลขของเครือข่าย" in page or "Network figures" in page


def everyone_id(session, slug: str) -> int:
    from formserver.accounts import organisation_by_slug

    return organisation_by_slug(session, slug).id


def test_an_analyst_member_of_nothing_gets_404_on_an_organisation_page(app, client):
    database, blobs = app.extensions["formserver.db"], app.extensions["formserver.blobs"]
    with database.session_scope() as session:
        analyst = people(session, blobs)["analyst"].id
    sign_in(client, app, analyst)
    for address in ("/orgs/hillnet", f"/orgs/hillnet/forms/{FORM_ID}", f"/orgs/hillnet/forms/{FORM_ID}/submissions"):
        assert client.get(address).status_code == 404


def test_the_command_line_shares_rebuilds_and_creates_analysts(run, session, blobs):
    hill, form = sharing_organisation(session, blobs, "hillnet", shared=False)
    send(session, blobs, hill, household_xml("uuid:1", members=[member("นา")]))
    session.close()  # the commands open their own sessions (SQLite: one writer at a time)
    code, out, _ = run("network", "share", "hillnet", FORM_ID, "on")
    assert code == 0 and "counted in the network figures" in out
    assert units(session) == 2
    session.execute(NetworkUnit.__table__.delete())
    session.commit()
    session.close()
    code, out, _ = run("network", "rebuild")
    assert code == 0 and "1 submissions" in out and units(session) == 2
    session.close()
    code, out, _ = run("user", "create", "analyst@net.example", "--password", "a long password", "--analyst")
    assert code == 0 and "network analyst" in out
    assert session.scalar(select(User.is_analyst).where(User.email == "analyst@net.example"))
