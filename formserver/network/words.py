"""formserver's own words in the network's charts, workbooks and CSV files, in the chosen language.

A chart or a workbook is made outside any page too (the command line, a published snapshot), so
it names its language and translates with ``translations.translate``; the form's own words
(dimension and choice labels) come from the ``Dimension`` and ``Choice`` it shows.
"""

from __future__ import annotations

from ..translations import Np_, translate
from .table import NOT_ANSWERED, Choice, ShownTable

TOTAL = Np_("network", "Total")
NOT_ANSWERED_LABEL = Np_("network", "Not answered")
HIDDEN_SMALL = Np_("network", "%(mark)s: fewer than %(k)s, not shown")
HIDDEN_SECONDARY = Np_("network", "x: hidden so that a small count cannot be worked out from the totals")
WITHHELD = Np_("network", "Fewer than %(k)s in this selection: nothing is shown.")
PERSONS_OR_ROWS = Np_("network", "Rows of %(repeat)s")
HOUSEHOLDS = Np_("network", "Households (submissions)")
DEDUPLICATION = Np_(
    "network",
    "A household or person registered by several organisations (the same 13-digit ID number) is "
    "counted once, with the answers of the newest record; those without an ID number are counted "
    "as they are.",
)


def choice_label(choice: Choice, language: str) -> str:
    """A row's or column's label: the form's, or formserver's own words for "not answered"."""
    if choice.name == NOT_ANSWERED and not choice.labels:
        return translate(NOT_ANSWERED_LABEL, language)
    return choice.label(language)


def table_title(shown: ShownTable, language: str) -> str:
    """"Legal status × Province", or the row dimension's label alone."""
    title = shown.rows.label(language)
    if shown.columns is not None:
        title += " × " + shown.columns.label(language)
    return title


def mark_notes(shown: ShownTable, language: str) -> list[str]:
    """What the marks mean, for under a table or a chart (only the marks it shows); a withheld table
    says only that."""
    if shown.withheld:
        return [translate(WITHHELD, language, k=shown.k)]
    every = (*shown.cells.values(), *shown.row_totals.values(), *shown.column_totals.values(), shown.total)
    marks = {value.mark for value in every if value.count is None}
    notes = []
    if f"<{shown.k}" in marks:
        notes.append(translate(HIDDEN_SMALL, language, mark=f"<{shown.k}", k=shown.k))
    if "x" in marks:
        notes.append(translate(HIDDEN_SECONDARY, language))
    return notes


def unit_label(shown: ShownTable, language: str) -> str:
    """What was counted: households, or the rows of a repeat (persons of ``member``)."""
    if shown.request.unit is None:
        return translate(HOUSEHOLDS, language)
    labels = shown.unit_labels
    repeat = labels.get(language) or labels.get("en") or shown.request.unit
    return translate(PERSONS_OR_ROWS, language, repeat=repeat)

