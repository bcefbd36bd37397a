"""Records as Central sees them: one per first instanceID, served with its current version's answers.

Our edits are rows of their own (``root_id`` points at the first version, only the
newest ``is_current``); Central's identity is the record's first instanceID and
``edits`` the number of versions after the first. ``records(form)`` is the one
query the JSON list, the OData feed and the CSV zip's filter read. Edits are
counted once per form in a grouped subquery joined to the records: counted row
by row, without an index on ``root_id``, a feed took time in the square of its size.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..models import Form, Submission

FIRST = aliased(Submission, name="first")
_LATER = aliased(Submission, name="later")


def records(form: Form):
    """(current version, first version, edits) of every record of a form; order and filter as needed.

    The edits column is ``records(form).selected_columns.edits``."""
    edited = (
        select(_LATER.root_id.label("root_id"), func.count().label("versions"))
        .where(_LATER.form_id == form.id, _LATER.root_id.is_not(None))
        .group_by(_LATER.root_id)
        .subquery("edited")
    )
    return (
        select(Submission, FIRST, func.coalesce(edited.c.versions, 0).label("edits"))
        .join(FIRST, FIRST.id == func.coalesce(Submission.root_id, Submission.id))
        .outerjoin(edited, edited.c.root_id == FIRST.id)
        .where(Submission.form_id == form.id, Submission.is_current.is_(True))
    )


def binary_answers(tree: dict, data: dict) -> list[str]:
    """The file names a submission's answers name, in document order, each once (flattened copy + field tree)."""
    prefix = "/" + tree["root"] + "/"
    names: list[str] = []

    def walk(nodes: list[dict], row: dict, base: str) -> None:
        for node in nodes:
            relative = node["path"][len(prefix):] if node["path"].startswith(prefix) else node["name"]
            key = relative[len(base):] if base and relative.startswith(base) else relative
            if node["kind"] == "repeat":
                for entry in row.get(key) or []:
                    walk(node.get("children", []), entry, relative + "/")
            elif node["kind"] == "group":
                walk(node.get("children", []), row, base)
            elif node.get("type") == "binary" and row.get(key) and row[key] not in names:
                names.append(row[key])

    walk(tree["fields"], data or {}, "")
    return names
