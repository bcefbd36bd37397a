"""The CSV export: the same tables as the workbook, one file each, in a zip."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest

from formserver.exports.samples import add_submission

from .test_export_support import (  # noqa: F401 - fixtures
    NAPAT,
    SOMCHAI,
    export,
    organisation,
    read_workbook,
    visit,
)


def csv_files(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_the_csv_zip_has_one_file_per_table_with_the_rows_and_keys_of_the_workbook(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI, instance_id="uuid:0a1b")
    add_submission(session, visit, NAPAT, instance_id="uuid:77ff")
    files = csv_files(export(session, settings, organisation, visit.form, tmp_path, "export.csv.zip", format="csv"))
    assert list(files) == ["visit.csv", "member.csv", "document.csv"]
    workbook = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    for name, sheet in workbook.items():
        table = rows(files[f"{name}.csv"])
        assert table[0] == sheet[0] and table[1] == sheet[1]  # names, then labels
        assert len(table) == len(sheet)
    member = rows(files["member.csv"])
    header = member[0]
    first = dict(zip(header, member[2]))
    assert (first["KEY"], first["PARENT_KEY"], first["_index"], first["_parent_table_name"], first["_parent_index"]) == (
        "uuid:0a1b/member[1]", "uuid:0a1b", "1", "visit", "1",
    )
    assert first["id_number"] == "0570189001238"
    assert first["member_name"] == "นางคำ แสงดี"
    main = dict(zip(rows(files["visit.csv"])[0], rows(files["visit.csv"])[2]))
    assert main["household-visit_date"] == "2024-05-01"
    assert main["start"] == "2024-05-01T08:15:00"
    assert main["household-remark"].startswith("'=")  # a spreadsheet would run it otherwise
    assert main["household-languages/lahu"] == "0"


def test_csv_files_start_with_a_byte_order_mark_by_default_so_excel_reads_thai(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    files = csv_files(export(session, settings, organisation, visit.form, tmp_path, "export.csv.zip", format="csv"))
    assert all(content.startswith(b"\xef\xbb\xbf") for content in files.values())
    assert "ชื่อหัวหน้าครัวเรือน".encode() in files["visit.csv"]


def test_csv_files_have_no_byte_order_mark_on_request(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    files = csv_files(export(session, settings, organisation, visit.form, tmp_path, "export.csv.zip", format="csv", bom=False))
    assert all(content.startswith(b"SubmissionDate,") or content.startswith(b"member_name,") or content.startswith(b"doc_type,") for content in files.values())
    assert not any(content.startswith(b"\xef\xbb\xbf") for content in files.values())


def test_a_csv_media_zip_has_the_csv_files_beside_media(session, settings, organisation, visit, blobs, tmp_path):
    submission = add_submission(session, visit, SOMCHAI, attachments={"id card.jpg": b"photo"}, blobs=blobs)
    files = csv_files(export(session, settings, organisation, visit.form, tmp_path, "export.zip", format="csv", media=True))
    assert sorted(files) == ["document.csv", f"media/{submission.id}/id card.jpg", "member.csv", "visit.csv"]
    assert files[f"media/{submission.id}/id card.jpg"] == b"photo"
    main = dict(zip(rows(files["visit.csv"])[0], rows(files["visit.csv"])[2]))
    assert main["household-photo"] == f"media/{submission.id}/id%20card.jpg"


def test_a_row_made_for_csv_is_the_typed_row_written_field_by_field():
    import datetime as dt
    import random
    from zoneinfo import ZoneInfo

    from formserver.exports.columns import Choice, Field, Meta, compile_row
    from formserver.exports.csvzip import csv_field

    choices = [Choice("a", "=ก"), Choice("b", "B"), Choice("c", "-1+1")]
    fields = [Field(key=f"f{number}", path=f"f{number}", kind=kind, label=kind, choices=choices)
              for number, kind in enumerate(["text", "int", "decimal", "date", "datetime", "time", "boolean",
                                             "select1", "select", "geopoint", "binary"])]
    metas = (Meta("when", "received"), Meta("who"), Meta("count", "number"))
    values = [None, "", "สมชาย", "0570189001238", "=1+1", "-5", "+66812345678", "@x", "\tx", "12", "12.50", "1e3",
              "x12", "2024-05-01", "2024-13-45", "2024-05-01T08:15:00.000+07:00", "2024-05-01T02:45:30Z",
              "09:30:00.000+07:00", "09:30", "true", "0", "a", "a c", "b d", "=d", "19.9 99.8 412.5 4.8", "1 2",
              "id card.jpg", "=cmd|' /C calc'!A0"]
    zone = ZoneInfo("Asia/Bangkok")
    for labels in (True, False):
        typed = compile_row(fields, labels=labels, time_zone=zone, before=metas[:1], after=metas[1:])
        ready = compile_row(fields, labels=labels, time_zone=zone, csv=True, before=metas[:1], after=metas[1:])
        rng = random.Random(7)
        for _ in range(300):
            node = {field.key: rng.choice(values) for field in fields}
            node = {key: value for key, value in node.items() if value is not None}
            meta = (dt.datetime(2024, 5, 1, 1, 2, 3, tzinfo=dt.timezone.utc), rng.choice(values), 3)
            expected = [csv_field(cell) for cell in typed(node, "https://h/s/1/", *meta)]
            assert ready(node, "https://h/s/1/", *meta) == expected, node


CENTRAL = {"format": "csv", "layout": "central", "header": "names", "values": "names", "bom": False, "split_selects": False}


def test_centrals_layout_has_its_file_names_columns_and_the_answers_as_sent(session, settings, organisation, visit, blobs, tmp_path):
    submission = add_submission(session, visit, SOMCHAI, instance_id="uuid:0a1b", attachments={"id card.jpg": b"photo"}, blobs=blobs)
    files = csv_files(export(session, settings, organisation, visit.form, tmp_path, "central.zip", media=True, **CENTRAL))
    assert sorted(files) == ["media/id card.jpg", "visit-document.csv", "visit-member.csv", "visit.csv"]
    [header, values] = rows(files["visit.csv"])
    main = dict(zip(header, values))
    assert header[0] == "SubmissionDate" and header[-10:] == [
        "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState",
        "DeviceID", "Edits", "FormVersion",
    ]
    assert main["household-languages"] == "thai akha" and "household-languages/thai" not in main
    assert [main[f"household-gps-{part}"] for part in ("Latitude", "Longitude", "Altitude", "Accuracy")] == ["19.9105", "99.8406", "412.5", "4.8"]
    assert (main["household-income"], main["household-meet_time"], main["start"]) == ("4500.50", "09:30:00.000+07:00", "2024-05-01T08:15:00.000+07:00")
    assert main["household-photo"] == "id card.jpg" and main["household-has_land"] == "yes"
    assert main["household-remark"].startswith("'=")  # still guarded: a spreadsheet would run it
    assert (main["KEY"], main["AttachmentsPresent"], main["Edits"], main["FormVersion"]) == ("uuid:0a1b", "1", "0", "1")
    assert main["SubmissionDate"] == submission.received_at.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")[:23] + "Z"
    member = [dict(zip(rows(files["visit-member.csv"])[0], row)) for row in rows(files["visit-member.csv"])[1:]]
    assert list(member[0]) == ["member_name", "id_number", "age", "PARENT_KEY", "KEY"]
    assert (member[0]["PARENT_KEY"], member[0]["KEY"]) == ("uuid:0a1b", "uuid:0a1b/member[1]")
    document = [dict(zip(rows(files["visit-document.csv"])[0], row)) for row in rows(files["visit-document.csv"])[1:]]
    assert (document[1]["PARENT_KEY"], document[1]["KEY"]) == ("uuid:0a1b/member[1]", "uuid:0a1b/member[1]/document[2]")


def test_centrals_layout_splits_selects_and_drops_group_paths_on_request(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    files = csv_files(export(session, settings, organisation, visit.form, tmp_path, "central.zip", **{**CENTRAL, "split_selects": True, "group_paths": False}))
    main = dict(zip(*rows(files["visit.csv"])))
    assert (main["languages"], main["languages/thai"], main["languages/lahu"]) == ("thai akha", "1", "0")
    assert "household-languages" not in main and main["head_name"] == "สมชาย ใจดี"


def test_centrals_layout_is_csv_only():
    from formserver.exports.export import ExportOptions
    from formserver.problems import Problem

    with pytest.raises(Problem):
        ExportOptions.from_dict({"format": "xlsx", "layout": "central"})
    with pytest.raises(Problem):
        ExportOptions.from_dict({"format": "csv", "layout": "kobo"})
