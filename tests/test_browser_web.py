"""End to end in a real headless Chromium against a real ``formserver serve``: what a coordinator does.

Debian's ``chromium`` package is driven by Playwright (no browser is downloaded);
the tests skip, saying why, when /usr/bin/chromium is absent. One server runs for
the whole module. Screenshots go to ``$FORMSERVER_SCREENSHOTS`` (or a temporary
folder) for a person to look at: Thai must render, and the pages must fit a phone.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from formserver import appusers, forms
from formserver.accounts import add_member, create_organisation
from formserver.db import Database
from formserver.storage import BlobStore

from .browser import PHONE, browser, fits_the_screen, needs_chromium, page, screenshots, sign_in  # noqa: F401
from .collect_client import multipart_body
from .servers import running_server, server_environment
from .web_fixtures import PHOTO, instance, intake_form, make_user, shared_settings  # noqa: F401
from .xlsforms import xlsform

HOUSEHOLD = Path(__file__).resolve().parent.parent / "forms" / "household_status_intake.xlsx"

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def seeded(shared_settings):
    """Two organisations, a manager, a viewer of the other organisation, a published Thai form, a phone's token."""
    database = Database(shared_settings)
    blobs = BlobStore(shared_settings.blob_dir)
    with database.session_scope() as session:
        hill = create_organisation(session, "hillnet", "เครือข่ายบนดอย")
        river = create_organisation(session, "rivernet", "River network")
        add_member(session, hill, make_user(session, "manager@hill.example"), "manager")
        add_member(session, river, make_user(session, "viewer@river.example"), "viewer")
        forms.add_form_version(session, blobs, hill, intake_form("1"), "intake.xlsx")
        token = appusers.create_app_user(session, hill, "โทรศัพท์ภาคสนาม").token
    database.dispose()
    return {"token": token}


@pytest.fixture(scope="module")
def base_url(shared_settings, seeded):
    with running_server(server_environment(shared_settings)) as (base, _pid):
        yield base


def upload(page, content: bytes, filename: str) -> None:
    page.goto("/orgs/hillnet/forms/new")
    page.set_input_files(
        'input[name="xlsform"]',
        files=[{"name": filename, "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "buffer": content}],
    )
    page.click('button[type="submit"].primary')
    page.wait_for_load_state()


def test_signing_in_opens_the_organisation_in_thai(page, screenshots):
    sign_in(page, "manager@hill.example")
    assert page.url.endswith("/orgs/hillnet")
    assert page.locator("h1").inner_text() == "เครือข่ายบนดอย"
    assert page.locator("table").get_by_text("แบบสำรวจครัวเรือน").is_visible()
    page.screenshot(path=str(screenshots / "organisation-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshots / "organisation-phone.png"), full_page=True)


def test_a_broken_form_names_its_row(page):
    sign_in(page, "manager@hill.example")
    broken = xlsform(
        [{"type": "text", "name": "a", "label": "A"}, {"type": "text", "name": "b", "label": "B"},
         {"type": "calculate", "name": "total", "label": "Total"}],
        settings={"form_id": "broken", "version": "1"},
    )
    upload(page, broken, "broken.xlsx")
    assert page.locator(".form-error dd.sheet").inner_text() == "survey"
    assert page.locator(".form-error dd.row").inner_text() == "4"
    assert "Missing calculation" in page.locator(".form-error .message").inner_text()


def test_the_household_form_is_previewed_in_thai_and_published(page, screenshots):
    sign_in(page, "manager@hill.example")
    content, name = (HOUSEHOLD.read_bytes(), HOUSEHOLD.name) if HOUSEHOLD.exists() else (intake_form("7"), "intake.xlsx")
    upload(page, content, name)
    assert "/versions/" in page.url
    assert page.locator("span.badge.draft").first.inner_text() == "ฉบับร่าง"
    preview = page.locator("#preview")
    assert preview.locator("dl.labels dd").first.is_visible()
    text = preview.inner_text()
    assert re.search(r"[\u0E00-\u0E7F]", text) and re.search(r"[A-Za-z]{4}", text)  # Thai and English labels
    assert "แสดงเมื่อ" in text
    page.screenshot(path=str(screenshots / "preview-desktop.png"))
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshots / "preview-phone.png"))
    page.once("dialog", lambda dialog: dialog.accept())  # "Publish this version?"
    page.click("section.publish button")
    page.wait_for_load_state()
    assert page.locator(".flash.success").is_visible()
    assert page.locator("span.badge.state-open").first.inner_text() == "เผยแพร่แล้ว"


def test_a_device_account_shows_its_qr_code(page, base_url):
    sign_in(page, "manager@hill.example")
    page.goto("/orgs/hillnet/phones")
    page.fill('input[name="name"]', "แท็บเล็ต 2")
    page.click('form[action$="/phones"] button')
    page.wait_for_load_state()
    qr = page.locator("img.device-qr")
    assert qr.is_visible() and qr.evaluate("image => image.naturalWidth") > 200
    url = page.locator("code.url").inner_text()
    assert re.fullmatch(re.escape(base_url) + r"/key/[\w-]{20,}/o/hillnet", url)
    with urllib.request.urlopen(url + "/formList") as listing:  # the URL in the QR code lists the forms
        assert b"intake" in listing.read()


def test_a_submission_sent_from_a_phone_is_shown_with_its_photo(page, base_url, seeded, screenshots):
    body, content_type = multipart_body(
        [
            ("xml_submission_file", "intake_2026-01-01_10-00-00.xml", "text/xml", instance("uuid:browser-1", name="มาลี")),
            ("photo.png", "photo.png", "image/png", PHOTO),
        ]
    )
    request = urllib.request.Request(
        f"{base_url}/key/{seeded['token']}/o/hillnet/submission",
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "X-OpenRosa-Version": "1.0"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
    sign_in(page, "manager@hill.example")
    page.goto("/orgs/hillnet/forms/intake/submissions")
    page.get_by_role("link", name="มาลี").click()
    page.wait_for_load_state()
    photo = page.locator("img.photo")
    assert photo.evaluate("async image => { await image.decode(); return image.naturalWidth; }") == 1  # once loaded
    assert page.get_by_text("ภาพถ่ายเอกสาร").is_visible()
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshots / "submission-phone.png"), full_page=True)


def test_an_export_runs_with_a_moving_progress_bar_and_downloads(page):
    sign_in(page, "manager@hill.example")
    page.goto("/orgs/hillnet/forms/intake/export")
    page.click("#export-form button.primary")
    link = page.locator("#export-form .download a")
    link.wait_for(timeout=30_000)
    assert page.locator("#export-form progress").evaluate("bar => bar.value === bar.max")
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    assert Path(path).read_bytes()[:2] == b"PK"


def test_a_viewer_of_another_organisation_is_refused(page):
    sign_in(page, "viewer@river.example")
    assert page.url.endswith("/orgs/rivernet")
    response = page.goto("/orgs/hillnet/forms/intake/submissions")
    assert response.status == 404
    assert "ไม่มีหน้านี้ หรือคุณไม่มีสิทธิ์ดู" in page.content()
    assert page.goto("/orgs/hillnet/submissions/1/attachments/photo.png").status == 404
