"""XLSForm to XForm with pyxform, errors that name sheet and row, and JavaRosa validation.

Everything a form designer uploads comes through ``convert()``; nothing is
stored here. A file that is no workbook pyxform should read (not a spreadsheet,
macros, a zip bomb, too many rows: ``workbooks.py``) raises a ``Problem``; a
form pyxform rejects raises ``FormError`` with the sheet, row and column, found
in the workbook where pyxform's message does not give them. pyxform is
imported when a workbook is converted or validated: reading forms, exporting
and most commands never need it.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from lxml import etree

from . import workbooks
from . import xform as xform_reader
from .problems import Problem
from .workbooks import Limits
from .xml import UnsafeOrBadXml, parse

if TYPE_CHECKING:
    from pyxform.errors import PyXFormError

ITEMSETS = "itemsets.csv"


@dataclass
class ConvertedForm:
    xform: bytes
    form_id: str
    version: str
    title: str
    warnings: list[str] = field(default_factory=list)
    itemsets_csv: bytes | None = None
    version_assigned: bool = False
    # The survey sheet's ``network`` column as written (pyxform drops it): name -> (row, value); None if absent.
    network_column: dict[str, tuple[int, str]] | None = None


class FormError(Exception):
    """A form that cannot be accepted, said where it is wrong."""

    def __init__(self, message: str, *, sheet: str | None = None, row: int | None = None, column: str | None = None):
        self.message = message
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.sheet:
            where.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


def form_id_from_filename(filename: str) -> str:
    """What pyxform's xls2xform takes as the form id (the file name's stem), made a valid XML name."""
    stem = PurePath(filename).stem or "form"
    name = re.sub(r"[^\w.\-]", "_", stem, flags=re.UNICODE)
    if not re.match(r"[^\W\d]", name, flags=re.UNICODE):
        name = "_" + name
    return name


def assigned_version(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%d%H%M%S")


def convert(
    content: bytes,
    filename: str,
    *,
    validate_with_java: bool = False,
    limits: Limits = Limits(),
    now: datetime | None = None,
) -> ConvertedForm:
    """Convert an uploaded XLSForm (or take an XForm as it is) and check it."""
    if PurePath(filename).suffix.lower() == ".xml":
        converted = _take_xform(content, now)
    else:
        converted = _convert_xlsform(content, filename, workbooks.check(content, filename, limits), limits, now)
    if validate_with_java:
        converted.warnings.extend(validate(converted.xform))
    return converted


def _convert_xlsform(content: bytes, filename: str, file_type: str, limits: Limits, now: datetime | None) -> ConvertedForm:
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2xform import external_choices_to_csv, has_external_choices

    workbook = _read_workbook(content, filename, file_type)
    if file_type == workbooks.XLS:
        workbooks.check_rows(sum(1 for row in [*(workbook.survey or []), *(workbook.choices or [])] if row), filename, limits)
    warnings: list[str] = []
    try:
        workbook.fallback_form_name = form_id_from_filename(filename)
        data = workbook_to_json(
            workbook_dict=workbook,
            form_name=None,
            fallback_form_name=workbook.fallback_form_name,
            warnings=warnings,
        )
        version_assigned = not str(data.get("version") or "").strip()
        if version_assigned:
            data["version"] = assigned_version(now)
        itemsets = external_choices_to_csv(workbook_dict=workbook) if has_external_choices(json_struct=data) else None
        survey = create_survey_element_from_dict(data)
        xml = survey.to_xml(validate=False, pretty_print=False, warnings=warnings)
    except PyXFormError as error:
        raise _form_error(error, workbook) from None
    except Exception as error:  # pyxform raises raw TypeErrors and the like on some workbooks
        raise FormError(
            f"pyxform could not read this workbook ({type(error).__name__}: {error}). "
            "Check the survey and choices sheets for merged cells, stray columns or rows without a type."
        ) from None
    xform = xml.encode("utf-8")
    summary = xform_reader.summarise(xform)
    return ConvertedForm(
        xform=xform,
        form_id=summary.form_id,
        version=summary.version or "",
        title=summary.title,
        warnings=[str(w) for w in warnings],
        itemsets_csv=itemsets.encode("utf-8") if itemsets else None,
        version_assigned=version_assigned,
        network_column=_network_column(workbook.survey),
    )


def _network_column(survey_rows) -> dict[str, tuple[int, str]] | None:
    """The ``network`` column of the survey sheet (``network/declaration.py``): name -> (spreadsheet row,
    value) of each row that fills it; None when the sheet has no such column."""
    found: dict[str, tuple[int, str]] = {}
    present = False
    for index, row in enumerate(survey_rows or []):
        cells = {str(key).strip().lower(): value for key, value in row.items()}
        if "network" in cells:
            present = True
            name, value = str(cells.get("name") or "").strip(), str(cells["network"] or "").strip()
            if value:
                found[name] = (index + 2, value)  # the header is row 1, as in pyxform's own [row : n]
    return found if present else None


def _read_workbook(content: bytes, filename: str, file_type: str):
    """pyxform's reading of the workbook's sheets, as the format ``workbooks.check`` found (never as CSV or Markdown)."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    try:
        return get_xlsform(xlsform=content, file_type=file_type)
    except PyXFormError as error:
        if str(error).startswith("Argument 'definition' was not recognized"):  # openpyxl or xlrd could not read it
            raise Problem("form.unreadable", filename=filename) from None
        raise _form_error(error, None) from None
    except Exception:  # openpyxl refusing a part (damaged, or XML with entities): not a workbook it can read
        raise Problem("form.unreadable", filename=filename) from None


def _take_xform(content: bytes, now: datetime | None) -> ConvertedForm:
    try:
        summary = xform_reader.summarise(content)
        xform_reader.field_tree(content)
    except (UnsafeOrBadXml, xform_reader.XFormError) as error:
        raise FormError(f"this XForm cannot be used: {error}") from None
    version_assigned = summary.version is None
    if version_assigned:
        content = _write_version(content, assigned_version(now))
        summary = xform_reader.summarise(content)
    return ConvertedForm(
        xform=content,
        form_id=summary.form_id,
        version=summary.version or "",
        title=summary.title,
        version_assigned=version_assigned,
    )


def _write_version(xform: bytes, version: str) -> bytes:
    """Add version="…" to the primary instance's root tag, changing no other byte."""
    text = xform.decode("utf-8")
    match = re.search(r"<instance(?:\s[^>]*)?>\s*<([\w:.\-]+)((?:\s[^>]*?)?)\sid=(\"[^\"]*\"|'[^']*')", text)
    if not match:
        raise FormError("the XForm's instance root has no id attribute")
    end = match.end()
    return (text[:end] + f' version="{version}"' + text[end:]).encode("utf-8")


def with_public_key(xform: bytes, public_key: str, version: str | None = None) -> bytes:
    """The XForm with ``<submission base64RsaPublicKey>`` in its model (as pyxform writes it for a
    ``public_key`` setting), and a new version when one is given: phones encrypt what they send."""
    root = parse(xform)
    model = root.find("{*}head/{http://www.w3.org/2002/xforms}model")
    if model is None:
        raise FormError("the XForm has no model")
    submission = model.find("{http://www.w3.org/2002/xforms}submission")
    if submission is None:
        submission = etree.Element("{http://www.w3.org/2002/xforms}submission")
        model.insert(0, submission)
    submission.set("base64RsaPublicKey", public_key)
    if version is not None:
        instance = next(i for i in model.findall("{http://www.w3.org/2002/xforms}instance") if i.get("id") is None)
        next(c for c in instance if isinstance(c.tag, str)).set("version", version)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET = re.compile(r"(?:the\s+)?'?(survey|choices|settings|external_choices|entities)'?\s+sheet|sheet[:\s]+'([^']+)'", re.I)
_COLUMN = re.compile(r"the '([^']+)' value")
_HEADERS = re.compile(r"^Invalid headers provided for sheet")
# Messages about a question's type, on the survey sheet whichever sheet they name ("List name not in choices sheet").
_TYPE_CELL = re.compile(r"Unknown question type|List name not in|There should be a choices sheet|with no type|without list name")
# The survey column that pyxform's messages without a column are about.
_COLUMN_OF = ((_TYPE_CELL, "type"), (re.compile(r"Missing calculation"), "calculation"), (re.compile(r"with no name"), "name"))
_UNKNOWN_TYPE = re.compile(r"Unknown question type '([^']*)'")
_SELECT = re.compile(r"(select_one|select_multiple|select one|select multiple|rank)\s+\S", re.I)


def _form_error(error: PyXFormError, workbook) -> FormError:
    """pyxform's message, said where it is wrong: its own context or words first, else the cell found in the workbook."""
    message = str(error)
    context = getattr(error, "context", None) or {}
    row = context.get("row")
    sheet = context.get("sheet") or context.get("sheet_name")
    column = context.get("column")
    if row is None and (match := _ROW.search(message)):
        row = int(match.group(1))
    clean = _ROW.sub("", message).strip(" :-")
    if sheet is None and _TYPE_CELL.search(clean):
        sheet = "survey"
    if sheet is None and (match := _SHEET.search(message)):
        sheet = (match.group(1) or match.group(2)).lower()
    if column is None and (match := _COLUMN.search(message)):
        column = match.group(1)
    if row is None and _HEADERS.search(clean):
        row = 1
    if row is None and workbook is not None:
        row = _type_cell(clean, workbook)
    if sheet is None and row is not None:
        sheet = "survey"
    if column is None and sheet == "survey":
        column = next((name for pattern, name in _COLUMN_OF if pattern.search(clean)), None)
    return FormError(clean, sheet=sheet, row=int(row) if row is not None else None, column=column)


def _type_cell(message: str, workbook) -> int | None:
    """The survey row (numbered as the spreadsheet numbers it) of the question a message without a place is about:
    the one of the unknown type, or the first select naming a list when there is no choices sheet."""
    if match := _UNKNOWN_TYPE.search(message):
        unknown = match.group(1).strip().casefold()

        def is_it(written: str) -> bool:
            return written.casefold() == unknown

    elif message.startswith("There should be a choices sheet"):

        def is_it(written: str) -> bool:
            return bool(_SELECT.match(written)) and "from_file" not in written and "external" not in written

    else:
        return None
    for index, row in enumerate(workbook.survey or []):
        written = next((str(value).strip() for key, value in row.items() if str(key).strip().lower() == "type"), "")
        if written and is_it(written):
            return index + 2  # the header is row 1, as in pyxform's own [row : n]
    return None


def validate(xform: bytes) -> list[str]:
    """Run ODK Validate (JavaRosa); return its warnings, raise ``FormError`` on errors."""
    from pyxform.validators import odk_validate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.xml"
        path.write_bytes(xform)
        try:
            warnings = odk_validate.check_xform(str(path))
        except odk_validate.ODKValidateError as error:
            raise FormError(f"ODK Validate (JavaRosa) rejected the form: {_validator_detail(str(error))}") from None
    return [str(w).replace(str(path), "form") for w in warnings or []]


_VALIDATOR_NOISE = re.compile(
    r"^(ODK Validate Errors:|>> Something broke the parser\.|Caused by:|\.\.\. \d+ more|"
    r"The following files failed validation:|.*\.xml$|Result: Invalid|\s*at )"
)


def _validator_detail(report: str) -> str:
    """JavaRosa's own sentences, without the Java stack and the temporary file's name."""
    lines = []
    for line in report.splitlines():
        line = line.strip()
        if line and not _VALIDATOR_NOISE.match(line) and line not in lines:
            lines.append(line)
    return " ".join(lines)
