"""The Excel export: what a coordinator finds when the workbook opens."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from formserver.accounts import create_organisation
from formserver.exports import export as export_module
from formserver.exports import stored as stored_module
from formserver.exports.export import ExportOptions, run_export
from formserver.exports.samples import add_submission
from formserver.models import ExportJob, Submission
from formserver.problems import Problem

from .test_export_support import (  # noqa: F401 - fixtures
    NAPAT,
    SOMCHAI,
    VISIT_SURVEY,
    export,
    organisation,
    person,
    read_workbook,
    sheet_xml,
    table,
    upload,
    visit,
    visit_form,
    workbook_in_zip,
    zip_names,
)

BANGKOK = ZoneInfo("Asia/Bangkok")


def test_the_workbook_has_a_main_sheet_then_one_sheet_per_repeat_nested_repeats_included(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    assert list(sheets) == ["visit", "member", "document"]
    assert [len(rows) - 2 for rows in sheets.values()] == [1, 2, 2]


def test_every_child_row_joins_its_parent_by_central_keys_and_by_kobo_indexes(session, settings, organisation, visit, tmp_path):
    first = add_submission(session, visit, SOMCHAI, instance_id="uuid:0a1b")
    add_submission(session, visit, NAPAT, instance_id="uuid:77ff")
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    main, members, documents = (table(sheets[name]) for name in ("visit", "member", "document"))
    assert [row["KEY"] for row in main] == ["uuid:0a1b", "uuid:77ff"]
    assert [row["KEY"] for row in members] == ["uuid:0a1b/member[1]", "uuid:0a1b/member[2]", "uuid:77ff/member[1]"]
    assert [row["KEY"] for row in documents] == [
        "uuid:0a1b/member[1]/document[1]",
        "uuid:0a1b/member[1]/document[2]",
        "uuid:77ff/member[1]/document[1]",
    ]
    for children, parents, parent_name in ((members, main, "visit"), (documents, members, "member")):
        by_key = {row["KEY"]: row for row in parents}
        by_index = {row["_index"]: row for row in parents}
        for child in children:
            assert child["_parent_table_name"] == parent_name
            assert by_key[child["PARENT_KEY"]] is by_index[child["_parent_index"]]
    assert [row["_index"] for row in members] == [1, 2, 3]
    assert first.instance_id == "uuid:0a1b"


def test_headers_are_the_field_names_joined_as_central_does_then_the_labels_in_thai_by_default(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    names, labels = sheets["visit"][0], sheets["visit"][1]
    assert names[:3] == ["SubmissionDate", "household-head_name", "household-members"]
    assert labels[:3] == ["วันที่ส่งข้อมูล (Asia/Bangkok)", "ชื่อหัวหน้าครัวเรือน", "จำนวนสมาชิก"]
    assert names[-9:] == ["KEY", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "ReviewState", "DeviceID", "Edits", "FormVersion", "_index"]
    assert sheets["member"][0] == ["member_name", "id_number", "age", "PARENT_KEY", "KEY", "_index", "_parent_table_name", "_parent_index"]
    assert sheets["member"][1][:3] == ["ชื่อสมาชิก", "เลขประจำตัว 13 หลัก", "อายุ"]


def test_labels_and_choice_labels_in_english_on_request(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path, lang="en"))
    labels = sheets["visit"][1]
    assert labels[:5] == ["Submission date (Asia/Bangkok)", "Head of household", "Number of members", "Monthly income", "Has land"]
    assert "Languages/Akha" in labels and "Location: latitude" in labels
    row = table(sheets["visit"])[0]
    assert row["household-has_land"] == "Yes"
    assert row["household-languages"] == "Thai; Akha"
    assert row["ReviewState"] == "received"


def test_an_unknown_language_falls_back_to_the_forms_default_language(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path, lang="fr"))
    assert sheets["visit"][1][1] == "ชื่อหัวหน้าครัวเรือน"


def test_headers_can_be_names_only_or_labels_only(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    names_only = read_workbook(export(session, settings, organisation, visit.form, tmp_path, "n.xlsx", header="names"))
    assert names_only["visit"][0][:2] == ["SubmissionDate (Asia/Bangkok)", "household-head_name"]
    assert "start (Asia/Bangkok)" in names_only["visit"][0]
    assert names_only["visit"][1][1] == "สมชาย ใจดี"
    labels_only = read_workbook(export(session, settings, organisation, visit.form, tmp_path, "l.xlsx", header="labels"))
    assert labels_only["visit"][0][1] == "ชื่อหัวหน้าครัวเรือน"
    assert labels_only["visit"][1][1] == "สมชาย ใจดี"


def test_the_header_rows_are_frozen_and_carry_the_autofilter(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    path = export(session, settings, organisation, visit.form, tmp_path)
    xml = sheet_xml(path, 1)
    assert 'ySplit="2"' in xml and 'state="frozen"' in xml
    assert re.search(r'<autoFilter ref="A2:[A-Z]+3"/>', xml)
    one_row = export(session, settings, organisation, visit.form, tmp_path, "n.xlsx", header="names")
    assert 'ySplit="1"' in sheet_xml(one_row, 1)


def test_numbers_are_numbers_and_dates_and_times_are_real_dates_in_asia_bangkok(session, settings, organisation, visit, tmp_path):
    received = dt.datetime(2024, 5, 1, 3, 0, tzinfo=dt.timezone.utc)
    add_submission(session, visit, SOMCHAI, received_at=received)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    row = table(sheets["visit"])[0]
    assert row["SubmissionDate"] == dt.datetime(2024, 5, 1, 10, 0)  # 03:00 UTC is 10:00 in Bangkok
    assert row["household-members"] == 3 and isinstance(row["household-members"], int)
    assert row["household-income"] == 4500.5
    assert row["household-visit_date"] == dt.datetime(2024, 5, 1)
    assert row["household-meet_time"] == dt.time(9, 30)
    assert row["start"] == dt.datetime(2024, 5, 1, 8, 15)
    assert row["end"] == dt.datetime(2024, 5, 1, 9, 45, 30)  # sent in UTC ("Z"), shown in Bangkok time
    member = table(sheets["member"])[0]
    assert member["age"] == 41
    assert table(sheets["document"])[0]["issued"] == dt.datetime(2010, 3, 15)
    styles = sheet_xml(tmp_path / "export.xlsx", 1)
    assert 't="inlineStr"' in styles


def test_the_organisations_time_zone_is_used_and_named(session, settings, organisation, visit, tmp_path):
    organisation.time_zone = "Asia/Yangon"
    add_submission(session, visit, SOMCHAI, received_at=dt.datetime(2024, 5, 1, 3, 0, tzinfo=dt.timezone.utc))
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    assert sheets["visit"][1][0] == "วันที่ส่งข้อมูล (Asia/Yangon)"
    row = table(sheets["visit"])[0]
    assert row["SubmissionDate"] == dt.datetime(2024, 5, 1, 9, 30)
    assert row["start"] == dt.datetime(2024, 5, 1, 7, 45)


def test_select_one_shows_the_choice_label_or_its_name_on_request(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    labels = table(read_workbook(export(session, settings, organisation, visit.form, tmp_path))["visit"])[0]
    assert labels["household-has_land"] == "ใช่"
    names = read_workbook(export(session, settings, organisation, visit.form, tmp_path, "n.xlsx", values="names"))
    row = table(names["visit"])[0]
    assert row["household-has_land"] == "yes"
    assert row["household-languages"] == "thai akha"
    assert row["ReviewState"] == "received"
    assert table(names["document"])[0]["doc_type"] == "tr14"


def test_select_multiple_has_a_column_for_every_choice_of_the_form_and_blanks_when_unanswered(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)  # thai akha
    add_submission(session, visit, NAPAT)  # not answered
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    names = sheets["visit"][0]
    split = ["household-languages/thai", "household-languages/akha", "household-languages/lahu", "household-languages/shan"]
    assert names[names.index("household-languages") + 1: names.index("household-languages") + 5] == split
    answered, unanswered = table(sheets["visit"])
    assert [answered[name] for name in split] == [1, 1, 0, 0]  # lahu and shan were never chosen by anyone
    assert [unanswered[name] for name in ["household-languages", *split]] == [None] * 5


def test_a_geopoint_is_split_into_latitude_longitude_altitude_and_accuracy(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    add_submission(session, visit, dict(NAPAT, **{"household/gps": "18.78 98.98"}))
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    full, short = table(sheets["visit"])
    parts = ["household-gps-Latitude", "household-gps-Longitude", "household-gps-Altitude", "household-gps-Accuracy"]
    assert [full[p] for p in parts] == [19.9105, 99.8406, 412.5, 4.8]
    assert [short[p] for p in parts] == [18.78, 98.98, None, None]
    assert "household-gps" not in sheets["visit"][0]


def test_an_id_number_with_a_leading_zero_stays_text_exactly_as_typed(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    assert [row["id_number"] for row in table(sheets["member"])] == ["0570189001238", "1234567890121"]


def test_thai_text_comes_back_byte_for_byte(session, settings, organisation, visit, tmp_path):
    text = "น้ำใจ ผู้ใหญ่บ้าน หมู่ที่ ๓ ต.แม่สลองนอก อ.แม่ฟ้าหลวง\nบรรทัดที่สอง  ช่องว่างสองช่อง "
    add_submission(session, visit, dict(SOMCHAI, **{"household/head_name": text}))
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    value = table(sheets["visit"])[0]["household-head_name"]
    assert value.encode("utf-8") == text.encode("utf-8")


def test_formula_like_text_stays_text_and_no_cell_is_a_formula(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    path = export(session, settings, organisation, visit.form, tmp_path)
    row = table(read_workbook(path)["visit"])[0]  # read_workbook fails on any formula cell
    assert row["household-remark"] == '=HYPERLINK("http://evil.example")'
    assert "<f>" not in sheet_xml(path, 1)


def test_text_longer_than_a_cell_holds_is_cut_with_a_visible_marker(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, dict(SOMCHAI, **{"household/remark": "ก" * 40_000}))
    value = table(read_workbook(export(session, settings, organisation, visit.form, tmp_path))["visit"])[0]["household-remark"]
    assert len(value) <= 32_767 and "cut" in value[-40:]


def test_notes_are_not_columns(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    names = read_workbook(export(session, settings, organisation, visit.form, tmp_path))["visit"][0]
    assert "read_out" not in names


def test_metadata_columns_tell_when_who_which_device_version_review_attachments_and_edits(session, settings, organisation, visit, blobs, tmp_path):
    user = person(session, "enumerator@example.org")
    add_submission(
        session, visit, SOMCHAI, user=user, device_id="collect:AbC123", review_state="approved",
        attachments={"id card.jpg": b"\xff\xd8jpeg"}, blobs=blobs, attachments_expected=2,
    )
    row = table(read_workbook(export(session, settings, organisation, visit.form, tmp_path))["visit"])[0]
    assert row["SubmitterName"] == "enumerator@example.org"
    assert row["DeviceID"] == "collect:AbC123"
    assert row["FormVersion"] == "1"
    assert row["ReviewState"] == "อนุมัติแล้ว"
    assert (row["AttachmentsPresent"], row["AttachmentsExpected"]) == (1, 2)
    assert row["Edits"] == 0


def test_only_the_current_version_of_an_edited_record_is_exported_with_its_number_of_edits(session, settings, organisation, visit, tmp_path):
    first = add_submission(session, visit, SOMCHAI, instance_id="uuid:v1")
    second = add_submission(session, visit, dict(SOMCHAI, **{"household/members": "4"}), instance_id="uuid:v2", edit_of=first)
    add_submission(session, visit, dict(SOMCHAI, **{"household/members": "5"}), instance_id="uuid:v3", edit_of=second)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    rows = table(sheets["visit"])
    assert [(row["KEY"], row["household-members"], row["Edits"]) for row in rows] == [("uuid:v3", 5, 2)]
    assert {row["PARENT_KEY"] for row in table(sheets["member"])} == {"uuid:v3"}


def test_attachments_link_to_the_server(session, settings, organisation, visit, tmp_path):
    submission = add_submission(session, visit, SOMCHAI)
    path = export(session, settings, organisation, visit.form, tmp_path)
    import openpyxl

    cell = next(c for c in openpyxl.load_workbook(path)["visit"][3] if c.value == "id card.jpg")
    assert cell.hyperlink.target == f"http://formserver.test/orgs/hillnet/submissions/{submission.id}/attachments/id%20card.jpg"


def test_a_media_zip_holds_the_workbook_and_the_files_which_its_links_point_at(session, settings, organisation, visit, blobs, tmp_path):
    submission = add_submission(session, visit, SOMCHAI, attachments={"id card.jpg": b"\xff\xd8photo"}, blobs=blobs)
    add_submission(session, visit, NAPAT)
    path = export(session, settings, organisation, visit.form, tmp_path, "export.zip", media=True)
    media = f"media/{submission.id}/id card.jpg"
    assert sorted(zip_names(path)) == [media, "visit.xlsx"]
    import zipfile

    with zipfile.ZipFile(path) as archive:
        assert archive.read(media) == b"\xff\xd8photo"
    workbook = workbook_in_zip(path, "visit.xlsx", tmp_path)
    read_workbook(workbook)
    import openpyxl

    cell = next(c for c in openpyxl.load_workbook(workbook)["visit"][3] if c.value == "id card.jpg")
    assert cell.hyperlink.target == f"media/{submission.id}/id%20card.jpg"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="lists open files through Linux's /proc")
@pytest.mark.parametrize("options", [{"format": "xlsx"}, {"format": "csv"}, {"format": "xlsx", "media": True}])
def test_an_export_that_fails_half_way_raises_and_keeps_no_temporary_file_open(session, settings, organisation, visit, tmp_path, monkeypatch, options):
    import os

    for values in (SOMCHAI, NAPAT, SOMCHAI):
        add_submission(session, visit, values)
    decoded = stored_module._decoded
    calls = iter(range(100))

    def failing(text):
        if next(calls) == 2:
            raise RuntimeError("the disk is full")
        return decoded(text)

    monkeypatch.setattr(stored_module, "_decoded", failing)
    spool = tmp_path / "spool"
    spool.mkdir()

    def open_in(folder) -> list[str]:
        targets = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")]
        return [target for target in targets if target.startswith(str(folder))]

    with pytest.raises(RuntimeError, match="the disk is full"):
        run_export(session, settings, organisation, visit.form, options, tmp_path / "out", spool_dir=spool)
    assert open_in(spool) == [] and open_in(tmp_path / "out") == []


def test_fields_of_all_versions_are_merged_in_the_newest_order_with_fields_only_older_versions_had_at_the_end(session, settings, organisation, blobs, visit, tmp_path):
    survey = [dict(row) for row in VISIT_SURVEY if row.get("name") not in ("income", "remark")]
    survey.insert(1, {"type": "text", "name": "village", "label::Thai (th)": "หมู่บ้าน", "label::English (en)": "Village"})
    choices = [
        {"list_name": "yesno", "name": "yes", "label::Thai (th)": "ใช่", "label::English (en)": "Yes"},
        {"list_name": "yesno", "name": "no", "label::Thai (th)": "ไม่ใช่", "label::English (en)": "No"},
        {"list_name": "langs", "name": "thai", "label::Thai (th)": "ไทย", "label::English (en)": "Thai"},
        {"list_name": "langs", "name": "hmong", "label::Thai (th)": "ม้ง", "label::English (en)": "Hmong"},
        {"list_name": "doc_type", "name": "tr14", "label::Thai (th)": "ท.ร.14", "label::English (en)": "TR14"},
    ]
    newer = upload(session, blobs, organisation, visit_form("2", survey, choices), "visit.xlsx")
    add_submission(session, visit, SOMCHAI, instance_id="uuid:old")
    add_submission(session, newer, {"household/village": "ห้วยไร่", "household/languages": "hmong"}, instance_id="uuid:new")
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    names = sheets["visit"][0]
    fields = names[1: names.index("KEY")]
    assert fields[:3] == ["household-village", "household-head_name", "household-members"]
    assert fields[-2:] == ["household-income", "household-remark"]  # only version 1 had them
    assert [n for n in names if n.startswith("household-languages/")] == [
        "household-languages/thai", "household-languages/hmong",
        "household-languages/akha", "household-languages/lahu", "household-languages/shan",
    ]
    old, new = table(sheets["visit"])
    assert (old["FormVersion"], old["household-income"], old["household-village"]) == ("1", 4500.5, None)
    assert (new["FormVersion"], new["household-village"], new["household-languages/hmong"], new["household-languages/akha"]) == ("2", "ห้วยไร่", 1, 0)

    only_one = read_workbook(export(session, settings, organisation, visit.form, tmp_path, "v1.xlsx", version="1"))
    assert [row["KEY"] for row in table(only_one["visit"])] == ["uuid:old"]
    assert "household-village" not in only_one["visit"][0]


def test_an_unknown_version_is_refused(session, settings, organisation, visit, tmp_path):
    with pytest.raises(Problem) as refused:
        export(session, settings, organisation, visit.form, tmp_path, version="9")
    assert refused.value.code == "form.version_not_found"


def test_received_since_and_until_are_whole_days_in_the_organisations_time_zone(session, settings, organisation, visit, tmp_path):
    def at(day, hour):  # Bangkok wall clock
        return dt.datetime(2024, 5, day, hour, 0, tzinfo=BANGKOK)

    for key, moment in [("a", at(1, 6)), ("b", at(2, 0)), ("c", at(3, 23)), ("d", at(4, 0))]:
        add_submission(session, visit, NAPAT, instance_id=f"uuid:{key}", received_at=moment)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path, since="2024-05-02", until="2024-05-03"))
    assert [row["KEY"] for row in table(sheets["visit"])] == ["uuid:b", "uuid:c"]
    since_only = read_workbook(export(session, settings, organisation, visit.form, tmp_path, "s.xlsx", since="2024-05-03T23:00"))
    assert [row["KEY"] for row in table(since_only["visit"])] == ["uuid:c", "uuid:d"]


def test_only_new_exports_what_arrived_since_the_requesters_last_complete_export(session, settings, organisation, visit, tmp_path):
    me = person(session, "coordinator@example.org")
    other = person(session, "viewer@example.org")
    long_ago = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    add_submission(session, visit, NAPAT, instance_id="uuid:old", received_at=long_ago)
    first = run_export(session, settings, organisation, visit.form, {"new_only": True}, tmp_path / "1.xlsx", requested_by=me)
    assert first.submissions == 1
    session.add(ExportJob(organisation_id=organisation.id, form_id=visit.form.id, requested_by_id=me.id, status="complete", watermark=first.watermark))
    session.add(ExportJob(organisation_id=organisation.id, form_id=visit.form.id, requested_by_id=me.id, status="failed", watermark=first.watermark + dt.timedelta(days=1)))
    session.flush()
    add_submission(session, visit, NAPAT, instance_id="uuid:new")
    mine = read_workbook(export(session, settings, organisation, visit.form, tmp_path, "2.xlsx", new_only=True, _user=me))
    assert [row["KEY"] for row in table(mine["visit"])] == ["uuid:new"]
    theirs = read_workbook(export(session, settings, organisation, visit.form, tmp_path, "3.xlsx", new_only=True, _user=other))
    assert [row["KEY"] for row in table(theirs["visit"])] == ["uuid:old", "uuid:new"]


def test_a_table_past_the_row_limit_continues_on_a_numbered_sheet(session, settings, organisation, visit, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "ROWS_PER_SHEET", 4)  # two header rows and two data rows per sheet
    for number in range(3):
        add_submission(session, visit, NAPAT, instance_id=f"uuid:{number}")
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    assert list(sheets) == ["visit", "visit (2)", "member", "member (2)", "document", "document (2)"]
    assert [row["KEY"] for row in table(sheets["visit"]) + table(sheets["visit (2)"])] == ["uuid:0", "uuid:1", "uuid:2"]
    assert sheets["visit (2)"][0] == sheets["visit"][0]


def test_a_submission_without_its_flattened_copy_is_flattened_from_its_xml(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI, flattened=False)
    assert session.scalar(select(Submission.data)) is None
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    assert table(sheets["member"])[0]["id_number"] == "0570189001238"


def test_a_flattened_copy_that_cannot_be_read_is_made_again_from_the_xml(session, settings, organisation, visit, tmp_path):
    submission = add_submission(session, visit, SOMCHAI)
    session.commit()
    # Valid JSON text that no export writes and the decoder refuses: an escaped lone surrogate.
    session.execute(text("UPDATE submission SET data = :data WHERE id = :id"),
                    {"data": '{"household/head_name": "\\ud800"}', "id": submission.id})
    session.commit()
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    assert table(sheets["visit"])[0]["household-head_name"] == "สมชาย ใจดี"


def test_copies_that_cannot_be_read_among_others_are_made_again_and_every_row_keeps_its_place(session, settings, organisation, visit, tmp_path):
    stored = [add_submission(session, visit, values, instance_id=f"uuid:{number}")
              for number, values in enumerate([SOMCHAI, NAPAT, SOMCHAI, NAPAT, SOMCHAI])]
    session.commit()
    for broken in (stored[1], stored[4]):  # the stream of rows is closed and read on after each
        session.execute(text("UPDATE submission SET data = :data WHERE id = :id"),
                        {"data": '{"household/head_name": "\\ud800"}', "id": broken.id})
    session.commit()
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    main = table(sheets["visit"])
    assert [row["KEY"] for row in main] == [f"uuid:{number}" for number in range(5)]
    assert [row["_index"] for row in main] == [1, 2, 3, 4, 5]
    assert [row["household-head_name"] for row in main] == ["สมชาย ใจดี", "Napat", "สมชาย ใจดี", "Napat", "สมชาย ใจดี"]
    assert [(row["PARENT_KEY"], row["_parent_index"]) for row in table(sheets["member"])] == [
        ("uuid:0", 1), ("uuid:0", 1), ("uuid:1", 2), ("uuid:2", 3), ("uuid:2", 3), ("uuid:3", 4), ("uuid:4", 5), ("uuid:4", 5)
    ]


def test_a_form_of_another_organisation_is_not_exported(session, settings, organisation, visit, tmp_path):
    other = create_organisation(session, "othernet", "Other")
    with pytest.raises(Problem) as refused:
        run_export(session, settings, other, visit.form, {}, tmp_path / "x.xlsx")
    assert refused.value.status == 404


def test_a_form_without_submissions_gives_the_headers_only(session, settings, organisation, visit, tmp_path):
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    assert [len(rows) for rows in sheets.values()] == [2, 2, 2]


@pytest.mark.parametrize(
    "options",
    [{"format": "pdf"}, {"header": "all"}, {"values": "codes"}, {"since": "yesterday"}, {"colour": "red"}, {"media": "perhaps"}],
)
def test_bad_options_are_refused_by_name(options):
    with pytest.raises(Problem) as refused:
        ExportOptions.from_dict(options)
    assert refused.value.code == "export.bad_option"
    assert next(iter(options)) in refused.value.en
