"""The forms the network pools: every shared form of one XForm id, across organisations and versions.

A field is pooled by its name and type, a choice by its name; labels come from the newest version
that has them. Each unit (households, or the rows of a repeat) may be counted by its own fields, by
the household's fields (a person lives in the household's province), by the month and by the
organisation. Encrypted forms are never shared (``sharing.py``), so never pooled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Form, FormVersion, NetworkUnit, Organisation
from ..translations import N_, in_every_language
from .declaration import BANDS, DIMENSION, band_labels
from .facts import declaration_of
from .table import MONTH, NOT_ANSWERED, ORGANISATION, Choice, Dimension

_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\)\s*$")
_NAMES = {"thai": "th", "english": "en"}


@dataclass(frozen=True)
class CountedField:
    """A pooled field: the dimension shown, and where its answers are kept (its repeat, "" = household)."""

    dimension: Dimension
    repeat: str


@dataclass(frozen=True)
class PooledForm:
    """One XForm id as the network sees it. ``units``: None (households) or a repeat's name -> its
    path and labels; ``fields``: name -> ``CountedField``; ``organisations``: slug -> name of those that share."""

    form_id: str
    title: str
    units: dict[str | None, tuple[str, dict[str, str]]]
    fields: dict[str, CountedField]
    organisations: dict[str, str]
    organisation_ids: dict[str, int]
    months: tuple[str, ...]

    def unit_path(self, unit: str | None) -> str | None:
        """The repeat path of a unit ("" for households), None when the form has no such unit."""
        found = self.units.get(unit)
        return found[0] if found is not None else None

    def dimensions(self, unit: str | None) -> tuple[Dimension, ...]:
        """What a unit may be counted by: its own fields, its household's, the month and the organisation."""
        path = self.unit_path(unit)
        own = [f.dimension for f in self.fields.values() if f.repeat == path]
        household = [f.dimension for f in self.fields.values() if path and f.repeat == ""]
        return (*own, *household, self.month_dimension(), self.organisation_dimension())

    def dimension(self, unit: str | None, name: str) -> Dimension | None:
        return next((d for d in self.dimensions(unit) if d.name == name), None)

    def month_dimension(self) -> Dimension:
        return Dimension(MONTH, in_every_language(N_("Month")), tuple(Choice(month) for month in self.months))

    def organisation_dimension(self) -> Dimension:
        choices = tuple(Choice(slug, {"th": name, "en": name}) for slug, name in sorted(self.organisations.items()))
        return Dimension(ORGANISATION, in_every_language(N_("Organisation")), choices)


def pooled_forms(session: Session) -> dict[str, PooledForm]:
    """Every form id shared by at least one organisation, pooled."""
    rows = session.execute(
        select(Form, Organisation).join(Organisation, Organisation.id == Form.organisation_id)
        .where(Form.network_shared.is_(True)).order_by(Form.form_id, Organisation.slug)
    ).all()
    grouped: dict[str, list[tuple[Form, Organisation]]] = {}
    for form, organisation in rows:
        grouped.setdefault(form.form_id, []).append((form, organisation))
    months = _months(session, list(grouped))
    return {form_id: _pool(session, form_id, shared, months.get(form_id, ())) for form_id, shared in grouped.items()}


def _months(session: Session, form_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """Every month from a form's first to its last, also those without a submission (a trend shows them
    as 0); read from the index's ends, not from every unit."""
    found: dict[str, tuple[str, ...]] = {}
    for form_id in form_ids:
        first, last = session.execute(
            select(func.min(NetworkUnit.month), func.max(NetworkUnit.month))
            .where(NetworkUnit.form_id == form_id, NetworkUnit.repeat == "")
        ).one()
        found[form_id] = _between(first, last) if first else ()
    return found


def _between(first: str, last: str) -> tuple[str, ...]:
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def _pool(session: Session, form_id: str, shared: list[tuple[Form, Organisation]], months: tuple[str, ...]) -> PooledForm:
    versions = session.execute(  # not the XForms and workbooks themselves: a page reads this for every table
        select(FormVersion.id, FormVersion.title, FormVersion.network)
        .where(FormVersion.form_id.in_([form.id for form, _ in shared]))
        .order_by(FormVersion.created_at, FormVersion.id)
    ).all()
    fields: dict[tuple[str, str], dict] = {}
    newest_type: dict[str, str] = {}
    choices: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    units: dict[str | None, tuple[str, dict[str, str]]] = {None: ("", in_every_language(N_("Households")))}
    title = form_id
    for version_pk, version_title, network in versions:  # oldest first: the newest version's labels win
        declared = network if network is not None else declaration_of(session.get(FormVersion, version_pk))
        title = version_title or title
        for path, repeat in declared.get("repeats", {}).items():
            units[path.rsplit("/", 1)[-1]] = (path, _labels(repeat.get("labels", {})))
        for item in declared.get("fields", ()):
            if item["kind"] not in (DIMENSION, BANDS):
                continue
            key = (item["name"], item["type"])
            fields[key] = item
            newest_type[item["name"]] = item["type"]
            known = choices.setdefault(key, {})
            if item["kind"] == BANDS:
                known.clear()
                known.update({label: {} for label in band_labels(item["bands"])})
            for choice in item.get("choices", ()):
                known[choice["name"]] = _labels(choice.get("labels", {}))
    counted: dict[str, CountedField] = {}
    for key, item in fields.items():
        if newest_type[item["name"]] != item["type"]:
            continue  # a name used with two types: the newest version's type is counted
        dimension = Dimension(
            item["name"], _labels(item.get("labels", {})),
            (*(Choice(name, labels) for name, labels in choices[key].items()), _not_answered()),
            multiple=item["type"] == "select",
        )
        counted[item["name"]] = CountedField(dimension, item["repeat"])
    return PooledForm(
        form_id=form_id, title=title, units=units, fields=counted,
        organisations={organisation.slug: organisation.name for _, organisation in shared},
        organisation_ids={organisation.slug: organisation.id for _, organisation in shared},
        months=months,
    )


def _not_answered() -> Choice:
    return Choice(NOT_ANSWERED, in_every_language(N_("Not answered")))


def _labels(labels: dict[str, str]) -> dict[str, str]:
    """A form's labels keyed by language code (``Thai (th)`` -> ``th``); a form without languages is English."""
    result: dict[str, str] = {}
    for language, text in labels.items():
        match = _CODE.search(language)
        code = match.group(1).lower() if match else _NAMES.get(language.strip().lower(), language)
        result[code] = text
    if "default" in result:
        result.setdefault("en", result.pop("default"))
    return result
