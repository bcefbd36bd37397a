#!/usr/bin/env python3
"""Generate forms/household_status_intake.xlsx, the household status intake XLSForm.

The form is defined below as plain Python data: one list of rows per section, one
list of (name, Thai label, English label) per choice list. The place lists
(province -> district -> subdistrict) are read from the thai-places CSV files
(kongvut/thai-province-data, official DOPA codes).

Usage (from the repository root):

    .venv/bin/python forms/build_household_status_intake.py
    .venv/bin/python forms/build_household_status_intake.py /path/to/thai-places
    .venv/bin/python forms/build_household_status_intake.py --output /tmp/form.xlsx
    .venv/bin/python forms/build_household_status_intake.py --check   # also convert with pyxform

The default place folder is ../shared/thai-places next to the repository
(/work/shared/thai-places). The generated xlsx is committed, because a clone of the
repository does not have that folder.

Rules kept by this script (see forms/README.md):
- every label, hint, constraint message and required message has Thai and English;
- field and choice names are ASCII snake_case and are never renamed or reused:
  exports depend on them. Add a new name instead, and bump VERSION.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent
DEFAULT_PLACES = HERE.parents[1] / "shared" / "thai-places"
DEFAULT_OUTPUT = HERE / "household_status_intake.xlsx"

TH = "Thai (th)"
EN = "English (en)"

SETTINGS = {
    "form_title": "แบบสำรวจสถานะบุคคลของครัวเรือน / Household status intake",
    "form_id": "household_status_intake",
    # Bump on every change (yyyymmddnn). Collect and the server tell versions apart by it.
    "version": "2026120501",
    "default_language": TH,
    # Household code and date only: never a person's name (the instance name shows
    # in Collect's lists and in server listings).
    "instance_name": "concat(${household_code}, ' ', ${interview_date})",
    # No public_key: see forms/README.md ("Encryption").
}

# The six northern provinces, by DOPA code, with the counts the CSVs must give.
PROVINCES = {
    "50": (24, 205),  # Chiang Mai
    "55": (15, 99),  # Nan
    "56": (9, 68),  # Phayao
    "57": (18, 124),  # Chiang Rai
    "58": (7, 45),  # Mae Hong Son
    "63": (9, 63),  # Tak
}

# Ages used in relevance rules.
ADULT_AGE = 20  # majority under the Civil and Commercial Code s.19; below it: guardian consent
WORK_AGE = 15  # minimum working age (Labour Protection Act); work permit asked from here
SCHOOL_AGE = (3, 17)  # kindergarten to upper secondary, inclusive

# ODK constraint for the 13-digit ID number: 13 digits, first digit 0-8 (9 is
# reserved), and the mod-11 check digit of domain.md section 1. ODK's substr() is
# zero-based and end-exclusive.
ID_CHECKSUM = (
    "regex(., '^[0-8][0-9]{12}$') and (11 - (("
    + " + ".join(
        f"number(substr(., {i}, {i + 1}))*{13 - i}" for i in range(12)
    )
    + ") mod 11)) mod 10 = number(substr(., 12, 13))"
)

# ID types whose card carries a 13-digit number from the civil register.
ID_TYPES_WITH_NUMBER = ["thai_id", "card_non_thai", "card_no_status", "colour_card"]


def L(th: str, en: str) -> dict:
    """A text in both languages."""
    return {TH: th, EN: en}


REQUIRED_MSG = L("กรุณาตอบคำถามนี้", "This question is required.")
NOT_FUTURE = L("วันที่ต้องไม่เป็นวันในอนาคต", "The date cannot be in the future.")
NONE_ALONE = "not(selected(., 'none') and count-selected(.) > 1)"
NONE_ALONE_MSG = L(
    "ถ้าเลือก \"ไม่มี\" ห้ามเลือกข้ออื่นร่วมด้วย",
    "\"None\" cannot be combined with other answers.",
)


def q(type_: str, name: str, label: dict | None = None, **kw) -> dict:
    """One survey row. kw: hint, required, relevant, constraint, constraint_message,
    appearance, calculation, choice_filter, default, repeat_count, parameters."""
    row = {"type": type_, "name": name}
    if label is not None:
        row["label"] = label
    row.update(kw)
    if row.get("required") == "yes":
        row.setdefault("required_message", REQUIRED_MSG)
    return row


def other_text(name: str, of: str, select_multiple: bool = False) -> dict:
    cond = f"selected(${{{of}}}, 'other')" if select_multiple else f"${{{of}}} = 'other'"
    return q("text", name, L("โปรดระบุ", "Please specify"), required="yes", relevant=cond)


def begin_group(name, label, **kw):
    return q("begin_group", name, label, **kw)


def end_group(name):
    return {"type": "end_group", "name": name}


def begin_repeat(name, label, **kw):
    return q("begin_repeat", name, label, **kw)


def end_repeat(name):
    return {"type": "end_repeat", "name": name}


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------

CONSENT = [
    begin_group("consent", L("ความยินยอม", "Consent")),
    q(
        "note",
        "consent_purpose",
        L(
            "อ่านให้ผู้ให้ข้อมูลฟัง: เราเก็บข้อมูลนี้เพื่อช่วยสมาชิกในครัวเรือนแก้ปัญหาสถานะบุคคลและเข้าถึงสิทธิ "
            "(การแจ้งเกิด สัญชาติ สุขภาพ การศึกษา การเดินทาง) ข้อมูลที่เก็บ ได้แก่ ชื่อ วันเกิด เลขประจำตัว "
            "สถานะทางกฎหมาย เอกสาร เชื้อชาติ สิทธิด้านสุขภาพ เหตุการณ์ถูกละเมิดสิทธิ และตำแหน่งบ้าน "
            "ข้อมูลจะเปิดให้เฉพาะเจ้าหน้าที่ขององค์กรที่ดูแลกรณีของท่าน จะไม่ส่งให้ผู้อื่นหรือหน่วยงานรัฐ "
            "เว้นแต่ท่านยินยอมให้ส่งต่อ และจะเก็บไว้เท่าที่จำเป็นต่อการช่วยเหลือ "
            "ท่านจะไม่ตอบคำถามใดก็ได้ ถอนความยินยอมได้ทุกเมื่อ และขอดู แก้ไข หรือลบข้อมูลได้ "
            "โดยติดต่อองค์กรที่สัมภาษณ์ท่าน",
            "Read to the respondent: we collect this information to help the members of your household "
            "resolve their legal status and reach their rights (birth registration, nationality, health, "
            "school, travel). We record names, dates of birth, ID numbers, legal status, documents, "
            "ethnicity, health cover, rights violations and the location of the house. Only staff of "
            "the organisation handling your case can see it. It is not given to anyone else, including "
            "government offices, unless you agree to a referral, and it is kept only as long as needed "
            "to help you. You may decline any question, withdraw your consent at any time, and ask to "
            "see, correct or delete your data by contacting the organisation that interviews you.",
        ),
    ),
    q(
        "select_one consent",
        "consent_sensitive",
        L(
            "ท่านยินยอมโดยชัดแจ้งให้เก็บและใช้ข้อมูลส่วนบุคคลของครัวเรือน รวมถึงข้อมูลอ่อนไหว "
            "(เชื้อชาติ ข้อมูลสุขภาพ) และสถานะทางกฎหมาย ตามวัตถุประสงค์ข้างต้นหรือไม่",
            "Do you give your explicit consent for us to collect and use your household's personal "
            "data, including sensitive data (ethnic origin, health) and legal status, for the "
            "purpose above?",
        ),
        hint=L(
            "ถ้าไม่ยินยอม แบบสอบถามจะจบที่นี่",
            "Without consent the form ends here.",
        ),
        required="yes",
    ),
    q(
        "note",
        "consent_refused",
        L(
            "ไม่ได้รับความยินยอม: ขอบคุณผู้ให้ข้อมูล ห้ามบันทึกข้อมูลใดเพิ่ม บันทึกและส่งแบบฟอร์มนี้",
            "No consent: thank the respondent, record nothing else, and save and send this form.",
        ),
        relevant="${consent_sensitive} = 'no'",
    ),
    q(
        "select_one yes_no",
        "has_minors",
        L(
            f"มีสมาชิกในครัวเรือนที่อายุต่ำกว่า {ADULT_AGE} ปี (ผู้เยาว์) หรือไม่",
            f"Is any member of the household under {ADULT_AGE} years old (a minor)?",
        ),
        required="yes",
        relevant="${consent_sensitive} = 'yes'",
    ),
    q(
        "select_one consent",
        "consent_guardian",
        L(
            "บิดามารดาหรือผู้ปกครองของผู้เยาว์ยินยอมให้เก็บข้อมูลของผู้เยาว์หรือไม่",
            "Does the parent or guardian of the minors consent to the collection of the minors' data?",
        ),
        hint=L(
            "ถ้าไม่ยินยอม จะบันทึกเพียงชื่อ ความสัมพันธ์ เพศ และวันเกิดของผู้เยาว์",
            "Without it, only the minors' name, relationship, sex and date of birth are recorded.",
        ),
        required="yes",
        relevant="${has_minors} = 'yes'",
    ),
    q(
        "select_one consent",
        "consent_photo",
        L(
            "ยินยอมให้ถ่ายภาพเอกสารหรือไม่ (ถ่ายเฉพาะเอกสาร ไม่ถ่ายใบหน้า)",
            "Do you consent to photos of your documents (documents only, no faces)?",
        ),
        required="yes",
        relevant="${consent_sensitive} = 'yes'",
    ),
    q(
        "select_one consent",
        "consent_referral",
        L(
            "ยินยอมให้ส่งต่อข้อมูลที่จำเป็นไปยังหน่วยงานที่ช่วยเหลือ (เช่น อำเภอ โรงพยาบาล สภาทนายความ) หรือไม่",
            "Do you consent to the necessary data being shared with the services we refer you to "
            "(e.g. district office, hospital, Lawyers Council)?",
        ),
        required="yes",
        relevant="${consent_sensitive} = 'yes'",
    ),
    end_group("consent"),
]

# Everything after the consent section sits in this group: it exists only with consent.
INTAKE_BEGIN = [
    begin_group(
        "intake",
        L("การสัมภาษณ์", "Interview"),
        relevant="${consent_sensitive} = 'yes'",
    )
]
INTAKE_END = [end_group("intake")]

INTERVIEWER = [
    begin_group("interviewer", L("ผู้สัมภาษณ์", "Interviewer")),
    q(
        "select_one organisation",
        "organisation",
        L("องค์กร", "Organisation"),
        required="yes",
    ),
    other_text("organisation_other", "organisation"),
    q(
        "text",
        "interviewer_id",
        L("รหัสผู้สัมภาษณ์", "Interviewer code"),
        hint=L("รหัสเจ้าหน้าที่ ไม่ใช่ชื่อ", "Your staff code, not your name."),
        required="yes",
    ),
    q(
        "date",
        "interview_date",
        L("วันที่สัมภาษณ์", "Interview date"),
        default="today()",
        required="yes",
        constraint=". <= today()",
        constraint_message=NOT_FUTURE,
    ),
    end_group("interviewer"),
]

LOCATION = [
    begin_group("location", L("ที่ตั้งครัวเรือน", "Household location")),
    q("select_one province", "province", L("จังหวัด", "Province"), required="yes"),
    q(
        "select_one district",
        "district",
        L("อำเภอ", "District"),
        required="yes",
        choice_filter="province=${province}",
        appearance="autocomplete",
    ),
    q(
        "select_one subdistrict",
        "subdistrict",
        L("ตำบล", "Subdistrict"),
        required="yes",
        choice_filter="district=${district}",
        appearance="autocomplete",
    ),
    q("text", "village_name", L("ชื่อหมู่บ้าน", "Village name"), required="yes"),
    q(
        "integer",
        "village_moo",
        L("หมู่ที่", "Village number (moo)"),
        constraint=". >= 1 and . <= 99",
        constraint_message=L("หมู่ที่ต้องอยู่ระหว่าง 1 ถึง 99", "The village number must be 1 to 99."),
    ),
    q(
        "text",
        "house_no",
        L("บ้านเลขที่", "House number"),
        hint=L("เว้นว่างถ้าบ้านไม่มีเลขที่", "Leave blank if the house has no number."),
    ),
    q(
        "geopoint",
        "gps",
        L("พิกัดบ้าน (GPS)", "GPS point of the house"),
        hint=L(
            "ยืนหน้าบ้าน รอให้ความคลาดเคลื่อนต่ำกว่า 10 เมตร ข้ามได้ถ้าไม่มีสัญญาณ",
            "Stand at the house and wait for an accuracy under 10 m. Skip it if there is no signal.",
        ),
    ),
    q(
        "text",
        "household_code",
        L("รหัสครัวเรือน", "Household code"),
        hint=L(
            "รหัสที่องค์กรกำหนด ใช้ตัวอักษรอังกฤษ ตัวเลข - หรือ _ ห้ามใช้ชื่อคน",
            "The code your organisation assigns: letters, digits, - or _. Never a person's name.",
        ),
        required="yes",
        constraint="regex(., '^[A-Za-z0-9_-]{1,30}$')",
        constraint_message=L(
            "ใช้ได้เฉพาะตัวอักษรอังกฤษ ตัวเลข - หรือ _ ไม่เกิน 30 ตัว",
            "Use only letters A-Z, digits, - or _ (at most 30 characters).",
        ),
    ),
    end_group("location"),
]

HOUSEHOLD = [
    begin_group("household", L("ครัวเรือน", "Household")),
    q(
        "text",
        "head_name",
        L("ชื่อ-นามสกุลหัวหน้าครัวเรือน", "Name of the head of household"),
        required="yes",
    ),
    q(
        "text",
        "head_phone",
        L("เบอร์โทรศัพท์ติดต่อ", "Contact phone number"),
        hint=L("เช่น 0812345678 เว้นว่างถ้าไม่มี", "For example 0812345678. Leave blank if none."),
        appearance="numbers",
        constraint="regex(., '^0[0-9]{8,9}$')",
        constraint_message=L(
            "เบอร์โทรศัพท์ต้องขึ้นต้นด้วย 0 และมี 9 หรือ 10 หลัก",
            "The phone number must start with 0 and have 9 or 10 digits.",
        ),
    ),
    q(
        "select_multiple language",
        "languages",
        L("ภาษาที่ใช้ในครัวเรือน", "Languages spoken in the household"),
        required="yes",
    ),
    other_text("languages_other", "languages", select_multiple=True),
    q(
        "integer",
        "member_count",
        L("จำนวนสมาชิกในครัวเรือน (รวมหัวหน้าครัวเรือน)", "Number of household members (including the head)"),
        required="yes",
        constraint=". >= 1 and . <= 30",
        constraint_message=L("จำนวนสมาชิกต้องอยู่ระหว่าง 1 ถึง 30", "The number of members must be 1 to 30."),
    ),
    # The head's ID number at household level (the head is recorded first): the network recognises
    # a household registered by two organisations by it (see NETWORK).
    q("calculate", "head_id_number", calculation="string(${member}[1]/id_number)"),
    end_group("household"),
]

# Fields of a member that are recorded only for adults, or for minors with guardian consent.
RECORD_STATUS = "${record_status} = 'yes'"
NOT_THAI = "${legal_status} != 'thai'"

MEMBER_STATUS = [
    q(
        "select_one country",
        "birth_country",
        L("ประเทศที่เกิด", "Country of birth"),
        required="yes",
    ),
    q(
        "text",
        "birth_place",
        L("สถานที่เกิด (อำเภอ/หมู่บ้าน/โรงพยาบาล)", "Place of birth (district, village or hospital)"),
    ),
    q(
        "select_one ethnicity",
        "ethnicity",
        L("กลุ่มชาติพันธุ์", "Ethnic group"),
        hint=L("ข้อมูลอ่อนไหว ผู้ให้ข้อมูลเลือกไม่ตอบได้", "Sensitive data: the respondent may prefer not to say."),
        required="yes",
    ),
    other_text("ethnicity_other", "ethnicity"),
    q("select_one id_type", "id_type", L("บัตรที่ถือ", "ID card held"), required="yes"),
    q(
        "text",
        "id_number",
        L("เลขประจำตัว 13 หลัก", "13-digit ID number"),
        hint=L(
            "พิมพ์ 13 หลักติดกันโดยไม่มีขีด เลขที่ขึ้นต้นด้วย 0 ให้พิมพ์ 0 ด้วย เว้นว่างถ้าไม่มีบัตรอยู่ที่นี่",
            "Type the 13 digits without dashes, keeping a leading 0. Leave blank if the card is not at hand.",
        ),
        appearance="numbers",
        relevant=" or ".join(f"${{id_type}} = '{t}'" for t in ID_TYPES_WITH_NUMBER),
        constraint=ID_CHECKSUM,
        constraint_message=L(
            "เลขประจำตัวไม่ถูกต้อง: ต้องมี 13 หลัก และหลักสุดท้าย (หลักตรวจสอบ) ต้องถูกต้อง ตรวจดูจากบัตรอีกครั้ง",
            "Invalid ID number: it must have 13 digits and a correct last (check) digit. Check the card again.",
        ),
    ),
    q(
        "select_one legal_status",
        "legal_status",
        L("สถานะทางกฎหมาย", "Legal status"),
        required="yes",
    ),
    q(
        "select_one unhcr_cat",
        "unhcr_cat",
        L("ประเภทตามนิยามของ UNHCR", "UNHCR category"),
        required="yes",
    ),
    q(
        "select_multiple documents",
        "documents",
        L("เอกสารที่มี", "Documents held"),
        hint=L("ขอดูเอกสารจริงถ้าทำได้", "Ask to see the documents if possible."),
        required="yes",
        constraint=NONE_ALONE,
        constraint_message=NONE_ALONE_MSG,
    ),
    other_text("documents_other", "documents", select_multiple=True),
    q(
        "select_multiple status_problem",
        "status_problem",
        L("ปัญหาด้านสถานะ", "Status problems"),
        required="yes",
        constraint=NONE_ALONE,
        constraint_message=NONE_ALONE_MSG,
    ),
    other_text("status_problem_other", "status_problem", select_multiple=True),
    q(
        "select_one process_step",
        "process_step",
        L("ขั้นตอนการแก้ปัญหาสถานะที่ไปถึง", "Step reached in the status process"),
        required="yes",
        relevant=NOT_THAI,
    ),
    q(
        "select_one health_cover",
        "health_cover",
        L("สิทธิด้านสุขภาพ", "Health cover"),
        hint=L("ข้อมูลอ่อนไหว (ข้อมูลสุขภาพ)", "Sensitive data (health)."),
        required="yes",
    ),
    q(
        "select_one work_permit",
        "work_permit",
        L("ใบอนุญาตทำงาน", "Work permit"),
        required="yes",
        relevant=f"${{age}} >= {WORK_AGE} and {NOT_THAI}",
    ),
    q(
        "select_one schooling",
        "schooling",
        L("การศึกษาในปัจจุบัน", "Current schooling"),
        required="yes",
        relevant=f"${{age}} >= {SCHOOL_AGE[0]} and ${{age}} <= {SCHOOL_AGE[1]}",
    ),
    q(
        "select_one travel",
        "travel",
        L("การเดินทางออกนอกพื้นที่", "Travel outside the district"),
        required="yes",
        relevant=NOT_THAI,
    ),
]


def and_record_status(row: dict) -> dict:
    row = dict(row)
    rel = row.get("relevant")
    row["relevant"] = f"{RECORD_STATUS} and ({rel})" if rel else RECORD_STATUS
    return row


MEMBER = [
    begin_repeat(
        "member",
        L("สมาชิกในครัวเรือน", "Household member"),
        repeat_count="${member_count}",
    ),
    q("text", "member_name", L("ชื่อ-นามสกุล", "Full name"), required="yes"),
    q(
        "select_one relationship",
        "relationship",
        L("ความสัมพันธ์กับหัวหน้าครัวเรือน", "Relationship to the head of household"),
        hint=L("บันทึกหัวหน้าครัวเรือนเป็นคนแรก", "Record the head of household first."),
        required="yes",
    ),
    q("select_one sex", "sex", L("เพศ", "Sex"), required="yes"),
    q(
        "date",
        "dob",
        L("วันเดือนปีเกิด", "Date of birth"),
        hint=L(
            "ถ้าทราบเพียงปีเกิด ให้ใส่ 1 มกราคมของปีนั้น แล้วตอบข้อถัดไปว่า ใช่",
            "If only the year is known, enter 1 January of that year and answer yes to the next question.",
        ),
        required="yes",
        constraint=". <= today()",
        constraint_message=L("วันเกิดต้องไม่เป็นวันในอนาคต", "The date of birth cannot be in the future."),
    ),
    q(
        "select_one yes_no",
        "dob_estimated",
        L("วันเกิดเป็นการประมาณหรือไม่", "Is the date of birth an estimate?"),
        required="yes",
    ),
    q(
        "calculate",
        "age",
        calculation="int((decimal-date-time(today()) - decimal-date-time(${dob})) div 365.25)",
    ),
    q(
        "calculate",
        "record_status",
        calculation=f"if(${{age}} >= {ADULT_AGE} or ${{consent_guardian}} = 'yes', 'yes', 'no')",
    ),
    q(
        "note",
        "minor_no_consent",
        L(
            "ไม่มีความยินยอมจากผู้ปกครองสำหรับผู้เยาว์คนนี้ ข้ามคำถามที่เหลือเกี่ยวกับเขา "
            "(ถ้าผู้ปกครองยินยอมแล้ว ให้กลับไปแก้ที่ส่วนความยินยอม)",
            "No guardian consent for this minor: the remaining questions about them are skipped. "
            "(If the guardian did consent, go back and correct the consent section.)",
        ),
        relevant="${record_status} = 'no'",
    ),
    *[and_record_status(row) for row in MEMBER_STATUS],
    end_repeat("member"),
]

VIOLATIONS = [
    begin_group("violations", L("การละเมิดสิทธิ", "Rights violations")),
    q(
        "select_one yes_no",
        "any_violation",
        L(
            "สมาชิกในครัวเรือนเคยถูกละเมิดสิทธิหรือไม่ (เช่น ถูกจับ ถูกรีดไถ ถูกปฏิเสธการรักษาหรือการเข้าเรียน)",
            "Has any household member suffered a rights violation (e.g. arrest, extortion, denial of care or school)?",
        ),
        required="yes",
    ),
    begin_repeat(
        "violation",
        L("เหตุการณ์ละเมิดสิทธิ", "Rights violation"),
        relevant="${any_violation} = 'yes'",
    ),
    q(
        "select_one violation_type",
        "violation_type",
        L("ประเภทการละเมิด", "Type of violation"),
        required="yes",
    ),
    other_text("violation_type_other", "violation_type"),
    q(
        "date",
        "violation_date",
        L("วันที่เกิดเหตุ (โดยประมาณ)", "Date of the incident (approximate)"),
        required="yes",
        constraint=". <= today()",
        constraint_message=NOT_FUTURE,
    ),
    q("text", "violation_place", L("สถานที่เกิดเหตุ", "Place of the incident")),
    q(
        "select_one perpetrator",
        "perpetrator",
        L("ผู้กระทำ", "Perpetrator"),
        required="yes",
    ),
    q(
        "select_multiple reported_to",
        "reported_to",
        L("แจ้งเรื่องกับใครแล้วบ้าง", "Reported to"),
        required="yes",
        constraint=NONE_ALONE,
        constraint_message=NONE_ALONE_MSG,
    ),
    q(
        "select_one consent",
        "violation_consent_share",
        L(
            "ผู้เสียหายยินยอมให้แบ่งปันข้อมูลเหตุการณ์นี้กับหน่วยงานคุ้มครองสิทธิหรือไม่",
            "Does the victim consent to sharing this incident with human rights bodies?",
        ),
        required="yes",
    ),
    q(
        "text",
        "violation_note",
        L("รายละเอียดเพิ่มเติม", "Further details"),
        hint=L("ไม่ต้องใส่ชื่อคน", "Do not write names."),
        appearance="multiline",
    ),
    end_repeat("violation"),
    end_group("violations"),
]

NEEDS_ANY = "not(selected(${needs}, 'none'))"

REFERRAL = [
    begin_group("referral", L("ความต้องการและการส่งต่อ", "Needs and referrals")),
    q(
        "select_multiple needs",
        "needs",
        L("ความต้องการความช่วยเหลือ", "Needs"),
        required="yes",
        constraint=NONE_ALONE,
        constraint_message=NONE_ALONE_MSG,
    ),
    other_text("needs_other", "needs", select_multiple=True),
    q(
        "select_one urgency",
        "urgency",
        L("ความเร่งด่วน", "Urgency"),
        required="yes",
        relevant=NEEDS_ANY,
    ),
    q(
        "note",
        "referral_no_consent",
        L(
            "ไม่ได้รับความยินยอมให้ส่งต่อ: บันทึกความต้องการไว้ แต่ห้ามส่งข้อมูลไปยังหน่วยงานอื่น",
            "No consent to referral: record the needs, but do not pass any data to another service.",
        ),
        relevant=f"${{consent_referral}} = 'no' and {NEEDS_ANY}",
    ),
    q(
        "select_multiple referral_target",
        "refer_to",
        L("ส่งต่อไปยัง", "Refer to"),
        required="yes",
        relevant=f"${{consent_referral}} = 'yes' and {NEEDS_ANY}",
    ),
    other_text("refer_to_other", "refer_to", select_multiple=True),
    end_group("referral"),
]

PHOTO_PARAMS = "max-pixels=1600"

PHOTOS = [
    begin_group(
        "photos",
        L("ภาพถ่ายเอกสาร", "Photos of documents"),
        relevant="${consent_photo} = 'yes'",
    ),
    q(
        "note",
        "photo_instructions",
        L(
            "ถ่ายเฉพาะเอกสาร ไม่ถ่ายใบหน้าหรือบ้าน ภาพเป็นข้อมูลส่วนบุคคลที่ต้องคุ้มครอง",
            "Photograph documents only, never faces or houses. The photos are protected personal data.",
        ),
    ),
    q("image", "photo_id_card", L("ภาพบัตรประจำตัว", "Photo of the ID card"), parameters=PHOTO_PARAMS),
    q(
        "image",
        "photo_house_register",
        L("ภาพทะเบียนบ้านหรือทะเบียนประวัติ", "Photo of the house register or civil registration record"),
        parameters=PHOTO_PARAMS,
    ),
    q(
        "image",
        "photo_birth_document",
        L("ภาพเอกสารการเกิด", "Photo of a birth document"),
        parameters=PHOTO_PARAMS,
    ),
    q("image", "photo_other_document", L("ภาพเอกสารอื่น", "Photo of another document"), parameters=PHOTO_PARAMS),
    end_group("photos"),
]

FOLLOW_UP = [
    begin_group("follow_up", L("การติดตามผล", "Follow-up")),
    q(
        "select_one yes_no",
        "follow_up_needed",
        L("ต้องติดตามผลหรือไม่", "Is a follow-up needed?"),
        required="yes",
    ),
    q(
        "date",
        "follow_up_date",
        L("วันที่นัดติดตามผล", "Follow-up date"),
        required="yes",
        relevant="${follow_up_needed} = 'yes'",
        constraint=". >= ${interview_date}",
        constraint_message=L(
            "วันติดตามผลต้องไม่ก่อนวันสัมภาษณ์",
            "The follow-up date cannot be before the interview date.",
        ),
    ),
    q(
        "text",
        "follow_up_staff",
        L("รหัสเจ้าหน้าที่ผู้ติดตาม", "Code of the staff member who follows up"),
        relevant="${follow_up_needed} = 'yes'",
    ),
    q(
        "text",
        "follow_up_note",
        L("บันทึกการติดตามผล", "Follow-up note"),
        hint=L("ไม่ต้องใส่ชื่อคน", "Do not write names."),
        appearance="multiline",
    ),
    end_group("follow_up"),
]

# Metadata collected by Collect without a question.
META = [
    q("start", "start"),
    q("end", "end"),
    q("today", "today"),
    q("deviceid", "deviceid"),
    q("username", "username"),
]

SECTIONS = [
    CONSENT,
    INTAKE_BEGIN,
    INTERVIEWER,
    LOCATION,
    HOUSEHOLD,
    MEMBER,
    VIOLATIONS,
    REFERRAL,
    PHOTOS,
    FOLLOW_UP,
    INTAKE_END,
    META,
]

# --------------------------------------------------------------------------------------
# Choice lists: (name, Thai, English). Names are never renamed or reused.
# --------------------------------------------------------------------------------------

OTHER = ("other", "อื่น ๆ", "Other")
NONE = ("none", "ไม่มี", "None")

CHOICES: dict[str, list[tuple[str, str, str]]] = {
    "yes_no": [("yes", "ใช่", "Yes"), ("no", "ไม่ใช่", "No")],
    "consent": [("yes", "ยินยอม", "Yes, I consent"), ("no", "ไม่ยินยอม", "No, I do not consent")],
    "organisation": [
        ("mirror_foundation", "มูลนิธิกระจกเงา", "Mirror Foundation"),
        ("network_member", "องค์กรสมาชิกเครือข่าย", "Network member organisation"),
        OTHER,
    ],
    "language": [
        ("thai", "ไทย", "Thai"),
        ("northern_thai", "คำเมือง", "Northern Thai (Kham Mueang)"),
        ("akha", "อาข่า", "Akha"),
        ("lahu", "ลาหู่", "Lahu"),
        ("lisu", "ลีซู", "Lisu"),
        ("hmong", "ม้ง", "Hmong"),
        ("mien", "เมี่ยน", "Mien"),
        ("karen", "กะเหรี่ยง", "Karen"),
        ("shan", "ไทใหญ่", "Shan (Tai Yai)"),
        ("burmese", "พม่า", "Burmese"),
        ("chinese", "จีน", "Chinese"),
        OTHER,
    ],
    "relationship": [
        ("head", "หัวหน้าครัวเรือน", "Head of household"),
        ("spouse", "คู่สมรส", "Spouse or partner"),
        ("child", "บุตร", "Child"),
        ("grandchild", "หลาน", "Grandchild"),
        ("parent", "บิดาหรือมารดา", "Parent"),
        ("sibling", "พี่น้อง", "Brother or sister"),
        ("other_relative", "ญาติอื่น", "Other relative"),
        ("non_relative", "ไม่ใช่ญาติ", "Not related"),
    ],
    "sex": [
        ("male", "ชาย", "Male"),
        ("female", "หญิง", "Female"),
        ("other", "อื่น ๆ หรือไม่ประสงค์ระบุ", "Other or prefers not to say"),
    ],
    "country": [
        ("th", "ไทย", "Thailand"),
        ("mm", "เมียนมา", "Myanmar"),
        ("la", "ลาว", "Laos"),
        ("cn", "จีน", "China"),
        ("other", "ประเทศอื่น", "Other country"),
        ("unknown", "ไม่ทราบ", "Unknown"),
    ],
    "ethnicity": [
        ("akha", "อาข่า", "Akha"),
        ("lahu", "ลาหู่", "Lahu"),
        ("lisu", "ลีซู", "Lisu"),
        ("hmong", "ม้ง", "Hmong"),
        ("mien", "เมี่ยน", "Mien"),
        ("karen", "กะเหรี่ยง", "Karen"),
        ("lua", "ลัวะ", "Lua"),
        ("khmu", "ขมุ", "Khmu"),
        ("htin", "ถิ่น", "H'tin"),
        ("shan", "ไทใหญ่", "Shan (Tai Yai)"),
        ("tai_lue", "ไทลื้อ", "Tai Lue"),
        ("haw_chinese", "จีนฮ่อ", "Haw Chinese"),
        ("dara_ang", "ดาราอั้ง", "Dara-ang"),
        ("kachin", "คะฉิ่น", "Kachin"),
        ("thai", "ไทย", "Thai"),
        OTHER,
        ("not_stated", "ไม่ประสงค์ระบุ", "Prefers not to say"),
    ],
    # domain.md section 2 (id_type). Colour-card subtypes are left out: some are unverified.
    "id_type": [
        ("thai_id", "บัตรประจำตัวประชาชน", "Thai ID card"),
        ("card_non_thai", "บัตรประจำตัวคนซึ่งไม่มีสัญชาติไทย", "Non-Thai ID card (\"pink card\")"),
        ("card_no_status", "บัตรประจำตัวบุคคลที่ไม่มีสถานะทางทะเบียน", "ID card for persons without registration status"),
        ("colour_card", "บัตรสี (บัตรชนกลุ่มน้อย)", "Minority colour card"),
        ("migrant_card", "บัตรแรงงานข้ามชาติ", "Migrant worker card"),
        ("passport", "หนังสือเดินทาง", "Passport"),
        ("none", "ไม่มีบัตร", "No card"),
    ],
    # domain.md section 2 (legal_status).
    "legal_status": [
        ("thai", "มีสัญชาติไทย", "Thai national"),
        ("thai_claim", "อ้างสิทธิสัญชาติไทย รอพิสูจน์", "Thai claim not yet proven (late birth registration etc.)"),
        ("s7bis", "บุตรคนต่างด้าวเกิดในไทย (ม.7 ทวิ)", "Born in Thailand to alien parents (Nationality Act s.7 bis)"),
        (
            "s23",
            "มีสิทธิตาม ม.23 พ.ร.บ.สัญชาติ (ฉบับที่ 4) 2551",
            "Entitled under s.23 of the Nationality Act (No. 4) 2008 (Announcement 337 cases)",
        ),
        ("alien_perm", "ต่างด้าวอยู่ถาวร (ท.ร.14)", "Lawful permanent alien (ท.ร.14)"),
        ("alien_temp", "ต่างด้าวผ่อนผันอยู่ชั่วคราว (เลข 6/7)", "Temporary or special-stay alien (number 6/7)"),
        ("no_reg_status", "บุคคลที่ไม่มีสถานะทางทะเบียน (เลข 0)", "No registration status (number 0)"),
        ("s19_2", "ทะเบียนประวัติ ม.19/2", "Civil Registration Act s.19/2 record"),
        ("migrant", "แรงงานข้ามชาติ (ท.ร.38/1)", "Migrant worker (ท.ร.38/1)"),
        ("refugee", "ผู้หนีภัยในพื้นที่พักพิงชั่วคราว", "Resident of a temporary shelter (camp)"),
        ("undocumented", "ไร้เอกสาร ไม่มีเลข 13 หลัก", "Undocumented, no 13-digit number"),
        ("unknown", "ไม่ทราบ", "Unknown"),
    ],
    "unhcr_cat": [
        ("stateless", "ไร้รัฐ", "Stateless"),
        ("risk", "เสี่ยงไร้รัฐ", "At risk of statelessness"),
        ("undetermined", "สัญชาติไม่ชัดเจน", "Undetermined nationality"),
        ("national", "มีสัญชาติ", "Has a nationality"),
    ],
    # domain.md section 2 (documents). The ท.ร.3 / ท.ร.03 / ท.ร.031 birth certificate
    # codes are unverified: one generic "birth certificate" choice instead.
    "documents": [
        ("tr1_front", "ท.ร.1 ตอนหน้า (ใบรับแจ้งการเกิด)", "ท.ร.1 front part (receipt for a birth reported to the village head)"),
        ("tr1_1", "ท.ร.1/1 หนังสือรับรองการเกิด", "ท.ร.1/1 hospital birth notification"),
        ("tr20_1", "ท.ร.20/1 สูติบัตร", "ท.ร.20/1 birth certificate"),
        ("birthplace_cert", "หนังสือรับรองสถานที่เกิด", "Certificate of place of birth"),
        ("birth_cert", "สูติบัตร (แบบอื่น)", "Birth certificate (other form)"),
        ("house_reg_tr14", "ทะเบียนบ้าน ท.ร.14 (เล่มสีน้ำเงิน)", "House register ท.ร.14 (blue book)"),
        ("house_reg_tr13", "ทะเบียนบ้าน ท.ร.13 (เล่มสีเหลือง)", "House register ท.ร.13 (yellow book, temporary aliens)"),
        ("tr38", "ทะเบียนประวัติ ท.ร.38", "Civil registration record ท.ร.38"),
        ("tr38_1", "ทะเบียนประวัติ ท.ร.38/1", "Civil registration record ท.ร.38/1"),
        ("tr38_kor", "ทะเบียนประวัติ ท.ร.38 ก", "Civil registration record ท.ร.38 ก"),
        ("tr38_khor", "ทะเบียนประวัติ ท.ร.38 ข", "Civil registration record ท.ร.38 ข"),
        ("thai_id_card", "บัตรประจำตัวประชาชน", "Thai ID card"),
        ("card_non_thai", "บัตรประจำตัวคนซึ่งไม่มีสัญชาติไทย", "Non-Thai ID card"),
        ("card_no_status", "บัตรประจำตัวบุคคลที่ไม่มีสถานะทางทะเบียน", "ID card for persons without registration status"),
        ("colour_card", "บัตรสี", "Minority colour card"),
        ("migrant_card", "บัตรแรงงานข้ามชาติ", "Migrant worker card"),
        ("passport", "หนังสือเดินทาง", "Passport"),
        ("work_permit", "ใบอนุญาตทำงาน", "Work permit"),
        ("travel_permit", "ใบอนุญาตออกนอกเขต", "Permit to travel outside the district"),
        ("school_record", "หลักฐานการศึกษา", "School record"),
        ("dna_result", "ผลตรวจดีเอ็นเอ", "DNA test result"),
        OTHER,
        NONE,
    ],
    "status_problem": [
        ("birth_not_registered", "ไม่ได้แจ้งเกิด", "Birth not registered"),
        ("missed_survey", "ตกสำรวจ", "Missed in the population survey"),
        ("parents_undocumented", "บิดามารดาไม่มีเอกสาร", "Parents undocumented"),
        ("case_337", "ได้รับผลจากประกาศคณะปฏิวัติ ฉบับที่ 337", "Affected by Revolutionary Council Announcement 337"),
        ("record_error", "ข้อมูลในทะเบียนผิดพลาด", "Error in the registration record"),
        ("lost_documents", "เอกสารสูญหาย", "Lost documents"),
        ("stalled", "คำร้องค้างนาน", "Application stalled"),
        ("refused_by_district", "อำเภอไม่รับคำร้อง", "Refused by the district office"),
        ("cannot_travel", "เดินทางไปยื่นเรื่องไม่ได้", "Cannot travel to file the application"),
        ("unofficial_fees", "ถูกเรียกเก็บเงินนอกระบบ", "Asked for unofficial fees"),
        OTHER,
        ("none", "ไม่มีปัญหา", "No problem"),
    ],
    "process_step": [
        ("not_started", "ยังไม่เริ่ม", "Not started"),
        ("gathering_evidence", "รวบรวมหลักฐาน (พยานบุคคล ตรวจดีเอ็นเอ)", "Gathering evidence (witnesses, DNA)"),
        ("filed_district", "ยื่นคำร้องที่อำเภอแล้ว", "Application filed at the district office"),
        ("witness_interview", "สอบพยาน", "Witness interview"),
        ("province", "อยู่ระหว่างการพิจารณาของจังหวัด", "Under review at the province"),
        ("ministry_gazette", "อยู่ที่กระทรวงหรือรอประกาศในราชกิจจานุเบกษา", "At the ministry or awaiting the Royal Gazette"),
        ("approved_awaiting_card", "อนุมัติแล้ว รอทำบัตร", "Approved, awaiting the card"),
        ("card_issued", "ได้รับบัตรแล้ว", "Card issued"),
        ("rejected_appeal", "ถูกปฏิเสธหรือกำลังอุทธรณ์", "Rejected or appealing"),
    ],
    "health_cover": [
        ("uc_gold", "บัตรทอง (หลักประกันสุขภาพถ้วนหน้า เฉพาะคนไทย)", "Universal Coverage \"gold card\" (Thai nationals only)"),
        ("rights_fund", "กองทุนคืนสิทธิ (ผู้มีปัญหาสถานะและสิทธิ)", "Health fund for people with status and rights problems"),
        ("social_security", "ประกันสังคม", "Social security"),
        ("migrant_insurance", "ประกันสุขภาพแรงงานต่างด้าว", "Migrant health insurance"),
        NONE,
        ("unknown", "ไม่ทราบ", "Unknown"),
    ],
    "work_permit": [
        ("has_permit", "มีใบอนุญาตทำงาน", "Has a work permit"),
        ("applied", "ยื่นขอแล้ว รอผล", "Applied, waiting"),
        ("no_permit", "ไม่มีใบอนุญาต", "No permit"),
        ("not_working", "ไม่ได้ทำงาน", "Not working"),
    ],
    "schooling": [
        ("not_enrolled", "ไม่ได้เรียน", "Not in school"),
        ("pre_primary", "อนุบาล", "Kindergarten"),
        ("primary", "ประถมศึกษา", "Primary"),
        ("lower_secondary", "มัธยมศึกษาตอนต้น", "Lower secondary"),
        ("upper_secondary", "มัธยมศึกษาตอนปลาย", "Upper secondary"),
        ("vocational", "อาชีวศึกษา", "Vocational"),
        ("non_formal", "การศึกษานอกระบบ (กศน.)", "Non-formal education"),
        OTHER,
    ],
    "travel": [
        ("not_required", "ไม่ต้องขออนุญาต", "No permission required"),
        ("needs_permission", "ต้องขออนุญาตออกนอกเขต แต่ยังไม่มีใบอนุญาต", "Needs permission to leave the district, has none"),
        ("has_permit", "มีใบอนุญาตออกนอกเขต", "Has a travel permit"),
        ("refused", "ขออนุญาตแล้วถูกปฏิเสธ", "Applied and refused"),
    ],
    "violation_type": [
        ("arrest", "ถูกจับกุมหรือควบคุมตัว", "Arrest or detention"),
        ("extortion", "ถูกรีดไถ", "Extortion"),
        ("denied_health", "ถูกปฏิเสธการรักษาพยาบาล", "Denied health care"),
        ("denied_school", "ถูกปฏิเสธการเข้าเรียน", "Denied schooling"),
        ("denied_birth_registration", "ถูกปฏิเสธการแจ้งเกิด", "Denied birth registration"),
        ("labour_exploitation", "ถูกเอารัดเอาเปรียบด้านแรงงาน", "Labour exploitation"),
        ("trafficking", "การค้ามนุษย์", "Human trafficking"),
        ("eviction", "ถูกไล่ที่หรือบังคับย้าย", "Eviction"),
        ("gbv", "ความรุนแรงทางเพศหรือบนฐานเพศ", "Gender-based violence"),
        OTHER,
    ],
    "perpetrator": [
        ("police", "ตำรวจ", "Police"),
        ("military", "ทหารหรือเจ้าหน้าที่ความมั่นคง", "Military or security officers"),
        ("official", "เจ้าหน้าที่รัฐอื่น", "Other government officials"),
        ("employer", "นายจ้าง", "Employer"),
        ("broker", "นายหน้า", "Broker"),
        ("community", "คนในชุมชน", "Community member"),
        OTHER,
        ("unknown", "ไม่ทราบ", "Unknown"),
        ("not_stated", "ไม่ประสงค์ระบุ", "Prefers not to say"),
    ],
    "reported_to": [
        ("police", "ตำรวจ", "Police"),
        ("village_head", "ผู้ใหญ่บ้านหรือกำนัน", "Village or subdistrict head"),
        ("district_office", "อำเภอ", "District office"),
        ("ngo", "องค์กรพัฒนาเอกชน", "Non-governmental organisation"),
        ("nhrc", "คณะกรรมการสิทธิมนุษยชนแห่งชาติ (กสม.)", "National Human Rights Commission"),
        ("lawyers_council", "สภาทนายความ", "Lawyers Council"),
        OTHER,
        ("none", "ไม่ได้แจ้งใคร", "Not reported"),
    ],
    "needs": [
        ("legal_aid", "ความช่วยเหลือทางกฎหมาย", "Legal aid"),
        ("birth_registration", "การแจ้งเกิด", "Birth registration"),
        ("dna_test", "การตรวจดีเอ็นเอ", "DNA test"),
        ("nationality_application", "การยื่นขอสัญชาติหรือสถานะ", "Nationality or status application"),
        ("health_cover", "สิทธิด้านสุขภาพ", "Health cover"),
        ("school", "การเข้าเรียน", "School enrolment"),
        ("travel_permit", "ใบอนุญาตออกนอกเขต", "Travel permit"),
        ("work_permit", "ใบอนุญาตทำงาน", "Work permit"),
        ("nhrc_lawyers", "ร้องเรียน กสม. หรือสภาทนายความ", "Complaint to the NHRC or the Lawyers Council"),
        OTHER,
        NONE,
    ],
    "urgency": [
        ("urgent", "เร่งด่วน (ภายใน 1 สัปดาห์)", "Urgent (within a week)"),
        ("soon", "ภายใน 1 เดือน", "Within a month"),
        ("routine", "ตามปกติ", "Routine"),
    ],
    "referral_target": [
        ("district_office", "อำเภอ", "District office"),
        ("hospital", "โรงพยาบาลหรือหน่วยบริการสุขภาพ", "Hospital or health service"),
        ("school", "โรงเรียนหรือ กศน.", "School or non-formal education centre"),
        ("lawyers_council", "สภาทนายความ", "Lawyers Council"),
        ("nhrc", "คณะกรรมการสิทธิมนุษยชนแห่งชาติ (กสม.)", "National Human Rights Commission"),
        ("network_ngo", "องค์กรในเครือข่าย", "Network organisation"),
        OTHER,
    ],
}

# --------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [row for row in csv.DictReader(f) if not (row.get("deleted_at") or "").strip()]


def place_choices(places_dir: Path) -> tuple[list, list, list]:
    """Province, district and subdistrict choice rows for the six northern provinces.

    Province: 2-digit DOPA code (first two digits of its districts' ids).
    District: 4-digit `id` of districts.csv, with column `province`.
    Subdistrict: 6-digit `id` of sub_districts.csv, with column `district`.
    """
    provinces = {row["id"]: row for row in read_csv(places_dir / "provinces.csv")}
    districts = [
        row for row in read_csv(places_dir / "districts.csv") if row["id"][:2] in PROVINCES
    ]
    district_ids = {row["id"] for row in districts}
    subdistricts = [
        row for row in read_csv(places_dir / "sub_districts.csv") if row["district_id"] in district_ids
    ]

    province_rows = {}
    for d in districts:
        code = d["id"][:2]
        p = provinces[d["province_id"]]
        province_rows[code] = {"name": code, TH: p["name_th"].strip(), EN: p["name_en"].strip()}
    district_rows = [
        {"name": d["id"], TH: d["name_th"].strip(), EN: d["name_en"].strip(), "province": d["id"][:2]}
        for d in sorted(districts, key=lambda r: r["id"])
    ]
    subdistrict_rows = [
        {"name": s["id"], TH: s["name_th"].strip(), EN: s["name_en"].strip(), "district": s["district_id"]}
        for s in sorted(subdistricts, key=lambda r: r["id"])
    ]

    for code, (n_districts, n_subdistricts) in PROVINCES.items():
        got_d = sum(1 for r in district_rows if r["province"] == code)
        got_s = sum(1 for r in subdistrict_rows if r["district"][:2] == code)
        if (got_d, got_s) != (n_districts, n_subdistricts):
            raise SystemExit(
                f"province {code}: expected {n_districts} districts and {n_subdistricts} "
                f"subdistricts in {places_dir}, found {got_d} and {got_s}"
            )
    return [province_rows[c] for c in sorted(province_rows)], district_rows, subdistrict_rows


# --------------------------------------------------------------------------------------
# What the network may count (the survey column ``network``, see forms/README.md)
# --------------------------------------------------------------------------------------

# Every other question is never counted: names, ID numbers (except as identity), free text, dates,
# GPS, photos and notes stay with the organisation.
NETWORK = {
    "province": "dimension",
    "district": "dimension",
    "head_id_number": "identity",
    "sex": "dimension",
    "age": "bands 0 6 15 20 60",
    "id_number": "identity",
    "legal_status": "dimension",
    "documents": "dimension",
    "status_problem": "dimension",
    "process_step": "dimension",
    "health_cover": "dimension",
    "work_permit": "dimension",
    "schooling": "dimension",
    "travel": "dimension",
    "violation_type": "dimension",
}

# --------------------------------------------------------------------------------------
# Workbook
# --------------------------------------------------------------------------------------

TRANSLATED = ["label", "hint", "constraint_message", "required_message"]
SURVEY_COLUMNS = (
    ["type", "name", f"label::{TH}", f"label::{EN}", f"hint::{TH}", f"hint::{EN}"]
    + ["required", f"required_message::{TH}", f"required_message::{EN}", "relevant"]
    + ["constraint", f"constraint_message::{TH}", f"constraint_message::{EN}"]
    + ["appearance", "calculation", "choice_filter", "default", "repeat_count", "parameters", "network"]
)
CHOICE_COLUMNS = ["list_name", "name", f"label::{TH}", f"label::{EN}", "province", "district"]
SETTINGS_COLUMNS = list(SETTINGS)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def survey_rows() -> list[dict]:
    rows = []
    names = set()
    for section in SECTIONS:
        for row in section:
            flat = {}
            for key, value in row.items():
                if key in TRANSLATED:
                    assert set(value) == {TH, EN} and all(value.values()), (row["name"], key)
                    flat[f"{key}::{TH}"] = value[TH]
                    flat[f"{key}::{EN}"] = value[EN]
                else:
                    assert key in SURVEY_COLUMNS, key
                    flat[key] = value
            if row["name"] in NETWORK:
                flat["network"] = NETWORK[row["name"]]
            if not row["type"].startswith("end_"):
                assert NAME_RE.match(row["name"]), row["name"]
                assert row["name"] not in names, f"duplicate name {row['name']}"
                names.add(row["name"])
            rows.append(flat)
    return rows


def choice_rows(places_dir: Path) -> list[dict]:
    rows = []
    for list_name, items in CHOICES.items():
        seen = set()
        for name, th, en in items:
            assert NAME_RE.match(name) and name not in seen, (list_name, name)
            seen.add(name)
            rows.append({"list_name": list_name, "name": name, f"label::{TH}": th, f"label::{EN}": en})
    province, district, subdistrict = place_choices(places_dir)
    for list_name, items in (("province", province), ("district", district), ("subdistrict", subdistrict)):
        for item in items:
            row = {"list_name": list_name, "name": item["name"]}
            row[f"label::{TH}"] = item[TH]
            row[f"label::{EN}"] = item[EN]
            for extra in ("province", "district"):
                if extra in item:
                    row[extra] = item[extra]
            rows.append(row)
    return rows


def write_sheet(wb: Workbook, title: str, columns: list[str], rows: list[dict], first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row.get(c) for c in columns])
    ws.freeze_panes = "A2"
    for i, column in enumerate(columns, start=1):
        width = max([len(str(column))] + [min(len(str(r.get(column) or "")), 60) for r in rows])
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width + 2


FIXED_TIME = "2026-01-01T00:00:00Z"


def reproducible(xlsx: bytes) -> bytes:
    """Same input, same bytes: fixed zip timestamps and document properties."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    lambda m: m.group(1) + FIXED_TIME + m.group(3),
                    text,
                )
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    return out.getvalue()


def build(places_dir: Path, output: Path) -> Path:
    wb = Workbook()
    wb.properties.creator = "forms/build_household_status_intake.py"
    write_sheet(wb, "survey", SURVEY_COLUMNS, survey_rows(), first=True)
    write_sheet(wb, "choices", CHOICE_COLUMNS, choice_rows(places_dir))
    write_sheet(wb, "settings", SETTINGS_COLUMNS, [SETTINGS])
    buffer = io.BytesIO()
    wb.save(buffer)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(reproducible(buffer.getvalue()))
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "places_dir",
        nargs="?",
        type=Path,
        default=DEFAULT_PLACES,
        help=f"folder with provinces.csv, districts.csv, sub_districts.csv (default {DEFAULT_PLACES})",
    )
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--check",
        action="store_true",
        help="convert the result with pyxform and run ODK Validate (needs java)",
    )
    args = parser.parse_args(argv)
    for name in ("provinces.csv", "districts.csv", "sub_districts.csv"):
        if not (args.places_dir / name).is_file():
            parser.error(f"{args.places_dir / name} not found: give the thai-places folder")
    path = build(args.places_dir, args.output)
    print(f"wrote {path}")
    if args.check:
        from pyxform.xls2xform import convert

        result = convert(xlsform=str(path), validate=True)
        for warning in result.warnings:
            print("warning:", warning)
        print("pyxform and ODK Validate: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
