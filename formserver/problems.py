"""The catalogue of what can go wrong, each with a stable code, an HTTP status and Thai and English words.

As ODK Central keeps its problems in one file, tests, logs and translations all
name the same thing. Raise ``Problem("form.version_exists", version="3")``;
each blueprint turns it into its own kind of answer in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    status: int
    en: str
    th: str


CATALOGUE: dict[str, Kind] = {
    # Forms
    "form.invalid": Kind(400, "The form could not be converted: {detail}", "แปลงแบบฟอร์มไม่ได้: {detail}"),
    "form.unreadable": Kind(
        400,
        "The file {filename} is not an XLSForm (.xlsx or .xls) or an XForm (.xml).",
        "ไฟล์ {filename} ไม่ใช่ XLSForm (.xlsx หรือ .xls) หรือ XForm (.xml)",
    ),
    "form.validation_failed": Kind(
        400, "ODK Validate (JavaRosa) rejected the form: {detail}", "ODK Validate (JavaRosa) ไม่ผ่านแบบฟอร์มนี้: {detail}"
    ),
    "form.version_exists": Kind(
        409,
        "Form {form_id} already has a different version {version}. Change the version in the settings sheet "
        "before uploading again: phones decide by content, and two different forms under one version confuse them.",
        "แบบฟอร์ม {form_id} มีเวอร์ชัน {version} ที่เนื้อหาต่างกันอยู่แล้ว โปรดเปลี่ยน version ในแผ่นงาน settings "
        "ก่อนอัปโหลดใหม่",
    ),
    "form.not_found": Kind(404, "There is no form {form_id} here.", "ไม่พบแบบฟอร์ม {form_id}"),
    "form.version_not_found": Kind(
        404, "Form {form_id} has no version {version}.", "แบบฟอร์ม {form_id} ไม่มีเวอร์ชัน {version}"
    ),
    "form.closed": Kind(
        409,
        "Form {form_id} is closed and no longer accepts submissions.",
        "แบบฟอร์ม {form_id} ปิดรับข้อมูลแล้ว",
    ),
    "form.bad_state": Kind(
        400, "{state} is not a form state: use open, closing or closed.", "{state} ไม่ใช่สถานะของแบบฟอร์ม: ใช้ open, closing หรือ closed"
    ),
    "media.not_expected": Kind(
        400,
        "Form {form_id} does not use a media file named {filename}.",
        "แบบฟอร์ม {form_id} ไม่ได้ใช้ไฟล์สื่อชื่อ {filename}",
    ),
    # Organisations and people
    "organisation.exists": Kind(409, "Organisation {slug} already exists.", "มีหน่วยงาน {slug} อยู่แล้ว"),
    "organisation.not_found": Kind(404, "There is no organisation {slug}.", "ไม่พบหน่วยงาน {slug}"),
    "organisation.bad_slug": Kind(
        400,
        "{slug} cannot be an organisation's short name: use 2 to 64 lowercase letters, digits and hyphens.",
        "{slug} ใช้เป็นชื่อย่อของหน่วยงานไม่ได้: ใช้ตัวอักษรอังกฤษพิมพ์เล็ก ตัวเลข และขีด 2 ถึง 64 ตัว",
    ),
    "user.exists": Kind(409, "A user {email} already exists.", "มีผู้ใช้ {email} อยู่แล้ว"),
    "user.not_found": Kind(404, "There is no user {email}.", "ไม่พบผู้ใช้ {email}"),
    "user.bad_email": Kind(400, "{email} is not an email address.", "{email} ไม่ใช่อีเมล"),
    "user.weak_password": Kind(
        400, "A password needs at least 10 characters.", "รหัสผ่านต้องมีอย่างน้อย 10 ตัวอักษร"
    ),
    "member.bad_role": Kind(
        400, "{role} is not a role: use manager, collector or viewer.", "{role} ไม่ใช่บทบาท: ใช้ manager, collector หรือ viewer"
    ),
}


class Problem(Exception):
    """A domain error: a catalogue code plus the values its message needs."""

    def __init__(self, code: str, **values: object):
        if code not in CATALOGUE:
            raise KeyError(f"unknown problem code {code}")
        self.code = code
        self.values = values
        super().__init__(self.en)

    @property
    def kind(self) -> Kind:
        return CATALOGUE[self.code]

    @property
    def status(self) -> int:
        return self.kind.status

    @property
    def en(self) -> str:
        return self.kind.en.format(**self.values)

    @property
    def th(self) -> str:
        return self.kind.th.format(**self.values)

    @property
    def bilingual(self) -> str:
        return f"{self.th} / {self.en}"
