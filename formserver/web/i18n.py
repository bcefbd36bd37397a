"""Thai and English for every page, kept in one place.

``_(english, **values)`` gives the text in the page's language; Thai
translations live in ``TH`` below, keyed by the English. Problems carry their
own ``.th`` and ``.en``. The language is the one the person chose (a cookie,
remembered for a year), else the browser's preference, else Thai: most users
read Thai first. Form labels come from the form itself; ``label_of`` picks the
form's language that matches the page's.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import flash, g, request

from ..problems import Problem

LANGUAGES = ("th", "en")
DEFAULT_LANGUAGE = "th"
COOKIE = "lang"
LANGUAGE_NAMES = {
    "th": {"th", "tha", "thai", "ไทย", "ภาษาไทย"},
    "en": {"en", "eng", "english", "อังกฤษ", "ภาษาอังกฤษ"},
}


def current_language() -> str:
    if "lang" not in g:
        chosen = request.cookies.get(COOKIE)
        if chosen not in LANGUAGES:
            chosen = request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)
        g.lang = chosen
    return g.lang


def translate(text: str, language: str | None = None, **values: object) -> str:
    language = language or current_language()
    template = TH.get(text, text) if language == "th" else text
    return template.format(**values) if values else template


_ = translate


def both(text: str, **values: object) -> dict[str, str]:
    return {language: translate(text, language, **values) for language in LANGUAGES}


def problem_text(problem: Problem, language: str | None = None) -> str:
    return problem.th if (language or current_language()) == "th" else problem.en


def flash_text(text: str, category: str = "info", **values: object) -> None:
    """A message for the next page, kept in both languages so that it follows a language switch."""
    flash(both(text, **values), category)


def flash_problem(problem: Problem, category: str = "error") -> None:
    flash({"th": problem.th, "en": problem.en}, category)


def flashed_text(message) -> str:
    if isinstance(message, dict):
        return message.get(current_language()) or message.get("en") or ""
    return str(message)


# -- form labels ---------------------------------------------------------------------------------


def form_language(languages: list[str], language: str) -> str | None:
    """The form's language ("Thai (th)", "th", "Thai"...) that matches the page language, if any."""
    for name in languages or []:
        code = re.search(r"\(([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\)\s*$", name)
        if code and code.group(1).lower() in LANGUAGE_NAMES[language]:
            return name
    for name in languages or []:
        if name.strip().lower() in LANGUAGE_NAMES[language] or name.strip().lower().split("-")[0] == language:
            return name
    return None


def label_of(labels: dict | None, tree: dict | None = None, language: str | None = None) -> str:
    """A node's or choice's label in the page's language, else the form's default language, else any."""
    if not labels:
        return ""
    language = language or current_language()
    tree = tree or {}
    chosen = form_language(tree.get("languages") or list(labels), language)
    if chosen and labels.get(chosen):
        return labels[chosen]
    default = tree.get("default_language")
    if default and labels.get(default):
        return labels[default]
    return next((text for text in labels.values() if text), "")


# -- dates ---------------------------------------------------------------------------------------


def local_time(value: datetime | None, time_zone: str = "Asia/Bangkok", with_seconds: bool = False) -> str:
    if value is None:
        return ""
    try:
        zone = ZoneInfo(time_zone)
    except Exception:
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


# -- the catalogue: English -> Thai ----------------------------------------------------------------

TH: dict[str, str] = {
    # Words that come from data: states, roles, review states, job states, question types
    "open": "เปิดรับ",
    "closing": "กำลังปิด",
    "closed": "ปิดแล้ว",
    "manager": "ผู้จัดการ",
    "viewer": "ผู้ดูข้อมูล",
    "collector": "ผู้เก็บข้อมูล",
    "network administrator": "ผู้ดูแลระบบเครือข่าย",
    "received": "ได้รับแล้ว",
    "has_issues": "มีปัญหา",
    "approved": "อนุมัติแล้ว",
    "rejected": "ไม่อนุมัติ",
    "queued": "รอคิว",
    "running": "กำลังทำ",
    "complete": "เสร็จแล้ว",
    "failed": "ไม่สำเร็จ",
    "keep_stored": "เก็บฉบับเดิม",
    "take_new": "ใช้ฉบับที่ส่งมาใหม่",
    "group": "กลุ่มคำถาม",
    "repeat": "กลุ่มคำถามซ้ำ",
    "text": "ข้อความ",
    "integer": "จำนวนเต็ม",
    "decimal": "ทศนิยม",
    "date": "วันที่",
    "date and time": "วันที่และเวลา",
    "time": "เวลา",
    "location": "พิกัด",
    "line": "เส้นทาง",
    "area": "พื้นที่",
    "file": "ไฟล์",
    "barcode": "บาร์โค้ด",
    "select one": "เลือกหนึ่งข้อ",
    "select multiple": "เลือกได้หลายข้อ",
    "yes/no": "ใช่/ไม่ใช่",
    "photo": "ภาพถ่าย",
    "audio": "เสียง",
    "video": "วิดีโอ",
    "calculated": "คำนวณ",
    "hidden": "ซ่อน",
    "note": "ข้อความแจ้ง",
    "label": "ป้ายคำถาม",
    # Errors
    "Sorry": "ขออภัย",
    "Go back": "กลับไป",
    "Home": "หน้าแรก",
    "This form has expired or came from another site. Go back, reload the page and try again.":
        "แบบฟอร์มนี้หมดอายุหรือมาจากเว็บไซต์อื่น โปรดกลับไป โหลดหน้าใหม่ แล้วลองอีกครั้ง",
    "The request could not be understood.": "ไม่เข้าใจคำขอนี้",
    "Please sign in.": "โปรดลงชื่อเข้าใช้",
    "Your role in this organisation does not allow this.": "บทบาทของคุณในหน่วยงานนี้ทำสิ่งนี้ไม่ได้",
    "There is nothing at this address, or you may not see it.": "ไม่มีหน้านี้ หรือคุณไม่มีสิทธิ์ดู",
    "This address does not accept this kind of request.": "ที่อยู่นี้ไม่รับคำขอแบบนี้",
    "The file is too large.": "ไฟล์ใหญ่เกินไป",
    # Signing in, the front page, the header
    "Welcome": "ยินดีต้อนรับ",
    "A data-collection server for ODK Collect: form designers upload XLSForms, enumerators fill them in on Android phones, coordinators review and export the data.":
        "เซิร์ฟเวอร์เก็บข้อมูลสำหรับ ODK Collect: ผู้ออกแบบแบบฟอร์มอัปโหลด XLSForm ผู้เก็บข้อมูลกรอกแบบฟอร์มบนโทรศัพท์ Android ผู้ประสานงานตรวจและส่งออกข้อมูล",
    "Sign in": "ลงชื่อเข้าใช้",
    "Sign out": "ออกจากระบบ",
    "Enumerators do not sign in here: they set up ODK Collect with the QR code or server address their coordinator gives them.":
        "ผู้เก็บข้อมูลไม่ต้องลงชื่อเข้าใช้ที่นี่ ให้ตั้งค่า ODK Collect ด้วย QR code หรือที่อยู่เซิร์ฟเวอร์ที่ผู้ประสานงานให้",
    "E-mail address": "อีเมล",
    "Password": "รหัสผ่าน",
    "Forgot your password? Ask a manager of your organisation or a network administrator to set a new one.":
        "ลืมรหัสผ่าน? ขอให้ผู้ดูแลระบบเครือข่ายตั้งรหัสผ่านใหม่ให้",
    "You have signed out.": "ออกจากระบบแล้ว",
    "Your session ended after a period without activity. Please sign in again.":
        "หมดเวลาใช้งานเพราะไม่มีการใช้งานนานเกินไป โปรดลงชื่อเข้าใช้อีกครั้ง",
    "Organisations": "หน่วยงาน",
    "All organisations": "หน่วยงานทั้งหมด",
    "User accounts": "บัญชีผู้ใช้",
    "Audit log (all)": "บันทึกการใช้งาน (ทั้งหมด)",
    "Your organisations": "หน่วยงานของคุณ",
    "You are not a member of any organisation yet. Ask a manager or a network administrator to add you.":
        "คุณยังไม่ได้เป็นสมาชิกของหน่วยงานใด โปรดขอให้ผู้จัดการหรือผู้ดูแลระบบเครือข่ายเพิ่มคุณ",
    "Create an organisation": "สร้างหน่วยงาน",
    "Pages": "หน้า",
    "Newer": "ใหม่กว่า",
    "Older": "เก่ากว่า",
    "Page {page} of {pages}": "หน้า {page} จาก {pages}",
    # Password
    "Change password": "เปลี่ยนรหัสผ่าน",
    "Current password": "รหัสผ่านปัจจุบัน",
    "New password (at least 10 characters)": "รหัสผ่านใหม่ (อย่างน้อย 10 ตัวอักษร)",
    "New password again": "รหัสผ่านใหม่อีกครั้ง",
    "The same password signs you in to ODK Collect: change it on your phone too.":
        "รหัสผ่านนี้ใช้ลงชื่อเข้า ODK Collect ด้วย โปรดเปลี่ยนในโทรศัพท์ด้วย",
    "The current password is not right.": "รหัสผ่านปัจจุบันไม่ถูกต้อง",
    "The two new passwords are not the same.": "รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน",
    "Your password has been changed. Phones signed in with the old password need the new one.":
        "เปลี่ยนรหัสผ่านแล้ว โทรศัพท์ที่ใช้รหัสผ่านเดิมต้องใส่รหัสผ่านใหม่",
    # The organisation's navigation and home
    "Forms": "แบบฟอร์ม",
    "Exports": "ส่งออกข้อมูล",
    "Resubmissions": "ข้อมูลส่งซ้ำ",
    "Phones": "โทรศัพท์",
    "Members": "สมาชิก",
    "Audit log": "บันทึกการใช้งาน",
    "{count} resubmission(s) differ from what was stored and wait for a decision.":
        "มีข้อมูลส่งซ้ำ {count} รายการที่ต่างจากที่บันทึกไว้ รอการตัดสิน",
    "Upload a form": "อัปโหลดแบบฟอร์ม",
    "Form": "แบบฟอร์ม",
    "State": "สถานะ",
    "Newest version": "เวอร์ชันล่าสุด",
    "Submissions": "ข้อมูลที่ส่งเข้ามา",
    "Last submission": "ส่งเข้ามาล่าสุด",
    "not published": "ยังไม่เผยแพร่",
    "media missing": "ไฟล์สื่อไม่ครบ",
    "draft": "ฉบับร่าง",
    "No forms yet.": "ยังไม่มีแบบฟอร์ม",
    "Forms open for data collection": "แบบฟอร์มที่เปิดรับข้อมูล",
    "version": "เวอร์ชัน",
    "No form is open at the moment.": "ขณะนี้ไม่มีแบบฟอร์มที่เปิดรับข้อมูล",
    "How to set up ODK Collect": "วิธีตั้งค่า ODK Collect",
    # Uploading a form
    "Choose an XLSForm file (.xlsx) to upload.": "โปรดเลือกไฟล์ XLSForm (.xlsx) ที่จะอัปโหลด",
    "The form could not be converted. Nothing was stored.": "แปลงแบบฟอร์มไม่ได้ ยังไม่ได้บันทึกอะไร",
    "Sheet": "แผ่นงาน",
    "Row": "แถว",
    "Column": "คอลัมน์",
    "Correct the workbook (the row number is the row in the spreadsheet), save it and upload it again.":
        "โปรดแก้ไฟล์ (เลขแถวคือแถวในสเปรดชีต) บันทึก แล้วอัปโหลดอีกครั้ง",
    "XLSForm (.xlsx, .xls) or XForm (.xml)": "XLSForm (.xlsx, .xls) หรือ XForm (.xml)",
    "Media files (optional: images, audio, CSV files the form uses)": "ไฟล์สื่อ (ไม่บังคับ: รูปภาพ เสียง ไฟล์ CSV ที่แบบฟอร์มใช้)",
    "Upload as a draft": "อัปโหลดเป็นฉบับร่าง",
    "The form id, title and version come from the settings sheet. A new version of an existing form keeps its id: change the version before uploading it.":
        "รหัสแบบฟอร์ม ชื่อ และเวอร์ชัน มาจากแผ่นงาน settings แบบฟอร์มเดิมที่แก้ไขใช้รหัสเดิม แต่ต้องเปลี่ยนเวอร์ชันก่อนอัปโหลด",
    "The upload is kept as a draft: you see a preview and what changes for exports before you publish it. Phones only get published versions.":
        "ไฟล์ที่อัปโหลดจะเก็บเป็นฉบับร่าง คุณจะเห็นตัวอย่างและสิ่งที่เปลี่ยนในการส่งออกข้อมูลก่อนเผยแพร่ โทรศัพท์จะได้รับเฉพาะเวอร์ชันที่เผยแพร่แล้ว",
    "This file is already stored as version {version}: nothing changed.": "ไฟล์นี้บันทึกไว้แล้วเป็นเวอร์ชัน {version} ไม่มีอะไรเปลี่ยน",
    "Version {version} is kept as a draft. Check the preview, then publish it.":
        "เก็บเวอร์ชัน {version} เป็นฉบับร่างแล้ว โปรดตรวจตัวอย่าง แล้วจึงเผยแพร่",
    # A form and its versions
    "Phones get version {version}.": "โทรศัพท์ได้รับเวอร์ชัน {version}",
    "{count} submission(s)": "ข้อมูล {count} รายการ",
    "last on {time}": "ล่าสุดเมื่อ {time}",
    "Export": "ส่งออก",
    "Upload a new version": "อัปโหลดเวอร์ชันใหม่",
    "Change state": "เปลี่ยนสถานะ",
    "Who gets this form": "ใครได้รับแบบฟอร์มนี้",
    "Only the accounts below see this form on their phones and may send it.": "เฉพาะบัญชีด้านล่างเท่านั้นที่เห็นแบบฟอร์มนี้ในโทรศัพท์และส่งข้อมูลได้",
    "Every phone and collector of the organisation gets this form. Assign it to some accounts to keep it from the others.": "โทรศัพท์และผู้เก็บข้อมูลทุกคนของหน่วยงานได้รับแบบฟอร์มนี้ มอบหมายให้บางบัญชีเพื่อไม่ให้บัญชีอื่นเห็น",
    "Assign to": "มอบหมายให้",
    "Assign": "มอบหมาย",
    "device account {name}": "บัญชีอุปกรณ์ {name}",
    "Only the assigned accounts get this form.": "เฉพาะบัญชีที่ได้รับมอบหมายเท่านั้นที่ได้รับแบบฟอร์มนี้",
    "Every phone and collector of the organisation gets this form.": "โทรศัพท์และผู้เก็บข้อมูลทุกคนของหน่วยงานได้รับแบบฟอร์มนี้",
    "listed to phones, accepts submissions.": "แสดงในโทรศัพท์ และรับข้อมูล",
    "no longer listed to phones, but still accepts what phones already hold, so nothing filled in the field is stranded.":
        "ไม่แสดงในโทรศัพท์แล้ว แต่ยังรับข้อมูลที่กรอกไว้ในโทรศัพท์ เพื่อไม่ให้ข้อมูลที่เก็บในพื้นที่ตกค้าง",
    "refuses submissions.": "ไม่รับข้อมูล",
    "The form is now {state}.": "แบบฟอร์มอยู่ในสถานะ{state}แล้ว",
    "Version history": "ประวัติเวอร์ชัน",
    "Version": "เวอร์ชัน",
    "Uploaded": "อัปโหลดเมื่อ",
    "By": "โดย",
    "Published": "เผยแพร่เมื่อ",
    "Media": "ไฟล์สื่อ",
    "served to phones": "โทรศัพท์ได้รับ",
    "{count} missing": "ขาด {count} ไฟล์",
    "published": "เผยแพร่แล้ว",
    "Phones do not get this version until it is published.": "โทรศัพท์จะยังไม่ได้รับเวอร์ชันนี้จนกว่าจะเผยแพร่",
    "uploaded {time}": "อัปโหลดเมื่อ {time}",
    "by {email}": "โดย {email}",
    "Warnings": "คำเตือน",
    "What changes for exports": "สิ่งที่เปลี่ยนในการส่งออกข้อมูล",
    "This is the first version: there is no published version to compare with. Its exports will have {count} column(s).":
        "นี่เป็นเวอร์ชันแรก ไม่มีเวอร์ชันที่เผยแพร่แล้วให้เปรียบเทียบ ไฟล์ส่งออกจะมี {count} คอลัมน์",
    "Nothing changes for exports compared with version {version}.": "การส่งออกข้อมูลไม่เปลี่ยนเมื่อเทียบกับเวอร์ชัน {version}",
    "Compared with the published version {version}:": "เมื่อเทียบกับเวอร์ชัน {version} ที่เผยแพร่อยู่:",
    "New sheet (repeat)": "แผ่นงานใหม่ (กลุ่มคำถามซ้ำ)",
    "Sheet no longer filled (repeat removed)": "แผ่นงานที่จะไม่มีข้อมูลใหม่ (ลบกลุ่มคำถามซ้ำ)",
    "Column added": "เพิ่มคอลัมน์",
    "Column removed (kept in older submissions)": "ลบคอลัมน์ (ข้อมูลเก่ายังมีอยู่)",
    "Column moved": "ย้ายคอลัมน์",
    "Type changed": "เปลี่ยนชนิดคำถาม",
    "Choice added": "เพิ่มตัวเลือก",
    "Choice removed": "ลบตัวเลือก",
    "Choice renamed": "เปลี่ยนชื่อตัวเลือก",
    "Choice label changed": "เปลี่ยนข้อความตัวเลือก",
    "Question label changed": "เปลี่ยนข้อความคำถาม",
    "in": "ใน",
    "sheet": "แผ่นงาน",
    "Media files": "ไฟล์สื่อ",
    "Missing: {names}. Phones do not get this version until these files are uploaded.":
        "ขาดไฟล์: {names} โทรศัพท์จะยังไม่ได้รับเวอร์ชันนี้จนกว่าจะอัปโหลดไฟล์เหล่านี้",
    "present": "มีแล้ว",
    "missing": "ยังไม่มี",
    "Upload media": "อัปโหลดไฟล์สื่อ",
    "This form uses no media files.": "แบบฟอร์มนี้ไม่ใช้ไฟล์สื่อ",
    "Choose one or more media files to upload.": "โปรดเลือกไฟล์สื่อที่จะอัปโหลด",
    "Stored: {names}.": "บันทึกแล้ว: {names}",
    "Publish this version? Phones will get it the next time they fetch blank forms.":
        "เผยแพร่เวอร์ชันนี้หรือไม่? โทรศัพท์จะได้รับเมื่อดาวน์โหลดแบบฟอร์มครั้งต่อไป",
    "Publish version {version}": "เผยแพร่เวอร์ชัน {version}",
    "Version {version} is published, but phones will only get it once the missing media files are uploaded.":
        "เผยแพร่เวอร์ชัน {version} แล้ว แต่โทรศัพท์จะได้รับเมื่ออัปโหลดไฟล์สื่อที่ขาดครบแล้วเท่านั้น",
    "Version {version} is published: phones get it the next time they fetch blank forms.":
        "เผยแพร่เวอร์ชัน {version} แล้ว โทรศัพท์จะได้รับเมื่อดาวน์โหลดแบบฟอร์มครั้งต่อไป",
    "Preview": "ตัวอย่างแบบฟอร์ม",
    "Languages": "ภาษา",
    "default": "ภาษาหลัก",
    "required": "ต้องตอบ",
    "Shown when": "แสดงเมื่อ",
    "Accepted when": "รับคำตอบเมื่อ",
    "Calculated as": "คำนวณจาก",
    "{count} choices": "{count} ตัวเลือก",
    "Name": "ชื่อ",
    # Members
    "Role": "บทบาท",
    "Change": "เปลี่ยน",
    "Remove": "นำออก",
    "Remove {email} from this organisation?": "นำ {email} ออกจากหน่วยงานนี้หรือไม่?",
    "No members yet.": "ยังไม่มีสมาชิก",
    "Add a member": "เพิ่มสมาชิก",
    "Add": "เพิ่ม",
    "Password for a new account (leave empty to generate one)": "รหัสผ่านสำหรับบัญชีใหม่ (เว้นว่างเพื่อสร้างให้อัตโนมัติ)",
    "forms, members and device accounts of this organisation; reads and exports submissions.":
        "จัดการแบบฟอร์ม สมาชิก และบัญชีอุปกรณ์ของหน่วยงานนี้ ดูและส่งออกข้อมูลได้",
    "reads and exports submissions.": "ดูและส่งออกข้อมูลได้",
    "fills in open forms with ODK Collect; never reads or exports submissions.":
        "กรอกแบบฟอร์มที่เปิดรับด้วย ODK Collect ไม่สามารถดูหรือส่งออกข้อมูล",
    "Ask a network administrator to create the account first.": "โปรดขอให้ผู้ดูแลระบบเครือข่ายสร้างบัญชีนี้ก่อน",
    "{email} is now {role} of this organisation.": "{email} เป็น{role}ของหน่วยงานนี้แล้ว",
    "{email} is no longer a member of this organisation.": "{email} ไม่ได้เป็นสมาชิกของหน่วยงานนี้แล้ว",
    "Account {email} created with this password, shown only once: give it to them and ask them to change it.":
        "สร้างบัญชี {email} แล้ว รหัสผ่านด้านล่างแสดงเพียงครั้งเดียว โปรดส่งให้เจ้าของบัญชีและให้เปลี่ยนรหัสผ่าน",
    # Administrators
    "Organisation {name} created. Add its first manager on its members page.":
        "สร้างหน่วยงาน {name} แล้ว โปรดเพิ่มผู้จัดการคนแรกในหน้าสมาชิก",
    "Short name (used in addresses: lowercase letters, digits, hyphens)": "ชื่อย่อ (ใช้ในที่อยู่เว็บ: ตัวอักษรอังกฤษพิมพ์เล็ก ตัวเลข ขีด)",
    "Create": "สร้าง",
    "Account {email} created.": "สร้างบัญชี {email} แล้ว",
    "Its password, shown only once: give it to them and ask them to change it.":
        "รหัสผ่านของบัญชีนี้แสดงเพียงครั้งเดียว โปรดส่งให้เจ้าของบัญชีและให้เปลี่ยนรหัสผ่าน",
    "Created": "สร้างเมื่อ",
    "Create a user account": "สร้างบัญชีผู้ใช้",
    "Password (leave empty to generate one)": "รหัสผ่าน (เว้นว่างเพื่อสร้างให้อัตโนมัติ)",
    "Network administrator (everything, in every organisation)": "ผู้ดูแลระบบเครือข่าย (ทำได้ทุกอย่างในทุกหน่วยงาน)",
    "Then add the account to an organisation with a role on that organisation's members page.":
        "จากนั้นเพิ่มบัญชีเข้าหน่วยงานพร้อมบทบาทในหน้าสมาชิกของหน่วยงานนั้น",
    # Audit log
    "Action": "การกระทำ",
    "all": "ทั้งหมด",
    "Filter": "กรอง",
    "{count} event(s)": "{count} รายการ",
    "Time": "เวลา",
    "Who": "ผู้ทำ",
    "What": "สิ่งที่ทำ",
    "Organisation": "หน่วยงาน",
    "Details": "รายละเอียด",
    "Nothing recorded yet.": "ยังไม่มีบันทึก",
    # Phones
    "Set up ODK Collect": "ตั้งค่า ODK Collect",
    "QR code with the server address and your user name": "QR code ที่มีที่อยู่เซิร์ฟเวอร์และชื่อผู้ใช้ของคุณ",
    "Scan in Collect: Add project › Configure with QR code": "สแกนใน Collect: เพิ่มโครงการ › ตั้งค่าด้วย QR code",
    "Sign in to ODK Collect with your own account": "ลงชื่อเข้า ODK Collect ด้วยบัญชีของคุณเอง",
    "Install ODK Collect from the Play Store and open it.": "ติดตั้ง ODK Collect จาก Play Store แล้วเปิดแอป",
    "Add a project: choose “Manually enter project details” (or scan the QR code on this page).":
        "เพิ่มโครงการ: เลือก “กรอกรายละเอียดโครงการเอง” (หรือสแกน QR code ในหน้านี้)",
    "Server URL:": "ที่อยู่เซิร์ฟเวอร์ (Server URL):",
    "Username: your e-mail address": "ชื่อผู้ใช้ (Username): อีเมลของคุณ",
    "Password: the password you sign in with on this website. The QR code never contains it: type it in Collect.":
        "รหัสผ่าน (Password): รหัสผ่านที่ใช้ลงชื่อเข้าเว็บไซต์นี้ QR code ไม่มีรหัสผ่าน โปรดพิมพ์ใน Collect เอง",
    "Collect signs in with HTTP Digest: your password is not sent over the network in clear.":
        "Collect ลงชื่อเข้าใช้ด้วย HTTP Digest รหัสผ่านจึงไม่ถูกส่งผ่านเครือข่ายแบบเปิดเผย",
    "Device accounts": "บัญชีอุปกรณ์",
    "A device account is a phone that needs no password: its QR code carries a secret address. Anyone holding the QR code can send data, so revoke it when a phone is lost.":
        "บัญชีอุปกรณ์คือโทรศัพท์ที่ไม่ต้องใช้รหัสผ่าน เพราะ QR code มีที่อยู่ลับ ใครมี QR code ก็ส่งข้อมูลได้ จึงต้องเพิกถอนเมื่อโทรศัพท์หาย",
    "revoked": "เพิกถอนแล้ว",
    "active": "ใช้งานอยู่",
    "QR code": "QR code",
    "Revoke": "เพิกถอน",
    "Revoke {name}? Its QR code and URL stop working at once.": "เพิกถอน {name} หรือไม่? QR code และที่อยู่จะใช้ไม่ได้ทันที",
    "No device accounts yet.": "ยังไม่มีบัญชีอุปกรณ์",
    "Name of the phone or enumerator": "ชื่อโทรศัพท์หรือผู้เก็บข้อมูล",
    "Create device account": "สร้างบัญชีอุปกรณ์",
    "Device account {name} created: scan its QR code with ODK Collect.": "สร้างบัญชีอุปกรณ์ {name} แล้ว สแกน QR code ด้วย ODK Collect",
    "Device account {name} is revoked: its QR code and URL no longer work.": "เพิกถอนบัญชีอุปกรณ์ {name} แล้ว QR code และที่อยู่ใช้ไม่ได้อีก",
    "This device account was revoked on {time}: its QR code and URL no longer work.":
        "บัญชีอุปกรณ์นี้ถูกเพิกถอนเมื่อ {time} QR code และที่อยู่ใช้ไม่ได้อีก",
    "QR code for ODK Collect": "QR code สำหรับ ODK Collect",
    "Server URL (no user name or password needed):": "ที่อยู่เซิร์ฟเวอร์ (ไม่ต้องใช้ชื่อผู้ใช้หรือรหัสผ่าน):",
    "Keep this QR code and address private: whoever has them can send data to this organisation. Revoke the account if the phone is lost.":
        "เก็บ QR code และที่อยู่นี้เป็นความลับ ใครมีก็ส่งข้อมูลให้หน่วยงานนี้ได้ หากโทรศัพท์หายให้เพิกถอนบัญชี",
    "In ODK Collect: Add project › Configure with QR code, and scan this code. Collect then lists the open forms of this organisation.":
        "ใน ODK Collect: เพิ่มโครงการ › ตั้งค่าด้วย QR code แล้วสแกนรหัสนี้ Collect จะแสดงแบบฟอร์มที่เปิดรับของหน่วยงานนี้",
    # Submissions
    "Received from": "ได้รับตั้งแต่",
    "until": "ถึง",
    "Submitted by": "ส่งโดย",
    "anyone": "ทุกคน",
    "Review state": "สถานะการตรวจ",
    "any": "ทุกสถานะ",
    "instanceID": "instanceID",
    "Clear": "ล้างตัวกรอง",
    "{count} submission(s), newest first": "ข้อมูล {count} รายการ ล่าสุดอยู่บนสุด",
    "Received": "ได้รับเมื่อ",
    "Record": "รายการ",
    "Files": "ไฟล์",
    "Review": "การตรวจ",
    "edited": "แก้ไขแล้ว",
    "older version": "ฉบับเก่า",
    "No submissions match.": "ไม่มีข้อมูลที่ตรงกับตัวกรอง",
    "No submissions yet.": "ยังไม่มีข้อมูลส่งเข้ามา",
    "Submission": "ข้อมูลที่ส่ง",
    "This is an older version of this record.": "นี่คือฉบับเก่าของรายการนี้",
    "A phone sent a different version of this record on {time}: compare and decide.":
        "มีโทรศัพท์ส่งรายการนี้มาอีกครั้งเมื่อ {time} โดยเนื้อหาต่างกัน โปรดเปรียบเทียบและตัดสิน",
    "Form version": "เวอร์ชันแบบฟอร์ม",
    "Raw data": "ข้อมูลดิบ",
    "Download the XML as sent": "ดาวน์โหลด XML ตามที่ส่งมา",
    "Versions of this record": "ฉบับต่าง ๆ ของรายการนี้",
    "current": "ฉบับปัจจุบัน",
    "edit of": "แก้ไขจาก",
    "Answers": "คำตอบ",
    "This submission's XML cannot be read; download it to look at it.": "อ่าน XML ของข้อมูลนี้ไม่ได้ โปรดดาวน์โหลดไปตรวจดู",
    "not received yet": "ยังไม่ได้รับไฟล์",
    "Comment (optional)": "ความเห็น (ไม่บังคับ)",
    "Save review": "บันทึกการตรวจ",
    "Comments": "ความเห็น",
    "No comments yet.": "ยังไม่มีความเห็น",
    "Add a comment": "เพิ่มความเห็น",
    "Comment": "แสดงความเห็น",
    "This file was announced by the phone but has not arrived yet.": "โทรศัพท์แจ้งว่ามีไฟล์นี้ แต่ยังส่งมาไม่ถึง",
    "Choose a review state.": "โปรดเลือกสถานะการตรวจ",
    "Review state: {state}.": "สถานะการตรวจ: {state}",
    "Write a comment first.": "โปรดเขียนความเห็นก่อน",
    # Differing resubmissions
    "Differing resubmissions": "ข้อมูลส่งซ้ำที่เนื้อหาต่างกัน",
    "A phone sent a record that was already stored, with different content. Nothing was lost: the new version is kept aside until a manager decides which one counts.":
        "มีโทรศัพท์ส่งรายการที่บันทึกไว้แล้วมาอีกครั้งโดยเนื้อหาต่างกัน ไม่มีข้อมูลสูญหาย ฉบับใหม่ถูกเก็บแยกไว้จนกว่าผู้จัดการจะตัดสินว่าใช้ฉบับใด",
    "Only those waiting": "เฉพาะที่รอการตัดสิน",
    "Also those already decided": "รวมที่ตัดสินแล้ว",
    "Decision": "การตัดสิน",
    "waiting": "รอการตัดสิน",
    "Nothing waiting.": "ไม่มีรายการรอการตัดสิน",
    "Differing resubmission": "ข้อมูลส่งซ้ำที่เนื้อหาต่างกัน",
    "Stored on {stored}; the differing version arrived on {new}.": "บันทึกไว้เมื่อ {stored} ฉบับที่ต่างกันมาถึงเมื่อ {new}",
    "Decided": "ตัดสินแล้ว",
    "Question": "คำถาม",
    "Stored": "ฉบับที่บันทึกไว้",
    "Resubmitted": "ฉบับที่ส่งมาใหม่",
    "Files sent with the resubmission": "ไฟล์ที่ส่งมากับฉบับใหม่",
    "Keep the stored version": "เก็บฉบับที่บันทึกไว้",
    "Take the resubmitted version": "ใช้ฉบับที่ส่งมาใหม่",
    "Either way nothing is deleted: the version not taken stays in the record's history.":
        "ไม่ว่าเลือกแบบใดจะไม่มีการลบข้อมูล ฉบับที่ไม่ได้เลือกยังอยู่ในประวัติของรายการ",
    "Choose which version to keep.": "โปรดเลือกฉบับที่จะใช้",
    "Kept the stored submission.": "เก็บฉบับที่บันทึกไว้แล้ว",
    "The resubmission is now the current version.": "ฉบับที่ส่งมาใหม่เป็นฉบับปัจจุบันแล้ว",
    # Exports
    "Started": "เริ่มเมื่อ",
    "Options": "ตัวเลือก",
    "Progress": "ความคืบหน้า",
    "media": "ไฟล์สื่อ",
    "Download": "ดาวน์โหลด",
    "No exports yet.": "ยังไม่มีการส่งออกข้อมูล",
    "To export a form, open it and choose “Export”. Finished files are kept for a few days.":
        "หากต้องการส่งออกข้อมูล ให้เปิดแบบฟอร์มแล้วเลือก “ส่งออก” ไฟล์ที่เสร็จแล้วจะเก็บไว้ไม่กี่วัน",
    "File": "ไฟล์",
    "Excel workbook (.xlsx), one sheet per repeat": "ไฟล์ Excel (.xlsx) แยกแผ่นงานตามกลุ่มคำถามซ้ำ",
    "CSV files (zipped), one per repeat": "ไฟล์ CSV (บีบอัด zip) แยกไฟล์ตามกลุ่มคำถามซ้ำ",
    "Language of labels": "ภาษาของข้อความ",
    "Column headers": "หัวคอลัมน์",
    "names and labels (two header rows)": "ชื่อและข้อความคำถาม (หัวตารางสองแถว)",
    "names only": "ชื่อเท่านั้น",
    "labels only": "ข้อความคำถามเท่านั้น",
    "Answers to choice questions": "คำตอบของคำถามแบบเลือก",
    "labels": "ข้อความตัวเลือก",
    "names (codes)": "ชื่อ (รหัส)",
    "Which submissions": "ข้อมูลที่จะส่งออก",
    "only those new since my last export of this form": "เฉพาะข้อมูลใหม่หลังจากที่ฉันส่งออกแบบฟอร์มนี้ครั้งล่าสุด",
    "also a zip of the photos and other files": "รวมไฟล์ zip ของภาพถ่ายและไฟล์อื่น ๆ ด้วย",
    "Start the export": "เริ่มส่งออกข้อมูล",
    "Exports of this form": "การส่งออกข้อมูลของแบบฟอร์มนี้",
    "This export option is not valid: {option}.": "ตัวเลือกการส่งออกนี้ไม่ถูกต้อง: {option}",
    "The export has started. It appears below when it is ready.": "เริ่มส่งออกข้อมูลแล้ว ไฟล์จะแสดงด้านล่างเมื่อเสร็จ",
    "This export is not ready.": "การส่งออกนี้ยังไม่เสร็จ",
    "This export file is no longer kept. Start a new export.": "ไม่มีไฟล์ส่งออกนี้แล้ว โปรดเริ่มส่งออกใหม่",
}
