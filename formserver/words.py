"""The words a person reads for the codes the data stores: a form's state, a role, a review state...

The codes stay as they are in the database, in addresses and on the command
line (``has_issues``, ``keep_stored``); pages and exports show these words in
their reader's language instead, so that English readers see "has issues".
"""

from __future__ import annotations

from .translations import N_, translate

WORDS = {
    # A form's state
    "open": N_("open"),
    "closing": N_("closing"),
    "closed": N_("closed"),
    # A member's role in an organisation
    "manager": N_("manager"),
    "viewer": N_("viewer"),
    "collector": N_("collector"),
    # A submission's review state
    "received": N_("received"),
    "has_issues": N_("has issues"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    # An export's progress
    "queued": N_("queued"),
    "running": N_("running"),
    "complete": N_("complete"),
    "failed": N_("failed"),
    # The decision on a differing resubmission
    "keep_stored": N_("stored version kept"),
    "take_new": N_("resubmitted version taken"),
    # The kinds of a form's nodes that are not questions
    "group": N_("group"),
    "repeat": N_("repeat"),
}


def word_in(code: str, language: str) -> str:
    """The word for ``code`` in ``language``; a code without a word is shown as it is."""
    return translate(WORDS[code], language) if code in WORDS else code
