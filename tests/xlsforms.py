"""Small XLSForms built in memory for tests, so each test shows the rows it depends on."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook


def xlsform(survey: list[dict], choices: list[dict] | None = None, settings: dict | None = None) -> bytes:
    workbook = Workbook()
    _sheet(workbook.active, "survey", survey)
    if choices:
        _sheet(workbook.create_sheet(), "choices", choices)
    if settings:
        _sheet(workbook.create_sheet(), "settings", [settings])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet(sheet, title: str, rows: list[dict]) -> None:
    sheet.title = title
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column) for column in columns])


def simple_form(form_id: str = "simple", version: str | None = "1", title: str = "Simple", extra: list[dict] = ()) -> bytes:
    settings = {"form_id": form_id, "form_title": title}
    if version is not None:
        settings["version"] = version
    survey = [
        {"type": "text", "name": "name", "label": "Name"},
        {"type": "integer", "name": "age", "label": "Age"},
        *extra,
    ]
    return xlsform(survey, settings=settings)
