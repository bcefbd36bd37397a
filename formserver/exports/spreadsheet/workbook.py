"""The workbook that ties the sheets together: their tab order, and the package's other parts.

Its sheets are written side by side into one ``ZipStream``; closing the
workbook finishes every sheet and writes the parts that list them (the
workbook, its relationships, the content types), the styles and the
document properties.
"""

from __future__ import annotations

import datetime as _dt
from typing import Sequence

from ..zipstream import ZipStream
from .cells import escape_attr
from .sheet import (
    MAIN_NS,
    MAX_ROWS,
    PKG_REL_NS,
    REL_NS,
    XML_DECLARATION,
    Sheet,
    Table,
    formula_sheet_name,
    sanitise_sheet_name,
    with_suffix,
)
from .styles import STYLES_XML


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
            candidate = with_suffix(name, f"_{number}")
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
            self, self._unique_name(sanitise_sheet_name(name)), self._created,
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
        write("xl/styles.xml", STYLES_XML.encode("utf-8"))
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
            XML_DECLARATION,
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">',
            '<bookViews><workbookView activeTab="0"/></bookViews><sheets>',
        ]
        parts.extend(
            f'<sheet name="{escape_attr(sheet.name)}" sheetId="{sheet._number}" r:id="rId{sheet._number}"/>'
            for sheet in self._sheets
        )
        parts.append("</sheets>")
        names = [
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
            f"{escape_attr(formula_sheet_name(sheet.name))}!{sheet._filter_range}</definedName>"
            for index, sheet in enumerate(self._sheets)
            if sheet._filter_range
        ]
        if names:
            parts.append("<definedNames>" + "".join(names) + "</definedNames>")
        parts.append("</workbook>")
        return "".join(parts)

    def _workbook_rels_xml(self) -> str:
        parts = [XML_DECLARATION, f'<Relationships xmlns="{PKG_REL_NS}">']
        parts.extend(
            f'<Relationship Id="rId{number}" Type="{REL_NS}/worksheet" '
            f'Target="worksheets/sheet{number}.xml"/>'
            for number in range(1, len(self._sheets) + 1)
        )
        parts.append(
            f'<Relationship Id="rId{len(self._sheets) + 1}" Type="{REL_NS}/styles" '
            'Target="styles.xml"/></Relationships>'
        )
        return "".join(parts)

    def _content_types_xml(self) -> str:
        parts = [
            XML_DECLARATION,
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
    XML_DECLARATION
    + f'<Relationships xmlns="{PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{PKG_REL_NS}/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{REL_NS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

_APP_XML = (
    XML_DECLARATION
    + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Application>formserver</Application></Properties>"
)


def _core_xml() -> str:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        XML_DECLARATION
        + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>formserver</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "</cp:coreProperties>"
    )
