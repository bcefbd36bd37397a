"""The shapes a network figure passes through: counted (``CrossTable``), then shown (``ShownTable``).

A ``CrossTable`` holds every count, small ones too; only ``suppression.suppress`` reads it. What
it returns, a ``ShownTable``, holds no hidden number at all, so that a page, chart, workbook or
snapshot built from it cannot leak one by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

NOT_ANSWERED = "_none"
MONTH = "_month"
ORGANISATION = "_organisation"


@dataclass(frozen=True)
class Choice:
    """One row or column: a choice name as in the form (``stateless``), an age band (``15-19``),
    a month (``2026-11``), an organisation's slug, or ``NOT_ANSWERED``."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.name


@dataclass(frozen=True)
class Dimension:
    """A field the network may count by. ``multiple`` (select_multiple): one unit can hold several
    choices, so the choices' counts do not add up to the number of units that answered."""

    name: str
    labels: dict[str, str]
    choices: tuple[Choice, ...]
    multiple: bool = False

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.name


@dataclass(frozen=True)
class TableRequest:
    """What someone asked for. ``unit`` None counts households (submissions); otherwise the rows of
    that repeat (``member``). ``filters`` keeps only units whose answer to the field is one of the
    choices (``{"province": ("50", "57"), ORGANISATION: ("hillnet",)}``); months are inclusive."""

    form_id: str
    rows: str
    columns: str | None = None
    unit: str | None = None
    since: date | None = None
    until: date | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CrossTable:
    """Every count of a request, before suppression. Totals are counted from the units (distinct),
    never summed: for a ``multiple`` dimension a total is the number of units that answered."""

    request: TableRequest
    rows: Dimension
    columns: Dimension | None
    counts: dict[tuple[str, str | None], int]
    row_totals: dict[str, int]
    column_totals: dict[str, int]
    total: int
    organisations: tuple[str, ...]
    without_identity: int = 0
    unit_labels: dict[str, str] = field(default_factory=dict)  # the repeat's label by language


@dataclass(frozen=True)
class Shown:
    """One published number: ``count`` when shown; ``None`` with ``mark`` ``"<5"`` (too small, the k
    in force) or ``"x"`` (hidden so that a small one cannot be worked out)."""

    count: int | None
    mark: str = ""

    @property
    def text(self) -> str:
        return self.mark if self.count is None else str(self.count)


@dataclass(frozen=True)
class ShownTable:
    """A cross-table as it may be published. ``withheld``: the whole population is below k, so
    nothing but that fact is shown (``cells`` and totals are empty)."""

    request: TableRequest
    rows: Dimension
    columns: Dimension | None
    k: int
    cells: dict[tuple[str, str | None], Shown]
    row_totals: dict[str, Shown]
    column_totals: dict[str, Shown]
    total: Shown
    organisations: tuple[str, ...]
    withheld: bool = False
    without_identity: Shown | None = None
    unit_labels: dict[str, str] = field(default_factory=dict)
