"""How ODK Central names our things: for the REST API and for exports in Central's layout.

A record is known by the instanceID its first version arrived with: an edit keeps it, and a first
version a manager kept aside for a resubmission has ``~superseded-<id>`` appended to its stored
instanceID, which is no part of the name. People and device accounts submit in one id space (a
device account's id after the users'). Central's review states are ours in its words: its
"received" is null, and an edited record not reviewed since reads "edited".
"""

from __future__ import annotations

from datetime import datetime, timezone

SUPERSEDED = "~superseded-"
DEVICE_ACCOUNT_IDS = 1_000_000_000

# Our review states and Central's ("edited" is not a state we store: it reads as received).
CENTRAL_REVIEW = {"received": None, "has_issues": "hasIssues", "approved": "approved", "rejected": "rejected"}
OUR_REVIEW = {None: "received", "hasIssues": "has_issues", "edited": "received", "approved": "approved", "rejected": "rejected"}


def record_key(instance_id: str) -> str:
    """The record's key from the stored instanceID of its first version."""
    return instance_id.split(SUPERSEDED, 1)[0]


def submitter_id(user_id: int | None, app_user_id: int | None) -> int | None:
    """A person's id, or a device account's id after the users'."""
    if user_id is not None:
        return user_id
    return DEVICE_ACCOUNT_IDS + app_user_id if app_user_id is not None else None


def review_state(state: str | None, edits: int) -> str | None:
    """Central's reviewState of a record in our ``state`` with ``edits`` versions after the first."""
    central = CENTRAL_REVIEW.get(state)
    return "edited" if central is None and edits else central


def iso(moment: datetime | None) -> str | None:
    """Central's timestamps: UTC with milliseconds, ``2026-12-05T03:04:05.678Z``."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
