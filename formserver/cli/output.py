"""What the command line tells an operator went wrong.

The command line speaks English to operators, but its words are marked like every
other text a person reads, so that a catalogue can carry them when a language is
wanted here too.
"""

from __future__ import annotations

import sys

OPERATOR_LANGUAGE = "en"


def say_error(message: str, **values: object) -> None:
    """``formserver: MESSAGE`` on standard error, in the operators' language."""
    from ..translations import translate

    print(f"formserver: {translate(message, OPERATOR_LANGUAGE, **values)}", file=sys.stderr)
