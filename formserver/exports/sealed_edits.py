"""Edits of encrypted records, joined while an export decrypts: each record comes out once, as a plain one does.

For a plain form ingest links an edit (``meta/deprecatedID``) to the record it
replaces: the edit's ``root_id`` is the first version, and only the newest version
is current. An encrypted edit seals its ``deprecatedID`` inside, so ingest keeps it as
a record of its own. A decrypting export reads those links in a first pass
(``Decryptor.peek``, which keeps each submission's AES key for the main pass, so
that RSA is then needed only for the signature) and joins the chains here by the rule
ingest follows: an edit continues the record of the version it names when that
version was received before it (an edit whose original is missing, or came later,
stays a record of its own). The main pass then skips the versions replaced, and gives
the newest version the first version's id (``root_id``): the row functions write
the same KEY, first version's metadata (Central's layout) and number of edits as for
a plain record. Nothing is stored: the links live in the memory of the export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ..db import stream_rows
from ..models import Form, Submission
from .decrypting import Decryptor, files_column, has_copy

ROOT_COLUMN = 10  # where run_export's query has Submission.root_id
IN_LIST = 500  # values per IN list


@dataclass
class SealedEdits:
    """What the first pass found: rows an encrypted edit replaced, and the first version of each newest one."""

    replaced: set[int] = field(default_factory=set)
    roots: dict[int, int] = field(default_factory=dict)  # newest version's id -> first version's id
    firsts: dict[int, tuple] = field(default_factory=dict)  # as central_layout.first_versions gives them

    def not_replaced(self):
        """A condition on ``Submission`` for the statements run outright (counts, media): the ids as
        literals, which no limit on the number of parameters bounds."""
        return Submission.id.not_in(bindparam("replaced", sorted(self.replaced), expanding=True, literal_execute=True))

    def apply(self, stream):
        """The export's ``(row, answers)`` without the replaced versions, the newest ones given their first version."""
        replaced, roots = self.replaced, self.roots
        for row, data in stream:
            if row[0] in replaced:
                continue
            root = roots.get(row[0])
            if root is not None:
                row = (*row[:ROOT_COLUMN], root, *row[ROOT_COLUMN + 1:])
            yield row, data


def join_sealed_edits(session: Session, form: Form, decryptor: Decryptor, edits: dict) -> SealedEdits:
    """Read the form's envelopes (all of them: an edit outside the export's dates still replaces the version
    it names), join the chains, and count each joined record's versions into ``edits`` (record id -> versions)."""
    query = (
        select(Submission.id, Submission.root_id, Submission.xml, files_column())
        .where(Submission.form_id == form.id, ~has_copy())
        .order_by(Submission.id)
    )
    links = [
        (submission_id, root_id or submission_id, deprecated)
        for submission_id, root_id, _instance_id, _key, deprecated in decryptor.peek(stream_rows(session, query, 64))
        if deprecated is not None
    ]
    if not links:
        return SealedEdits()
    named = _versions_named(session, form, {deprecated for _, _, deprecated in links})
    record = _Records()
    for submission_id, group, deprecated in links:
        found = named.get(deprecated)
        if found is not None and found[0] < submission_id:  # as ingest: only a version received before the edit
            record.join(group, found[1] or found[0])
    return _joined(session, form, record.sets(), edits)


def _versions_named(session: Session, form: Form, instance_ids: set[str]) -> dict[str, tuple[int, int | None]]:
    """instanceID -> (id, root_id) of the form's submissions that the edits name."""
    named, ids = {}, sorted(instance_ids)
    for start in range(0, len(ids), IN_LIST):
        query = select(Submission.instance_id, Submission.id, Submission.root_id).where(
            Submission.form_id == form.id, Submission.instance_id.in_(ids[start:start + IN_LIST])
        )
        named.update({instance_id: (pk, root) for instance_id, pk, root in session.execute(query)})
    return named


class _Records:
    """Records (ingest's groups: a first version and the edits linked to it) joined into one; the first
    version, the smallest id (each link goes to an earlier version), stands for them all."""

    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, group: int) -> int:
        while self.parent.get(group, group) != group:
            group = self.parent[group]
        return group

    def join(self, one: int, other: int) -> None:
        one, other = self.find(one), self.find(other)
        if one != other:
            self.parent[max(one, other)] = min(one, other)

    def sets(self) -> dict[int, set[int]]:
        joined: dict[int, set[int]] = {}
        for group in self.parent:
            joined.setdefault(self.find(group), {self.find(group)}).add(group)
        return joined


def _joined(session: Session, form: Form, joined: dict[int, set[int]], edits: dict) -> SealedEdits:
    """The newest version of each joined record (the last received, as ingest keeps current) and the rest replaced."""
    groups = sorted(set().union(*joined.values()))
    record = func.coalesce(Submission.root_id, Submission.id)
    current: dict[int, list[int]] = {}
    for start in range(0, len(groups), IN_LIST):
        query = select(record, Submission.id).where(
            Submission.form_id == form.id, Submission.is_current.is_(True), record.in_(groups[start:start + IN_LIST])
        )
        for group, pk in session.execute(query):
            current.setdefault(group, []).append(pk)
    found = SealedEdits()
    for first, members in joined.items():
        newest = sorted(pk for group in members for pk in current.get(group, ()))
        if not newest:
            continue
        found.replaced.update(newest[:-1])
        found.roots[newest[-1]] = first
        edits[first] = sum(edits.get(group, 1) for group in members)
    found.firsts = _first_versions(session, sorted(joined))
    return found


def _first_versions(session: Session, ids: list[int]) -> dict[int, tuple]:
    firsts = {}
    for start in range(0, len(ids), IN_LIST):
        rows = session.execute(
            select(
                Submission.id, Submission.instance_id, Submission.received_at, Submission.submitter_user_id,
                Submission.submitter_app_user_id, Submission.device_id,
            ).where(Submission.id.in_(ids[start:start + IN_LIST]))
        )
        firsts.update({row[0]: tuple(row[1:]) for row in rows})
    return firsts
