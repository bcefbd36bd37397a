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
    "form.not_assigned": Kind(
        404, "Form {form_id} is not assigned to {who}.", "แบบฟอร์ม {form_id} ไม่ได้มอบหมายให้ {who}"
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
    "media.not_found": Kind(
        404,
        "Form {form_id} has no media file named {filename}.",
        "แบบฟอร์ม {form_id} ไม่มีไฟล์สื่อชื่อ {filename}",
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
    "member.not_found": Kind(
        404, "{email} is not a member of organisation {slug}.", "{email} ไม่ได้เป็นสมาชิกของหน่วยงาน {slug}"
    ),
    "member.last_manager": Kind(
        409,
        "{email} is the last manager of this organisation: make someone else a manager first.",
        "{email} เป็นผู้จัดการคนสุดท้ายของหน่วยงานนี้ โปรดตั้งผู้จัดการคนอื่นก่อน",
    ),
    # Signing in on the web
    "signin.failed": Kind(401, "The e-mail address or the password is not right.", "อีเมลหรือรหัสผ่านไม่ถูกต้อง"),
    "signin.throttled": Kind(
        429,
        "Too many failed sign-ins for this account. Wait {minutes} minute(s), then try again.",
        "ลงชื่อเข้าใช้บัญชีนี้ผิดหลายครั้งเกินไป โปรดรอ {minutes} นาทีแล้วลองใหม่",
    ),
    # Submissions from phones (formserver/submissions.py, formserver/openrosa/). Collect shows these words.
    "submission.no_xml": Kind(
        400,
        "The request has no xml_submission_file part: send the submission as multipart/form-data.",
        "ไม่พบไฟล์ข้อมูล (xml_submission_file) ในคำขอ",
    ),
    "submission.malformed": Kind(400, "The submission is not valid XML: {detail}", "ข้อมูลที่ส่งมาไม่ใช่ XML ที่ถูกต้อง: {detail}"),
    "submission.no_form_id": Kind(
        400, "The submission does not say which form it belongs to (no id).", "ข้อมูลที่ส่งมาไม่ระบุรหัสแบบฟอร์ม (id)"
    ),
    "submission.no_instance_id": Kind(
        400, "The submission has no meta/instanceID.", "ข้อมูลที่ส่งมาไม่มีรหัสรายการ (meta/instanceID)"
    ),
    "submission.unknown_form": Kind(
        404, "There is no form {form_id} in this organisation.", "ไม่พบแบบฟอร์ม {form_id} ในหน่วยงานนี้"
    ),
    "submission.unknown_version": Kind(
        404,
        "Form {form_id} has no version {version}: get blank forms again.",
        "แบบฟอร์ม {form_id} ไม่มีเวอร์ชัน {version} โปรดดาวน์โหลดแบบฟอร์มใหม่",
    ),
    "submission.conflict": Kind(
        409,
        "A submission with ID {instance_id} already exists with different XML. Yours was kept aside for a manager.",
        "มีข้อมูลรหัส {instance_id} อยู่แล้วแต่เนื้อหาต่างกัน ข้อมูลของคุณถูกเก็บไว้ให้ผู้จัดการตรวจสอบ",
    ),
    "submission.too_large": Kind(
        413,
        "{filename} is larger than the limit of {limit_mb} MB. Nothing was stored.",
        "{filename} ใหญ่เกินขีดจำกัด {limit_mb} MB จึงยังไม่ได้บันทึก",
    ),
    "submission.cut_off": Kind(
        400, "The upload was cut off before its end: send it again.", "การส่งข้อมูลขาดหายกลางทาง โปรดส่งอีกครั้ง"
    ),
    "submission.failed": Kind(
        500,
        "The server could not store this submission; nothing was kept. It will be sent again.",
        "เซิร์ฟเวอร์บันทึกข้อมูลนี้ไม่ได้ จึงยังไม่ได้เก็บไว้ ระบบจะส่งใหม่อีกครั้ง",
    ),
    "submission.forbidden": Kind(
        403,
        "This account may not send submissions to organisation {slug}.",
        "บัญชีนี้ไม่มีสิทธิ์ส่งข้อมูลให้หน่วยงาน {slug}",
    ),
    "submission.not_assigned": Kind(
        403, "Form {form_id} is not assigned to this account.", "แบบฟอร์ม {form_id} ไม่ได้มอบหมายให้บัญชีนี้"
    ),
    "submission.conflict_not_found": Kind(
        404, "There is no kept-aside submission {conflict_id}.", "ไม่พบข้อมูลที่เก็บไว้ตรวจสอบหมายเลข {conflict_id}"
    ),
    "submission.conflict_resolved": Kind(
        409,
        "Kept-aside submission {conflict_id} was already resolved ({resolution}).",
        "ข้อมูลที่เก็บไว้ตรวจสอบหมายเลข {conflict_id} ได้ตัดสินแล้ว ({resolution})",
    ),
    "submission.bad_resolution": Kind(
        400,
        "{resolution} is not a resolution: use keep_stored or take_new.",
        "{resolution} ไม่ใช่วิธีตัดสิน: ใช้ keep_stored หรือ take_new",
    ),
    # Phones and device accounts (formserver/appusers.py, formserver/openrosa/auth.py)
    "appuser.exists": Kind(409, "Device account {name} already exists.", "มีบัญชีอุปกรณ์ชื่อ {name} อยู่แล้ว"),
    "appuser.not_found": Kind(404, "There is no device account {name}.", "ไม่พบบัญชีอุปกรณ์ชื่อ {name}"),
    "appuser.bad_name": Kind(
        400, "A device account needs a name of 1 to 200 characters.", "ชื่อบัญชีอุปกรณ์ต้องมี 1 ถึง 200 ตัวอักษร"
    ),
    "appuser.revoked": Kind(409, "Device account {name} was revoked.", "บัญชีอุปกรณ์ {name} ถูกเพิกถอนแล้ว"),
    "appuser.sign_in_required": Kind(
        401,
        "Sign in with your e-mail address and password.",
        "โปรดลงชื่อเข้าใช้ด้วยอีเมลและรหัสผ่าน",
    ),
    "appuser.token_invalid": Kind(
        401,
        "This server address is not valid or was revoked: ask your coordinator for a new QR code.",
        "ที่อยู่เซิร์ฟเวอร์นี้ใช้ไม่ได้หรือถูกเพิกถอนแล้ว โปรดขอ QR code ใหม่จากผู้ประสานงาน",
    ),
    "appuser.no_access": Kind(
        403,
        "This account may not use the forms of organisation {slug}.",
        "บัญชีนี้ไม่มีสิทธิ์ใช้แบบฟอร์มของหน่วยงาน {slug}",
    ),
    # Exports (formserver/exports/)
    "export.bad_option": Kind(
        400, "The export option {option} cannot be {value}.", "ตัวเลือกการส่งออก {option} เป็น {value} ไม่ได้"
    ),
    "export.forbidden": Kind(
        403,
        "Only managers and viewers of the organisation may export its data.",
        "เฉพาะผู้จัดการและผู้ดูข้อมูลของหน่วยงานเท่านั้นที่ส่งออกข้อมูลได้",
    ),
    "export.not_found": Kind(404, "There is no export {job_id} here.", "ไม่พบการส่งออกหมายเลข {job_id}"),
    "export.not_ready": Kind(
        409, "Export {job_id} is {status}: there is no file to download.", "การส่งออกหมายเลข {job_id} อยู่ในสถานะ {status} จึงยังไม่มีไฟล์ให้ดาวน์โหลด"
    ),
    "export.expired": Kind(
        410,
        "The file of export {job_id} is no longer kept. Start a new export.",
        "ไฟล์ของการส่งออกหมายเลข {job_id} ถูกลบแล้ว โปรดส่งออกใหม่",
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
