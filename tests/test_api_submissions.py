"""Submissions through the API: list, one record by its first instanceID, XML, files, versions,
review with Central's words, comments, and raw XML through the same ingest as Collect's."""

from __future__ import annotations

from sqlalchemy import func, select

from formserver.models import AuditEvent, Submission

from .api_fixtures import api  # noqa: F401
from .web_fixtures import PHOTO, instance, web  # noqa: F401


def _base(web) -> str:
    return f"/v1/projects/{web.own.org_id}/forms/intake/submissions"


def test_the_list_and_one_record(api):
    client, web, tokens = api
    listed = client.get(_base(web), headers=tokens["viewer"]).get_json()
    assert [s["instanceId"] for s in listed] == ["uuid:hillnet-1"]
    record = listed[0]
    assert record["reviewState"] is None and record["instanceName"] == "สมชาย" and record["submitterId"] > 1_000_000_000
    assert record["createdAt"].endswith("Z") and record["deviceId"] == "collect:test"
    one = client.get(f"{_base(web)}/uuid:hillnet-1", headers=tokens["viewer"]).get_json()
    assert one["instanceId"] == "uuid:hillnet-1"
    assert client.get(f"{_base(web)}?limit=0", headers=tokens["viewer"]).get_json() == []
    assert client.get(f"{_base(web)}?limit=x", headers=tokens["viewer"]).get_json()["code"] == 400.8
    assert client.get(f"{_base(web)}/uuid:nothing", headers=tokens["viewer"]).status_code == 404


def test_xml_attachments_and_versions_are_audited(api, app):
    client, web, tokens = api
    xml = client.get(f"{_base(web)}/uuid:hillnet-1.xml", headers=tokens["viewer"])
    assert xml.status_code == 200 and "สมชาย".encode() in xml.data
    assert client.get(f"{_base(web)}/uuid:hillnet-1/attachments", headers=tokens["viewer"]).get_json() == [
        {"name": "photo.png", "exists": True}
    ]
    photo = client.get(f"{_base(web)}/uuid:hillnet-1/attachments/photo.png", headers=tokens["viewer"])
    assert photo.status_code == 200 and photo.data == PHOTO and "no-store" in photo.headers["Cache-Control"]
    assert client.get(f"{_base(web)}/uuid:hillnet-1/attachments/other.png", headers=tokens["viewer"]).status_code == 404
    versions = client.get(f"{_base(web)}/uuid:hillnet-1/versions", headers=tokens["viewer"]).get_json()
    assert [(v["instanceId"], v["current"]) for v in versions] == [("uuid:hillnet-1", True)]
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        actions = session.execute(select(AuditEvent.action, AuditEvent.details).where(AuditEvent.details.is_not(None))).all()
        assert ("submission.download", {"source": "api"}) in actions and ("attachment.download", {"source": "api"}) in actions


def test_review_and_comments_with_centrals_words(api, app):
    client, web, tokens = api
    record = f"{_base(web)}/uuid:hillnet-1"
    reviewed = client.patch(record, json={"reviewState": "hasIssues"}, headers=tokens["manager"])
    assert reviewed.status_code == 200 and reviewed.get_json()["reviewState"] == "hasIssues"
    assert client.patch(record, json={"reviewState": "approved"}, headers=tokens["manager"]).get_json()["reviewState"] == "approved"
    assert client.patch(record, json={"reviewState": "done"}, headers=tokens["manager"]).get_json()["code"] == 400.8
    assert client.patch(record, json={"reviewState": "approved"}, headers=tokens["viewer"]).status_code == 403
    posted = client.post(f"{record}/comments", json={"body": "ตรวจแล้ว"}, headers=tokens["manager"])
    assert posted.status_code == 200 and posted.get_json()["body"] == "ตรวจแล้ว"
    assert posted.get_json()["actorId"] == web.users["manager"]
    assert client.post(f"{record}/comments", json={"body": "x"}, headers=tokens["viewer"]).status_code == 403
    assert [c["body"] for c in client.get(f"{record}/comments", headers=tokens["viewer"]).get_json()] == ["ตรวจแล้ว"]
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        assert session.scalar(select(Submission.review_state).where(Submission.instance_id == "uuid:hillnet-1")) == "approved"


def test_raw_xml_is_ingested_once_and_a_resend_is_409(api, app):
    client, web, tokens = api
    xml = instance("uuid:api-1", name="สมหญิง", photo=None)
    created = client.post(_base(web), data=xml, headers={**tokens["manager"], "Content-Type": "application/xml"})
    assert created.status_code == 200, created.get_json()
    body = created.get_json()
    assert body["instanceId"] == "uuid:api-1" and body["submitterId"] == web.users["manager"]
    again = client.post(_base(web), data=xml, headers={**tokens["manager"], "Content-Type": "application/xml"})
    assert again.status_code == 409 and again.get_json()["code"] == 409.3
    differing = client.post(_base(web), data=instance("uuid:api-1", name="อื่น", photo=None), headers=tokens["manager"])
    assert differing.status_code == 409 and differing.get_json()["code"] == 409.3
    elsewhere = client.post(f"/v1/projects/{web.own.org_id}/forms/other/submissions", data=xml, headers=tokens["manager"])
    assert elsewhere.status_code == 404
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        assert session.scalar(select(func.count()).where(Submission.instance_id == "uuid:api-1")) == 1
    assert client.post(_base(web), data=xml, headers=tokens["viewer"]).status_code == 403


def test_an_edit_keeps_the_first_instance_id(api):
    client, web, tokens = api
    edit = instance("uuid:hillnet-1-edit", name="สมชาย ใจดี").replace(
        b"<instanceID>", b"<deprecatedID>uuid:hillnet-1</deprecatedID><instanceID>"
    )
    assert client.post(_base(web), data=edit, headers=tokens["manager"]).get_json()["instanceId"] == "uuid:hillnet-1"
    one = client.get(f"{_base(web)}/uuid:hillnet-1", headers=tokens["viewer"]).get_json()
    assert one["instanceName"] == "สมชาย ใจดี" and one["reviewState"] == "edited" and one["updatedAt"]
    versions = client.get(f"{_base(web)}/uuid:hillnet-1/versions", headers=tokens["viewer"]).get_json()
    assert [(v["instanceId"], v["current"]) for v in versions] == [("uuid:hillnet-1-edit", True), ("uuid:hillnet-1", False)]
    assert client.get(f"{_base(web)}/uuid:hillnet-1-edit", headers=tokens["viewer"]).status_code == 404
    assert "ใจดี" in client.get(f"{_base(web)}/uuid:hillnet-1.xml", headers=tokens["viewer"]).data.decode()


def test_who_may_read_submissions(api):
    client, web, tokens = api
    own, other = _base(web), f"/v1/projects/{web.other.org_id}/forms/intake/submissions"
    assert client.get(own, headers=tokens["admin"]).status_code == 200
    assert client.get(other, headers=tokens["admin"]).status_code == 200
    assert client.get(own, headers=tokens["collector"]).get_json()["code"] == 403.1
    assert client.get(f"{own}/uuid:hillnet-1.xml", headers=tokens["collector"]).status_code == 403
    assert client.get(f"{other}/uuid:rivernet-1", headers=tokens["manager"]).status_code == 404
    assert client.get(f"{own}/uuid:hillnet-1", headers=tokens["other manager"]).status_code == 404
    assert client.get(own).status_code == 401
