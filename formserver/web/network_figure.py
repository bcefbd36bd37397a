"""What the Network page asks and what it shows, as plain functions.

``Query`` is the page's GET form (a bookmarkable address: the form, the unit, the row and column
dimensions, months since and until, provinces and organisations); ``table_request`` turns it into
the ``TableRequest`` the figures answer. ``figure`` turns a ``ShownTable`` (never a ``CrossTable``:
only what may be shown) into what ``templates/network/_figure.html`` reads, so that the page, the
print view and a published snapshot show a table and its chart the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import parse_qs, urlencode

from babel.dates import format_date
from markupsafe import Markup

from ..network.charts import chart_svg
from ..network.suppression import mark, percentage
from ..network.table import MONTH, ORGANISATION, Choice, Shown, ShownTable, TableRequest
from ..network.workbook import ALL_MONTHS
from ..network.words import WITHHELD, choice_label, table_title, unit_label
from ..translations import translate
from .dates import BUDDHIST_ERA_OFFSET

PROVINCE = "province"  # the household field the page filters by province, when the form has it
MOST_KEPT = 12  # tables in one print view or workbook
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Query:
    """The Network page's GET form, as typed: ``since``/``until`` are months (``2026-03``) or empty."""

    form: str = ""
    unit: str = ""
    rows: str = ""
    columns: str = ""
    since: str = ""
    until: str = ""
    provinces: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """A table is asked for: a form and a row dimension are chosen."""
        return bool(self.form and self.rows)

    def pairs(self) -> list[tuple[str, str]]:
        """The query as (name, value) pairs, empty fields left out, in the form's order."""
        single = [("form", self.form), ("unit", self.unit), ("rows", self.rows), ("columns", self.columns),
                  ("since", self.since), ("until", self.until)]
        return [(k, v) for k, v in single if v] + [("province", p) for p in self.provinces] + \
            [("organisation", o) for o in self.organisations]

    def encoded(self) -> str:
        return urlencode(self.pairs())


def read_query(args) -> Query:
    """The query from a request's arguments (a ``MultiDict``) or a parsed query string (name -> list)."""
    def one(name: str) -> str:
        values = args.getlist(name) if hasattr(args, "getlist") else args.get(name, [])
        return (values[0] if values else "").strip()

    def many(name: str) -> tuple[str, ...]:
        values = args.getlist(name) if hasattr(args, "getlist") else args.get(name, [])
        return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))

    return Query(one("form"), one("unit"), one("rows"), one("columns"), one("since"), one("until"),
                 many("province"), many("organisation"))


def kept_queries(args) -> list[Query]:
    """The tables kept for the print list: each ``keep`` argument is one table's query string."""
    kept = []
    for text in args.getlist("keep")[:MOST_KEPT]:
        query = read_query(parse_qs(text))
        if query.ready and query not in kept:
            kept.append(query)
    return kept


def table_request(query: Query) -> TableRequest:
    """The figures' request; ``ValueError`` names the month that is not ``YYYY-MM``."""
    filters: dict[str, tuple[str, ...]] = {}
    if query.provinces:
        filters[PROVINCE] = query.provinces
    if query.organisations:
        filters[ORGANISATION] = query.organisations
    return TableRequest(
        form_id=query.form, rows=query.rows, columns=query.columns or None, unit=query.unit or None,
        since=_month(query.since), until=_month(query.until), filters=filters,
    )


def _month(text: str) -> date | None:
    if not text:
        return None
    if not _MONTH.match(text):
        raise ValueError(text)
    return date(int(text[:4]), int(text[5:]), 1)


def month_name(month: str, language: str) -> str:
    """``2026-03`` as its reader reads it: ``มี.ค. 2569`` or ``Mar 2026``."""
    day = date(int(month[:4]), int(month[5:7]), 1)
    year = day.year + BUDDHIST_ERA_OFFSET if language == "th" else day.year
    return f"{format_date(day, 'MMM', locale=language)} {year}"


def with_month_names(shown: ShownTable) -> ShownTable:
    """The table with its months labelled by name in Thai and English (the labels travel with it)."""
    def named(dimension):
        if dimension is None or dimension.name != MONTH:
            return dimension
        choices = tuple(
            Choice(c.name, {lang: month_name(c.name, lang) for lang in ("th", "en")}) if _MONTH.match(c.name) else c
            for c in dimension.choices
        )
        return replace(dimension, choices=choices)

    return replace(shown, rows=named(shown.rows), columns=named(shown.columns))


def shown_count(count: int, k: int) -> Shown:
    """A single network-wide count under the same rule as a table's: 1..k−1 is hidden, 0 stays 0."""
    return Shown(None, mark(k)) if 0 < count < k else Shown(count)


def period(request: TableRequest, language: str) -> str:
    """The months a table covers, in words."""
    if request.since is None and request.until is None:
        return translate(ALL_MONTHS, language)
    since = month_name(request.since.strftime("%Y-%m"), language) if request.since else "…"
    until = month_name(request.until.strftime("%Y-%m"), language) if request.until else "…"
    return f"{since} – {until}"


def figure(shown: ShownTable, language: str, organisation_names: list[str], *, chart_id: str = "chart") -> dict:
    """What ``_figure.html`` shows of one table: the title, the table with its totals and percentages
    (only beside shown counts), the chart, the k in force, the organisations, those without an ID."""
    columns = () if shown.columns is None else shown.columns.choices
    rows = []
    if shown.withheld:  # nothing but that fact: no cell, no total, no chart, no organisation
        return {"title": table_title(shown, language), "withheld": True, "unit": unit_label(shown, language),
                "period": period(shown.request, language), "withheld_text": translate(WITHHELD, language, k=shown.k)}
    for choice in shown.rows.choices:
        total = shown.row_totals[choice.name]
        cells = [_cell(shown.cells[(choice.name, c.name)], total) for c in columns]
        rows.append({"label": choice_label(choice, language), "cells": cells,
                     "total": _cell(total, None if columns else shown.total)})
    return {
        "title": table_title(shown, language),
        "withheld": False,
        "k": shown.k,
        "row_label": shown.rows.label(language),
        "column_labels": [choice_label(c, language) for c in columns],
        "rows": rows,
        "column_totals": [_cell(shown.column_totals[c.name], None) for c in columns],
        "total": _cell(shown.total, None),
        "chart": Markup(chart_svg(shown, language, chart_id=chart_id)),  # every text in it escaped (charts.py)
        "unit": unit_label(shown, language),
        "period": period(shown.request, language),
        "organisations": organisation_names,
        "without_identity": None if shown.without_identity is None else shown.without_identity.text,
    }


def _cell(value: Shown, whole: Shown | None) -> dict:
    share = percentage(value, whole) if whole is not None else None
    return {"text": value.text, "hidden": value.count is None, "percent": None if share is None else f"{share:.0f}%"}

