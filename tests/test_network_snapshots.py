"""Published snapshots: an administrator freezes a table at a public address, which anyone opens
signed out; it keeps only the figures as shown, stays as published when an organisation withdraws,
and answers 410 once revoked."""

from __future__ import annotations

import datetime
import json
import logging
import re
from html import unescape

import pytest
from sqlalchemy import select

from formserver.models import AuditEvent, Form, NetworkSnapshot
from formserver.network.workbook import from_json

from .network_population import CANARIES, NOT_SHARED, PERSONS_BY_PROVINCE, fill_network
from .network_world import share
from .web_fixtures import CSRF, sign_in

K = 5


@pytest.fixture
def network(app):
    database, blobs = app.extensions["formserver.db"], app.extensions["formserver.blobs"]
    with database.session_scope() as session:
        return fill_network(session, blobs)


def publish(app, client, network, fields=PERSONS_BY_PROVINCE, title="สถานะทางกฎหมาย × จังหวัด"):
    """Publish as the network administrator; the snapshot made."""
    sign_in(client, app, network["admin"])
    answer = client.post("/network/snapshots", data={"csrf_token": CSRF, "title": title, **fields})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with app.extensions["formserver.db"].session_scope() as session:
        snapshot = session.scalars(select(NetworkSnapshot).order_by(NetworkSnapshot.id.desc())).first()
        session.expunge(snapshot)
    return snapshot


def shown_numbers(page: str) -> list[str]:
    """Every count a reader sees: the table's cells and the numbers written beside the chart's bars."""
    cells = re.findall(r"<td>([^<]*)</td>", page)
    values = re.findall(r'<text class="(?:value|mark)"[^>]*>([^<]*)</text>', page)
    return [re.sub(r"^= |^.*: ", "", unescape(v)).replace(",", "") for v in cells + values]


def test_an_administrator_publishes_a_table_that_opens_signed_out(app, client, network):
    snapshot = publish(app, client, network)
    assert len(snapshot.token) >= 43  # 256 bits
    public = app.test_client()
    answer = public.get(f"/p/{snapshot.token}", headers={"Accept-Language": "th"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "สถานะทางกฎหมาย × จังหวัด" in page and "<svg" in page
    assert "ไร้สัญชาติ" in page and "เชียงราย" in page  # the form's Thai labels, in the table and the chart
    assert "Organisation hillnet" in page and "Organisation rivernet" in page
    assert answer.headers["Cache-Control"] == "private, no-cache"
    assert "noindex" in answer.headers["X-Robots-Tag"]
    assert "Set-Cookie" not in answer.headers  # no session for a reader
    english = public.get(f"/p/{snapshot.token}?lang=en").get_data(as_text=True)
    assert "Stateless" in english and "Chiang Rai" in english


def test_the_public_page_links_to_nothing_else_of_the_site(app, client, network):
    snapshot = publish(app, client, network)
    page = app.test_client().get(f"/p/{snapshot.token}").get_data(as_text=True)
    links = re.findall(r'(?:href|action|src)="([^"]*)"', page)
    assert links and all(link.startswith(("/assets/", "?lang=", "data:")) for link in links), links
    assert "/login" not in page and "/orgs/" not in page and "csrf" not in page


def test_a_snapshot_never_shows_a_count_under_k(app, client, network):
    snapshot = publish(app, client, network)
    page = app.test_client().get(f"/p/{snapshot.token}").get_data(as_text=True)
    numbers = shown_numbers(page)
    assert numbers and f"<{K}" in numbers  # the table has small cells, shown as their mark
    for number in numbers:
        assert number in {f"<{K}", "x"} or int(number) == 0 or int(number) >= K, number
    stored = snapshot.content
    values = [v for _, _, v in stored["cells"]] + list(stored["row_totals"].values())
    values += list(stored["column_totals"].values()) + [stored["total"], stored["without_identity"]]
    for value in values:
        assert isinstance(value, str) or value == 0 or value >= K, value


def test_a_snapshot_holds_no_canary_and_no_form_not_shared(app, client, network, caplog):
    caplog.set_level(logging.DEBUG)
    snapshot = publish(app, client, network)
    page = app.test_client().get(f"/p/{snapshot.token}").get_data(as_text=True)
    listing = client.get("/network/snapshots").get_data(as_text=True)
    stored = json.dumps([snapshot.content, snapshot.organisations, snapshot.title], ensure_ascii=False)
    for text in (page, stored, listing, caplog.text):
        for canary in CANARIES:
            assert canary not in text
    for text in (page, stored):  # the administrator's menu names every organisation
        assert NOT_SHARED not in text
    assert from_json(snapshot.content).total.count == 21  # lakenet's six persons are not among them


def test_a_snapshot_stays_as_published_when_an_organisation_withdraws(app, client, network):
    snapshot = publish(app, client, network)
    before = app.test_client().get(f"/p/{snapshot.token}").get_data()
    database, blobs = app.extensions["formserver.db"], app.extensions["formserver.blobs"]
    with database.session_scope() as session:
        form = session.scalar(select(Form).where(Form.form_id == "household_visit", Form.network_shared.is_(True)))
        share(session, blobs, form, False)
    after = app.test_client().get(f"/p/{snapshot.token}").get_data()
    assert after == before
    again = publish(app, client, network, title="after")
    assert from_json(again.content).total.count != from_json(snapshot.content).total.count


def test_revoking_takes_the_address_down_and_both_are_audited(app, client, network):
    snapshot = publish(app, client, network)
    answer = client.post(f"/network/snapshots/{snapshot.id}/revoke", data={"csrf_token": CSRF})
    assert answer.status_code == 302
    gone = app.test_client().get(f"/p/{snapshot.token}")
    assert gone.status_code == 410 and "สถานะทางกฎหมาย" not in gone.get_data(as_text=True)
    assert client.post(f"/network/snapshots/{snapshot.id}/revoke", data={"csrf_token": CSRF}).status_code == 302
    listing = client.get("/network/snapshots").get_data(as_text=True)
    assert "admin@net.example" in listing and snapshot.token not in listing  # a revoked address is not offered
    with app.extensions["formserver.db"].session_scope() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("network.snapshot%"))).all()
    assert actions == ["network.snapshot_publish", "network.snapshot_revoke"]  # revoking twice: once


def test_an_address_nobody_was_given_is_404(app, client, network):
    publish(app, client, network)
    assert app.test_client().get("/p/" + "A" * 43).status_code == 404


@pytest.mark.parametrize("who", ["analyst", "manager", "viewer", "collector"])
def test_only_network_administrators_publish_list_and_revoke(app, client, network, who):
    snapshot = publish(app, client, network)
    sign_in(client, app, network[who])
    assert client.post("/network/snapshots", data={"csrf_token": CSRF, **PERSONS_BY_PROVINCE}).status_code == 403
    assert client.get("/network/snapshots").status_code == 403
    assert client.post(f"/network/snapshots/{snapshot.id}/revoke", data={"csrf_token": CSRF}).status_code == 403
    assert app.test_client().get(f"/p/{snapshot.token}").status_code == 200


def test_signed_out_the_list_asks_to_sign_in_and_publishing_needs_the_csrf_token(app, client, network):
    assert client.get("/network/snapshots").status_code == 302
    sign_in(client, app, network["admin"])
    assert client.post("/network/snapshots", data=PERSONS_BY_PROVINCE).status_code == 400


def test_publishing_a_form_nobody_shares_is_refused(app, client, network):
    sign_in(client, app, network["admin"])
    answer = client.post("/network/snapshots", data={"csrf_token": CSRF, **PERSONS_BY_PROVINCE, "form": "nothing"})
    assert answer.status_code == 404


def test_a_selection_below_k_publishes_only_that_it_is_withheld(app, client, network):
    fields = {**PERSONS_BY_PROVINCE, "province": "63"}
    snapshot = publish(app, client, network, fields=fields, title="ตาก")
    assert from_json(snapshot.content).withheld
    page = app.test_client().get(f"/p/{snapshot.token}?lang=en").get_data(as_text=True)
    assert "Fewer than 5 in this selection" in page and "<td>" not in page


def test_a_snapshot_by_month_names_its_months_and_its_unit_in_each_language(app, client, network):
    snapshot = publish(app, client, network, fields={**PERSONS_BY_PROVINCE, "rows": "_month"}, title="ตามเดือน")
    first = snapshot.content["rows"]["choices"][0]
    year, number = int(first["name"][:4]), int(first["name"][5:7])
    english_month = datetime.date(year, number, 1).strftime("%b") + f" {year}"
    assert first["labels"]["en"] == english_month and first["labels"]["th"].endswith(f" {year + 543}")
    public = app.test_client()
    thai = public.get(f"/p/{snapshot.token}?lang=th").get_data(as_text=True)
    english = public.get(f"/p/{snapshot.token}?lang=en").get_data(as_text=True)
    assert first["labels"]["th"] in thai and "แถวของ สมาชิก" in thai
    assert english_month in english and "Rows of Member" in english
    assert f">{first['name']}<" not in thai + english  # never the bare 2026-03
