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
types a sheet learns from its values (see "Row functions" below); anything
unusual falls back to a careful cell-by-cell path, which defines the output.
Deflating runs in a worker thread unless ``background=False``.

The zip container is written by ``ZipStream`` below, not by ``zipfile``:
Excel is strict about ZIP64 and rejects what ``zipfile`` writes with
``force_zip64=True`` when the target cannot seek (sizes 0xFFFFFFFF in the
local header with a ZIP64 extra field).  ``ZipStream`` uses the layout known
to open in Excel at any size: version 4.5, sizes in a data descriptor, no
extra field in the local header, ZIP64 fields in the central directory only
when a size needs them.
"""

from __future__ import annotations

import datetime as _dt
import os
import queue as _queue
import re
import struct
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Sequence
from urllib.parse import quote as _quote

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
    "ZipEntry",
    "ZipStream",
    "column_letter",
]

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767
MAX_SHEET_NAME_CHARS = 31
# Excel drops the hyperlinks of a worksheet beyond 65,530 and does not accept
# link addresses longer than 2,079 characters; such links are written as text.
MAX_HYPERLINKS = 65_530
MAX_URL_CHARS = 2_079
# Text longer than this may exceed MAX_CELL_CHARS UTF-16 units (as Excel counts).
_LONG_TEXT = MAX_CELL_CHARS // 2


@dataclass(frozen=True, slots=True)
class Hyperlink:
    """A cell value that shows ``text`` (or the url) and links to ``url``."""

    url: str
    text: str | None = None


class RowLimitError(ValueError):
    """Raised when a sheet already holds Excel's maximum of rows."""


# --------------------------------------------------------------------------
# Zip container
# --------------------------------------------------------------------------

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_DESCRIPTOR = struct.Struct("<IIQQ")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")
_ZIP64_END_RECORD = struct.Struct("<IQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<IIQI")
_VERSION = 45  # 4.5: ZIP64 may be needed; Excel insists on it in the local header
_FLAG_DESCRIPTOR = 0x08
_FLAG_UTF8 = 0x800
_DEFLATED = 8
_U32 = 0xFFFFFFFF


class ZipStream:
    """A write-only zip archive that never seeks (any binary file object works).

    ``open_entry(name)`` returns a ``ZipEntry`` to ``write(bytes)`` to and
    ``close()``; several entries may be open at once, so that the sheets of a
    workbook can be written side by side.  The first entry opened while no
    other is streaming goes straight to the target; an entry opened while one
    streams is deflated into a temporary file (in ``spool_dir``) and copied
    to the target, already deflated, once no entry streams.  ``start_entry``,
    ``write`` and ``end_entry`` (or ``write_entry``) write one entry at a time.
    Every entry is deflated at ``compresslevel`` (1 by default, the fastest).

    With ``background=True`` a worker thread deflates and writes while the
    caller prepares the next data (zlib releases the GIL): the calls only
    queue their work, at most ``_QUEUED`` chunks, so memory stays bounded.
    An error of the worker (a closed connection, a full disk) is raised by
    the next call, and by ``close()`` at the latest.  ``close()`` and
    ``abort()`` wait for the worker to finish.
    """

    _QUEUED = 4

    def __init__(self, target, *, compresslevel: int = 1, background: bool = False, spool_dir=None):
        if isinstance(target, (str, os.PathLike)):
            self._fp = open(target, "wb")
            self._owns_fp = True
        else:
            self._fp = target
            self._owns_fp = False
        self._level = compresslevel
        self._spool_dir = spool_dir
        self._pos = 0
        self._entries: list[tuple] = []  # (name, flags, offset, crc, compressed, size) of written entries
        self._names: set[str] = set()
        self._open: list[ZipEntry] = []  # caller side: entries not closed yet
        self._current: ZipEntry | None = None  # the entry of start_entry / write / end_entry
        self._streaming: ZipEntry | None = None  # worker side: the entry writing to the target
        self._waiting: list[ZipEntry] = []  # worker side: closed spooled entries not copied yet
        self._spooled: list[ZipEntry] = []  # entries with a temporary file, closed by abort()
        self._closed = False
        now = time.localtime()
        year = min(max(now.tm_year, 1980), 2107)
        self._dos_time = (now.tm_hour << 11) | (now.tm_min << 5) | (now.tm_sec // 2)
        self._dos_date = ((year - 1980) << 9) | (now.tm_mon << 5) | now.tm_mday
        self._error: BaseException | None = None
        self._queue = None
        if background:
            self._queue = _queue.Queue(self._QUEUED)
            self._worker = threading.Thread(target=self._work, name="zip-deflate", daemon=True)
            self._worker.start()

    # -- caller side ---------------------------------------------------------

    def _do(self, operation, *arguments) -> None:
        if self._error is not None:
            raise self._error
        if self._queue is None:
            operation(*arguments)
        else:
            self._queue.put((operation, arguments))

    def _work(self) -> None:
        while True:
            operation, arguments = self._queue.get()
            if operation is None:
                return
            if self._error is None:
                try:
                    operation(*arguments)
                except BaseException as error:  # raised again in the caller's thread
                    self._error = error

    def _wait(self) -> None:
        if self._queue is not None:
            self._queue.put((None, ()))
            self._worker.join()
            self._queue = None

    def open_entry(self, name: str) -> "ZipEntry":
        """Start the entry ``name``; other entries may stay open meanwhile."""
        if self._closed:
            raise ValueError("the zip archive is closed")
        if name in self._names:
            raise ValueError(f"duplicate zip entry {name!r}")
        self._names.add(name)
        try:
            encoded = name.encode("ascii")
            flags = _FLAG_DESCRIPTOR
        except UnicodeEncodeError:
            encoded = name.encode("utf-8")
            flags = _FLAG_DESCRIPTOR | _FLAG_UTF8
        entry = ZipEntry(self, encoded, flags)
        self._open.append(entry)
        self._do(entry._begin)
        return entry

    def start_entry(self, name: str) -> None:
        if self._current is not None:
            raise RuntimeError("another zip entry is still open")
        self._current = self.open_entry(name)

    def write(self, data: bytes) -> None:
        if self._current is None:
            raise RuntimeError("no zip entry is open")
        self._current.write(data)

    def end_entry(self) -> None:
        if self._current is None:
            raise RuntimeError("no zip entry is open")
        entry, self._current = self._current, None
        entry.close()

    def write_entry(self, name: str, data: bytes) -> None:
        entry = self.open_entry(name)
        entry.write(data)
        entry.close()

    def close(self) -> None:
        """Close the entries still open and finish the archive; closes the target only if it was opened here."""
        if self._closed:
            return
        for entry in list(self._open):
            entry.close()
        self._current = None
        self._closed = True
        try:
            self._do(self._finish)
        finally:
            self._wait()
            if self._owns_fp:
                self._fp.close()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop without finishing the archive; closes the target only if opened here."""
        self._closed = True
        self._open = []
        self._current = None
        self._wait()
        for entry in self._spooled:
            entry._spool.close()
        if self._owns_fp:
            self._fp.close()

    # -- writing (in the worker when in the background) -----------------------

    def _out(self, data) -> None:
        written = self._fp.write(data)
        if written is not None and written < len(data):  # raw streams may write less
            view = memoryview(data)
            while written < len(data):
                more = self._fp.write(view[written:])
                if not more:
                    raise OSError("the target stopped accepting data")
                written += more
        self._pos += len(data)

    def _local_header(self, encoded: bytes, flags: int) -> None:
        self._out(
            _LOCAL_HEADER.pack(
                0x04034B50, _VERSION, flags, _DEFLATED, self._dos_time, self._dos_date,
                0, 0, 0, len(encoded), 0,
            )
            + encoded
        )

    def _record(self, entry: "ZipEntry", offset: int) -> None:
        """The data descriptor after an entry's data, and its central directory record."""
        self._out(_DESCRIPTOR.pack(0x08074B50, entry._crc, entry._compressed, entry._size))
        self._entries.append((entry._name, entry._flags, offset, entry._crc, entry._compressed, entry._size))

    def _copy_waiting(self) -> None:
        """Copy the closed spooled entries to the target (none may be streaming)."""
        for entry in self._waiting:
            offset = self._pos
            self._local_header(entry._name, entry._flags)
            spool = entry._spool
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                self._out(chunk)
            spool.close()
            self._spooled.remove(entry)
            self._record(entry, offset)
        self._waiting = []

    def _finish(self) -> None:
        self._copy_waiting()
        directory_offset = self._pos
        for encoded, flags, offset, crc, compressed, size in self._entries:
            extra = b""
            if size >= _U32:
                extra += struct.pack("<Q", size)
                size = _U32
            if compressed >= _U32:
                extra += struct.pack("<Q", compressed)
                compressed = _U32
            if offset >= _U32:
                extra += struct.pack("<Q", offset)
                offset = _U32
            if extra:
                extra = struct.pack("<HH", 1, len(extra)) + extra
            self._out(
                _CENTRAL_HEADER.pack(
                    0x02014B50, _VERSION, _VERSION, flags, _DEFLATED, self._dos_time,
                    self._dos_date, crc, compressed, size, len(encoded), len(extra),
                    0, 0, 0, 0, offset,
                )
                + encoded
                + extra
            )
        directory_size = self._pos - directory_offset
        count = len(self._entries)
        if count > 0xFFFF or directory_offset >= _U32 or directory_size >= _U32:
            zip64_end_offset = self._pos
            self._out(
                _ZIP64_END_RECORD.pack(
                    0x06064B50, 44, _VERSION, _VERSION, 0, 0, count, count,
                    directory_size, directory_offset,
                )
            )
            self._out(_ZIP64_LOCATOR.pack(0x07064B50, 0, zip64_end_offset, 1))
        self._out(
            _END_RECORD.pack(
                0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                min(directory_size, _U32), min(directory_offset, _U32), 0,
            )
        )
        if hasattr(self._fp, "flush"):
            self._fp.flush()


class ZipEntry:
    """One entry of a ``ZipStream`` being written: ``write(bytes)``, then ``close()``."""

    def __init__(self, archive: ZipStream, name: bytes, flags: int):
        self._archive = archive
        self._name = name
        self._flags = flags
        self._open = True
        # worker side
        self._spool = None  # the temporary file of an entry that waits for its turn
        self._offset = 0
        self._crc = 0
        self._size = 0
        self._compressed = 0
        self._compressor = None
        self._sink = None

    def write(self, data: bytes) -> None:
        if not self._open:
            raise RuntimeError("the zip entry is closed")
        self._archive._do(self._data, data)

    def close(self) -> None:
        if self._open:
            self._open = False
            self._archive._open.remove(self)
            self._archive._do(self._end)

    # -- worker side ----------------------------------------------------------

    def _begin(self) -> None:
        archive = self._archive
        self._compressor = zlib.compressobj(archive._level, zlib.DEFLATED, -15)
        if archive._streaming is None:
            archive._streaming = self
            self._offset = archive._pos
            archive._local_header(self._name, self._flags)
            self._sink = archive._out
        else:
            self._spool = tempfile.TemporaryFile(dir=archive._spool_dir, prefix="zip-entry-")
            archive._spooled.append(self)
            self._sink = self._spool.write

    def _data(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        out = self._compressor.compress(data)
        if out:
            self._compressed += len(out)
            self._sink(out)

    def _end(self) -> None:
        out = self._compressor.flush()
        if out:
            self._compressed += len(out)
            self._sink(out)
        self._compressor = None
        archive = self._archive
        if archive._streaming is self:
            archive._record(self, self._offset)
            archive._streaming = None
        else:
            archive._waiting.append(self)
        if archive._streaming is None:
            archive._copy_waiting()


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------

# Characters XML 1.0 does not allow: C0 controls other than tab, LF, CR; lone
# surrogates; U+FFFE and U+FFFF.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")


def _utf16_len(text: str) -> int:
    """Length as Excel counts it (UTF-16 code units)."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ch > "\uffff")


def _cut_utf16(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that has at most ``limit`` UTF-16 units."""
    if len(text) <= limit // 2 or _utf16_len(text) <= limit:
        return text
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ch > "\uffff" else 1
        if units > limit:
            return text[:index]
    return text


def _clean_text(text: str) -> str:
    """Remove characters XML forbids and cut text to the length Excel allows."""
    text = _ILLEGAL_XML.sub("", text)
    if len(text) > MAX_CELL_CHARS // 2 and _utf16_len(text) > MAX_CELL_CHARS:
        total = _utf16_len(text)
        marker = ""
        while True:  # the marker's length depends on the number it shows
            kept = _cut_utf16(text, MAX_CELL_CHARS - len(marker))
            new_marker = f"…[cut: {total - _utf16_len(kept)} characters]"
            if len(new_marker) == len(marker):
                break
            marker = new_marker
        text = kept + new_marker
    return text


def _escape_text(text: str) -> str:
    """XML-escape clean text for a <t> element, keeping it exact for Excel."""
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub("_x005F_", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def _escape_attr(text: str) -> str:
    return (
        _ILLEGAL_XML.sub("", text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
        .replace("\n", "&#10;")
        .replace("\t", "&#9;")
    )


def column_letter(index: int) -> str:
    """Excel's letters for the 1-based column ``index`` (1 -> "A", 28 -> "AB")."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_COLUMNS: list[str] = []
_COLUMNS_LOCK = threading.Lock()


def _column_letters(count: int) -> list[str]:
    """The shared list of column letters, grown to at least ``count`` entries."""
    if len(_COLUMNS) < count:
        with _COLUMNS_LOCK:  # exports may run in several threads
            while len(_COLUMNS) < count:
                _COLUMNS.append(column_letter(len(_COLUMNS) + 1))
    return _COLUMNS


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_EPOCH_ORDINAL = _dt.date(1899, 12, 30).toordinal()
_ORDINAL_1900_01_01 = _dt.date(1900, 1, 1).toordinal()
_ORDINAL_1900_03_01 = _dt.date(1900, 3, 1).toordinal()
_EPOCH_DATETIME = _dt.datetime(1899, 12, 30)
_DATETIME_1900_01_01 = _dt.datetime(1900, 1, 1)
_DATETIME_1900_03_01 = _dt.datetime(1900, 3, 1)
_ONE_DAY = _dt.timedelta(days=1)
_INT_LIMIT = 10**15  # Excel shows 15 significant digits


def _day_serial(value: _dt.date) -> int | None:
    """Excel's day number of a date (1900 date system), None before 1900."""
    ordinal = value.toordinal()
    if ordinal >= _ORDINAL_1900_03_01:
        return ordinal - _EPOCH_ORDINAL
    if ordinal >= _ORDINAL_1900_01_01:
        return ordinal - _EPOCH_ORDINAL - 1  # Excel's fictitious 1900-02-29
    return None


def _time_fraction(value) -> float:
    return (
        value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    ) / 86400.0


def _datetime_serial(value: _dt.datetime) -> float | None:
    """Excel's serial number of a date-time's wall clock time, None before 1900."""
    value = value.replace(tzinfo=None)
    if value >= _DATETIME_1900_03_01:
        return (value - _EPOCH_DATETIME) / _ONE_DAY
    if value >= _DATETIME_1900_01_01:
        return (value - _EPOCH_DATETIME) / _ONE_DAY - 1.0
    return None


# --------------------------------------------------------------------------
# Row functions.  An export spends its time per cell, so rows are rendered by
# a function generated for the sheet's column types (its "profile"), which
# a sheet learns from the values it is given: straight-line code with the
# markup as constants, no loop.  Each cell checks that its value is of the
# column's type (or None) and otherwise hands it to OTHER, which writes any
# value the careful way (hyperlinks too), so one function serves every row
# of a width.  The row's text values are checked all at once; a row with
# anything unusual (markup characters, control characters, surrounding
# spaces, "|", very long text, ...) makes the function return None and is
# written by Sheet._render_cells, which handles everything.
#
# Rows are kept as "byte text": str whose characters are the UTF-8 bytes
# (text.encode("utf-8").decode("latin-1")), so that all strings stay
# one-byte strings, joins are plain copies and a chunk becomes bytes with
# .encode("latin-1"), a copy too.
# --------------------------------------------------------------------------

_MAX_COMPILED = 256  # row functions kept for all sheets
_COMPILED: dict[tuple, object] = {}
_FLUSH_CHARS = 1 << 20  # buffered XML bytes before they are deflated


def _byte_text(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def _fallback_cell(column: str, r: str, value: object) -> str:
    return _byte_text(_value_cell(column, r, value, None))


_ROW_FUNCTION_GLOBALS = {
    "__builtins__": {},
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "DATE": _dt.date,
    "DATETIME": _dt.datetime,
    "DECIMAL": Decimal,
    "LIMIT": _INT_LIMIT,
    "EPOCH_ORDINAL": _EPOCH_ORDINAL,
    "FIRST_ORDINAL": _ORDINAL_1900_03_01,
    "EPOCH": _EPOCH_DATETIME,
    "FIRST": _DATETIME_1900_03_01,
    "DAY": _ONE_DAY,
}

# Per column type: the expression of the cell's XML for a value x that is
# not None, in which COL stands for the column's letters.  r is the row
# number (a str); OTHER writes the values these expressions leave aside
# (another type, NaN, huge integers, dates before 1900, ...) the careful way.
_CELL_EXPRESSIONS = {
    int: """(f'<c r="COL{r}"><v>{x}</v></c>' if x.__class__ is int and -LIMIT < x < LIMIT """
         """else OTHER("COL", r, x))""",
    float: """(f'<c r="COL{r}"><v>{x!r}</v></c>' if x.__class__ is float and x - x == 0.0 """
           """else OTHER("COL", r, x))""",
    bool: """('<c r="COL' + r + '" t="b"><v>1</v></c>' if x is True """
          """else '<c r="COL' + r + '" t="b"><v>0</v></c>' if x is False else OTHER("COL", r, x))""",
    _dt.date: """(f'<c r="COL{r}" s="2"><v>{o - EPOCH_ORDINAL}</v></c>' """
              """if x.__class__ is DATE and (o := x.toordinal()) >= FIRST_ORDINAL else OTHER("COL", r, x))""",
    _dt.datetime: """(f'<c r="COL{r}" s="3"><v>{(x - EPOCH) / DAY!r}</v></c>' """
                  """if x.__class__ is DATETIME and x.tzinfo is None and x >= FIRST else OTHER("COL", r, x))""",
    Decimal: """(f'<c r="COL{r}"><v>{x}</v></c>' """
             """if x.__class__ is DECIMAL and x.is_finite() and -300 < x.adjusted() < 300 else OTHER("COL", r, x))""",
    str: """(f'<c r="COL{r}" t="inlineStr"><is><t>{s[INDEX]}</t></is></c>' if x.__class__ is str """
         """else OTHER("COL", r, x))""",
    None: """OTHER("COL", r, x)""",  # a column of no type learned yet, or of other values
}


def _row_function_source(profile: tuple, columns: list[str]) -> str:
    """Python source of ``render(v, r, OTHER)``: the row XML (byte text) or None.

    ``profile`` holds a type of ``_CELL_EXPRESSIONS`` (or None) per column;
    ``OTHER(column, r, value)`` is the sheet's careful cell (byte text).  For
    the profile (int, str): checks the text of v[1], then

        x = v[0]
        c0 = '' if x is None else (f'<c r="A{r}"><v>{x}</v></c>' if x.__class__ is int and ... else OTHER(...))
        x = v[1]
        c1 = '' if x is None else (f'<c r="B{r}" t="inlineStr"><is><t>{s[0]}</t></is></c>' if ... else OTHER(...))
        return f'<row r="{r}">{c0}{c1}</row>'

    The only names in the source are column letters and positions.
    """
    lines = ["def render(v, r, OTHER):", "    try:"]
    strings = {index: number for number, index in
               enumerate(index for index, kind in enumerate(profile) if kind is str)}
    if strings:
        probe = "|".join(f"{{v[{index}]}}" for index in strings)
        lines += [
            f"        p = f'{probe}'",
            # None is "None" here: harmless, its cell is left out.  Text with
            # surrounding spaces, empty text, markup characters, Excel escapes
            # or "|" goes the careful way; isprintable() is False for control
            # characters, tab, newline, lone surrogates and U+FFFE/U+FFFF.
            '        if (p[:1] in " |" or p[-1:] in " |" or "||" in p or " |" in p or "| " in p',
            '                or "<" in p or "&" in p or "_x" in p or "]]>" in p',
            f"                or len(p) > {_LONG_TEXT} or not p.isprintable()):",
            "            return None",
            "        s = p.encode('utf-8').decode('latin-1').split('|')",
            f"        if len(s) != {len(strings)}:",
            "            return None",
        ]
    names = []
    for index, kind in enumerate(profile):
        expression = _CELL_EXPRESSIONS[kind].replace("COL", columns[index])
        if kind is str:
            expression = expression.replace("INDEX", str(strings[index]))
        lines += [f"        x = v[{index}]", f"        c{index} = '' if x is None else {expression}"]
        names.append(f"{{c{index}}}")
    lines += [
        "    except (TypeError, ValueError, OverflowError):",
        "        return None",
        f"    return f'<row r=\"{{r}}\">{''.join(names)}</row>'",
    ]
    return "\n".join(lines) + "\n"


def _row_function(profile: tuple, columns: list[str]):
    """The (cached) generated function that renders rows of ``profile``."""
    function = _COMPILED.get(profile)
    if function is None:
        namespace = dict(_ROW_FUNCTION_GLOBALS)
        exec(compile(_row_function_source(profile, columns), "<spreadsheet row>", "exec"), namespace)
        function = namespace["render"]
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.clear()
        _COMPILED[profile] = function
    return function


class _Profile:
    """The column types a sheet has learned for rows of one width, and their row function.

    A column's type is the type of its first value that is not None (a
    column of other values settles as None); columns still unknown are
    looked at in every row until they settle, and each type learned makes a
    new row function.
    """

    __slots__ = ("width", "types", "unknown", "render")

    def __init__(self, values: Sequence[object], columns: list[str]):
        self.width = len(values)
        self.types = [None] * self.width
        self.unknown = list(range(self.width))
        self.render = None
        self.learn(values, columns)

    def learn(self, values: Sequence[object], columns: list[str]) -> None:
        learned = False
        still = []
        for index in self.unknown:
            value = values[index]
            if value is None:
                still.append(index)
            elif value.__class__ in _CELL_EXPRESSIONS:
                self.types[index] = value.__class__
                learned = True
        self.unknown = still
        if learned or self.render is None:
            self.render = _row_function(tuple(self.types), columns)


# --------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------

# Indexes into <cellXfs> in _STYLES_XML.
# (text, number, date, datetime, time, hyperlink) attribute per row style
_STYLE_ATTRIBUTES = {
    None: ("", "", ' s="2"', ' s="3"', ' s="4"', ' s="5"'),
    "header": (' s="1"', ' s="1"', ' s="6"', ' s="7"', ' s="8"', ' s="9"'),
}

_FONT = '<sz val="11"/>{color}<name val="Calibri"/><family val="2"/>'
_LINK_COLOR = '<color rgb="FF0563C1"/>'
_STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="3">'
    '<numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="166" formatCode="hh:mm:ss"/>'
    "</numFmts>"
    '<fonts count="4">'
    f"<font>{_FONT.format(color='')}</font>"
    f"<font><b/>{_FONT.format(color='')}</font>"
    f"<font><u/>{_FONT.format(color=_LINK_COLOR)}</font>"
    f"<font><b/><u/>{_FONT.format(color=_LINK_COLOR)}</font>"
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="10">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="165" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="166" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/>'
    '<tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/>'
    "</styleSheet>"
)

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


# --------------------------------------------------------------------------
# Sheet names
# --------------------------------------------------------------------------

_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _sanitise_sheet_name(name: object) -> str:
    """A name Excel accepts (before de-duplication)."""
    text = _SHEET_NAME_FORBIDDEN.sub("_", str(name)).strip("'")
    text = _cut_utf16(text, MAX_SHEET_NAME_CHARS).rstrip("'")
    return text if text.strip() else "Sheet"


def _with_suffix(name: str, suffix: str) -> str:
    return _cut_utf16(name, MAX_SHEET_NAME_CHARS - len(suffix)) + suffix


def _formula_sheet_name(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# --------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------


class Sheet:
    """One worksheet being written; get it from ``Workbook.add_sheet``.

    ``name`` is the name the sheet really has (sanitised and unique);
    ``rows_written`` counts every row written, header rows included.
    """

    def __init__(self, workbook: "Workbook", name: str, number: int, freeze_rows: int,
                 autofilter: bool, column_widths: Sequence[float | None] | None):
        self.name = name
        self.rows_written = 0
        self._workbook = workbook
        self._number = number
        self._freeze_rows = freeze_rows
        self._autofilter = autofilter
        self._column_widths = column_widths
        self._columns = _column_letters(1)
        self._width = 0  # the widest row written, in cells
        self._last_header_row = 0
        self._links = _LinkSpool(workbook._spool_dir)
        self._entry = workbook._zip.open_entry(self.part_name)
        self._entry.write(self._head().encode("utf-8"))
        self._buffer: list[str] = []  # rows (byte text) waiting to be deflated
        self._buffered = 0  # characters (bytes) in _buffer
        self._profile: _Profile | None = None  # of the newest width of rows without style
        self._open = True
        self._filter_range: str | None = None  # "$A$1:$D$9" once finished

    @property
    def part_name(self) -> str:
        return f"xl/worksheets/sheet{self._number}.xml"

    # -- writing -----------------------------------------------------------

    def _head(self) -> str:
        parts = [
            _XML_DECLARATION,
            f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">',
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
        if style is not None and style not in _STYLE_ATTRIBUTES:
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
                self._columns = _column_letters(count)
        r = str(row_number)
        if style is None:
            profile = self._profile
            if profile is None or profile.width != count:
                profile = self._profile = _Profile(values, self._columns)
            elif profile.unknown:
                profile.learn(values, self._columns)
            xml = profile.render(values, r, self._other_cell)
            if xml is None:
                xml = _byte_text(self._render_cells(values, r))
        else:
            self._last_header_row = row_number
            xml = _byte_text("".join(
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
                    or not value.isprintable() or len(value) > _LONG_TEXT
                ):
                    # Control characters (tab and newline too), markup,
                    # Excel escapes, very long text: the careful way.
                    add(_text_cell(column, r, value, ""))
                elif value.strip() is value:
                    add(f'<c r="{column}{r}" t="inlineStr"><is><t>{value}</t></is></c>')
                else:
                    add(f'<c r="{column}{r}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>')
            elif kind is int:
                if -_INT_LIMIT < value < _INT_LIMIT:
                    add(f'<c r="{column}{r}"><v>{value}</v></c>')
                else:
                    add(_text_cell(column, r, str(value), ""))
            elif value is None:
                continue
            elif kind is float:
                if value - value == 0.0:  # finite
                    add(f'<c r="{column}{r}"><v>{value!r}</v></c>')
                else:
                    add(_text_cell(column, r, str(value), ""))
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
            text_s, _, _, _, _, link_s = _STYLE_ATTRIBUTES[style]
            return self._link_cell(column, r, value, text_s, link_s)
        return _value_cell(column, r, value, style)

    def _other_cell(self, column: str, r: str, value: object) -> str:
        """A cell of a row without style that row functions leave aside, as byte text."""
        if isinstance(value, Hyperlink):
            return _byte_text(self._link_cell(column, r, value, "", ' s="5"'))
        return _fallback_cell(column, r, value)

    def _link_cell(self, column: str, r: str, link: Hyperlink, text_s: str, link_s: str) -> str:
        url = _ILLEGAL_XML.sub("", str(link.url or "")).strip()
        text = link.text if link.text is not None else url
        if not url:
            return _text_cell(column, r, str(text), text_s)
        # Relationship targets must be URIs: percent-encode spaces, non-ASCII
        # and other characters URIs do not allow; keep existing %XX escapes.
        target = _quote(url, safe="!#$%&'()*+,-./:;=?@[]_~")
        if len(self._links) >= MAX_HYPERLINKS or len(target) > MAX_URL_CHARS:
            return _text_cell(column, r, url, text_s)  # keep the address, as text
        cell = _text_cell(column, r, str(text), link_s)
        if not cell:  # a link needs a cell to sit on
            cell = _text_cell(column, r, url, link_s)
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
            parts = [_XML_DECLARATION, f'<Relationships xmlns="{_PKG_REL_NS}">']
            for number, (_ref, url) in enumerate(links, start=1):
                parts.append(
                    f'<Relationship Id="rId{number}" Type="{_REL_NS}/hyperlink" '
                    f'Target="{_escape_attr(url)}" TargetMode="External"/>'
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
            self._file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n", dir=self._spool_dir,
                                                prefix="sheet-links-")
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


def _value_cell(column: str, r: str, value: object, style: str | None) -> str:
    """The XML of one cell of any type but Hyperlink, in any row style ("" for none)."""
    text_s, number_s, date_s, datetime_s, time_s, link_s = _STYLE_ATTRIBUTES[style]
    if value is None:
        return ""
    if isinstance(value, str):
        return _text_cell(column, r, str.__str__(value), text_s)
    if isinstance(value, bool):
        return f'<c r="{column}{r}"{number_s} t="b"><v>{1 if value else 0}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, Decimal) and value.is_finite() and -300 < value.adjusted() < 300:
            return f'<c r="{column}{r}"{number_s}><v>{value}</v></c>'  # its exact digits
        if isinstance(value, int):
            number = int(value)
            if -_INT_LIMIT < number < _INT_LIMIT:
                return f'<c r="{column}{r}"{number_s}><v>{number}</v></c>'
            return _text_cell(column, r, str(number), text_s)
        try:
            number = float(value)
        except (OverflowError, ValueError):
            number = float("nan")
        if number - number == 0.0:
            return f'<c r="{column}{r}"{number_s}><v>{number!r}</v></c>'
        return _text_cell(column, r, str(value), text_s)
    if isinstance(value, _dt.datetime):
        serial = _datetime_serial(value)
        if serial is None:
            return _text_cell(column, r, value.isoformat(sep=" "), text_s)
        return f'<c r="{column}{r}"{datetime_s}><v>{serial!r}</v></c>'
    if isinstance(value, _dt.date):
        day = _day_serial(value)
        if day is None:
            return _text_cell(column, r, value.isoformat(), text_s)
        return f'<c r="{column}{r}"{date_s}><v>{day}</v></c>'
    if isinstance(value, _dt.time):
        return f'<c r="{column}{r}"{time_s}><v>{_time_fraction(value)!r}</v></c>'
    if isinstance(value, Hyperlink):
        return _text_cell(column, r, value.url if value.text is None else value.text, text_s)
    return _text_cell(column, r, str(value), text_s)


def _text_cell(column: str, r: str, text: str, style: str) -> str:
    """An inline-string cell for any text (cleaned and escaped here)."""
    text = _clean_text(text)
    if not text:
        return ""
    space = "" if text[0] > " " and text[-1] > " " else ' xml:space="preserve"'
    return f'<c r="{column}{r}"{style} t="inlineStr"><is><t{space}>{_escape_text(text)}</t></is></c>'


class Table:
    """Rows that continue on numbered sheets when a sheet is full.

    The first sheet gets ``name``; when a sheet holds ``max_rows`` rows, the
    next row starts a sheet named ``"name (2)"``, ``"name (3)"``, … that
    begins with the same header rows (written with the "header" style).
    Get it from ``Workbook.add_table``.
    """

    def __init__(self, workbook: "Workbook", name: str, header_rows: Sequence[Sequence[object]], *,
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
            self._start_sheet(_with_suffix(self.name, f" ({len(self.sheets) + 1})"))
            sheet = self.sheets[-1]
        sheet.write_row(values, style=style)
        self.rows_written += 1


# --------------------------------------------------------------------------
# Workbook
# --------------------------------------------------------------------------


class Workbook:
    """A streaming .xlsx writer; ``target`` is a path or a binary file object.

    The file object need not be seekable (an HTTP response stream works); it
    is not closed by ``close()``.  Every sheet can be written until the
    workbook closes, so that an export writes a household's row and its
    members' rows side by side: the first sheet streams into the zip, the
    others deflate into temporary files (in ``spool_dir``) that are copied
    into the zip as they are (see ``ZipStream``).  With ``background=True``
    (the default) a worker thread deflates and writes while rows are being
    formatted; ``background=False`` does all the work in the calling thread.
    """

    def __init__(self, target, *, background: bool = True, spool_dir=None):
        self._zip = ZipStream(target, compresslevel=1, background=background, spool_dir=spool_dir)
        self._spool_dir = spool_dir
        self._sheets: list[Sheet] = []  # in tab order
        self._created = 0
        self._used_names = {"history"}  # Excel reserves "History"
        self._closed = False

    @property
    def sheets(self) -> list[Sheet]:
        return list(self._sheets)

    def _unique_name(self, name: str) -> str:
        candidate = name
        number = 1
        while candidate.casefold() in self._used_names:
            number += 1
            candidate = _with_suffix(name, f"_{number}")
        self._used_names.add(candidate.casefold())
        return candidate

    def add_sheet(self, name: str, *, freeze_rows: int = 0, autofilter: bool = False,
                  column_widths: list[float] | None = None, after: Sheet | None = None) -> Sheet:
        """Start a new sheet, the last tab or the tab right after ``after``; returns it."""
        if self._closed:
            raise ValueError("the workbook is closed")
        if not 0 <= freeze_rows < MAX_ROWS:
            raise ValueError(f"freeze_rows must be between 0 and {MAX_ROWS - 1}")
        self._created += 1
        sheet = Sheet(
            self, self._unique_name(_sanitise_sheet_name(name)), self._created,
            int(freeze_rows), bool(autofilter), column_widths,
        )
        position = len(self._sheets) if after is None else self._sheets.index(after) + 1
        self._sheets.insert(position, sheet)
        return sheet

    def add_table(self, name: str, header_rows: Sequence[Sequence[object]], *,
                  freeze_rows: int | None = None, autofilter: bool = False,
                  column_widths: list[float] | None = None, max_rows: int = MAX_ROWS) -> Table:
        """Start a sheet with ``header_rows`` that continues on numbered sheets.

        ``freeze_rows`` defaults to the number of header rows; ``max_rows``
        (rows per sheet, header rows included) is Excel's limit by default.
        """
        return Table(self, name, header_rows, freeze_rows=freeze_rows, autofilter=autofilter,
                     column_widths=column_widths, max_rows=max_rows)

    def close(self) -> None:
        """Finish the last sheet and write the workbook parts; closes a path target."""
        if self._closed:
            return
        if not self._sheets:
            self.add_sheet("Sheet1")  # a workbook needs at least one sheet
        for sheet in self._sheets:
            sheet._finish()
        self._closed = True
        write = self._zip.write_entry
        write("xl/styles.xml", _STYLES_XML.encode("utf-8"))
        write("xl/workbook.xml", self._workbook_xml().encode("utf-8"))
        write("xl/_rels/workbook.xml.rels", self._workbook_rels_xml().encode("utf-8"))
        write("docProps/app.xml", _APP_XML.encode("utf-8"))
        write("docProps/core.xml", _core_xml().encode("utf-8"))
        write("_rels/.rels", _ROOT_RELS_XML.encode("utf-8"))
        write("[Content_Types].xml", self._content_types_xml().encode("utf-8"))
        self._zip.close()

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def abort(self) -> None:
        """Stop without finishing the file: what was written is not a valid archive."""
        self._closed = True
        for sheet in self._sheets:
            sheet._links.close()
        self._zip.abort()

    def _workbook_xml(self) -> str:
        parts = [
            _XML_DECLARATION,
            f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">',
            '<bookViews><workbookView activeTab="0"/></bookViews><sheets>',
        ]
        parts.extend(
            f'<sheet name="{_escape_attr(sheet.name)}" sheetId="{sheet._number}" r:id="rId{sheet._number}"/>'
            for sheet in self._sheets
        )
        parts.append("</sheets>")
        names = [
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
            f"{_escape_attr(_formula_sheet_name(sheet.name))}!{sheet._filter_range}</definedName>"
            for index, sheet in enumerate(self._sheets)
            if sheet._filter_range
        ]
        if names:
            parts.append("<definedNames>" + "".join(names) + "</definedNames>")
        parts.append("</workbook>")
        return "".join(parts)

    def _workbook_rels_xml(self) -> str:
        parts = [_XML_DECLARATION, f'<Relationships xmlns="{_PKG_REL_NS}">']
        parts.extend(
            f'<Relationship Id="rId{number}" Type="{_REL_NS}/worksheet" '
            f'Target="worksheets/sheet{number}.xml"/>'
            for number in range(1, len(self._sheets) + 1)
        )
        parts.append(
            f'<Relationship Id="rId{len(self._sheets) + 1}" Type="{_REL_NS}/styles" '
            'Target="styles.xml"/></Relationships>'
        )
        return "".join(parts)

    def _content_types_xml(self) -> str:
        parts = [
            _XML_DECLARATION,
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">',
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
            '<Default Extension="xml" ContentType="application/xml"/>',
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>',
        ]
        parts.extend(
            f'<Override PartName="/xl/worksheets/sheet{number}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for number in range(1, len(self._sheets) + 1)
        )
        parts.append(
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>"
        )
        return "".join(parts)


_ROOT_RELS_XML = (
    _XML_DECLARATION
    + f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PKG_REL_NS}/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

_APP_XML = (
    _XML_DECLARATION
    + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Application>formserver</Application></Properties>"
)


def _core_xml() -> str:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        _XML_DECLARATION
        + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>formserver</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "</cp:coreProperties>"
    )
