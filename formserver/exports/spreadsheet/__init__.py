"""A small streaming writer for Excel workbooks (.xlsx, SpreadsheetML).

It writes exactly what the data export needs, and it writes it fast and in
constant memory: every row goes straight into the deflated zip entry of its
sheet (the first sheet into the file, the others into temporary files until
the first is done, so that all sheets can be written side by side), and a
sheet's hyperlinks wait in a temporary file for the end of the sheet; only a
few counters stay in memory.

    with Workbook("export.xlsx") as workbook:
        sheet = workbook.add_sheet("households", freeze_rows=1, autofilter=True)
        sheet.write_row(["id", "name", "visited"], style="header")
        sheet.write_row([1, "สมชาย", datetime.date(2024, 5, 1)])

Cell values are typed by their Python type:

- ``None`` and ``""``: no cell;
- ``bool``: a boolean cell;
- ``int``, ``float``, ``Decimal``: a number.  NaN and infinities are written as
  text, and so are integers of 16 digits or more (Excel keeps only 15
  significant digits and would silently change them);
- ``str``: an inline string (``t="inlineStr"``), so text is never a formula
  and a 13-digit identifier such as "0570189001238" stays text.  Characters
  that XML 1.0 forbids are removed; text longer than 32,767 characters is cut
  and ends with a visible "…[cut: N characters]" marker;
- ``datetime.datetime`` / ``date`` / ``time``: a serial number with a
  ``yyyy-mm-dd hh:mm:ss`` / ``yyyy-mm-dd`` / ``hh:mm:ss`` format.  The wall
  clock time is written as it is; a time zone is ignored (convert first).
  Dates before 1900-01-01, which Excel cannot show, are written as ISO text;
- ``Hyperlink(url, text)``: the text (the url when there is none) in a blue
  underlined cell that links to the url;
- anything else: ``str(value)`` as text.

Speed: rows are rendered by a Python function generated for the column
types a sheet learns from its values (``rows.py``); anything unusual falls
back to a careful cell-by-cell path (``cells.py``), which defines the output.
Deflating runs in a worker thread unless ``background=False``; the zip
container is ``exports/zipstream.py``.

The parts, each importing the ones it needs directly (never this package):
``workbook.py`` (the workbook, its tab order and package parts), ``sheet.py``
(a sheet and a table of numbered sheets), ``rows.py`` (the generated row
functions), ``cells.py`` (one cell of any value: text, numbers, dates) and
``styles.py`` (the styles part).
"""

from .cells import MAX_CELL_CHARS, Hyperlink, column_letter
from .sheet import MAX_COLUMNS, MAX_HYPERLINKS, MAX_ROWS, MAX_SHEET_NAME_CHARS, RowLimitError, Sheet, Table
from .workbook import Workbook

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_HYPERLINKS",
    "MAX_ROWS",
    "MAX_SHEET_NAME_CHARS",
    "Hyperlink",
    "RowLimitError",
    "Sheet",
    "Table",
    "Workbook",
    "column_letter",
]
