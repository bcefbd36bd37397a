"""The rows an export writes, in id order: each submission's flattened copy, or its answers opened.

A plain export reads the flattened copies the server keeps (``Submission.data``); one that is missing
or unreadable is made again from the XML. A decrypting export hands the rows that have no copy to its
``Decryptor``.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import stream_rows
from ..models import Submission
from .decrypting import SEALED, Decryptor
from .flatten import RepeatsByVersion, _flatten_safely
from .sealed_edits import SealedEdits

READ_BATCH = 250  # submissions decoded at a time: their JSON is held in memory until written


def stored_rows(session: Session, query, repeats: RepeatsByVersion, decryptor: Decryptor | None = None,
                sealed_rows: int = 0, chains: SealedEdits | None = None):
    """``(row, flattened copy)`` for the rows of ``query``, streamed in id order.

    The query's first columns are the submission's id, its form version's id
    and its flattened copy as text. A copy that is missing or cannot be read is
    made again from the XML, which needs the connection: the stream is closed
    for it and read on after that submission (the same snapshot, so the same rows).
    A decrypting export's rows carry their XML when they have no copy (``envelope_columns``):
    the ``decryptor`` opens them (None: listed as not decrypted), after ``chains`` has left out the versions
    an encrypted edit replaced (never decrypted, so neither their media nor their failures are written).
    """
    stream = _stored(session, query, repeats, sealed=decryptor is not None)
    if chains is not None:
        stream = chains.apply(stream)
    return stream if decryptor is None else decryptor.opened(stream, sealed_rows)


def _stored(session: Session, query, repeats: RepeatsByVersion, *, sealed: bool):
    after = None
    while True:
        rows = stream_rows(session, query if after is None else query.where(Submission.id > after), READ_BATCH)
        for row in rows:
            data = _decoded(row[2])
            if type(data) is not dict and sealed:
                yield row, SEALED
                continue
            if type(data) is not dict:
                rows.close()
                yield row, _flatten_missing(session, row[0], repeats, row[1])
                after = row[0]
                break
            yield row, data
        else:
            return


def _decoded(text: str | None):
    """The flattened copy from its JSON text: None when there is none or it cannot be read (it is then
    made again from the XML). orjson decodes the copies in half the time of the json module."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _flatten_missing(session: Session, submission_id: int, repeats: RepeatsByVersion, version_id: int) -> dict:
    xml = session.scalar(select(Submission.xml).where(Submission.id == submission_id))
    return _flatten_safely(xml, repeats[version_id]) if xml else {}
