"""The row functions: an export spends its time per cell, so rows are rendered by
a function generated for the sheet's column types (its "profile"), which
a sheet learns from the values it is given: straight-line code with the
markup as constants, no loop.  Each cell checks that its value is of the
column's type (or None) and otherwise hands it to OTHER, which writes any
value the careful way (hyperlinks too), so one function serves every row
of a width.  The row's text values are checked all at once; a row with
anything unusual (markup characters, control characters, surrounding
spaces, "|", very long text, ...) makes the function return None and is
written by Sheet._render_cells, which handles everything.

Rows are kept as "byte text": str whose characters are the UTF-8 bytes
(text.encode("utf-8").decode("latin-1")), so that all strings stay
one-byte strings, joins are plain copies and a chunk becomes bytes with
.encode("latin-1"), a copy too.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Sequence

from .cells import (
    DATETIME_1900_03_01,
    EPOCH_DATETIME,
    EPOCH_ORDINAL,
    INT_LIMIT,
    LONG_TEXT,
    ONE_DAY,
    ORDINAL_1900_03_01,
)

_MAX_COMPILED = 256  # row functions kept for all sheets
_COMPILED: dict[tuple, object] = {}

_ROW_FUNCTION_GLOBALS = {
    "__builtins__": {},
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "DATE": _dt.date,
    "DATETIME": _dt.datetime,
    "DECIMAL": Decimal,
    "LIMIT": INT_LIMIT,
    "EPOCH_ORDINAL": EPOCH_ORDINAL,
    "FIRST_ORDINAL": ORDINAL_1900_03_01,
    "EPOCH": EPOCH_DATETIME,
    "FIRST": DATETIME_1900_03_01,
    "DAY": ONE_DAY,
}

# Per column type: the expression of the cell's XML for a value x that is
# not None, in which COL stands for the column's letters.  r is the row
# number (a str); OTHER writes the values these expressions leave aside
# (another type, NaN, huge integers, dates before 1900, ...) the careful way.
_CELL_EXPRESSIONS = {
    int: """(f'<c r="COL{r}"><v>{x}</v></c>' if x.__class__ is int and -LIMIT < x < LIMIT """
         """else OTHER("COL", r, x))""",
    float: """(f'<c r="COL{r}"><v>{x!r}</v></c>' if x.__class__ is float and x - x == 0.0 """
           """else OTHER("COL", r, x))""",
    bool: """('<c r="COL' + r + '" t="b"><v>1</v></c>' if x is True """
          """else '<c r="COL' + r + '" t="b"><v>0</v></c>' if x is False else OTHER("COL", r, x))""",
    _dt.date: """(f'<c r="COL{r}" s="2"><v>{o - EPOCH_ORDINAL}</v></c>' """
              """if x.__class__ is DATE and (o := x.toordinal()) >= FIRST_ORDINAL else OTHER("COL", r, x))""",
    _dt.datetime: """(f'<c r="COL{r}" s="3"><v>{(x - EPOCH) / DAY!r}</v></c>' """
                  """if x.__class__ is DATETIME and x.tzinfo is None and x >= FIRST else OTHER("COL", r, x))""",
    Decimal: """(f'<c r="COL{r}"><v>{x}</v></c>' """
             """if x.__class__ is DECIMAL and x.is_finite() and -300 < x.adjusted() < 300 else OTHER("COL", r, x))""",
    str: """(f'<c r="COL{r}" t="inlineStr"><is><t>{s[INDEX]}</t></is></c>' if x.__class__ is str """
         """else OTHER("COL", r, x))""",
    None: """OTHER("COL", r, x)""",  # a column of no type learned yet, or of other values
}


def _row_function_source(profile: tuple, columns: list[str]) -> str:
    """Python source of ``render(v, r, OTHER)``: the row XML (byte text) or None.

    ``profile`` holds a type of ``_CELL_EXPRESSIONS`` (or None) per column;
    ``OTHER(column, r, value)`` is the sheet's careful cell (byte text).  For
    the profile (int, str): checks the text of v[1], then

        x = v[0]
        c0 = '' if x is None else (f'<c r="A{r}"><v>{x}</v></c>' if x.__class__ is int and ... else OTHER(...))
        x = v[1]
        c1 = '' if x is None else (f'<c r="B{r}" t="inlineStr"><is><t>{s[0]}</t></is></c>' if ... else OTHER(...))
        return f'<row r="{r}">{c0}{c1}</row>'

    The only names in the source are column letters and positions.
    """
    lines = ["def render(v, r, OTHER):", "    try:", "        pass"]  # an empty row has no cells
    strings = {index: number for number, index in
               enumerate(index for index, kind in enumerate(profile) if kind is str)}
    if strings:
        probe = "|".join(f"{{v[{index}]}}" for index in strings)
        lines += [
            f"        p = f'{probe}'",
            # None is "None" here: harmless, its cell is left out.  Text with
            # surrounding spaces, empty text, markup characters, Excel escapes
            # or "|" goes the careful way; isprintable() is False for control
            # characters, tab, newline, lone surrogates and U+FFFE/U+FFFF.
            '        if (p[:1] in " |" or p[-1:] in " |" or "||" in p or " |" in p or "| " in p',
            '                or "<" in p or "&" in p or "_x" in p or "]]>" in p',
            f"                or len(p) > {LONG_TEXT} or not p.isprintable()):",
            "            return None",
            "        s = p.encode('utf-8').decode('latin-1').split('|')",
            f"        if len(s) != {len(strings)}:",
            "            return None",
        ]
    names = []
    for index, kind in enumerate(profile):
        expression = _CELL_EXPRESSIONS[kind].replace("COL", columns[index])
        if kind is str:
            expression = expression.replace("INDEX", str(strings[index]))
        lines += [f"        x = v[{index}]", f"        c{index} = '' if x is None else {expression}"]
        names.append(f"{{c{index}}}")
    lines += [
        "    except (TypeError, ValueError, OverflowError):",
        "        return None",
        f"    return f'<row r=\"{{r}}\">{''.join(names)}</row>'",
    ]
    return "\n".join(lines) + "\n"


def _row_function(profile: tuple, columns: list[str]):
    """The (cached) generated function that renders rows of ``profile``."""
    function = _COMPILED.get(profile)
    if function is None:
        namespace = dict(_ROW_FUNCTION_GLOBALS)
        exec(compile(_row_function_source(profile, columns), "<spreadsheet row>", "exec"), namespace)
        function = namespace["render"]
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.clear()
        _COMPILED[profile] = function
    return function


class Profile:
    """The column types a sheet has learned for rows of one width, and their row function.

    A column's type is the type of its first value that is not None (a
    column of other values settles as None); columns still unknown are
    looked at in every row until they settle, and each type learned makes a
    new row function.
    """

    __slots__ = ("width", "types", "unknown", "render")

    def __init__(self, values: Sequence[object], columns: list[str]):
        self.width = len(values)
        self.types = [None] * self.width
        self.unknown = list(range(self.width))
        self.render = None
        self.learn(values, columns)

    def learn(self, values: Sequence[object], columns: list[str]) -> None:
        learned = False
        still = []
        for index in self.unknown:
            value = values[index]
            if value is None:
                still.append(index)
            elif value.__class__ in _CELL_EXPRESSIONS:
                self.types[index] = value.__class__
                learned = True
        self.unknown = still
        if learned or self.render is None:
            self.render = _row_function(tuple(self.types), columns)
