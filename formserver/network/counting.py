"""One person, one count: which units the figures count, kept in ``network_unit.counted``.

Among the households of one pooled form with the same identity hash, only the newest (received
last) is counted; a household not counted brings none of its repeat rows, so its members come from
the newest record only; among the remaining rows of a repeat with the same identity hash, only the
newest is counted; every unit without identity is counted (a person without identity in a counted
household). Facts exist for shared forms only, so this is among the organisations that share.

Worked out when facts change (``facts.py``: a catch-up, sharing, a rebuild) for the identities the
change touched, never when a table is read: the ranking is what costs, and a table is read far more
often than a household arrives. ``recount`` with nothing named redoes a whole form.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, case, func, or_, select, true, update
from sqlalchemy.engine import Connection

from ..models import NetworkUnit

_U = NetworkUnit.__table__
# Beyond this many identities a recount does the whole form: simpler for the database than a long IN list.
MOST = 2000


def recount(
    connection: Connection,
    form_id: str,
    *,
    households: Collection[int] | None = None,
    household_identities: Collection[int] = (),
    person_identities: Collection[int] = (),
) -> None:
    """Work out ``counted`` again for the households ``households`` (unit ids; None: the whole form) and
    the identities named, and for everything whose count depends on them."""
    everything = households is None or max(len(households), len(household_identities), len(person_identities)) > MOST
    household_scope = [_U.c.form_id == form_id, _U.c.repeat == ""]
    if not everything:
        identities = select(_U.c.identity).where(_U.c.id.in_(list(households)), _U.c.identity.is_not(None))
        household_scope.append(
            or_(_U.c.id.in_(list(households)), _U.c.identity.in_(identities), _U.c.identity.in_(list(household_identities)))
        )
    _newest_counted(connection, household_scope, partition=(_U.c.identity,))
    person_scope = [_U.c.form_id == form_id, _U.c.repeat != ""]
    if not everything:
        touched = select(_U.c.id).where(*household_scope)
        their_people = select(_U.c.identity).where(_U.c.household_id.in_(touched), _U.c.identity.is_not(None))
        person_scope.append(
            or_(_U.c.household_id.in_(touched), _U.c.identity.in_(their_people), _U.c.identity.in_(list(person_identities)))
        )
    households_counted = select(_U.c.id).where(_U.c.form_id == form_id, _U.c.repeat == "", _U.c.counted.is_(True))
    _newest_counted(connection, person_scope, partition=(_U.c.repeat, _U.c.identity), within=_U.c.household_id.in_(households_counted))


def _newest_counted(connection: Connection, scope: list, *, partition: tuple, within=None) -> None:
    """In ``scope``, count the units without identity and the newest of each identity, among those
    ``within`` says may count at all (persons: of a counted household); one statement that writes
    only the rows whose count changes."""
    may = within if within is not None else true()
    newest_first = func.row_number().over(
        partition_by=(*partition, case((may, 1), else_=0)), order_by=(_U.c.received_at.desc(), _U.c.id.desc())
    )
    should = and_(may, or_(_U.c.identity.is_(None), newest_first == 1))
    decided = select(_U.c.id, case((should, True), else_=False).label("should")).where(*scope).subquery()
    connection.execute(
        update(_U).where(_U.c.id == decided.c.id, _U.c.counted.is_distinct_from(decided.c.should)).values(counted=decided.c.should)
    )
