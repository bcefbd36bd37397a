"""Shown tables taken away: an XLSX workbook for people, a CSV file for the command line, and the
JSON a published snapshot keeps.

All three start from ``ShownTable``s, which hold no hidden count: a hidden one is written as its
mark (``<5``, ``x``), never as a number. The workbook uses formserver's streaming writer, which
writes every text as an inline string (a label such as ``=HYPERLINK(…)`` stays text); the CSV
file guards such text with a leading ``'`` as the exports do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Sequence

from ..exports.csvzip import guard_formula
from ..exports.spreadsheet.workbook import Workbook
from ..translations import Np_, translate
from .table import Choice, Dimension, Shown, ShownTable, TableRequest
from .words import (
    DEDUPLICATION, TOTAL, choice_label, mark_notes, table_title, unit_label,
)

METHOD_SHEET = "method"
CSV_TOTAL = "total"
JSON_VERSION = 1

METHOD = Np_("network method", "Method")
MADE = Np_("network method", "Made")
SMALLEST = Np_("network method", "Smallest count shown (k)")
DEDUPLICATION_RULE = Np_("network method", "De-duplication")
TABLE = Np_("network method", "Table")
SHEET = Np_("network method", "Sheet")
FORM = Np_("network method", "Form")
PERIOD = Np_("network method", "Period")
ALL_MONTHS = Np_("network method", "All months")
FILTERS = Np_("network method", "Filters")
NO_FILTER = Np_("network method", "None")
UNIT = Np_("network method", "Unit")
ORGANISATIONS = Np_("network method", "Organisations included")
WITHOUT_IDENTITY = Np_("network method", "Counted without an ID number (not de-duplicated)")


# -- XLSX -----------------------------------------------------------------------------------


def write_workbook(target, tables: Sequence[ShownTable], language: str, *,
                   made: dt.datetime | None = None, background: bool = True) -> None:
    """One sheet per table, then the sheet ``method``; ``target`` is a path or a binary file
    (need not seek: an HTTP response works)."""
    made = made or dt.datetime.now(dt.timezone.utc)
    with Workbook(target, background=background) as book:
        names = []
        for shown in tables:
            sheet = book.add_sheet(table_title(shown, language), freeze_rows=1)
            names.append(sheet.name)
            for number, row in enumerate(table_rows(shown, language)):
                sheet.write_row(row, style="header" if number == 0 else None)
            notes = mark_notes(shown, language)
            if notes:
                sheet.write_row([None])  # a blank row between the table and what its marks mean
            for note in notes:
                sheet.write_row([note])
        method = book.add_sheet(METHOD_SHEET, column_widths=[34, 80])
        for number, row in enumerate(_method_rows(tables, names, language, made)):
            method.write_row(row, style="header" if number == 0 else None)


def table_rows(shown: ShownTable, language: str) -> list[list]:
    """The table as rows of cells: a header of the column choices' labels and Total, a row per row
    choice, a Total row; a shown count is a number, a hidden one its mark. Nothing but the header
    when the table is withheld."""
    total = translate(TOTAL, language)
    columns = () if shown.columns is None else shown.columns.choices
    header = [shown.rows.label(language), *(choice_label(c, language) for c in columns), total]
    if shown.withheld:
        return [header]
    rows = [header]
    for choice in shown.rows.choices:
        cells = [shown.cells[(choice.name, c.name)] for c in columns]
        rows.append([choice_label(choice, language), *map(_cell, cells), _cell(shown.row_totals[choice.name])])
    rows.append([total, *(_cell(shown.column_totals[c.name]) for c in columns), _cell(shown.total)])
    return rows


def _cell(value: Shown) -> int | str:
    return value.mark if value.count is None else value.count


def _method_rows(tables: Sequence[ShownTable], names: list[str], language: str, made: dt.datetime) -> list[list]:
    """How the figures were made: the rules shared by every table, then each table's own."""
    say = lambda message: translate(message, language)  # noqa: E731
    k_values = sorted({shown.k for shown in tables})
    rows = [
        [say(METHOD), ""],
        [say(MADE), made.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")],
        [say(SMALLEST), k_values[0] if len(k_values) == 1 else ", ".join(map(str, k_values))],
        [say(DEDUPLICATION_RULE), say(DEDUPLICATION)],
    ]
    for shown, name in zip(tables, names):
        request = shown.request
        rows += [
            [None],
            [say(TABLE), table_title(shown, language)],
            [say(SHEET), name],
            [say(FORM), request.form_id],
            [say(PERIOD), _period(request, language)],
            [say(FILTERS), _filters(request) or say(NO_FILTER)],
            [say(UNIT), unit_label(shown, language)],
            [say(ORGANISATIONS), ", ".join(shown.organisations)],
            [say(WITHOUT_IDENTITY), "" if shown.without_identity is None else _cell(shown.without_identity)],
        ]
    return rows


def _period(request: TableRequest, language: str) -> str:
    if request.since is None and request.until is None:
        return translate(ALL_MONTHS, language)
    return f"{request.since.isoformat() if request.since else '…'} – {request.until.isoformat() if request.until else '…'}"


def _filters(request: TableRequest) -> str:
    return "; ".join(f"{field} = {', '.join(choices)}" for field, choices in sorted(request.filters.items()))


# -- CSV ------------------------------------------------------------------------------------


def table_csv(shown: ShownTable) -> str:
    """The table for ``formserver network table … -o FILE.csv``: a header of the row field's name,
    the column dimension's choice names and ``total``; a row per row choice name, then ``total``.
    Hidden counts as their marks; a withheld table has its header and a ``total`` row whose only
    value is the mark."""
    columns = () if shown.columns is None else shown.columns.choices
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([guard_formula(name) for name in (shown.rows.name, *(c.name for c in columns), CSV_TOTAL)])
    if shown.withheld:
        writer.writerow([CSV_TOTAL, *("" for _ in columns), shown.total.text])
        return out.getvalue()
    for choice in shown.rows.choices:
        values = [shown.cells[(choice.name, c.name)] for c in columns] + [shown.row_totals[choice.name]]
        writer.writerow([guard_formula(choice.name), *(v.text for v in values)])
    writer.writerow([CSV_TOTAL, *(shown.column_totals[c.name].text for c in columns), shown.total.text])
    return out.getvalue()


# -- JSON -----------------------------------------------------------------------------------


def to_json(shown: ShownTable) -> dict:
    """What a published snapshot keeps: the shown numbers and marks, the labels, the request."""
    request = shown.request
    return {
        "version": JSON_VERSION,
        "request": {
            "form_id": request.form_id, "rows": request.rows, "columns": request.columns, "unit": request.unit,
            "since": request.since and request.since.isoformat(), "until": request.until and request.until.isoformat(),
            "filters": {field: list(choices) for field, choices in request.filters.items()},
        },
        "rows": _dimension_json(shown.rows),
        "columns": None if shown.columns is None else _dimension_json(shown.columns),
        "k": shown.k,
        "cells": [[r, c, _cell(v)] for (r, c), v in shown.cells.items()],
        "row_totals": {name: _cell(v) for name, v in shown.row_totals.items()},
        "column_totals": {name: _cell(v) for name, v in shown.column_totals.items()},
        "total": _cell(shown.total),
        "organisations": list(shown.organisations),
        "withheld": shown.withheld,
        "without_identity": None if shown.without_identity is None else _cell(shown.without_identity),
        "unit_labels": {language: str(label) for language, label in shown.unit_labels.items()},
    }


def from_json(data: dict) -> ShownTable:
    """The ``ShownTable`` a snapshot kept (see ``to_json``)."""
    if data.get("version") != JSON_VERSION:
        raise ValueError(f"unknown snapshot version {data.get('version')!r}")
    request = data["request"]
    return ShownTable(
        request=TableRequest(
            form_id=request["form_id"], rows=request["rows"], columns=request["columns"], unit=request["unit"],
            since=_date(request["since"]), until=_date(request["until"]),
            filters={field: tuple(choices) for field, choices in request["filters"].items()},
        ),
        rows=_dimension(data["rows"]),
        columns=None if data["columns"] is None else _dimension(data["columns"]),
        k=data["k"],
        cells={(r, c): _shown(v) for r, c, v in data["cells"]},
        row_totals={name: _shown(v) for name, v in data["row_totals"].items()},
        column_totals={name: _shown(v) for name, v in data["column_totals"].items()},
        total=_shown(data["total"]),
        organisations=tuple(data["organisations"]),
        withheld=data["withheld"],
        without_identity=None if data["without_identity"] is None else _shown(data["without_identity"]),
        unit_labels={str(language): str(label) for language, label in data.get("unit_labels", {}).items()},
    )


def _dimension_json(dimension: Dimension) -> dict:
    return {
        "name": dimension.name, "labels": dict(dimension.labels), "multiple": dimension.multiple,
        "choices": [{"name": c.name, "labels": dict(c.labels)} for c in dimension.choices],
    }


def _dimension(data: dict) -> Dimension:
    return Dimension(
        name=data["name"], labels=dict(data["labels"]), multiple=data["multiple"],
        choices=tuple(Choice(c["name"], dict(c["labels"])) for c in data["choices"]),
    )


def _shown(value: int | str) -> Shown:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"not a shown count or mark: {value!r}")
    return Shown(value) if isinstance(value, int) else Shown(None, value)


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)
