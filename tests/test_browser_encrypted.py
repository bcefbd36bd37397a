"""End to end in a real headless Chromium: a manager encrypts the household form and still gets the workbook.

The manager turns encryption on with a passphrase on the form page; a phone fetches the
new version of the form as Collect does (formList, then the XForm with its public key),
encrypts two households with ``tests/encrypted_collect.py`` (Collect's encryption,
written apart from formserver's) and posts them to its token URL; the manager sees them
listed as encrypted, exports them with the passphrase, and the downloaded workbook
holds both households' answers in Thai.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from formserver import appusers, forms
from formserver.accounts import add_member, create_organisation
from formserver.db import Database
from formserver.storage import BlobStore

from .browser import PHONE, browser, fits_the_screen, needs_chromium, page, screenshots, sign_in  # noqa: F401
from .collect_client import CollectClient, HttpTransport, multipart_body
from .encrypted_collect import encrypt_like_collect
from .servers import running_server, server_environment
from .test_household_round_trip import FORM, ID_NUMBER, MEMBER, household_instance
from .web_fixtures import make_user, shared_settings  # noqa: F401

pytestmark = needs_chromium

PASSPHRASE = "ช้างเผือก กินกล้วย 42"
FORM_PAGE = "/orgs/hillnet/forms/household_status_intake"
HOUSEHOLDS = {"uuid:0b3e7c52-enc-4a51-9c1e-000000000001": "นายจะแฮ แซ่ลี้",
              "uuid:0b3e7c52-enc-4a51-9c1e-000000000002": "นางหมี่เซ เชอมือ"}
CARD = b"\xff\xd8\xff\xe0 a photo of an ID card \xff\xd9"
XFORMS = {"h": "http://www.w3.org/2002/xforms", "orx": "http://openrosa.org/xforms/xformsList"}


@pytest.fixture(scope="module")
def token(shared_settings):
    """The household form as shipped in forms/, published in an organisation with a manager and a phone."""
    database = Database(shared_settings)
    with database.session_scope() as session:
        hill = create_organisation(session, "hillnet", "เครือข่ายบนดอย")
        add_member(session, hill, make_user(session, "manager@hill.example"), "manager")
        forms.add_form_version(session, BlobStore(shared_settings.blob_dir), hill, FORM.read_bytes(), FORM.name)
        token = appusers.create_app_user(session, hill, "โทรศัพท์ภาคสนาม").token
    database.dispose()
    return token


@pytest.fixture(scope="module")
def base_url(shared_settings, token):
    with running_server(server_environment(shared_settings)) as (base, _pid):
        yield base


def phone_form(phone: CollectClient) -> tuple[str, str, str]:
    """(title, version, public key) of the household form, read as Collect reads them: formList, then the XForm."""
    listing = phone.form_list().xml()
    entry = next(e for e in listing.iterfind("orx:xform", XFORMS) if e.findtext("orx:formID", namespaces=XFORMS) == "household_status_intake")
    xform = phone.get(entry.findtext("orx:downloadUrl", namespaces=XFORMS))
    assert xform.status == 200
    submission = etree.fromstring(xform.body).find(".//h:submission", XFORMS)
    return entry.findtext("orx:name", namespaces=XFORMS), entry.findtext("orx:version", namespaces=XFORMS), submission.get("base64RsaPublicKey")


def send_encrypted(phone: CollectClient, title: str, version: str, public_key: str, instance_id: str, head: str) -> None:
    upload = encrypt_like_collect(
        household_instance(version, instance_id=instance_id, head=head), [("card.jpg", CARD)], public_key,
        form_title=title, saved_at=datetime(2026, 11, 20, 9, 40),
    )
    parts = [("xml_submission_file", upload.xml_name, "text/xml", upload.envelope)]
    parts += [(name, name, "application/octet-stream", content) for name, content in upload.files]
    body, content_type = multipart_body(parts)
    response = phone.request("POST", phone.with_device_id(phone.submission_url), body=body, headers={"Content-Type": content_type})
    assert response.status == 201, response.message


def test_an_encrypted_household_form_is_exported_with_its_passphrase(page, base_url, token, screenshots, tmp_path):
    sign_in(page, "manager@hill.example")
    page.goto(FORM_PAGE)
    page.fill('input[name="passphrase"]', PASSPHRASE)
    page.fill('input[name="passphrase_again"]', PASSPHRASE)
    page.fill('input[name="hint"]', "ถามพี่นก")
    page.click('form[action$="/encryption"] button[type="submit"]')
    page.wait_for_load_state()
    assert page.locator(".flash.success").is_visible()
    assert page.locator("h1 .badge.encrypted").inner_text() == "เข้ารหัสแล้ว"
    assert "ถามพี่นก" in page.locator("section.box", has_text="ถามพี่นก").inner_text()
    assert PASSPHRASE not in page.content()

    phone = CollectClient(f"{base_url}/key/{token}/o/hillnet", HttpTransport())
    title, version, public_key = phone_form(phone)
    assert public_key and len(version) == 14  # the new version the server made: YYYYMMDDHHMMSS
    for instance_id, head in HOUSEHOLDS.items():
        send_encrypted(phone, title, version, public_key, instance_id, head)
    phone.transport.close()

    page.goto(FORM_PAGE + "/submissions")
    rows = page.locator("table.submissions tbody tr")
    assert rows.count() == 2
    for index in range(2):
        assert rows.nth(index).locator(".badge.encrypted").inner_text() == "เข้ารหัสแล้ว"
        assert rows.nth(index).locator("td").nth(4).inner_text() == "2/2"  # card.jpg.enc and submission.xml.enc
    assert not any(head in page.content() for head in HOUSEHOLDS.values())  # the server cannot read them
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshots / "encrypted-submissions-phone.png"), full_page=True)

    page.goto(FORM_PAGE + "/export")
    page.fill('input[name="passphrase"]', PASSPHRASE)
    with page.expect_download() as download:
        page.click("#decrypted-export-form button.primary")
    workbook_path = tmp_path / download.value.suggested_filename
    download.value.save_as(workbook_path)
    assert workbook_path.suffix == ".xlsx"

    workbook = CalamineWorkbook.from_path(str(workbook_path))
    assert "not decrypted" not in workbook.sheet_names
    main, members = (workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names[:2])
    texts = {cell for row in main for cell in row if isinstance(cell, str)}
    assert set(HOUSEHOLDS.values()) <= texts and set(HOUSEHOLDS) <= texts
    assert "บ้านห้วยน้ำขุ่น ต.ท่าก๊อ" in texts
    member_texts = [cell for row in members for cell in row if isinstance(cell, str)]
    assert member_texts.count(MEMBER) == 2 and member_texts.count(ID_NUMBER) == 2  # the leading 0 kept
