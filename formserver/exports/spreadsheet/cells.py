"""What one cell becomes: the XML of a value of any type, written the careful way.

``value_cell`` and ``text_cell`` define the output; the generated row
functions (``rows.py``) write the same XML faster for the usual values and
hand everything else to them.  Text is cleaned of what XML forbids, cut to
the length Excel allows and escaped so that Excel shows it exactly; dates
become Excel's serial numbers.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from dataclasses import dataclass
from decimal import Decimal

from .styles import STYLE_ATTRIBUTES

MAX_CELL_CHARS = 32_767
# Text longer than this may exceed MAX_CELL_CHARS UTF-16 units (as Excel counts).
LONG_TEXT = MAX_CELL_CHARS // 2


@dataclass(frozen=True, slots=True)
class Hyperlink:
    """A cell value that shows ``text`` (or the url) and links to ``url``."""

    url: str
    text: str | None = None


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------

# Characters XML 1.0 does not allow: C0 controls other than tab, LF, CR; lone
# surrogates; U+FFFE and U+FFFF.
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")


def _utf16_len(text: str) -> int:
    """Length as Excel counts it (UTF-16 code units)."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ch > "\uffff")


def cut_utf16(text: str, limit: int) -> str:
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
    text = ILLEGAL_XML.sub("", text)
    if len(text) > MAX_CELL_CHARS // 2 and _utf16_len(text) > MAX_CELL_CHARS:
        total = _utf16_len(text)
        marker = ""
        while True:  # the marker's length depends on the number it shows
            kept = cut_utf16(text, MAX_CELL_CHARS - len(marker))
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


def escape_attr(text: str) -> str:
    """Clean and XML-escape text for an attribute value (a sheet name, a link's address)."""
    return (
        ILLEGAL_XML.sub("", text)
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


def column_letters(count: int) -> list[str]:
    """The shared list of column letters, grown to at least ``count`` entries."""
    if len(_COLUMNS) < count:
        with _COLUMNS_LOCK:  # exports may run in several threads
            while len(_COLUMNS) < count:
                _COLUMNS.append(column_letter(len(_COLUMNS) + 1))
    return _COLUMNS


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

EPOCH_ORDINAL = _dt.date(1899, 12, 30).toordinal()
_ORDINAL_1900_01_01 = _dt.date(1900, 1, 1).toordinal()
ORDINAL_1900_03_01 = _dt.date(1900, 3, 1).toordinal()
EPOCH_DATETIME = _dt.datetime(1899, 12, 30)
_DATETIME_1900_01_01 = _dt.datetime(1900, 1, 1)
DATETIME_1900_03_01 = _dt.datetime(1900, 3, 1)
ONE_DAY = _dt.timedelta(days=1)
INT_LIMIT = 10**15  # Excel shows 15 significant digits


def _day_serial(value: _dt.date) -> int | None:
    """Excel's day number of a date (1900 date system), None before 1900."""
    ordinal = value.toordinal()
    if ordinal >= ORDINAL_1900_03_01:
        return ordinal - EPOCH_ORDINAL
    if ordinal >= _ORDINAL_1900_01_01:
        return ordinal - EPOCH_ORDINAL - 1  # Excel's fictitious 1900-02-29
    return None


def _time_fraction(value) -> float:
    return (
        value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    ) / 86400.0


def _datetime_serial(value: _dt.datetime) -> float | None:
    """Excel's serial number of a date-time's wall clock time, None before 1900."""
    value = value.replace(tzinfo=None)
    if value >= DATETIME_1900_03_01:
        return (value - EPOCH_DATETIME) / ONE_DAY
    if value >= _DATETIME_1900_01_01:
        return (value - EPOCH_DATETIME) / ONE_DAY - 1.0
    return None


# --------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------


def value_cell(column: str, r: str, value: object, style: str | None) -> str:
    """The XML of one cell of any type but Hyperlink, in any row style ("" for none)."""
    text_s, number_s, date_s, datetime_s, time_s, link_s = STYLE_ATTRIBUTES[style]
    if value is None:
        return ""
    if isinstance(value, str):
        return text_cell(column, r, str.__str__(value), text_s)
    if isinstance(value, bool):
        return f'<c r="{column}{r}"{number_s} t="b"><v>{1 if value else 0}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, Decimal) and value.is_finite() and -300 < value.adjusted() < 300:
            return f'<c r="{column}{r}"{number_s}><v>{value}</v></c>'  # its exact digits
        if isinstance(value, int):
            number = int(value)
            if -INT_LIMIT < number < INT_LIMIT:
                return f'<c r="{column}{r}"{number_s}><v>{number}</v></c>'
            return text_cell(column, r, str(number), text_s)
        try:
            number = float(value)
        except (OverflowError, ValueError):
            number = float("nan")
        if number - number == 0.0:
            return f'<c r="{column}{r}"{number_s}><v>{number!r}</v></c>'
        return text_cell(column, r, str(value), text_s)
    if isinstance(value, _dt.datetime):
        serial = _datetime_serial(value)
        if serial is None:
            return text_cell(column, r, value.isoformat(sep=" "), text_s)
        return f'<c r="{column}{r}"{datetime_s}><v>{serial!r}</v></c>'
    if isinstance(value, _dt.date):
        day = _day_serial(value)
        if day is None:
            return text_cell(column, r, value.isoformat(), text_s)
        return f'<c r="{column}{r}"{date_s}><v>{day}</v></c>'
    if isinstance(value, _dt.time):
        return f'<c r="{column}{r}"{time_s}><v>{_time_fraction(value)!r}</v></c>'
    if isinstance(value, Hyperlink):
        return text_cell(column, r, value.url if value.text is None else value.text, text_s)
    return text_cell(column, r, str(value), text_s)


def text_cell(column: str, r: str, text: str, style: str) -> str:
    """An inline-string cell for any text (cleaned and escaped here)."""
    text = _clean_text(text)
    if not text:
        return ""
    space = "" if text[0] > " " and text[-1] > " " else ' xml:space="preserve"'
    return f'<c r="{column}{r}"{style} t="inlineStr"><is><t{space}>{_escape_text(text)}</t></is></c>'


def byte_text(text: str) -> str:
    """Text as the rows of a sheet are kept: a str whose characters are its UTF-8 bytes (see ``rows.py``)."""
    return text.encode("utf-8").decode("latin-1")


def fallback_cell(column: str, r: str, value: object) -> str:
    """A cell that the row functions leave aside, in a row without style, as byte text."""
    return byte_text(value_cell(column, r, value, None))
