"""The OData feed as a client reads it: service document, $metadata as EDMX, tables, paging by
$skiptoken while submissions arrive, $count, $filter (and 501 for what is not supported), $select, $expand."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from lxml import etree
from sqlalchemy import insert

from .api_fixtures import api  # noqa: F401
from .web_fixtures import instance, web  # noqa: F401

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _svc(web) -> str:
    return f"/v1/projects/{web.own.org_id}/forms/intake.svc"


def test_service_document_and_metadata(api):
    client, web, tokens = api
    service = client.get(_svc(web), headers=tokens["viewer"]).get_json()
    assert [t["name"] for t in service["value"]] == ["Submissions", "Submissions.member"]
    metadata = client.get(f"{_svc(web)}/$metadata", headers=tokens["viewer"])
    root = etree.fromstring(metadata.data)
    entity_types = {e.get("Name"): e for e in root.iter(f"{EDM}EntityType")}
    assert set(entity_types) == {"Submissions", "Submissions.member"}
    properties = {p.get("Name"): p.get("Type") for p in entity_types["Submissions"].iter(f"{EDM}Property")}
    assert properties["__id"] == "Edm.String" and properties["household"] == "org.opendatakit.user.intake.household"
    members = {p.get("Name"): p.get("Type") for p in root.iter(f"{EDM}Property") if p.getparent().get("Name") == "household"}
    assert members == {"members": "Edm.Int64", "photo": "Edm.String"}
    assert "__Submissions-id" in {p.get("Name") for p in entity_types["Submissions.member"].iter(f"{EDM}Property")}
    assert client.get(f"{_svc(web)}/$metadata", headers=tokens["collector"]).status_code == 403


def test_submissions_and_repeat_tables(api):
    client, web, tokens = api
    feed = client.get(f"{_svc(web)}/Submissions?$count=true", headers=tokens["viewer"]).get_json()
    assert feed["@odata.count"] == 1
    row = feed["value"][0]
    assert row["__id"] == "uuid:hillnet-1" and row["name"] == "สมชาย" and row["household"] == {"members": 3, "photo": "photo.png"}
    assert row["member@odata.navigationLink"] == f"Submissions('{quote('uuid:hillnet-1', safe='')}')/member"
    assert row["__system"]["attachmentsPresent"] == 1 and row["__system"]["reviewState"] is None
    expanded = client.get(f"{_svc(web)}/Submissions?$expand=*", headers=tokens["viewer"]).get_json()["value"][0]
    assert [m["member_name"] for m in expanded["member"]] == ["นิด", "น้อย"]
    members = client.get(f"{_svc(web)}/Submissions.member", headers=tokens["viewer"]).get_json()["value"]
    assert [(m["member_name"], m["__Submissions-id"]) for m in members] == [("นิด", "uuid:hillnet-1"), ("น้อย", "uuid:hillnet-1")]
    assert [m["__id"] for m in members] == [m["__id"] for m in expanded["member"]]
    chosen = client.get(f"{_svc(web)}/Submissions?$select=__id,household/members", headers=tokens["viewer"]).get_json()
    assert chosen["value"] == [{"__id": "uuid:hillnet-1", "household": {"members": 3}}]


def test_paging_follows_next_links_while_submissions_arrive(api):
    client, web, tokens = api
    base = f"/v1/projects/{web.own.org_id}/forms/intake/submissions"
    for number in range(2, 8):
        sent = client.post(base, data=instance(f"uuid:page-{number}", photo=None), headers=tokens["manager"])
        assert sent.status_code == 200
    seen, url, arrivals = [], f"{_svc(web)}/Submissions?$top=3", iter(range(100, 103))
    while url:
        page = client.get(url, headers=tokens["viewer"]).get_json()
        assert len(page["value"]) <= 3
        seen += [row["__id"] for row in page["value"]]
        url = page.get("@odata.nextLink", "").replace("http://localhost", "")
        arrival = next(arrivals, None)
        if url and arrival is not None:  # a record arrives between two pages: it is served once, at the end
            client.post(base, data=instance(f"uuid:page-{arrival}", photo=None), headers=tokens["manager"])
    expected = ["uuid:hillnet-1"] + [f"uuid:page-{n}" for n in (2, 3, 4, 5, 6, 7, 100, 101)]
    assert seen == expected


def test_filters(api):
    client, web, tokens = api
    table = f"{_svc(web)}/Submissions"

    def ids(expression: str):
        answer = client.get(table, query_string={"$filter": expression}, headers=tokens["viewer"])
        return answer.status_code, [r["__id"] for r in answer.get_json().get("value", [])] if answer.status_code == 200 else answer.get_json()

    assert ids("__system/submissionDate gt 2000-01-01") == (200, ["uuid:hillnet-1"])
    assert ids("__system/submissionDate lt 2000-01-01T00:00:00Z") == (200, [])
    assert ids("__system/reviewState eq null and not (__system/submissionDate lt 2000-01-01)") == (200, ["uuid:hillnet-1"])
    assert ids("__system/reviewState eq 'approved' or __system/submitterId eq 999") == (200, [])
    status, error = ids("name eq 'x'")
    assert status == 501 and error["code"] == 501.1 and "name" in error["message"]
    assert client.get(f"{table}?$search=x", headers=tokens["viewer"]).status_code == 501
    assert client.get(f"{table}?$orderby=name", headers=tokens["viewer"]).status_code == 501


def add_households(app, web, count: int) -> None:
    """``count`` households of hillnet's intake (uuid:hh-0000 …), inserted in bulk as ingest stores them."""
    from formserver.exports.flatten import flatten, repeat_paths
    from formserver.models import FormVersion, Submission, utcnow

    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        version = session.get(FormVersion, web.own.published_version)
        paths, now = repeat_paths(version.field_tree), utcnow()
        rows = []
        for number in range(count):
            xml = instance(f"uuid:hh-{number:04d}", name=f"ครัวเรือน {number}", members=str(number % 9), photo=None)
            rows.append({
                "organisation_id": web.own.org_id, "form_id": version.form_id, "form_version_id": version.id,
                "instance_id": f"uuid:hh-{number:04d}", "instance_name": f"ครัวเรือน {number}", "xml": xml,
                "xml_sha256": hashlib.sha256(xml).hexdigest(), "data": flatten(xml, paths), "received_at": now,
                "review_state": "received", "is_current": True, "attachments_expected": 0,
            })
        session.execute(insert(Submission.__table__), rows)


def test_a_client_pages_2000_households_while_submissions_and_edits_arrive(api, app):
    client, web, tokens = api
    add_households(app, web, 2000)
    base = f"/v1/projects/{web.own.org_id}/forms/intake/submissions"

    def arrive(instance_id: str, name: str = "มาใหม่", edits: str | None = None) -> None:
        xml = instance(instance_id, name=name, photo=None)
        if edits:
            xml = xml.replace(b"<instanceID>", f"<deprecatedID>{edits}</deprecatedID><instanceID>".encode())
        assert client.post(base, data=xml, headers=tokens["manager"]).status_code == 200

    url, pages, seen = f"{_svc(web)}/Submissions?$top=250&$count=true&$expand=*", [], []
    while url:
        page = client.get(url, headers=tokens["viewer"]).get_json()
        pages.append((page["@odata.count"], len(page["value"])))
        seen += [(row["__id"], row["name"], len(row["member"])) for row in page["value"]]
        url = page.get("@odata.nextLink", "").replace("http://localhost", "")
        arrive(f"uuid:late-{len(pages)}")  # between two pages, and after the last
        if len(pages) == 2:  # one record already served and one not yet served are edited
            arrive("uuid:edit-10", "แก้แล้ว", edits="uuid:hh-0010")
            arrive("uuid:edit-1990", "แก้แล้ว", edits="uuid:hh-1990")
    ids = [key for key, _name, _members in seen]
    assert len(ids) == len(set(ids))  # nothing served twice
    late = [f"uuid:late-{n}" for n in range(1, len(pages))]  # all but the one after the last page
    assert ids == ["uuid:hillnet-1"] + [f"uuid:hh-{n:04d}" for n in range(2000)] + late
    names = {key: name for key, name, _members in seen}
    assert names["uuid:hh-0010"] == "ครัวเรือน 10" and names["uuid:hh-1990"] == "แก้แล้ว"
    assert all(members == 2 for _key, _name, members in seen)
    assert [count for count, _rows in pages] == [2001 + n for n in range(len(pages))]  # each page counts what is there
    assert [rows for _count, rows in pages] == [250] * 8 + [1 + 8]  # the last page: hh-1999 and 8 arrivals
    final = client.get(f"{_svc(web)}/Submissions?$count=true&$top=0", headers=tokens["viewer"]).get_json()
    assert final["@odata.count"] == 2001 + len(pages) and final["value"] == [] and "@odata.nextLink" not in final


def test_a_record_without_its_flattened_copy_is_read_from_its_xml(api, app):
    from sqlalchemy import text, update

    from formserver.models import Submission

    client, web, tokens = api
    for clear in (update(Submission).values(data=None), text("UPDATE submission SET data = NULL")):
        with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
            session.execute(clear)
        row = client.get(f"{_svc(web)}/Submissions?$expand=*", headers=tokens["viewer"]).get_json()["value"][0]
        assert row["name"] == "สมชาย" and row["household"]["members"] == 3 and len(row["member"]) == 2
