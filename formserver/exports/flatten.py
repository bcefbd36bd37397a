"""The flattened copy of a submission (``Submission.data``), derived from its XML.

Exports read this copy instead of parsing every stored XML again. It is plain
JSON, one object per table row: the answers keyed by their path relative to
the row's own node (``"intake/household/head_name"`` at the top,
``"member_name"`` inside a ``member`` repeat), and each repeat group under its
own relative path as a list of such objects, in document order::

    {"intake/household/head_name": "สมชาย",
     "intake/member": [{"member_name": "นา", "id_number": "0570189001238"}, ...],
     "meta/instanceID": "uuid:..."}

Values are the element's text exactly as sent; empty elements are left out, so
a missing key means "not answered". Which elements are repeats comes from the
field tree of the submission's form version, so a repeat with one entry is
still a list. The copy can always be rebuilt from the stored XML:
``rebuild(session, form)`` or ``formserver export SLUG FORM_ID --rebuild``.
"""

from __future__ import annotations

from lxml import etree
from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.orm import Session

from ..encryption import is_encrypted
from ..models import Form, FormVersion, Submission
from ..xml import parse

_JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
BATCH = 500


def repeat_paths(tree: dict) -> frozenset[str]:
    """The repeats of a field tree, as paths below the root element (``"intake/member"``)."""
    prefix = "/" + tree["root"] + "/"
    found: set[str] = set()

    def walk(nodes: list[dict]) -> None:
        for node in nodes:
            if node["kind"] == "repeat":
                found.add(node["path"][len(prefix):] if node["path"].startswith(prefix) else node["path"])
            walk(node.get("children", ()))

    walk(tree["fields"])
    return frozenset(found)


def flatten(instance: bytes | etree._Element, repeats: frozenset[str] | dict) -> dict:
    """The flattened copy of one instance (its XML, or its root when already parsed, as at ingest);
    ``repeats`` is ``repeat_paths(tree)`` (or the tree)."""
    if isinstance(repeats, dict):
        repeats = repeat_paths(repeats)
    root = parse(instance) if isinstance(instance, bytes) else instance
    row: dict = {}
    _walk(root, "", "", row, repeats)
    return row


def _walk(element, path: str, relative: str, row: dict, repeats: frozenset[str]) -> None:
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or child.get(_JR_TEMPLATE) is not None:
            continue
        name = tag.rpartition("}")[2]
        child_path = f"{path}/{name}" if path else name
        child_relative = f"{relative}/{name}" if relative else name
        if child_path in repeats:
            entry: dict = {}
            _walk(child, child_path, "", entry, repeats)
            row.setdefault(child_relative, []).append(entry)
        elif len(child):
            _walk(child, child_path, child_relative, row, repeats)
        else:
            text = child.text
            if text and not text.isspace() and child_relative not in row:
                row[child_relative] = text


def _flatten_safely(xml: bytes, repeats: frozenset[str]) -> dict:
    """Like ``flatten``, but an XML that cannot be read gives an empty row instead of stopping an export."""
    try:
        return flatten(xml, repeats)
    except (ValueError, etree.LxmlError):
        return {}


def _is_envelope(xml: bytes) -> bool:
    """An encrypted submission's envelope: it has no flattened copy (its answers are sealed)."""
    try:
        return b"base64EncryptedKey" in xml and is_encrypted(parse(xml))
    except (ValueError, etree.LxmlError):
        return False


class RepeatsByVersion(dict):
    """form_version_id -> repeat paths, read from the versions' field trees on first use."""

    def __init__(self, session: Session):
        super().__init__()
        self.session = session

    def __missing__(self, version_id: int) -> frozenset[str]:
        tree = self.session.scalar(select(FormVersion.field_tree).where(FormVersion.id == version_id))
        self[version_id] = value = repeat_paths(tree) if tree else frozenset()
        return value


_REPEATS_BY_XFORM: dict[str, frozenset[str]] = {}


def flattened_copy(
    session: Session, version_pk: int, instance: bytes | etree._Element, xform_md5: str | None = None
) -> dict | None:
    """The flattened copy of an instance of a form version, or None if it cannot be read (ingest's one call).

    The repeats of a version are cached by the XForm's md5: a stored XForm never changes.
    """
    repeats = _REPEATS_BY_XFORM.get(xform_md5) if xform_md5 else None
    if repeats is None:
        tree = session.scalar(select(FormVersion.field_tree).where(FormVersion.id == version_pk))
        repeats = repeat_paths(tree) if tree else frozenset()
        if xform_md5:
            _REPEATS_BY_XFORM[xform_md5] = repeats
    try:
        return flatten(instance, repeats)
    except (ValueError, etree.LxmlError):
        return None  # filled in (or left empty) by ensure_flattened at the next export


def store_flattened(session: Session, submission: Submission) -> dict:
    """Compute and set ``submission.data`` (call it at ingest, once the form version is known)."""
    version = submission.form_version or session.get(FormVersion, submission.form_version_id)
    submission.data = flatten(submission.xml, repeat_paths(version.field_tree))
    return submission.data


def _missing_data():
    # JSON columns may hold SQL NULL or the JSON value null for "no copy yet".
    return or_(Submission.data.is_(None), cast(Submission.data, Text) == "null")


def ensure_flattened(session: Session, form: Form, *, progress=None) -> int:
    """Fill in the flattened copy of the form's submissions that have none; returns how many.

    Commits after every batch so that a large catch-up does not hold the write
    lock for long; ``progress()`` (no arguments) is called after each batch.
    """
    return _fill(session, Submission.form_id == form.id, only_missing=True, progress=progress)


def rebuild(session: Session, form: Form, *, progress=None) -> int:
    """Recompute the flattened copy of every submission of the form from its XML; returns how many."""
    return _fill(session, Submission.form_id == form.id, only_missing=False, progress=progress)


def rebuild_submissions(session: Session, ids: list[int]) -> int:
    """Recompute the flattened copy of these submissions (``formserver check --repair``); returns how many."""
    return sum(
        _fill(session, Submission.id.in_(ids[start : start + BATCH]), only_missing=False, progress=None)
        for start in range(0, len(ids), BATCH)
    )


def _fill(session: Session, which, *, only_missing: bool, progress) -> int:
    repeats = RepeatsByVersion(session)
    done = 0
    last_id = 0
    while True:
        query = (
            select(Submission.id, Submission.form_version_id, Submission.xml)
            .where(which, Submission.id > last_id)
            .order_by(Submission.id)
            .limit(BATCH)
        )
        if only_missing:
            query = query.where(_missing_data())
        batch = session.execute(query).all()
        if not batch:
            return done
        updates = [
            {"id": sid, "data": _flatten_safely(xml, repeats[version_id])}
            for sid, version_id, xml in batch
            if not _is_envelope(xml)
        ]
        if updates:
            session.execute(update(Submission), updates)
        session.commit()
        done += len(batch)
        last_id = batch[-1][0]
        if progress is not None:
            progress()

