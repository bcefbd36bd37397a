"""Submissions: what a phone sends becomes a Submission, exactly once, with all its files.

``ingest()`` is the one path in. It parses the instance with the safe parser,
finds the form and version it names within the organisation, deduplicates by
instanceID, and stores the XML byte for byte with its attachments:

- blobs first (written to the blob store's temporary folder while the upload
  streams in, fsynced, then renamed to their sha256 names), rows after, in one
  transaction; a crash leaves the submission with all its rows or none of them
  (at worst an unreferenced blob, which is harmless and content addressed);
- the same instanceID with byte-identical XML is the same submission: files
  not stored yet are added (Collect's split uploads and retries), and the
  answer is success again;
- the same instanceID with different XML is kept aside as a
  ``SubmissionConflict`` for a manager, never dropped, and refused with 409;
- ``meta/deprecatedID`` naming a stored submission makes the new one an edit:
  a new row whose ``root_id`` is the first version, the others no longer current.

Two identical uploads at the same moment store one row: the unique constraint
(form_id, instance_id) decides, the loser rolls back, reads the winner and
compares.

The rooms, each importing the ones it needs directly (never this package):

- ``instance.py``: what a submission says and who sent it (the ids read from
  its XML, the form version it names, the columns derived from it);
- ``attachments.py``: its files, received while the upload streams in and
  stored content addressed;
- ``receiving.py``: ``ingest``, receiving and storing in one transaction;
- ``conflicts.py``: a resend that is the same submission (a duplicate), or a
  differing one kept aside as a conflict, and how managers resolve those.
"""

from .attachments import PendingBlob, ReceivedFile, attachment_name
from .conflicts import RESOLUTIONS, conflict_by_id, conflicts_of, resolve_conflict
from .receiving import Outcome, ingest

__all__ = [
    "RESOLUTIONS",
    "Outcome",
    "PendingBlob",
    "ReceivedFile",
    "attachment_name",
    "conflict_by_id",
    "conflicts_of",
    "ingest",
    "resolve_conflict",
]
