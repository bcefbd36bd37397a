"""In Chromium against a running server: a network administrator publishes a table of legal status by
province for persons, which opens signed out, Thai labels drawn in its chart, on a phone's screen; once
revoked, the address says it is gone. (The Network page's own browser test, an analyst building the
table, is ``test_browser_network.py``.)"""

from __future__ import annotations

import pytest

from formserver.db import Database
from formserver.storage import BlobStore

from .browser import PHONE, browser, fits_the_screen, needs_chromium, screenshots, sign_in  # noqa: F401
from .network_population import CANARIES, PERSONS_BY_PROVINCE, fill_network
from .servers import running_server, server_environment
from .web_fixtures import shared_settings  # noqa: F401

pytestmark = needs_chromium
TITLE = "สถานะทางกฎหมายของบุคคล แยกตามจังหวัด"


@pytest.fixture(scope="module")
def base_url(shared_settings):
    database = Database(shared_settings)
    with database.session_scope() as session:
        fill_network(session, BlobStore(shared_settings.blob_dir))
    database.dispose()
    with running_server(server_environment(shared_settings)) as (base, _pid):
        yield base


def watched(context):
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and page.csp_violations.append(message.text))
    return page


def test_an_administrator_publishes_a_snapshot_that_opens_signed_out(browser, base_url, screenshots):
    admin_context = browser.new_context(base_url=base_url, locale="th-TH")
    admin = watched(admin_context)
    sign_in(admin, "admin@net.example")
    admin.goto("/network/snapshots")
    token = admin.locator('meta[name="csrf-token"]').get_attribute("content")
    # What the Network page's Publish button posts: its query fields and a title.
    published = admin.request.post("/network/snapshots", form={"csrf_token": token, "title": TITLE, **PERSONS_BY_PROVINCE})
    assert published.ok
    admin.reload()
    address = admin.locator('a[href*="/p/"]').first.get_attribute("href")

    reader_context = browser.new_context(base_url=base_url, locale="th-TH", viewport=PHONE)
    reader = watched(reader_context)
    answer = reader.goto(address)
    assert answer.status == 200 and reader.context.cookies() == []
    assert reader.locator("h1").inner_text() == TITLE
    chart = reader.locator("svg.network-chart")
    labels = chart.locator("text").evaluate_all("nodes => nodes.map(node => node.textContent)")
    assert "ไร้สัญชาติ" in labels and "<5" in labels
    drawn = chart.locator("text", has_text="ไร้สัญชาติ").first.evaluate("node => node.getComputedTextLength()")
    assert drawn > 20  # Thai glyphs laid out, not an empty run
    assert fits_the_screen(reader)
    reader.screenshot(path=str(screenshots / "network-snapshot-public-th.png"), full_page=True)
    body = reader.content()
    assert not any(canary in body for canary in CANARIES)

    admin.once("dialog", lambda dialog: dialog.accept())
    admin.locator('form[action$="/revoke"] button').first.click()
    admin.wait_for_load_state()
    assert reader.goto(address).status == 410
    reader.screenshot(path=str(screenshots / "network-snapshot-revoked-th.png"))
    assert admin.csp_violations == [] and reader.csp_violations == []
    admin_context.close()
    reader_context.close()
