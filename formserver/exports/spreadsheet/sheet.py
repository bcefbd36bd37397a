"""One worksheet being written, and a table that continues on numbered sheets.

A sheet streams: its rows are rendered (by the generated row functions of
``rows.py`` when they can, cell by cell otherwise), buffered up to about a
megabyte and written into the sheet's zip entry; its hyperlinks wait in a
temporary file for the end of the sheet, where their element goes.
"""

from __future__ import annotations

import io
import re
from typing import Iterable, Sequence
from urllib.parse import quote as _quote

from .cells import (
    ILLEGAL_XML,
    INT_LIMIT,
    LONG_TEXT,
    Hyperlink,
    byte_text,
    column_letters,
    cut_utf16,
    escape_attr,
    fallback_cell,
    text_cell,
    value_cell,
)
from ..spool import temporary_file
from .rows import Profile
from .styles import STYLE_ATTRIBUTES

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_SHEET_NAME_CHARS = 31
# Excel drops the hyperlinks of a worksheet beyond 65,530 and does not accept
# link addresses longer than 2,079 characters; such links are written as text.
MAX_HYPERLINKS = 65_530
MAX_URL_CHARS = 2_079
_FLUSH_CHARS = 1 << 20  # buffered XML bytes before they are deflated

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


class RowLimitError(ValueError):
    """Raised when a sheet already holds Excel's maximum of rows."""


# --------------------------------------------------------------------------
# Sheet names
# --------------------------------------------------------------------------

_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def sanitise_sheet_name(name: object) -> str:
    """A name Excel accepts (before de-duplication)."""
    text = _SHEET_NAME_FORBIDDEN.sub("_", str(name)).strip("'")
    text = cut_utf16(text, MAX_SHEET_NAME_CHARS).rstrip("'")
    return text if text.strip() else "Sheet"


def with_suffix(name: str, suffix: str) -> str:
    return cut_utf16(name, MAX_SHEET_NAME_CHARS - len(suffix)) + suffix


def formula_sheet_name(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# --------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------


class Sheet:
    """One worksheet being written; get it from ``Workbook.add_sheet``.

    ``name`` is the name the sheet really has (sanitised and unique);
    ``rows_written`` counts every row written, header rows included.
    """

    def __init__(self, workbook, name: str, number: int, freeze_rows: int,
                 autofilter: bool, column_widths: Sequence[float | None] | None):
        self.name = name
        self.rows_written = 0
        self._workbook = workbook
        self._number = number
        self._freeze_rows = freeze_rows
        self._autofilter = autofilter
        self._column_widths = column_widths
        self._columns = column_letters(1)
        self._width = 0  # the widest row written, in cells
        self._last_header_row = 0
        self._links = _LinkSpool(workbook._spool_dir)
        self._entry = workbook._zip.open_entry(self.part_name)
        self._entry.write(self._head().encode("utf-8"))
        self._buffer: list[str] = []  # rows (byte text) waiting to be deflated
        self._buffered = 0  # characters (bytes) in _buffer
        self._profile: Profile | None = None  # of the newest width of rows without style
        self._open = True
        self._filter_range: str | None = None  # "$A$1:$D$9" once finished

    @property
    def part_name(self) -> str:
        return f"xl/worksheets/sheet{self._number}.xml"

    # -- writing -----------------------------------------------------------

    def _head(self) -> str:
        parts = [
            XML_DECLARATION,
            f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">',
            '<sheetViews><sheetView workbookViewId="0"',
            ' tabSelected="1">' if self._number == 1 else ">",
        ]
        if self._freeze_rows:
            top = f"A{self._freeze_rows + 1}"
            parts.append(
                f'<pane ySplit="{self._freeze_rows}" topLeftCell="{top}" '
                'activePane="bottomLeft" state="frozen"/>'
                f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
            )
        parts.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
        columns = []
        for index, width in enumerate(self._column_widths or (), start=1):
            if width is None or not width > 0:
                continue
            if index > MAX_COLUMNS:
                break
            width = min(float(width), 255.0)
            columns.append(f'<col min="{index}" max="{index}" width="{width!r}" customWidth="1"/>')
        if columns:
            parts.append("<cols>" + "".join(columns) + "</cols>")
        parts.append("<sheetData>")
        return "".join(parts)

    def _flush(self) -> None:
        if self._buffer:
            data = "".join(self._buffer).encode("latin-1")
            self._buffer.clear()
            self._buffered = 0
            self._entry.write(data)

    def write_row(self, values: Sequence[object] | Iterable[object], *,
                  style: str | None = None) -> None:
        """Write the next row; ``style="header"`` makes it bold (a header row)."""
        if not self._open:
            raise RuntimeError(f"sheet {self.name!r} is finished")
        if style is not None and style not in STYLE_ATTRIBUTES:
            raise ValueError(f"unknown row style {style!r}")
        row_number = self.rows_written + 1
        if row_number > MAX_ROWS:
            raise RowLimitError(f"sheet {self.name!r} already has {MAX_ROWS} rows")
        if type(values) is not list and type(values) is not tuple:
            values = list(values)
        count = len(values)
        if count > self._width:
            if count > MAX_COLUMNS:
                raise ValueError(f"a row has {count} values, Excel allows {MAX_COLUMNS} columns")
            self._width = count
            if count > len(self._columns):
                self._columns = column_letters(count)
        r = str(row_number)
        if style is None:
            profile = self._profile
            if profile is None or profile.width != count:
                profile = self._profile = Profile(values, self._columns)
            elif profile.unknown:
                profile.learn(values, self._columns)
            xml = profile.render(values, r, self._other_cell)
            if xml is None:
                xml = byte_text(self._render_cells(values, r))
        else:
            self._last_header_row = row_number
            xml = byte_text("".join(
                [f'<row r="{r}">']
                + [self._cell(column, r, value, style)
                   for column, value in zip(self._columns, values) if value is not None]
                + ["</row>"]
            ))
        self._buffer.append(xml)
        self._buffered += len(xml)
        self.rows_written = row_number
        if self._buffered > _FLUSH_CHARS:
            self._flush()

    def _render_cells(self, values: Sequence[object], r: str) -> str:
        """A row without style, cell by cell: handles every value."""
        parts = [f'<row r="{r}">']
        add = parts.append
        for column, value in zip(self._columns, values):
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                if (
                    "<" in value or "&" in value or "_x" in value or "]]>" in value
                    or not value.isprintable() or len(value) > LONG_TEXT
                ):
                    # Control characters (tab and newline too), markup,
                    # Excel escapes, very long text: the careful way.
                    add(text_cell(column, r, value, ""))
                elif value.strip() is value:
                    add(f'<c r="{column}{r}" t="inlineStr"><is><t>{value}</t></is></c>')
                else:
                    add(f'<c r="{column}{r}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>')
            elif kind is int:
                if -INT_LIMIT < value < INT_LIMIT:
                    add(f'<c r="{column}{r}"><v>{value}</v></c>')
                else:
                    add(text_cell(column, r, str(value), ""))
            elif value is None:
                continue
            elif kind is float:
                if value - value == 0.0:  # finite
                    add(f'<c r="{column}{r}"><v>{value!r}</v></c>')
                else:
                    add(text_cell(column, r, str(value), ""))
            elif kind is bool:
                add(f'<c r="{column}{r}" t="b"><v>{1 if value else 0}</v></c>')
            else:
                cell = self._cell(column, r, value, None)
                if cell:
                    add(cell)
        add("</row>")
        return "".join(parts)

    def _cell(self, column: str, r: str, value: object, style: str | None) -> str:
        """The XML of one cell of any type, in any row style ("" for no cell)."""
        if isinstance(value, Hyperlink):
            text_s, _, _, _, _, link_s = STYLE_ATTRIBUTES[style]
            return self._link_cell(column, r, value, text_s, link_s)
        return value_cell(column, r, value, style)

    def _other_cell(self, column: str, r: str, value: object) -> str:
        """A cell of a row without style that row functions leave aside, as byte text."""
        if isinstance(value, Hyperlink):
            return byte_text(self._link_cell(column, r, value, "", ' s="5"'))
        return fallback_cell(column, r, value)

    def _link_cell(self, column: str, r: str, link: Hyperlink, text_s: str, link_s: str) -> str:
        url = ILLEGAL_XML.sub("", str(link.url or "")).strip()
        text = link.text if link.text is not None else url
        if not url:
            return text_cell(column, r, str(text), text_s)
        # Relationship targets must be URIs: percent-encode spaces, non-ASCII
        # and other characters URIs do not allow; keep existing %XX escapes.
        target = _quote(url, safe="!#$%&'()*+,-./:;=?@[]_~")
        if len(self._links) >= MAX_HYPERLINKS or len(target) > MAX_URL_CHARS:
            return text_cell(column, r, url, text_s)  # keep the address, as text
        cell = text_cell(column, r, str(text), link_s)
        if not cell:  # a link needs a cell to sit on
            cell = text_cell(column, r, url, link_s)
        self._links.append((f"{column}{r}", target))
        return cell

    # -- finishing ---------------------------------------------------------

    def _finish(self) -> None:
        """Write the sheet's tail and its relationships; called by the workbook or its table."""
        if not self._open:
            return
        self._open = False
        self._buffer.append("</sheetData>")
        if self._autofilter and self.rows_written and self._width:
            top = self._last_header_row or self._freeze_rows or 1
            top = min(top, self.rows_written)
            last_column = self._columns[self._width - 1]
            self._buffer.append(f'<autoFilter ref="A{top}:{last_column}{self.rows_written}"/>')
            self._filter_range = f"$A${top}:${last_column}${self.rows_written}"
        links = self._links
        if links:
            self._buffer.append("<hyperlinks>")
            for number, (ref, _url) in enumerate(links, start=1):
                self._buffer.append(f'<hyperlink ref="{ref}" r:id="rId{number}"/>')
                if number % 4096 == 0:
                    self._flush()
            self._buffer.append("</hyperlinks>")
        self._buffer.append(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            "</worksheet>"
        )
        self._flush()
        self._entry.close()
        if links:
            entry = self._workbook._zip.open_entry(f"xl/worksheets/_rels/sheet{self._number}.xml.rels")
            parts = [XML_DECLARATION, f'<Relationships xmlns="{PKG_REL_NS}">']
            for number, (_ref, url) in enumerate(links, start=1):
                parts.append(
                    f'<Relationship Id="rId{number}" Type="{REL_NS}/hyperlink" '
                    f'Target="{escape_attr(url)}" TargetMode="External"/>'
                )
                if number % 4096 == 0:
                    entry.write("".join(parts).encode("utf-8"))
                    parts = []
            parts.append("</Relationships>")
            entry.write("".join(parts).encode("utf-8"))
            entry.close()
        links.close()


class _LinkSpool:
    """A sheet's hyperlinks (cell reference, address), in a temporary file until the sheet ends.

    Their ``<hyperlinks>`` element comes after ``<sheetData>`` and a sheet may
    have 65,530 of them: kept in memory they would grow the export with its
    size. The addresses are percent-encoded, so a space separates the two and
    a newline ends a link.
    """

    def __init__(self, spool_dir):
        self._spool_dir = spool_dir
        self._file = None
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, link: tuple[str, str]) -> None:
        if self._file is None:
            spool = temporary_file(self._spool_dir, "sheet-links-")
            self._file = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
        self._file.write(f"{link[0]} {link[1]}\n")
        self._count += 1

    def __iter__(self):
        if self._file is None:
            return
        self._file.seek(0)
        for line in self._file:
            ref, _, url = line.rstrip("\n").partition(" ")
            yield ref, url

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Table:
    """Rows that continue on numbered sheets when a sheet is full.

    The first sheet gets ``name``; when a sheet holds ``max_rows`` rows, the
    next row starts a sheet named ``"name (2)"``, ``"name (3)"``, … that
    begins with the same header rows (written with the "header" style).
    Get it from ``Workbook.add_table``.
    """

    def __init__(self, workbook, name: str, header_rows: Sequence[Sequence[object]], *,
                 freeze_rows: int | None, autofilter: bool,
                 column_widths: Sequence[float | None] | None, max_rows: int):
        self._header_rows = [list(row) for row in header_rows]
        if not 0 < max_rows <= MAX_ROWS:
            raise ValueError(f"max_rows must be between 1 and {MAX_ROWS}")
        if len(self._header_rows) >= max_rows:
            raise ValueError("max_rows must leave room for data rows below the header rows")
        self._workbook = workbook
        self._freeze_rows = len(self._header_rows) if freeze_rows is None else freeze_rows
        self._autofilter = autofilter
        self._column_widths = column_widths
        self.max_rows = max_rows
        self.rows_written = 0  # data rows, header rows not counted
        self.sheets: list[Sheet] = []
        self._start_sheet(name)
        self.name = self.sheets[0].name

    def _start_sheet(self, name: str) -> None:
        """Start the table's next sheet, placed after its full one in the tab order (which it finishes)."""
        previous = self.sheets[-1] if self.sheets else None
        if previous is not None:
            previous._finish()
        sheet = self._workbook.add_sheet(
            name, freeze_rows=self._freeze_rows, autofilter=self._autofilter,
            column_widths=self._column_widths, after=previous,
        )
        for row in self._header_rows:
            sheet.write_row(row, style="header")
        self.sheets.append(sheet)

    @property
    def sheet(self) -> Sheet:
        """The sheet being written."""
        return self.sheets[-1]

    @property
    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.sheets]

    def write_row(self, values: Sequence[object], *, style: str | None = None) -> None:
        sheet = self.sheets[-1]
        if sheet.rows_written >= self.max_rows:
            self._start_sheet(with_suffix(self.name, f" ({len(self.sheets) + 1})"))
            sheet = self.sheets[-1]
        sheet.write_row(values, style=style)
        self.rows_written += 1
