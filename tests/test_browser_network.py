"""The network's figures in a real headless Chromium against a real ``formserver serve``: an analyst
builds legal status by province for persons, sees its chart with Thai labels, opens the print view
and downloads the workbook. Screenshots go to ``$FORMSERVER_SCREENSHOTS`` for a person to look at.
(Publishing a snapshot of it and opening it signed out: ``tests/test_browser_network_snapshot.py``.)
"""

from __future__ import annotations

import io

import openpyxl
import pytest

from formserver.db import Database
from formserver.storage import BlobStore

from .browser import PHONE, browser, fits_the_screen, needs_chromium, page, screenshots, sign_in  # noqa: F401
from .network_world import household_xml, member, send, sharing_organisation
from .servers import running_server, server_environment
from .web_fixtures import make_user, shared_settings  # noqa: F401

pytestmark = needs_chromium

ANALYST = "analyst@network.example"
STATELESS_TH = "ไร้สัญชาติ"
CHIANG_RAI_TH = "เชียงราย"


@pytest.fixture(scope="module")
def base_url(shared_settings):
    """Two organisations share the household form: 7 stateless persons in Chiang Rai, 6 pending in Tak,
    2 Thai nationals in Chiang Mai (under k)."""
    database = Database(shared_settings)
    blobs = BlobStore(shared_settings.blob_dir)
    with database.session_scope() as session:
        hill, _ = sharing_organisation(session, blobs, "hillnet")
        river, _ = sharing_organisation(session, blobs, "rivernet")
        for organisation, prefix, count, province, status in (
            (hill, "h", 7, "57", "stateless"), (river, "r", 6, "63", "pending"), (hill, "c", 2, "50", "thai"),
        ):
            for n in range(count):
                send(session, blobs, organisation, household_xml(
                    f"uuid:{prefix}{n}", province=province, members=[member(f"คน{n}", status=status)]))
        make_user(session, ANALYST).is_analyst = True
        session.commit()
    database.dispose()
    with running_server(server_environment(shared_settings)) as (base, _pid):
        yield base


def test_an_analyst_builds_status_by_province_for_persons_prints_it_and_downloads_the_workbook(page, screenshots):
    sign_in(page, ANALYST)
    page.click("a.network-link")
    page.select_option('select[name="unit"]', "member")
    page.click('button[type="submit"].primary')  # the unit's dimensions come with the page
    page.select_option('select[name="rows"]', "legal_status")
    page.select_option('select[name="columns"]', "province")
    page.click('form.network-query button[type="submit"].primary')
    page.wait_for_load_state()

    chart = page.locator("figure.chart svg")
    assert chart.count() == 1
    labels = chart.locator("text").all_text_contents()
    assert STATELESS_TH in " ".join(labels) and CHIANG_RAI_TH in " ".join(labels)
    box = chart.locator("text", has_text=STATELESS_TH).first.bounding_box()
    assert box is not None and box["width"] > 20  # drawn in a Thai font, not zero-width boxes
    cells = page.locator("table.network-table td").all_text_contents()
    assert "<5" in cells and not any(cell.split(" ")[0] in {"1", "2", "3", "4"} for cell in cells)
    page.screenshot(path=str(screenshots / "network-th-analyst-status-by-province.png"), full_page=True)

    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshots / "network-th-analyst-status-by-province-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    with page.expect_download() as download:
        page.click("text=ดาวน์โหลดสมุดงาน (.xlsx)")
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert book.sheetnames[-1] == "method" and len(book.sheetnames) == 2
    values = [v for row in book.worksheets[0].iter_rows(values_only=True) for v in row if v is not None]
    assert STATELESS_TH in values and 7 in values and "<5" in values and 2 not in values

    page.click("text=หน้าพิมพ์ (A4)")
    page.wait_for_load_state()
    assert page.locator("article.sheet svg").count() == 1
    assert page.locator("footer.rule").inner_text().count("<5") == 1
    page.emulate_media(media="print")
    page.screenshot(path=str(screenshots / "network-th-print-a4.png"), full_page=True)
    assert len(page.pdf(format="A4")) > 1000  # Chromium lays it out on A4
