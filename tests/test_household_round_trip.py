"""A household intake filled in Thai goes from the phone to the coordinator's workbook unchanged.

The form as shipped in forms/ is loaded, an instance is sent to the Collect
endpoint as ODK Collect sends it, and the Excel export gives back every Thai
text and the ID number with its leading 0, byte for byte.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from formserver import accounts, appusers, cli, forms
from formserver.models import Submission

FORM = Path(__file__).resolve().parent.parent / "forms" / "household_status_intake.xlsx"
HEAD = "นายจะแฮ แซ่ลี้"
MEMBER = "เด็กหญิงนาหมี่ อาข่า"
PLACE = "บ้านห้วยน้ำขุ่น ต.ท่าก๊อ"
NOTE = "ต้องไปอำเภอพร้อมพยานบุคคล 2 คน; ยื่นคำร้องตามมาตรา 7 ทวิ"
ID_NUMBER = "0570189001238"
INSTANCE_ID = "uuid:6f1c2b7e-0a54-4c8e-9d1e-2b7f3a1d9e01"


def household_instance(version: str, *, instance_id: str = INSTANCE_ID, head: str = HEAD) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="household_status_intake" version="{version}">
<consent><consent_purpose/><consent_sensitive>yes</consent_sensitive><consent_refused/><has_minors>no</has_minors><consent_guardian/><consent_photo>yes</consent_photo><consent_referral>yes</consent_referral></consent>
<intake>
<interviewer><organisation>other</organisation><organisation_other>มูลนิธิทดสอบ</organisation_other><interviewer_id>A01</interviewer_id><interview_date>2026-11-20</interview_date></interviewer>
<location><province>57</province><district>5715</district><subdistrict>571501</subdistrict><village_name>{PLACE}</village_name><village_moo>7</village_moo><house_no>12/3</house_no><gps>20.2 99.6 500 5</gps><household_code>CR-0001</household_code></location>
<household><head_name>{head}</head_name><head_phone>0812345678</head_phone><languages>akha thai</languages><languages_other/><member_count>1</member_count></household>
<member><member_name>{MEMBER}</member_name><relationship>child</relationship><sex>female</sex><dob>2015-03-01</dob><dob_estimated>no</dob_estimated><age>11</age><record_status>yes</record_status><minor_no_consent/><birth_country>thailand</birth_country><birth_place>{PLACE}</birth_place><ethnicity>akha</ethnicity><ethnicity_other/><id_type>no_status_card</id_type><id_number>{ID_NUMBER}</id_number><legal_status>no_status</legal_status><unhcr_cat/><documents>birth_certificate</documents><documents_other/><status_problem/><status_problem_other/><process_step/><health_cover/><work_permit/><schooling/><travel/></member>
<violations><any_violation>no</any_violation></violations>
<referral><needs/><needs_other/><urgency/><referral_no_consent/><refer_to/><refer_to_other/></referral>
<photos><photo_instructions/><photo_id_card>card.jpg</photo_id_card><photo_house_register/><photo_birth_document/><photo_other_document/></photos>
<follow_up><follow_up_needed>yes</follow_up_needed><follow_up_date>2026-12-01</follow_up_date><follow_up_staff>สมชาย</follow_up_staff><follow_up_note>{NOTE}</follow_up_note></follow_up>
</intake>
<start>2026-11-20T09:00:00.000+07:00</start><end>2026-11-20T09:40:00.000+07:00</end><today>2026-11-20</today><deviceid>collect:AbCdEf0123456789</deviceid><username/>
<meta><instanceID>{instance_id}</instanceID><instanceName>CR-0001 2026-11-20</instanceName></meta>
</data>""".encode("utf-8")


@pytest.fixture
def loaded(session, blobs):
    organisation = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    upload = forms.add_form_version(session, blobs, organisation, FORM.read_bytes(), FORM.name)
    token = appusers.create_app_user(session, organisation, "โทรศัพท์ 1").token
    session.commit()
    return upload.version.version, token


def test_thai_household_round_trips_from_collect_to_the_workbook(loaded, client, session, environment, monkeypatch, tmp_path):
    version, token = loaded
    xml = household_instance(version)
    response = client.post(
        f"/key/{token}/o/hillnet/submission?deviceID=collect%3AAbCdEf0123456789",
        data={
            "xml_submission_file": (BytesIO(xml), "Household_2026-11-20_09-40-00.xml", "text/xml"),
            "card.jpg": (BytesIO(b"\xff\xd8\xff\xe0 a photo of an ID card"), "card.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
        headers={"X-OpenRosa-Version": "1.0"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = session.query(Submission).filter_by(instance_id=INSTANCE_ID).one()
    assert stored.xml == xml
    session.commit()  # end the read, so the export is not waiting on this test's transaction

    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    workbook_path = tmp_path / "household.xlsx"
    assert cli.main(["export", "hillnet", "household_status_intake", "-o", str(workbook_path), "--lang", "th"]) == 0

    workbook = load_workbook(workbook_path, read_only=True)
    texts = {cell for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row if isinstance(cell, str)}
    for text in (HEAD, MEMBER, PLACE, NOTE, ID_NUMBER, "มูลนิธิทดสอบ"):
        assert text in texts, f"{text!r} is in the workbook exactly as typed"
    calamine = CalamineWorkbook.from_path(str(workbook_path))
    calamine_texts = {cell for name in calamine.sheet_names for row in calamine.get_sheet_by_name(name).to_python() for cell in row}
    assert ID_NUMBER in calamine_texts and NOTE in calamine_texts
