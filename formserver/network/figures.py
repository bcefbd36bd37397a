"""The cross-table: counts of one pooled form's units by one or two dimensions, before suppression.

Who is counted, in this order:

1. the units of the organisations that share the form (facts exist for shared forms only);
2. **one person, one count** (``counting.py``, worked out when facts change): households with the
   same identity hash are counted once, as the newest record (received last); a household counted
   once brings its repeat rows from that same record, so the others' members are dropped with it;
   then persons with the same identity hash are counted once, as the newest; units without
   identity are all counted, and reported (``CrossTable.without_identity``);
3. then the filters (months, any dimension, organisations): a person is represented by the newest
   record across the whole network whatever is asked, so that tables by organisation or by month
   add up to the network total, and filtering on an organisation counts the people whose newest
   record is that organisation's.

Totals are counted from the units (distinct), never summed where a unit can hold several choices
(a select_multiple); where it cannot, they are summed from the cells. ``NOT_ANSWERED`` is a choice,
so that an additive table adds up to its total.
"""

from __future__ import annotations

from sqlalchemy import String, and_, case, cast, exists, func, literal, not_, or_, select, text
from sqlalchemy.orm import Session

from ..models import NetworkUnit, NetworkValue
from ..problems import Problem
from .facts import catch_up
from .pooled import PooledForm, pooled_forms
from .table import MONTH, NOT_ANSWERED, ORGANISATION, Choice, CrossTable, Dimension, TableRequest

_U = NetworkUnit.__table__
_V = NetworkValue.__table__

__all__ = ["pooled_forms", "cross_table", "registered_by_several"]


def cross_table(session: Session, request: TableRequest, *, key: bytes, pooled: PooledForm | None = None) -> CrossTable:
    """Count what ``request`` asks, the facts first brought up to date with the installation's ``key``
    (``facts.catch_up``, which commits); ``Problem`` for a form nobody shares or a dimension the unit has not."""
    catch_up(session, key)
    if session.get_bind().dialect.name == "postgresql":
        # Every join here reads a large share of the facts: hash joins, never a loop of index lookups
        # (chosen when a filter's share is misjudged: 0.7 s instead of 0.4 s); no JIT, whose compiling
        # costs more than it saves on queries of this size.
        session.execute(text("SET LOCAL enable_nestloop = off"))
        session.execute(text("SET LOCAL jit = off"))
    pooled = pooled or pooled_forms(session).get(request.form_id)
    if pooled is None:
        raise Problem("network.no_form", form_id=request.form_id)
    path = pooled.unit_path(request.unit)
    if path is None:
        raise Problem("network.no_dimension", form_id=request.form_id, field=request.unit or "")
    rows = _dimension(pooled, request, request.rows)
    columns = _dimension(pooled, request, request.columns) if request.columns else None
    kept = _counted_units(pooled, path, request).subquery("kept")
    row_key, row_join = _grouping(pooled, path, kept, rows, "r")
    column_key, column_join = _grouping(pooled, path, kept, columns, "c") if columns else (literal(None), None)
    source = kept
    for join in (row_join, column_join):
        if join is not None:
            source = source.outerjoin(*join)
    # count(*), not count(DISTINCT): a unit holds a choice of a field once (the value rows' key), so it
    # is one row of a cell, and a distinct count would make PostgreSQL sort every row. Grouped by
    # "without identity" too, so that totals come from the same pass where they add up.
    anonymous = kept.c.identity.is_(None)
    grouped = select(row_key, column_key, anonymous, func.count()).select_from(source)
    found = session.execute(grouped.group_by(row_key, column_key, anonymous)).all()
    counts = _sum(found, (0, 1))
    totals = {0: _sum(found, (0,)), 1: _sum(found, (1,))}  # each axis's totals where they add up
    across = None  # an axis along which every unit is counted once: the population's figures come from it
    if columns is None:
        across = None if rows.multiple else 0
    elif columns.multiple and not rows.multiple:
        totals[0] = _totals(session, kept, row_key, row_join)
        across = 0
    elif rows.multiple and not columns.multiple:
        totals[1] = _totals(session, kept, column_key, column_join)
        across = 1
    elif rows.multiple:
        totals[0] = _totals(session, kept, row_key, row_join)
        totals[1] = _totals(session, kept, column_key, column_join)
    else:
        across = 0
    if across is None:  # no axis adds up to the population: count it
        population = {bool(anon): n for anon, n in session.execute(select(anonymous, func.count()).select_from(kept).group_by(anonymous))}
    else:
        population = _by_anonymity(totals[across])
    total, without_identity = sum(population.values()), population.get(True, 0)
    row_totals, column_totals = _plain(totals[0]), (_plain(totals[1]) if columns is not None else {})
    rows, columns = _with_found(rows, counts, 0), (_with_found(columns, counts, 1) if columns else None)
    return CrossTable(
        request=request,
        rows=rows,
        columns=columns,
        counts={key: counts.get(key, 0) for key in _cells(rows, columns)},
        row_totals={choice.name: row_totals.get(choice.name, 0) for choice in rows.choices},
        column_totals={choice.name: column_totals.get(choice.name, 0) for choice in columns.choices} if columns else {},
        total=total,
        organisations=tuple(sorted(_organisations(pooled, request))),
        without_identity=without_identity,
        unit_labels=dict(pooled.units[request.unit][1]) if request.unit is not None and request.unit in pooled.units else {},
    )


def _dimension(pooled: PooledForm, request: TableRequest, name: str) -> Dimension:
    found = pooled.dimension(request.unit, name)
    if found is None:
        raise Problem("network.no_dimension", form_id=request.form_id, field=name)
    return found


def _organisations(pooled: PooledForm, request: TableRequest) -> list[str]:
    wanted = request.filters.get(ORGANISATION)
    return [slug for slug in pooled.organisations if wanted is None or slug in wanted]


def _counted_units(pooled: PooledForm, path: str, request: TableRequest):
    """The units counted (each person once, ``counting.py``), with the filters applied:
    (id, household_id, month, organisation_id, identity)."""
    household_id = _U.c.id if path == "" else _U.c.household_id
    units = (
        select(_U.c.id, household_id.label("household_id"), _U.c.month, _U.c.organisation_id, _U.c.identity)
        .where(
            _U.c.form_id == pooled.form_id, _U.c.repeat == path, _U.c.counted.is_(True),
            _U.c.organisation_id.in_(list(pooled.organisation_ids.values())),
        )
        .subquery("units")
    )
    query = select(units)
    if request.since is not None:
        query = query.where(units.c.month >= request.since.strftime("%Y-%m"))
    if request.until is not None:
        query = query.where(units.c.month <= request.until.strftime("%Y-%m"))
    for name, wanted in request.filters.items():
        query = query.where(_filter(pooled, path, units, request, name, tuple(wanted)))
    return query


def _filter(pooled: PooledForm, path: str, units, request: TableRequest, name: str, wanted: tuple[str, ...]):
    """Keep units whose answer to ``name`` is one of ``wanted`` (``NOT_ANSWERED``: no answer)."""
    if name == MONTH:
        return units.c.month.in_(wanted)
    if name == ORGANISATION:
        return units.c.organisation_id.in_([pooled.organisation_ids[slug] for slug in wanted if slug in pooled.organisation_ids])
    _dimension(pooled, request, name)
    owner = _owner(pooled, path, units, name)
    chosen = exists().where(_V.c.unit_id == owner, _V.c.field == name, _V.c.choice.in_([w for w in wanted if w != NOT_ANSWERED]))
    if NOT_ANSWERED not in wanted:
        return chosen
    return or_(chosen, not_(exists().where(_V.c.unit_id == owner, _V.c.field == name)))


def _owner(pooled: PooledForm, path: str, units, name: str):
    """The unit whose answers hold the field: the unit itself, or its household for a household field."""
    return units.c.household_id if pooled.fields[name].repeat == "" and path != "" else units.c.id


def _grouping(pooled: PooledForm, path: str, kept, dimension: Dimension, alias: str):
    """The key a dimension groups by, and the outer join that brings it (None for the month and organisation)."""
    if dimension.name == MONTH:
        return kept.c.month, None
    if dimension.name == ORGANISATION:
        slugs = {pk: slug for slug, pk in pooled.organisation_ids.items()}
        return case(slugs, value=kept.c.organisation_id, else_=cast(kept.c.organisation_id, String)), None
    values = _V.alias(alias)
    on = and_(values.c.unit_id == _owner(pooled, path, kept, dimension.name), values.c.field == dimension.name)
    return func.coalesce(values.c.choice, NOT_ANSWERED), (values, on)


def _totals(session: Session, kept, key, join) -> dict[tuple, int]:
    """Units per (choice, without identity) of one dimension, counted: the other is a select_multiple."""
    source = kept if join is None else kept.outerjoin(*join)
    anonymous = kept.c.identity.is_(None)
    query = select(key, anonymous, func.count()).select_from(source).group_by(key, anonymous)
    return {(name, bool(anon)): n for name, anon, n in session.execute(query)}


def _sum(found, keep: tuple[int, ...]) -> dict[tuple, int]:
    """Counts of rows (row choice, column choice, without identity, n) summed by the positions kept,
    always with "without identity" last in the key when kept, as ``_totals`` gives them."""
    result: dict[tuple, int] = {}
    for row in found:
        key = tuple(row[i] for i in keep) + ((bool(row[2]),) if len(keep) == 1 else ())
        result[key] = result.get(key, 0) + row[3]
    return result


def _by_anonymity(totals: dict[tuple, int]) -> dict[bool, int]:
    """Units with (False) and without (True) identity, from totals along an axis that adds up."""
    result: dict[bool, int] = {}
    for (_, anon), n in totals.items():
        result[anon] = result.get(anon, 0) + n
    return result


def _plain(totals: dict[tuple, int]) -> dict[str, int]:
    """Totals by choice alone."""
    result: dict[str, int] = {}
    for (name, _), n in totals.items():
        result[name] = result.get(name, 0) + n
    return result


def _with_found(dimension: Dimension, counts: dict, axis: int) -> Dimension:
    """The dimension with the choices the facts hold that no version declares (kept by name)."""
    known = {choice.name for choice in dimension.choices}
    extra = sorted({key[axis] for key in counts} - known - {None})
    if not extra:
        return dimension
    return Dimension(dimension.name, dimension.labels, (*dimension.choices, *(Choice(name) for name in extra)), dimension.multiple)


def _cells(rows: Dimension, columns: Dimension | None):
    for row in rows.choices:
        if columns is None:
            yield (row.name, None)
        else:
            for column in columns.choices:
                yield (row.name, column.name)


def registered_by_several(session: Session, pooled: PooledForm, unit: str | None) -> int:
    """How many households or persons (by identity hash) two or more sharing organisations registered:
    a network-wide figure, shown only when at least k (the suppression's rule)."""
    path = pooled.unit_path(unit)
    query = (
        select(_U.c.identity)
        .where(
            _U.c.form_id == pooled.form_id, _U.c.repeat == path, _U.c.identity.is_not(None),
            _U.c.organisation_id.in_(list(pooled.organisation_ids.values())),
        )
        .group_by(_U.c.identity)
        .having(func.count(_U.c.organisation_id.distinct()) > 1)
    )
    return session.scalar(select(func.count()).select_from(query.subquery()))
