"""Hand-made cross-tables of the household intake form, for the tests of everything that shows one.

Each holds counts from 1 to 4 (which must never be read anywhere once suppressed), zeros, Thai and
English labels from the form, and the totals a counting would give: ``crosstable`` sums them when
the dimensions add up and takes them as given when one is a select_multiple (a household holds
several documents, so its column totals are the numbers of households that answered).
"""

from __future__ import annotations

from formserver.network.table import MONTH, Choice, CrossTable, Dimension, TableRequest

ORGANISATIONS = ("hillnet", "mae-sai-legal", "tak-rights")


def dimension(name: str, en: str, th: str, choices, multiple: bool = False) -> Dimension:
    """A dimension from ``(name, th, en)`` choices, as the form's choices sheet lists them."""
    return Dimension(
        name=name, labels={"en": en, "th": th},
        choices=tuple(Choice(c, {"th": t, "en": e}) for c, t, e in choices), multiple=multiple,
    )


LEGAL_STATUS = dimension("legal_status", "Legal status", "สถานะทางกฎหมาย", [
    ("thai", "มีสัญชาติไทย", "Thai national"),
    ("s7bis", "บุตรคนต่างด้าวเกิดในไทย (ม.7 ทวิ)", "Born in Thailand to alien parents (s.7 bis)"),
    ("no_reg_status", "บุคคลที่ไม่มีสถานะทางทะเบียน (เลข 0)", "No registration status (number 0)"),
    ("migrant", "แรงงานข้ามชาติ (ท.ร.38/1)", "Migrant worker (ท.ร.38/1)"),
    ("undocumented", "ไร้เอกสาร ไม่มีเลข 13 หลัก", "Undocumented, no 13-digit number"),
])

PROVINCE = dimension("province", "Province", "จังหวัด", [
    ("50", "เชียงใหม่", "Chiang Mai"),
    ("57", "เชียงราย", "Chiang Rai"),
    ("58", "แม่ฮ่องสอน", "Mae Hong Son"),
    ("63", "ตาก", "Tak"),
])

DOCUMENTS = dimension("documents", "Documents held", "เอกสารที่มี", [
    ("tr20_1", "ท.ร.20/1 สูติบัตร", "ท.ร.20/1 birth certificate"),
    ("house_reg_tr14", "ทะเบียนบ้าน ท.ร.14 (เล่มสีน้ำเงิน)", "House register ท.ร.14 (blue book)"),
    ("card_no_status", "บัตรประจำตัวบุคคลที่ไม่มีสถานะทางทะเบียน", "ID card for persons without registration status"),
    ("none", "ไม่มี", "None"),
], multiple=True)

SEX = dimension("sex", "Sex", "เพศ", [
    ("male", "ชาย", "Male"),
    ("female", "หญิง", "Female"),
    ("other", "อื่น ๆ หรือไม่ประสงค์ระบุ", "Other or prefers not to say"),
])

MONTHS = Dimension(
    name=MONTH, labels={"en": "Month", "th": "เดือน"},
    choices=tuple(Choice(f"2026-{m:02d}") for m in range(1, 9)),
)


def crosstable(rows: Dimension, columns: Dimension | None, grid, *, row_totals=None, column_totals=None,
               total=None, unit="member", without_identity=0) -> CrossTable:
    """A cross-table from a grid of counts (one list per row choice; one number per row when
    ``columns`` is None). Totals not given are sums."""
    row_names = [c.name for c in rows.choices]
    if columns is None:
        counts = {(r, None): n for r, n in zip(row_names, grid)}
        row_totals = dict(zip(row_names, grid)) if row_totals is None else row_totals
        column_totals = column_totals or {}
    else:
        column_names = [c.name for c in columns.choices]
        counts = {(r, c): n for r, line in zip(row_names, grid) for c, n in zip(column_names, line)}
        if row_totals is None:
            row_totals = {r: sum(line) for r, line in zip(row_names, grid)}
        if column_totals is None:
            column_totals = {c: sum(line[j] for line in grid) for j, c in enumerate(column_names)}
    if total is None:
        total = sum(row_totals.values()) if columns is None or not rows.multiple else sum(column_totals.values())
    request = TableRequest(form_id="household_status_intake", rows=rows.name,
                           columns=None if columns is None else columns.name, unit=unit)
    return CrossTable(request=request, rows=rows, columns=columns, counts=counts, row_totals=row_totals,
                      column_totals=column_totals, total=total, organisations=ORGANISATIONS,
                      without_identity=without_identity)


def legal_status_by_province() -> CrossTable:
    """Persons by legal status and province: small counts in every row but one."""
    return crosstable(LEGAL_STATUS, PROVINCE, [
        [120, 85, 3, 40],
        [14, 9, 0, 2],
        [61, 77, 25, 18],
        [8, 1, 6, 30],
        [4, 0, 0, 11],
    ], without_identity=3)


def documents_by_sex() -> CrossTable:
    """Persons by documents held (select_multiple: the rows do not add up) and sex. A column's
    total is the number of persons who answered; a row's total is the persons holding it."""
    return crosstable(DOCUMENTS, SEX, [
        [40, 38, 2],
        [22, 25, 1],
        [17, 3, 0],
        [9, 11, 4],
    ], column_totals={"male": 70, "female": 66, "other": 6})


def legal_status() -> CrossTable:
    """Persons by legal status alone (horizontal bars): two rows under 5."""
    return crosstable(LEGAL_STATUS, None, [207, 25, 181, 3, 1])


def months() -> CrossTable:
    """Households registered by month (a line): one month under 5, one with none."""
    return crosstable(MONTHS, None, [31, 44, 2, 0, 28, 39, 51, 47], unit=None)
