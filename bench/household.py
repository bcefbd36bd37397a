"""What both benchmarks make households from: Thai names and words, and an XLSForm built from rows.

The benchmarks run as scripts (``python bench/export.py``), so this module is
found beside them.
"""

from __future__ import annotations

from io import BytesIO

THAI_GIVEN = ["สมชาย", "นา", "คำ", "แสง", "บุญมี", "จันทร์", "อาหมี่", "หมี่เซ", "ใบตอง", "ดวงใจ", "ลาเซอ", "อาผ่า"]
THAI_FAMILY = ["ใจดี", "แสงดี", "เชอมือ", "แซ่ลี", "จะทอ", "มาเยอะ", "ศรีสุข", "คำมา", "แก้วใส", "อายี่"]
THAI_WORDS = ["บ้าน", "หมู่ที่", "ตำบล", "อำเภอ", "ดอย", "ห้วย", "โรงพยาบาล", "แม่สาย", "เชียงราย", "ไร่", "นา"]


def xlsform(survey: list[tuple], lists: dict[str, list[str]], settings: dict[str, str], thai: dict[str, str]) -> bytes:
    """An XLSForm with Thai and English labels: ``survey`` rows are (type, name, Thai label, English
    label); a choice's Thai label is ``thai[name]`` when given, else its name; ``settings`` is the one
    row of the settings sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label::Thai (th)", "label::English (en)"])
    for row in survey:
        sheet.append(list(row))
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", "label::Thai (th)", "label::English (en)"])
    for list_name, names in lists.items():
        for name in names:
            choices.append([list_name, name, thai.get(name, name), name])
    sheet = workbook.create_sheet("settings")
    sheet.append(list(settings))
    sheet.append(list(settings.values()))
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
