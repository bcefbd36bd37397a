"""Short modules: a module of formserver over 700 lines is split by what its parts do, as
``submissions/`` and ``exports/spreadsheet/`` were, rather than left to grow."""

from __future__ import annotations

from pathlib import Path

import formserver

MAX_LINES = 700
PACKAGE = Path(formserver.__file__).resolve().parent


def test_no_module_is_over_700_lines():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            too_long.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
    assert not too_long, f"modules over {MAX_LINES} lines, to be split by what their parts do: {too_long}"
