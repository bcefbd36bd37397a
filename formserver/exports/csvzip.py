"""A streaming writer of zipped CSV files, one file per table.

It has the table-oriented interface of ``spreadsheet.Workbook`` so an export
can write either format with the same code:

    with CsvZip("export.zip") as archive:
        sheet = archive.add_sheet("households")
        sheet.write_row(["id", "name", "visited"], style="header")
        sheet.write_row([1, "สมชาย", datetime.date(2024, 5, 1)])

Each table becomes ``<name>.csv`` in the zip (deflated), UTF-8 with a byte
order mark by default so that Excel shows Thai and other scripts correctly
(``bom=False`` leaves it out), RFC 4180 quoting and CRLF line ends.

Values are written plainly, as ODK Central's CSV export does:

- ``None``: an empty field;
- ``bool``: ``true`` / ``false`` (the XML Schema words ODK submissions use);
- numbers: ``str(value)`` (``repr`` for floats), untouched;
- ``datetime`` / ``date`` / ``time``: ISO 8601 (``value.isoformat()``; an
  aware date-time keeps its offset, e.g. ``2024-05-01T13:45:30+07:00``);
- ``Hyperlink``: its url;
- anything else: ``str(value)``.  Lone surrogates, which UTF-8 cannot hold,
  are dropped.

Formula injection: spreadsheet programs run a CSV field as a formula when it
starts with ``=``, ``+``, ``-`` or ``@`` (and some when it starts with a tab
or carriage return).  Such text gets a leading single quote (``'=1+1``),
unless it is a plain number such as ``-5``, ``+66812345678`` or ``1e5``,
which stays as it is (a number cannot run anything).  Only text is changed
this way; numeric values are never prefixed.  Excel shows the quote, which
is the accepted price (OWASP's advice for CSV exports).
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
from typing import Iterable, Sequence

from .spreadsheet import Hyperlink
from .zipstream import ZipStream

__all__ = ["CsvSheet", "CsvTable", "CsvZip", "FORMULA_FIRST", "MAX_FILE_NAME_CHARS", "csv_field", "guard_formula"]

MAX_FILE_NAME_CHARS = 100  # without the ".csv" suffix
_BOM = "\ufeff"
_FLUSH_CHARS = 1 << 20
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(_FORMULA_STARTS)  # text whose first character is one of these may need a guard
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?").fullmatch
_UNSAFE_FILE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|\ud800-\udfff]')
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{n}" for n in range(1, 10)]
    + [f"LPT{n}" for n in range(1, 10)]
)


def guard_formula(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would run it as a formula."""
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER(text):
        return "'" + text
    return text


def csv_field(value: object) -> object:
    """One CSV field (a str, or a number the csv module writes with str())."""
    kind = type(value)
    if kind is str:
        return guard_formula(value) if value.startswith(_FORMULA_STARTS) else value
    if value is None or kind is int or kind is float:
        return value
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, (_dt.date, _dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, Hyperlink):
        return guard_formula(str(value.url or ""))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    return guard_formula(str(value))


def _safe_file_name(name: object) -> str:
    """A file name that is safe on Windows, macOS and Linux (without suffix)."""
    text = _UNSAFE_FILE_CHARACTERS.sub("_", str(name)).strip()
    if text.lower().endswith(".csv"):
        text = text[:-4]
    text = text.strip(" .")[:MAX_FILE_NAME_CHARS].strip(" .")
    if not text:
        return "table"
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text += "_"
    return text


# Row converters: a row's fields are made by a function generated for rows
# of its width, one list display with an inline test per value, so that
# the common values (text that is not formula-like, numbers, None) cost no
# call; any other value goes through csv_field.
_PLAIN_TYPES = frozenset({str, int, float, type(None)})
_PLAIN_FIELD = "(FIELD(x) if (x := v[{i}]).__class__ not in PLAIN or x.__class__ is str and x[:1] in FIRST else x)"
_CONVERTERS: dict[int, object] = {}


def _converter(width: int):
    """The (cached) function making the CSV fields of a row of ``width`` values."""
    function = _CONVERTERS.get(width)
    if function is None:
        cells = ", ".join(_PLAIN_FIELD.format(i=index) for index in range(width))
        namespace = {"__builtins__": {}, "str": str, "PLAIN": _PLAIN_TYPES, "FIRST": FORMULA_FIRST, "FIELD": csv_field}
        exec(compile(f"def fields(v):\n    return [{cells}]\n", "<csv row>", "exec"), namespace)  # noqa: S102
        function = _CONVERTERS[width] = namespace["fields"]
    return function


class _Sink:
    """What csv.writer writes to: rows land in a list of strings."""

    __slots__ = ("write",)


class CsvSheet:
    """One CSV file being written; get it from ``CsvZip.add_sheet``.

    ``name`` is its file name inside the zip (``households.csv``);
    ``rows_written`` counts every row, header rows included.
    """

    def __init__(self, archive: "CsvZip", name: str):
        self.name = name
        self.rows_written = 0
        self._archive = archive
        self._buffer: list[str] = [_BOM] if archive.bom else []
        self._buffered = 0
        sink = _Sink()
        sink.write = self._buffer.append
        self._writer = csv.writer(sink, lineterminator="\r\n")
        self._entry = archive._zip.open_entry(name)
        self._open = True

    def write_row(self, values: Sequence[object] | Iterable[object], *,
                  style: str | None = None) -> None:
        """Write the next row (``style`` is accepted and ignored: CSV has none)."""
        if type(values) is not list and type(values) is not tuple:
            values = list(values)
        convert = _CONVERTERS.get(len(values)) or _converter(len(values))
        self.write_fields(convert(values))

    def write_fields(self, fields: list) -> None:
        """Write a row of CSV fields as ``csv_field`` makes them (the caller made them safe)."""
        if not self._open:
            raise RuntimeError(f"{self.name!r} is finished")
        buffer = self._buffer
        self._writer.writerow(fields)
        self.rows_written += 1
        self._buffered += len(buffer[-1])
        if self._buffered > _FLUSH_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            data = "".join(self._buffer).encode("utf-8", "ignore")  # drops lone surrogates
            self._buffer.clear()
            self._buffered = 0
            self._entry.write(data)

    def _finish(self) -> None:
        if self._open:
            self._open = False
            self._flush()
            self._entry.close()


class CsvTable:
    """A CSV file that starts with header rows (CSV has no row limit).

    With ``ready`` the rows written are CSV fields already (each made by
    ``csv_field``, or by a row function compiled for CSV) and are written as
    they are; otherwise every value is converted.
    """

    def __init__(self, sheet: CsvSheet, header_rows: Sequence[Sequence[object]], ready: bool = False):
        self.sheets = [sheet]
        self.name = sheet.name
        for row in header_rows:
            sheet.write_row(row, style="header")
        self._header_count = sheet.rows_written
        self.write_row = sheet.write_fields if ready else sheet.write_row

    @property
    def rows_written(self) -> int:
        """Data rows, header rows not counted."""
        return self.sheets[0].rows_written - self._header_count

    @property
    def sheet(self) -> CsvSheet:
        return self.sheets[0]

    @property
    def sheet_names(self) -> list[str]:
        return [self.name]


class CsvZip:
    """A zip of CSV files, streamed to ``target`` (a path or a binary file object).

    The file object need not be seekable and is not closed by ``close()``.
    Every file can be written until the archive closes (the files are
    written side by side as ``spreadsheet.Workbook`` writes its sheets);
    ``background`` and ``spool_dir`` as for ``spreadsheet.Workbook``.
    """

    def __init__(self, target, *, bom: bool = True, compresslevel: int = 1,
                 background: bool = True, spool_dir=None):
        self.bom = bom
        self._zip = ZipStream(target, compresslevel=compresslevel, background=background, spool_dir=spool_dir)
        self._sheets: list[CsvSheet] = []
        self._used_names: set[str] = set()
        self._closed = False

    @property
    def sheets(self) -> list[CsvSheet]:
        return list(self._sheets)

    @property
    def zip_stream(self) -> ZipStream:
        """The archive itself, for other files beside the CSV files (an export's ``media/``)."""
        return self._zip

    def _unique_name(self, name: str) -> str:
        candidate = name
        number = 1
        while candidate.casefold() in self._used_names:
            number += 1
            candidate = f"{name}_{number}"
        self._used_names.add(candidate.casefold())
        return candidate + ".csv"

    def add_sheet(self, name: str, *, freeze_rows: int = 0, autofilter: bool = False,
                  column_widths: list[float] | None = None) -> CsvSheet:
        """Start ``<name>.csv``.

        ``freeze_rows``, ``autofilter`` and ``column_widths`` are accepted
        for compatibility with ``Workbook.add_sheet`` and ignored.
        """
        if self._closed:
            raise ValueError("the archive is closed")
        sheet = CsvSheet(self, self._unique_name(_safe_file_name(name)))
        self._sheets.append(sheet)
        return sheet

    def add_table(self, name: str, header_rows: Sequence[Sequence[object]], *,
                  freeze_rows: int | None = None, autofilter: bool = False,
                  column_widths: list[float] | None = None,
                  max_rows: int | None = None, ready: bool = False) -> CsvTable:
        """Start ``<name>.csv`` with ``header_rows``; ``ready`` as for ``CsvTable``, the other
        arguments are ignored."""
        return CsvTable(self.add_sheet(name), header_rows, ready)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for sheet in self._sheets:
            sheet._finish()
        self._zip.close()

    def __enter__(self) -> "CsvZip":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def abort(self) -> None:
        """Stop without finishing the file: what was written is not a valid archive."""
        self._closed = True
        self._zip.abort()
