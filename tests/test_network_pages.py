"""The Network page, its print view and its downloads: who sees them, what they show, and what never
leaves an organisation through them (a canary household's name, ID number, free text and GPS point;
counts under k; a form that is not shared)."""

from __future__ import annotations

import csv
import io
import logging
import re
from html.parser import HTMLParser

import openpyxl
import pytest

from formserver.accounts import add_member

from .network_world import FORM_ID, household_xml, member, send, share, sharing_organisation
from .web_fixtures import make_user, sign_in

K = 5
CANARY_NAME = "ประกายแสงลับเฉพาะ"
CANARY_ID = "1579900112233"
CANARY_TEXT = "หมายเหตุลับ canary-remark-8841"
CANARY_GPS = "19.876543 98.123456 512 4"
CANARY_VALUES = (CANARY_NAME, CANARY_ID, CANARY_TEXT, "19.876543", "98.123456")
PERSONS_BY_STATUS_AND_PROVINCE = {"form": FORM_ID, "unit": "member", "rows": "legal_status", "columns": "province"}


def households(session, blobs, organisation, prefix: str, count: int, *, province: str, status: str) -> None:
    for n in range(count):
        send(session, blobs, organisation, household_xml(
            f"uuid:{prefix}-{n}", province=province, members=[member(f"คน{prefix}{n}", status=status)]))


@pytest.fixture
def world(app):
    """hillnet and rivernet share the household form; quietnet does not. Persons by status × province:
    stateless in Chiang Rai 9 (one the canary), Thai nationals in Chiang Mai 2 (under k), pending in Tak 6,
    Thai nationals in Tak 3 (under k); quietnet's 7 never counted."""
    database, blobs = app.extensions["formserver.db"], app.extensions["formserver.blobs"]
    with database.session_scope() as session:
        hill, _ = sharing_organisation(session, blobs, "hillnet")
        river, river_form = sharing_organisation(session, blobs, "rivernet")
        quiet, _ = sharing_organisation(session, blobs, "quietnet", shared=False)
        households(session, blobs, hill, "h", 8, province="57", status="stateless")
        send(session, blobs, hill, household_xml(
            "uuid:canary", province="57", head_name=CANARY_NAME, head_id=CANARY_ID, gps=CANARY_GPS, remark=CANARY_TEXT,
            members=[member(CANARY_NAME, CANARY_ID, "stateless")]))
        households(session, blobs, hill, "c", 2, province="50", status="thai")
        households(session, blobs, river, "r", 6, province="63", status="pending")
        households(session, blobs, river, "t", 3, province="63", status="thai")
        households(session, blobs, quiet, "q", 7, province="50", status="pending")
        users = {"admin": make_user(session, "admin@net.example", admin=True),
                 "analyst": make_user(session, "analyst@net.example")}
        users["analyst"].is_analyst = True
        for organisation in (hill, quiet):
            for role in ("manager", "viewer", "collector"):
                users[f"{role} of {organisation.slug}"] = make_user(session, f"{role}@{organisation.slug}.example")
                add_member(session, organisation, users[f"{role} of {organisation.slug}"], role)
        session.commit()
        ids = {name: user.id for name, user in users.items()}
    return {"users": ids, "share_river": lambda on: _share(database, blobs, river_form.id, on)}


def _share(database, blobs, form_pk: int, on: bool) -> None:
    from formserver.models import Form

    with database.session_scope() as session:
        share(session, blobs, session.get(Form, form_pk), on)


def as_user(app, client, world, name: str, language: str = "en"):
    sign_in(client, app, world["users"][name])
    client.set_cookie("lang", language)
    return client


class Cells(HTMLParser):
    """The text of every cell of the page's network tables, and of the chart's value labels."""

    def __init__(self):
        super().__init__()
        self.cells: list[str] = []
        self.chart_values: list[str] = []
        self._into: list | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag == "td":
            self._into, self._text = self.cells, ""
        elif tag == "text" and ("value" in classes.split() or "mark" in classes.split()):
            self._into, self._text = self.chart_values, ""

    def handle_data(self, data):
        if self._into is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag in ("td", "text") and self._into is not None:
            self._into.append(self._text.strip())
            self._into = None


def counts_in(text: str) -> list[int]:
    """The counts a cell or a chart label shows: its leading number (a percentage beside it is no count)."""
    found = re.match(r"^([\d,]+)", text)
    return [int(found.group(1).replace(",", ""))] if found else []


def assert_no_small_count(values) -> None:
    small = [v for v in values for n in counts_in(str(v)) if 0 < n < K]
    assert small == [], f"counts under k shown: {small}"


def test_an_analyst_builds_status_by_province_for_persons_with_small_counts_hidden(app, client, world):
    page = as_user(app, client, world, "analyst").get("/network", query_string=PERSONS_BY_STATUS_AND_PROVINCE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    parsed = Cells()
    parsed.feed(html)
    assert "&lt;5" in html and "<svg" in html
    assert "9" in parsed.cells and "6" in parsed.cells  # stateless in Chiang Rai, pending in Tak
    assert "2" not in parsed.cells and "3" not in parsed.cells
    assert_no_small_count(parsed.cells)
    assert_no_small_count(parsed.chart_values)
    assert "Organisation hillnet" in html and "Organisation rivernet" in html
    assert "Counted without an ID number" in html


def test_the_canary_household_never_appears_in_the_page_chart_print_view_downloads_or_logs(app, client, world, caplog):
    caplog.set_level(logging.DEBUG)
    reader = as_user(app, client, world, "analyst", "th")
    seen = []
    for rows, columns in (("legal_status", "province"), ("province", ""), ("_organisation", "legal_status"), ("_month", "")):
        query = {**PERSONS_BY_STATUS_AND_PROVINCE, "rows": rows, "columns": columns}
        for address in ("/network", "/network/print", "/network/table.csv"):
            seen.append(reader.get(address, query_string=query).get_data(as_text=True))
        workbook = reader.get("/network/table.xlsx", query_string=query)
        assert workbook.status_code == 200
        seen.append(" ".join(str(v) for v in workbook_values(workbook.data)))
    seen.append(caplog.text)
    for value in CANARY_VALUES:
        assert not any(value in text for text in seen), value


def workbook_values(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [value for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for value in row if value is not None]


def test_counts_under_k_appear_as_numbers_in_no_download(app, client, world):
    reader = as_user(app, client, world, "analyst")
    book = openpyxl.load_workbook(io.BytesIO(reader.get("/network/table.xlsx", query_string=PERSONS_BY_STATUS_AND_PROVINCE).data))
    assert book.sheetnames[-1] == "method"
    table = [value for row in book.worksheets[0].iter_rows(values_only=True) for value in row if value is not None]
    assert "<5" in table and 9 in table
    assert [v for v in table if isinstance(v, int) and 0 < v < K] == []
    rows = list(csv.reader(io.StringIO(reader.get("/network/table.csv", query_string=PERSONS_BY_STATUS_AND_PROVINCE).get_data(as_text=True))))
    assert rows[0][0] == "legal_status" and rows[0][-1] == "total" and rows[-1][0] == "total"
    assert_no_small_count(cell for row in rows[1:] for cell in row[1:])


def test_a_form_not_shared_is_never_shown_and_withdrawing_removes_an_organisation_at_once(app, client, world):
    reader = as_user(app, client, world, "analyst")
    html = reader.get("/network", query_string=PERSONS_BY_STATUS_AND_PROVINCE).get_data(as_text=True)
    assert "quietnet" not in html
    assert "Organisation rivernet" in html
    world["share_river"](False)
    html = reader.get("/network", query_string=PERSONS_BY_STATUS_AND_PROVINCE).get_data(as_text=True)
    assert "rivernet" not in html and "quietnet" not in html
    parsed = Cells()
    parsed.feed(html)
    assert "6" not in parsed.cells  # rivernet's pending persons in Tak went with it


def test_a_filter_narrowing_the_population_below_k_withholds_the_whole_table(app, client, world):
    query = {**PERSONS_BY_STATUS_AND_PROVINCE, "province": "50"}  # two persons in Chiang Mai
    html = as_user(app, client, world, "analyst").get("/network", query_string=query).get_data(as_text=True)
    assert "Fewer than 5 in this selection" in html
    assert "<table" not in html.split("network-figure", 1)[1] and "<svg" not in html
    assert "Organisation hillnet" not in html.split("network-figure", 1)[1]  # nothing else is shown


def test_months_read_as_month_names_in_thai_with_the_buddhist_era(app, client, world):
    from datetime import date

    from formserver.web.network_figure import month_name

    html = as_user(app, client, world, "analyst", "th").get(
        "/network", query_string={"form": FORM_ID, "rows": "_month"}).get_data(as_text=True)
    this_month = date.today().strftime("%Y-%m")
    assert month_name(this_month, "th") in html and str(date.today().year + 543) in html


def test_a_month_not_written_as_year_and_month_is_refused_in_words(app, client, world):
    html = as_user(app, client, world, "analyst").get(
        "/network", query_string={**PERSONS_BY_STATUS_AND_PROVINCE, "since": "March"}).get_data(as_text=True)
    assert "Choose months as year and month" in html and "<svg" not in html


def test_a_dimension_the_form_does_not_have_is_refused_in_words(app, client, world):
    html = as_user(app, client, world, "analyst").get(
        "/network", query_string={**PERSONS_BY_STATUS_AND_PROVINCE, "rows": "head_name"}).get_data(as_text=True)
    assert "cannot be counted by head_name" in html and "<svg" not in html


@pytest.mark.parametrize("name, allowed", [
    ("admin", True), ("analyst", True), ("manager of hillnet", True),
    ("manager of quietnet", False), ("viewer of hillnet", False), ("collector of hillnet", False),
])
def test_those_who_give_see_the_network_pages_and_viewers_and_collectors_are_refused(app, client, world, name, allowed):
    reader = as_user(app, client, world, name)
    for address in ("/network", "/network/print", "/network/table.xlsx", "/network/table.csv"):
        status = reader.get(address, query_string=PERSONS_BY_STATUS_AND_PROVINCE).status_code
        assert status == (200 if allowed else 403), (address, status)
    home = reader.get("/", follow_redirects=True).get_data(as_text=True)
    assert ('href="/network"' in home) == allowed


def test_signed_out_the_network_pages_send_to_the_sign_in_page(client, world):
    for address in ("/network", "/network/print", "/network/table.xlsx", "/network/table.csv"):
        answer = client.get(address)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=")


def test_the_print_view_lays_out_every_kept_table_on_a4_with_the_rule(app, client, world):
    reader = as_user(app, client, world, "analyst")
    first = "form=household_visit&unit=member&rows=legal_status&columns=province"
    second = "form=household_visit&rows=province"
    html = reader.get("/network/print", query_string=[("keep", first), ("keep", second)]).get_data(as_text=True)
    assert html.count('class="sheet"') == 2 and html.count("<svg") == 2
    assert 'id="chart0-title"' in html and 'id="chart1-title"' in html  # the charts' ids kept apart
    assert "counted once" in html and "Counts from 1 to 4 are hidden" in html
    assert "network-print.css" in html
    css = reader.get("/assets/network-print.css").get_data(as_text=True)
    assert "size: A4" in css


def test_the_page_carries_the_print_list_and_its_workbook_has_one_sheet_per_table(app, client, world):
    reader = as_user(app, client, world, "analyst")
    html = reader.get("/network", query_string=PERSONS_BY_STATUS_AND_PROVINCE).get_data(as_text=True)
    add = re.search(r'href="([^"]*)">Add to the print list', html).group(1).replace("&amp;", "&")
    html = reader.get(add + "&rows=province&columns=").get_data(as_text=True)  # another table, the first kept
    assert "1 table kept for printing." in html
    kept = re.search(r'href="([^"]*)">Workbook of the print list', html).group(1).replace("&amp;", "&")
    book = openpyxl.load_workbook(io.BytesIO(reader.get(kept).data), read_only=True)
    assert len(book.sheetnames) == 2 and book.sheetnames[-1] == "method"


def test_registered_by_several_is_shown_only_when_at_least_k(app, client, world):
    html = as_user(app, client, world, "analyst").get("/network", query_string=PERSONS_BY_STATUS_AND_PROVINCE).get_data(as_text=True)
    assert "Registered by two or more organisations (counted once above): 0" in html


def test_a_chosen_form_offers_a_table_by_each_of_its_dimensions_in_one_click(app, client, world):
    html = as_user(app, client, world, "analyst").get("/network", query_string={"form": FORM_ID, "unit": "member"}).get_data(as_text=True)
    quick = re.findall(r'href="/network\?form=household_visit&amp;unit=member&amp;rows=(\w+)"', html)
    assert {"legal_status", "documents", "age", "province", "_month", "_organisation"} <= set(quick)
    assert "head_name" not in quick and "id_number" not in quick and "gps" not in quick


def test_the_k_in_force_comes_from_the_settings(settings, world):
    from dataclasses import replace

    from formserver import create_app
    from formserver.config import Settings

    assert Settings.from_env({"FORMSERVER_DATA_DIR": str(settings.data_dir), "FORMSERVER_NETWORK_MIN_COUNT": "10"}).network_min_count == 10
    app = create_app(replace(settings, network_min_count=10))
    client = app.test_client()
    sign_in(client, app, world["users"]["analyst"])
    client.set_cookie("lang", "en")
    html = client.get("/network", query_string=PERSONS_BY_STATUS_AND_PROVINCE).get_data(as_text=True)
    parsed = Cells()
    parsed.feed(html)
    assert "&lt;10" in html and "9" not in parsed.cells  # Chiang Rai's stateless persons are now too few
    app.extensions["formserver.db"].dispose()
