"""The generated row functions (``spreadsheet/rows.py``): they write the same XML as the careful
cell-by-cell path for values of any type, and exports in several threads share them safely."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import openpyxl

from formserver.exports.spreadsheet import Hyperlink, Workbook, cells
from formserver.exports.spreadsheet import rows as row_functions

from .spreadsheets import OTHER_SCRIPTS, THAI


def test_exports_can_run_in_several_threads_at_once(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(cells, "_COLUMNS", [])  # grow the shared letters concurrently
    monkeypatch.setattr(row_functions, "_COMPILED", {})
    widths = [300, 700, 1200, 2000]

    def export(width):
        path = tmp_path / f"wide-{width}.xlsx"
        with Workbook(path) as workbook:
            sheet = workbook.add_sheet("wide")
            for number in range(20):
                sheet.write_row([f"{number}:{column}" for column in range(width)])
        return path

    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(export, widths))
    for width, path in zip(widths, paths):
        worksheet = openpyxl.load_workbook(path, read_only=True).active
        last = list(worksheet.iter_rows(min_row=20, max_row=20, values_only=True))[0]
        assert len(last) == width and last[-1] == f"19:{width - 1}"
    assert cells._COLUMNS == [cells.column_letter(n) for n in range(1, 2001)]


def value_makers(rng):
    """Functions making values of one type each, edge cases included."""
    return [
        lambda: rng.choice(["", *THAI, *OTHER_SCRIPTS, "yes", "no", "a & b", "<x>", " pad ", "_x0041_",
                            "l1\nl2", "\x01", "a|b", "ok"]),
        lambda: rng.choice([rng.randrange(-10**6, 10**6), 10**15, -(10**15), 10**20, 0]),
        lambda: rng.choice([rng.uniform(-1e6, 1e6), float("nan"), float("inf"), 0.0, -0.0, 1e300, 1e-300]),
        lambda: rng.random() < 0.5,
        lambda: dt.date(1899 + rng.randrange(200), 1 + rng.randrange(12), 1 + rng.randrange(28)),
        lambda: rng.choice([
            dt.datetime(1899 + rng.randrange(200), 3, 1, rng.randrange(24), rng.randrange(60),
                        rng.randrange(60), rng.randrange(10**6)),
            dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc),
        ]),
        lambda: rng.choice([Decimal(rng.randrange(10**6)) / 100, Decimal("NaN"), Decimal("1E+400"), Decimal("-0")]),
        lambda: dt.time(rng.randrange(24), rng.randrange(60)),
        lambda: Hyperlink(f"https://example.org/{rng.randrange(100)}/ภาพ.jpg", rng.choice([None, "ภาพ.jpg", ""])),
    ]


def test_row_functions_take_values_of_any_type_in_any_column(tmp_path):
    rng = random.Random(7)
    makers = value_makers(rng)
    mixed = lambda: rng.choice(makers)()  # noqa: E731 - a column whose values change type
    compared = 0
    with Workbook(tmp_path / "mixed.xlsx") as workbook:
        sheet = workbook.add_sheet("mixed")
        for _ in range(2000):
            row = [None if rng.random() < 0.3 else mixed() for _ in range(9)]
            sheet.write_row(row)
            fast = sheet._profile.render(row, "7", sheet._other_cell)
            if fast is not None:
                assert fast.encode("latin-1") == sheet._render_cells(row, "7").encode("utf-8"), row
                compared += 1
    assert compared > 200


def test_generated_row_functions_and_cell_by_cell_rows_give_the_same_xml(tmp_path):
    rng = random.Random(20240501)
    makers = value_makers(rng)
    compared = 0
    with Workbook(tmp_path / "paths.xlsx") as workbook:
        for _ in range(6):
            sheet = workbook.add_sheet("paths")
            columns = [rng.choice(makers) for _ in range(rng.randrange(1, 15))]
            for _ in range(600):
                row = [None if rng.random() < 0.2 else make() for make in columns]
                sheet.write_row(row)  # learns the column types and grows the column letters
                fast = sheet._profile.render(row, "7", sheet._other_cell)
                if fast is not None:
                    assert fast.encode("latin-1") == sheet._render_cells(row, "7").encode("utf-8"), row
                    compared += 1
    assert compared > 500


def test_an_empty_row_is_written_as_a_blank_line(tmp_path):
    with Workbook(tmp_path / "blank.xlsx") as workbook:
        sheet = workbook.add_sheet("blank")
        sheet.write_row(["above"])
        sheet.write_row([])
        sheet.write_row(["below"])
    rows = list(openpyxl.load_workbook(tmp_path / "blank.xlsx").active.iter_rows(values_only=True))
    assert [row[0] for row in rows] == ["above", None, "below"]
