"""An uploaded XLSForm file, looked at before openpyxl or pyxform reads it.

pyxform reads whatever it is given (guessing between Excel, CSV and Markdown),
and openpyxl unpacks whatever a zip holds: a small upload can unpack to
gigabytes (a zip bomb), carry macros that every manager who downloads the form
would open in Excel, or hold more rows than a web request can convert.
``check`` refuses those with a ``Problem`` that says why, from what costs
almost nothing to read: the file's first bytes, the zip's central directory
(the sizes its entries declare, which ``zipfile`` holds them to when it
unpacks) and a count of the rows of the survey and choices sheets that stops
at the limit. An .xls is at most 65,536 rows a sheet by its format; its rows
are counted once pyxform has read it (``check_rows``).

External links (a formula naming another workbook, on a disk or a web server)
are read as text and never followed: openpyxl keeps the cached values and
fetches nothing, and pyxform reads values only.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePath

from lxml import etree

from .problems import Problem
from .xml import parse

XLSX, XLS = ".xlsx", ".xls"
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .xls (and of old Word files)
_MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlsb", ".xlam", ".xla")
_VBA_STORAGE = "_VBA_PROJECT_CUR".encode("utf-16-le")  # an .xls's macros, named in its directory
_MAX_PARTS = 10_000  # an XLSForm has a few dozen; a zip of millions of empty entries is an attack
_COUNTED_SHEETS = ("survey", "choices")  # the sheets that become the XForm (external_choices becomes a CSV file)
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# Not a zip, a damaged or encrypted one, or a zip without a workbook's parts (UnsafeOrBadXml is a ValueError).
_UNREADABLE = (
    zipfile.BadZipFile, zlib.error, etree.XMLSyntaxError, EOFError, KeyError, NotImplementedError, RuntimeError, ValueError
)


@dataclass(frozen=True)
class Limits:
    """How much an XLSForm may unpack to and how many rows its survey and choices sheets may have together."""

    uncompressed_bytes: int = 50_000_000
    rows: int = 10_000

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(settings.xlsform_max_uncompressed_mb * 1_000_000, settings.xlsform_max_rows)


def check(content: bytes, filename: str, limits: Limits) -> str:
    """The format pyxform is to read the file as (``.xlsx`` or ``.xls``); ``Problem`` for a file it must not read."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in _MACRO_SUFFIXES:
        raise Problem("form.macros", filename=filename)
    if suffix not in (XLSX, XLS):
        raise Problem("form.unreadable", filename=filename)
    if content.startswith(_ZIP):
        _check_zip(content, filename, limits)
        return XLSX
    if content.startswith(_OLE2):
        if _VBA_STORAGE in content:
            raise Problem("form.macros", filename=filename)
        return XLS
    raise Problem("form.unreadable", filename=filename)


def check_rows(rows: int, filename: str, limits: Limits) -> None:
    if rows > limits.rows:
        raise Problem("form.too_many_rows", filename=filename, limit=f"{limits.rows:,}")


def _check_zip(content: bytes, filename: str, limits: Limits) -> None:
    """Sizes from the central directory first, then every entry's checksum, then the rows: nothing is unpacked
    beyond the declared sizes, which the limit bounds."""
    if len(content) > limits.uncompressed_bytes:
        _too_large(filename, limits)
    if _declared_parts(content) > _MAX_PARTS:
        raise Problem("form.unreadable", filename=filename)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
        if sum(entry.file_size for entry in entries) > limits.uncompressed_bytes:
            _too_large(filename, limits)
        names = {entry.filename.lower() for entry in entries}
        if any(posixpath.basename(name) == "vbaproject.bin" for name in names):
            raise Problem("form.macros", filename=filename)
        if archive.testzip() is not None:
            raise Problem("form.unreadable", filename=filename)
        check_rows(_rows(archive, limits.rows + 1), filename, limits)
    except _UNREADABLE:
        raise Problem("form.unreadable", filename=filename) from None


def _too_large(filename: str, limits: Limits) -> None:
    raise Problem("form.too_large", filename=filename, limit_mb=f"{limits.uncompressed_bytes / 1_000_000:g}")


def _declared_parts(content: bytes) -> int:
    """The number of entries the end of central directory record declares (zip64's 0xFFFF counts as many)."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 65_557))
    if end < 0 or len(content) < end + 22:
        return 0  # not a zip after all: zipfile says so
    return struct.unpack_from("<H", content, end + 10)[0]


def _rows(archive: zipfile.ZipFile, stop_at: int) -> int:
    """Rows with a value in the survey and choices sheets, header rows not counted, counted up to ``stop_at``."""
    total = 0
    for part in _counted_parts(archive):
        with archive.open(part) as stream:
            total += max(0, _rows_with_values(stream, stop_at - total + 1) - 1)
        if total >= stop_at:
            break
    return total


def _counted_parts(archive: zipfile.ZipFile) -> list[str]:
    """The zip entries of the sheets pyxform converts: survey and choices by name, or a workbook's only sheet."""
    workbook = parse(archive.read("xl/workbook.xml"))
    relationships = parse(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") or "" for r in relationships.iter("{*}Relationship")}
    sheets = [(sheet.get("name") or "", sheet.get(_RELATIONSHIP)) for sheet in workbook.iter("{*}sheet")]
    return [
        _part_name(targets[rid])
        for name, rid in sheets
        if rid in targets and (name.lower() in _COUNTED_SHEETS or len(sheets) == 1)
    ]


def _part_name(target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _rows_with_values(stream, stop_at: int) -> int:
    count = 0
    rows = etree.iterparse(
        stream, events=("end",), tag="{*}row", resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    for _, row in rows:
        if any(len(cell) for cell in row):  # a cell with a value has a <v> or an <is>; a styled empty one has none
            count += 1
            if count >= stop_at:
                break
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]
    return count
