"""``submissions.csv.zip`` in ODK Central's layout, read as ruODK and scripts written for Central read it:
unzip, ``<form id>.csv`` with one header row, repeats in ``<form id>-<repeat>.csv`` joined on PARENT_KEY."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from sqlalchemy import select

from formserver.models import AuditEvent

from .api_fixtures import api  # noqa: F401
from .web_fixtures import PHOTO, instance, web  # noqa: F401

CENTRAL_METADATA = [
    "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState",
    "DeviceID", "Edits", "FormVersion",
]


def _zip_of(web) -> str:
    return f"/v1/projects/{web.own.org_id}/forms/intake/submissions.csv.zip"


def tables(content: bytes) -> tuple[list[str], dict[str, list[dict]]]:
    """(the zip's names, each CSV file's rows as dicts keyed by its one header row)."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    read = {}
    for name in archive.namelist():
        if name.endswith(".csv"):
            text = archive.read(name).decode("utf-8")
            assert not text.startswith("\ufeff")  # as Central's: no byte order mark
            read[name] = list(csv.DictReader(io.StringIO(text)))
    return archive.namelist(), read


def test_centrals_layout_as_ruodk_reads_it(api, app):
    client, web, tokens = api
    answer = client.get(_zip_of(web), headers=tokens["viewer"])
    assert answer.status_code == 200 and answer.is_streamed and answer.mimetype == "application/zip"
    assert 'filename="intake.csv.zip"' in answer.headers["Content-Disposition"]
    names, read = tables(answer.data)
    assert names == ["media/photo.png", "intake.csv", "intake-member.csv"]
    assert zipfile.ZipFile(io.BytesIO(answer.data)).read("media/photo.png") == PHOTO
    header = list(read["intake.csv"][0])
    assert header == [
        "SubmissionDate", "name", "consent", "household-members", "household-photo", "meta-instanceID", *CENTRAL_METADATA,
    ]
    [row] = read["intake.csv"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["SubmissionDate"])
    assert (row["name"], row["consent"], row["household-members"], row["household-photo"]) == ("สมชาย", "yes", "3", "photo.png")
    assert row["KEY"] == row["meta-instanceID"] == "uuid:hillnet-1"
    assert int(row["SubmitterID"]) > 1_000_000_000 and row["SubmitterName"] == "โทรศัพท์ 1"
    assert (row["AttachmentsPresent"], row["AttachmentsExpected"], row["Status"], row["ReviewState"]) == ("1", "1", "", "")
    assert (row["DeviceID"], row["Edits"], row["FormVersion"]) == ("collect:test", "0", "1")
    members = [(m["member_name"], m["PARENT_KEY"], m["KEY"]) for m in read["intake-member.csv"]]
    assert members == [("นิด", "uuid:hillnet-1", "uuid:hillnet-1/member[1]"), ("น้อย", "uuid:hillnet-1", "uuid:hillnet-1/member[2]")]
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.download"))
        assert event.target == "intake.csv.zip" and event.details == {"source": "api"}


def test_an_edited_record_keeps_its_key_and_counts_its_edits(api):
    client, web, tokens = api
    edit = instance("uuid:hillnet-1-edit", name="สมชาย ใจดี", photo=None).replace(
        b"<instanceID>", b"<deprecatedID>uuid:hillnet-1</deprecatedID><instanceID>"
    )
    assert client.post(f"/v1/projects/{web.own.org_id}/forms/intake/submissions", data=edit, headers=tokens["manager"]).status_code == 200
    names, read = tables(client.get(_zip_of(web) + "?attachments=false", headers=tokens["viewer"]).data)
    assert names == ["intake.csv", "intake-member.csv"]
    [row] = read["intake.csv"]
    assert (row["KEY"], row["meta-instanceID"], row["name"]) == ("uuid:hillnet-1", "uuid:hillnet-1-edit", "สมชาย ใจดี")
    assert (row["Edits"], row["ReviewState"], row["DeviceID"]) == ("1", "edited", "collect:test")
    assert {m["PARENT_KEY"] for m in read["intake-member.csv"]} == {"uuid:hillnet-1"}
    for review, rows in (("edited", 1), ("null", 0)):
        query = {"$filter": f"__system/reviewState eq {review}", "attachments": "false"}
        _names, read = tables(client.get(_zip_of(web), query_string=query, headers=tokens["viewer"]).data)
        assert len(read["intake.csv"]) == rows, review


def test_centrals_options_and_filter(api):
    client, web, tokens = api
    _names, read = tables(client.get(_zip_of(web) + "?groupPaths=false&attachments=false", headers=tokens["viewer"]).data)
    assert list(read["intake.csv"][0])[:6] == ["SubmissionDate", "name", "consent", "members", "photo", "instanceID"]
    old = client.get(_zip_of(web), query_string={"$filter": "__system/submissionDate lt 2000-01-01"}, headers=tokens["viewer"])
    _names, read = tables(old.data)
    assert read["intake.csv"] == [] and read["intake-member.csv"] == []
    assert client.get(_zip_of(web) + "?attachments=yes", headers=tokens["viewer"]).get_json()["code"] == 400.8
    unsupported = client.get(_zip_of(web) + "?$search=x", headers=tokens["viewer"])
    assert unsupported.status_code == 501 and "$search" in unsupported.get_json()["message"]
    assert client.get(_zip_of(web), headers=tokens["collector"]).status_code == 403
    assert client.get(f"/v1/projects/{web.own.org_id}/forms/nothing/submissions.csv.zip", headers=tokens["viewer"]).status_code == 404


def test_a_streamed_export_arrives_whole_and_the_writer_stays_a_few_chunks_ahead():
    from formserver.exports.streaming import CHUNK, DEPTH, streamed

    written, stopped = [], []

    def write(target):
        try:
            for number in range(2000):
                target.write(bytes([number % 256]) * 1000)
                written.append(number)
        except BrokenPipeError as error:
            stopped.append(error)
            raise

    assert b"".join(streamed(write)) == b"".join(bytes([n % 256]) * 1000 for n in range(2000))
    written.clear()
    chunks = streamed(write)
    next(chunks)
    chunks.close()  # the client went away
    assert stopped and len(written) * 1000 <= (DEPTH + 3) * CHUNK


def test_an_error_of_the_writer_reaches_the_reader():
    from formserver.exports.streaming import streamed

    def write(target):
        target.write(b"PK")
        raise ValueError("the disk is full")

    with pytest.raises(ValueError, match="disk is full"):
        b"".join(streamed(write))
