"""What the tables of an export are, which columns they have, and how a row is filled.

``build_schema`` merges the field trees of the exported form versions into
tables: the main table and one table per repeat group (nested repeats too),
each with its fields in the order of the newest version, fields that only
older versions had at the end. Labels are resolved once, in the chosen
language. ``TableLayout`` turns a table into header rows and a row function
that makes one row of typed cell values from a flattened copy
(``Submission.data``); the row function is compiled once per table, because
filling cells is where an export spends its time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ..translations import Np_, translate
from ..xform import DEFAULT_LANGUAGE
from .csvzip import FORMULA_FIRST, csv_field
from .spreadsheet import Hyperlink

# -- languages ---------------------------------------------------------------

_ALIASES = {
    "th": ("thai", "ไทย", "ภาษาไทย"),
    "en": ("english", "eng", "อังกฤษ", "ภาษาอังกฤษ"),
}
_CODE = re.compile(r"\(([^()]+)\)\s*$")


def match_language(requested: str | None, languages: list[str], default: str | None) -> str:
    """The form's own translation name for ``requested`` (``th`` finds ``Thai (th)``), else the default."""
    fallback = default or (languages[0] if languages else DEFAULT_LANGUAGE)
    if not requested:
        return fallback
    wanted = requested.strip().casefold()
    for language in languages:
        if language.casefold() == wanted:
            return language
    for language in languages:
        code = _CODE.search(language)
        if code and code.group(1).strip().casefold() == wanted:
            return language
    aliases = {wanted, *_ALIASES.get(wanted, ())}
    for language in languages:
        base = _CODE.sub("", language).strip().casefold()
        if base in aliases or base.split("-")[0] in aliases:
            return language
    return fallback


def words_language(requested: str | None, chosen: str) -> str:
    """``th`` or ``en``: the language of the words formserver itself writes (metadata headers, states)."""
    for candidate in (requested or "", chosen):
        text = candidate.casefold()
        if text == "th" or "(th)" in text or text.startswith(_ALIASES["th"]):
            return "th"
        if text == "en" or "(en)" in text or text.startswith("english"):
            return "en"
    return "en"


# formserver's own words in an export, beside the form's: headers of metadata columns and of a location's parts.
HEADER_WORDS = {
    "SubmissionDate": Np_("export column", "Submission date"),
    "KEY": Np_("export column", "Key"),
    "PARENT_KEY": Np_("export column", "Parent key"),
    "SubmitterName": Np_("export column", "Submitted by"),
    "AttachmentsPresent": Np_("export column", "Attachments received"),
    "AttachmentsExpected": Np_("export column", "Attachments expected"),
    "ReviewState": Np_("export column", "Review state"),
    "DeviceID": Np_("export column", "Device ID"),
    "Edits": Np_("export column", "Earlier versions (edits)"),
    "FormVersion": Np_("export column", "Form version"),
    "_index": Np_("export column", "Row number"),
    "_parent_table_name": Np_("export column", "Parent table"),
    "_parent_index": Np_("export column", "Parent row number"),
    "Latitude": Np_("export column", "latitude"),
    "Longitude": Np_("export column", "longitude"),
    "Altitude": Np_("export column", "altitude"),
    "Accuracy": Np_("export column", "accuracy (m)"),
}


def header_words(language: str) -> dict[str, str]:
    return {name: translate(text, language) for name, text in HEADER_WORDS.items()}


# -- the merged schema ---------------------------------------------------------

_KINDS = {
    "string": "text",
    "int": "int",
    "integer": "int",
    "decimal": "decimal",
    "date": "date",
    "dateTime": "datetime",
    "time": "time",
    "geopoint": "geopoint",
    "binary": "binary",
    "boolean": "boolean",
    "select1": "select1",
    "select": "select",
}


@dataclass
class Choice:
    name: str
    label: str


@dataclass
class Field:
    key: str  # path relative to its table's node ("intake/household/head_name")
    path: str  # path below the root element
    kind: str  # text, int, decimal, date, datetime, time, geopoint, binary, boolean, select1, select
    label: str
    choices: list[Choice] = field(default_factory=list)


@dataclass
class Table:
    path: str  # "" for the main table, else the repeat's path below the root element
    key: str  # the repeat's path relative to its parent table's node
    name: str  # the sheet (and CSV file) name, unique in the export
    label: str
    parent: Table | None = None
    fields: list[Field] = field(default_factory=list)
    children: list[Table] = field(default_factory=list)

    def walk(self):
        """This table and every table below it, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()


def _label(labels: dict | None, language: str, default: str, fallback: str) -> str:
    if labels:
        return labels.get(language) or labels.get(default) or next(iter(labels.values()), "") or fallback
    return fallback


def _is_note(node: dict) -> bool:
    """A note shows text and holds no data: read-only, no calculation, a plain input."""
    return (
        node.get("control") in ("input", "trigger")
        and node.get("type", "string") == "string"
        and node.get("readonly") in ("true()", "true")
        and not node.get("calculate")
    )


def _kind(node: dict) -> str:
    if node.get("control") in ("rank", "odk:rank"):
        return "text"
    return _KINDS.get(node.get("type", "string"), "text")


def build_schema(trees: list[dict], main_name: str, requested_language: str | None) -> Table:
    """Merge field trees (newest first) into the export's tables, labels in the requested language."""
    main = Table(path="", key="", name=main_name, label=main_name)
    tables: dict[str, Table] = {"": main}
    fields: dict[str, Field] = {}
    for tree in trees:
        language = match_language(requested_language, tree.get("languages", []), tree.get("default_language"))
        reader = _SchemaReader("/" + tree["root"] + "/", language, tree.get("default_language") or language, tables, fields)
        reader.walk(tree["fields"], main)
    _name_tables(main)
    return main


class _SchemaReader:
    """Adds one version's groups, repeats and fields to the tables being merged."""

    def __init__(self, prefix: str, language: str, default: str, tables: dict[str, Table], fields: dict[str, Field]):
        self.prefix = prefix
        self.language = language
        self.default = default
        self.tables = tables
        self.fields = fields

    def walk(self, nodes: list[dict], table: Table) -> None:
        for node in nodes:
            path = node["path"]
            path = path[len(self.prefix):] if path.startswith(self.prefix) else path.lstrip("/")
            kind = node["kind"]
            if kind == "repeat":
                child = self.tables.get(path)
                if child is None:
                    leaf = path.rsplit("/", 1)[-1]
                    child = Table(
                        path=path,
                        key=path[len(table.path) + 1:] if table.path else path,
                        name=leaf,
                        label=_label(node.get("labels"), self.language, self.default, leaf),
                        parent=table,
                    )
                    self.tables[path] = child
                    table.children.append(child)
                self.walk(node.get("children", []), child)
            elif kind == "group":
                self.walk(node.get("children", []), table)
            elif not _is_note(node):
                _add_field(self.fields, table, node, path, self.language, self.default)


def _add_field(fields: dict[str, Field], table: Table, node: dict, path: str, language: str, default: str) -> None:
    choices = [
        Choice(choice["name"], _label(choice.get("labels"), language, default, choice["name"]))
        for choice in node.get("choices") or ()
        if choice.get("name")
    ]
    existing = fields.get(path)
    if existing is None:
        key = path[len(table.path) + 1:] if table.path else path
        name = path.rsplit("/", 1)[-1]
        existing = Field(key=key, path=path, kind=_kind(node), label=_label(node.get("labels"), language, default, name))
        fields[path] = existing
        table.fields.append(existing)
    known = {choice.name for choice in existing.choices}
    for choice in choices:  # choices only older versions had come after the newest version's
        if choice.name not in known:
            existing.choices.append(choice)
            known.add(choice.name)


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def _name_tables(main: Table) -> None:
    """Unique names of at most 31 characters without the characters Excel forbids."""
    used: set[str] = {"history"}
    for table in main.walk():
        base = _SHEET_FORBIDDEN.sub("_", table.name).strip("'") or "table"
        base = base[:31]
        candidate, number = base, 1
        while candidate.casefold() in used:
            number += 1
            suffix = f"_{number}"
            candidate = base[: 31 - len(suffix)] + suffix
        used.add(candidate.casefold())
        table.name = candidate


# -- headers and rows ------------------------------------------------------------

GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")


@dataclass
class Column:
    name: str
    label: str
    width: float
    zoned: bool = False  # a date-time or time of day, shown in the organisation's time zone


@dataclass(frozen=True)
class Meta:
    """A column formserver adds to a table; its values are passed to the row function.

    ``kind``: ``text``; ``number``; or ``received``, an aware date-time shown in
    the organisation's time zone.
    """

    name: str
    kind: str = "text"
    width: float = 12


class TableLayout:
    """The columns of one table in one export, and its compiled row function.

    ``row(d, link, *meta)`` returns the cells of a row: the metadata columns
    ``before``, the table's fields for the flattened node ``d``, the metadata
    columns ``after``, with one value per metadata column given in that order.
    ``link`` is the address attachments of this submission are linked under (a
    URL prefix, or ``media/<id>/`` in a media zip). With ``csv`` the cells are
    CSV fields already (``csvzip.csv_field`` of each typed cell), so that the
    CSV writer need not look at them again.

    ODK Central's layout asks three things more (``compile_row`` explains them):
    ``raw`` answers, ``group_paths=False`` (a field's name without its groups) and
    ``split_selects=False`` (a select_multiple in one column).
    """

    def __init__(self, table: Table, *, values: str, words: str, time_zone: ZoneInfo, zone_name: str,
                 before: tuple[Meta, ...] = (), after: tuple[Meta, ...] = (), csv: bool = False,
                 raw: bool = False, group_paths: bool = True, split_selects: bool = True):
        self.table = table
        self.language = words
        self.headers = header_words(words)
        self.zone_name = zone_name
        self.raw, self.group_paths, self.split_selects = raw, group_paths, split_selects
        self.columns: list[Column] = [self._meta_column(meta) for meta in before]
        for item in table.fields:
            self.columns.extend(self._columns(item))
        self.columns.extend(self._meta_column(meta) for meta in after)
        self.row = compile_row(
            table.fields, labels=values == "labels", time_zone=time_zone, csv=csv, before=before, after=after,
            raw=raw, split_selects=split_selects,
        )

    def _columns(self, item: Field) -> list[Column]:
        name = item.key.replace("/", "-") if self.group_paths else item.key.rsplit("/", 1)[-1]
        label = item.label
        if item.kind in ("datetime", "time") and self.raw:
            return [Column(name, label, _width(name, label, high=30))]  # as sent, with the phone's offset
        if item.kind in ("datetime", "time"):
            label = f"{label} ({self.zone_name})"
            width = 19.0 if item.kind == "datetime" else 10.0
            return [Column(name, label, max(width, _width(name, label, high=30)), zoned=True)]
        if item.kind == "select" and self.split_selects:
            return [Column(name, label, _width(name, label))] + [
                Column(f"{name}/{choice.name}", f"{item.label}/{choice.label}", _width(choice.name, choice.label, low=6))
                for choice in item.choices
            ]
        if item.kind == "geopoint":
            return [
                Column(f"{name}-{part}", f"{label}: {self.headers[part]}", 12) for part in GEO_PARTS
            ]
        if item.kind == "date":
            return [Column(name, label, max(11.0, _width(name, label, high=30)))]
        return [Column(name, label, _width(name, label))]

    def _meta_column(self, meta: Meta) -> Column:
        zoned = meta.kind == "received"
        label = self.headers.get(meta.name, meta.name)
        if zoned:
            label = f"{label} ({self.zone_name})"
        return Column(meta.name, label, max(meta.width, _width(meta.name, label, high=30)), zoned=zoned)


def _width(*texts: str, low: float = 8, high: float = 40) -> float:
    longest = max((len(text) for text in texts if text), default=0)
    return float(min(max(longest + 2, low), high))


# -- converters used by compiled rows -------------------------------------------------


def to_int(value: str):
    try:
        return int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and abs(number) < 1e15 else number


def to_float(value: str):
    try:
        number = float(value)
    except ValueError:
        return value
    return number if number - number == 0.0 else value


def to_date(value: str):
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError:
            return value


def datetime_converter(time_zone: ZoneInfo):
    def to_datetime(value: str):
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if stamp.tzinfo is None:
            return stamp
        return stamp.astimezone(time_zone).replace(tzinfo=None)

    return to_datetime


def time_converter(time_zone: ZoneInfo):
    def to_time(value: str):
        try:
            moment = dt.time.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            return moment
        # A time of day with the phone's offset: shown in the organisation's zone (on today's date).
        combined = dt.datetime.combine(dt.date.today(), moment)
        return combined.astimezone(time_zone).time().replace(tzinfo=None)

    return to_time


def to_bool(value: str):
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    return value


def to_geopoint(value: str) -> list:
    parts = value.split()
    cells: list = [None, None, None, None]
    for index, part in enumerate(parts[:4]):
        try:
            cells[index] = float(part)
        except ValueError:
            return [value, None, None, None]
    return cells


SPLIT_CACHE = 4096


def splitter(choices: list[Choice], labels: bool, summary=None):
    """The summary cell plus one 0/1 cell per choice, for an answered select_multiple.

    Answers repeat (the same few combinations of choices), so the cells of each
    answer are kept in a bounded cache. ``summary`` makes the summary cell from
    its text (a CSV field: ``csvzip.csv_field``).
    """
    index = {choice.name: position for position, choice in enumerate(choices, start=1)}
    names = {choice.name: choice.label for choice in choices}
    zeros = [0] * len(choices)
    cache: dict[str, tuple] = {}

    def split(value: str) -> tuple:
        cells = cache.get(value)
        if cells is not None:
            return cells
        parts = value.split()
        row = [value, *zeros]
        for part in parts:
            position = index.get(part)
            if position is not None:
                row[position] = 1
        if labels:
            row[0] = "; ".join(names.get(part, part) for part in parts)
        if summary is not None:
            row[0] = summary(row[0])
        if len(cache) >= SPLIT_CACHE:
            cache.clear()
        cells = cache[value] = tuple(row)
        return cells

    return split


def raw_geopoint(value: str) -> list:
    """A location's four parts as sent (latitude, longitude, altitude, accuracy), as CSV fields."""
    parts = value.split()[:4]
    return [csv_field(part) for part in parts] + [None] * (4 - len(parts))


def csv_geopoint(value: str) -> list:
    """``to_geopoint`` as CSV fields: a point that is not four numbers keeps its text, guarded."""
    cells = to_geopoint(value)
    if cells[0].__class__ is str:
        cells[0] = csv_field(cells[0])
    return cells


def compile_row(fields: list[Field], *, labels: bool, time_zone: ZoneInfo, csv: bool = False,
                before: tuple[Meta, ...] = (), after: tuple[Meta, ...] = (), raw: bool = False,
                split_selects: bool = True):
    """A function ``(d, link, *meta) -> list`` making a row's cells (see ``TableLayout``); values
    given beyond its metadata columns are ignored (a layout may show fewer than another).

    The function is generated as Python source: one expression per cell, all
    in one list display, so that a row costs one call instead of one per cell.
    Only generated names (K0, L0, m0, ...) appear in the source; keys, labels
    and choices are passed in as values. With ``csv`` each expression makes the
    CSV field of its cell as well (``csv_field``): converting CSV rows again
    value by value took a sixth of a CSV export's time.

    ``raw`` (CSV only): every answer as the phone sent it, as ODK Central's CSV
    has them: no numbers parsed, date-times with their own offset, a file's
    name rather than a link, a location's parts as sent. ``split_selects=False``:
    a select_multiple is one cell, without a 0/1 cell per choice.
    """
    namespace: dict = {
        "to_int": to_int,
        "to_float": to_float,
        "to_date": to_date,
        "to_datetime": datetime_converter(time_zone),
        "to_time": time_converter(time_zone),
        "to_bool": to_bool,
        "to_geopoint": csv_geopoint if csv else to_geopoint,
        "Hyperlink": Hyperlink,
        "quote": quote,
        "NO_GEO": (None, None, None, None),
        "ZONE": time_zone,
        "F": csv_field,
        "FIRST": FORMULA_FIRST,
    }
    metas = [*before, *after]
    meta_cells = [_meta_cell(meta.kind, f"m{number}", csv) for number, meta in enumerate(metas)]
    if raw:
        field_cells = _raw_cells(fields, namespace, split_selects)
    else:
        field_cells = _field_cells(fields, namespace, labels, csv, split_selects)
    cells = meta_cells[: len(before)] + field_cells + meta_cells[len(before):]
    parameters = "".join(f", m{number}" for number in range(len(metas)))
    source = f"def row(d, link{parameters}, *_):\n    g = d.get\n    return [" + ", ".join(cells) + "]\n"
    exec(compile(source, "<export row>", "exec"), namespace)  # noqa: S102 - generated names only
    return namespace["row"]


def _meta_cell(kind: str, name: str, csv: bool) -> str:
    if kind == "number":
        return name
    if kind == "received":
        cell = f"{name}.astimezone(ZONE).replace(tzinfo=None)"
        return f"{cell}.isoformat()" if csv else cell
    return f"({name} if {name}.__class__ is str and {name}[:1] not in FIRST else F({name}))" if csv else name


def _raw_cells(fields: list[Field], namespace: dict, split_selects: bool) -> list[str]:
    """The cell expressions of the fields as sent, as CSV fields (see ``compile_row``)."""
    namespace["RAW_GEO"] = raw_geopoint
    cells = []
    for number, item in enumerate(fields):
        namespace[f"K{number}"] = item.key
        got = f"(v := g(K{number})) is None"
        if item.kind == "geopoint":
            cells.append(f"*(NO_GEO if {got} else RAW_GEO(v))")
        elif item.kind == "select" and split_selects:
            namespace[f"S{number}"] = splitter(item.choices, False, summary=csv_field)
            namespace[f"N{number}"] = (None,) * (len(item.choices) + 1)
            cells.append(f"*(N{number} if {got} else S{number}(v))")
        else:
            cells.append(f"(None if {got} else v if v.__class__ is str and v[:1] not in FIRST else F(v))")
    return cells


def _field_cells(fields: list[Field], namespace: dict, labels: bool, csv: bool, split_selects: bool) -> list[str]:
    """The cell expressions of the fields; what they need is added to ``namespace``."""
    simple = {
        "int": "to_int",
        "decimal": "to_float",
        "date": "to_date",
        "datetime": "to_datetime",
        "time": "to_time",
        "boolean": "to_bool",
    }
    # In CSV, what a converter gives back: numbers stay, dates become ISO text, the rest goes through F.
    csv_of = {
        "int": "x if (x := {cell}).__class__ is not str else F(x)",
        "decimal": "x if (x := {cell}).__class__ is not str else F(x)",
        "date": "x.isoformat() if (x := {cell}).__class__ is DATE else F(x)",
        "datetime": "x.isoformat() if (x := {cell}).__class__ is DATETIME else F(x)",
        "time": "x.isoformat() if (x := {cell}).__class__ is TIME else F(x)",
        "boolean": "F({cell})",
    }
    namespace.update(DATE=dt.date, DATETIME=dt.datetime, TIME=dt.time)
    cells = []
    for number, item in enumerate(fields):
        key = f"K{number}"
        namespace[key] = item.key
        got = f"(v := g({key})) is None"
        if item.kind in simple:
            cell = f"{simple[item.kind]}(v)"
            cells.append(f"(None if {got} else {csv_of[item.kind].format(cell=cell) if csv else cell})")
        elif item.kind == "select1" and labels and item.choices:
            choice_labels = {choice.name: choice.label for choice in item.choices}
            if csv:
                namespace[f"L{number}"] = {name: csv_field(label) for name, label in choice_labels.items()}
                cells.append(f"(None if {got} else L{number}[v] if v in L{number} else F(v))")
            else:
                namespace[f"L{number}"] = choice_labels
                cells.append(f"(None if {got} else L{number}.get(v, v))")
        elif item.kind == "select" and split_selects:
            namespace[f"S{number}"] = splitter(item.choices, labels, summary=csv_field if csv else None)
            namespace[f"N{number}"] = (None,) * (len(item.choices) + 1)
            cells.append(f"*(N{number} if {got} else S{number}(v))")
        elif item.kind == "select":
            namespace[f"S{number}"] = splitter(item.choices, labels, summary=csv_field if csv else None)
            cells.append(f"(None if {got} else S{number}(v)[0])")
        elif item.kind == "geopoint":
            cells.append(f"*(NO_GEO if {got} else to_geopoint(v))")
        elif item.kind == "binary":
            # In CSV the link is the cell: it starts with the server's address or media/, never a formula.
            link = "link + quote(v, safe='')"
            cells.append(f"(None if {got} else {link if csv else f'Hyperlink({link}, v)'})")
        elif csv:
            cells.append(f"(None if {got} else v if v.__class__ is str and v[:1] not in FIRST else F(v))")
        else:
            cells.append(f"g({key})")
    return cells
