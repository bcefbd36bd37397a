"""What a form lets the network count, from the XLSForm's survey column ``network``.

The column is a privacy decision made in the form's design, reviewable beside the questions:
``dimension`` (a select_one or select_multiple), ``bands 0 6 15 20 60`` (a number shown only as
its band), ``identity`` (the field a household or person is recognised by across organisations;
kept only as a keyed hash) or empty. Where a form has no such column (also every XForm uploaded
as XML) its selects are its dimensions and nothing else is. pyxform drops columns it does not
know, so ``xlsform.py`` hands us the column as written in the workbook: ``{name: (row, value)}``
(``ConvertedForm.network_column``).

The declaration stored on ``FormVersion.network``::

    {"fields": [{"name": "legal_status", "key": "legal_status", "repeat": "member", "type": "select1",
                 "kind": "dimension", "labels": {...}, "choices": [{"name", "labels"}], "bands": None}],
     "repeats": {"member": {"labels": {...}, "parent": "", "key": "member"}}}

``repeat`` is the path of the repeat the field belongs to below the instance root (as
``exports/flatten.py`` names repeats), "" at household level; ``key`` the field's path in its
row of the flattened copy.
"""

from __future__ import annotations

from ..xlsform import FormError

COLUMN = "network"
DIMENSION, BANDS, IDENTITY = "dimension", "bands", "identity"
_NUMBERS = ("int", "decimal")
_IDENTITY_TYPES = ("string", "int")


def declare(tree: dict, column: dict[str, tuple[int, str]] | None) -> dict:
    """The declaration of a version from its field tree and its ``network`` column (None: absent)."""
    fields: list[dict] = []
    repeats: dict[str, dict] = {}
    identities: dict[str, str] = {}
    unmatched = dict(column or {})
    for node, repeat, key in _fields(tree, repeats):
        unmatched.pop(node["name"], None)
        if column is None:
            kind, bands = (DIMENSION, None) if _is_select(node) else (None, None)
        else:
            row, written = column.get(node["name"], (None, ""))
            kind, bands = _read(written, node, row)
            if kind == IDENTITY:
                if repeat in identities:
                    raise FormError(
                        f"only one identity field is allowed at this level ('{identities[repeat]}' is one already)",
                        sheet="survey", row=row, column=COLUMN,
                    )
                identities[repeat] = node["name"]
        if kind is not None:
            fields.append({
                "name": node["name"], "key": key, "repeat": repeat, "type": node.get("type", "string"),
                "kind": kind, "bands": bands, "labels": node.get("labels", {}),
                "choices": node.get("choices", []) if kind == DIMENSION else [],
            })
    for name, (row, written) in unmatched.items():
        raise FormError(f"'{written}' for '{name}': only a question can be counted", sheet="survey", row=row, column=COLUMN)
    return {"fields": fields, "repeats": repeats}


def _fields(tree: dict, repeats: dict[str, dict]):
    """(node, repeat path, key in its flattened row) of every field, filling ``repeats``."""
    prefix = "/" + tree["root"] + "/"

    def walk(nodes, repeat: str, base: str):
        for node in nodes:
            relative = node["path"][len(prefix):] if node["path"].startswith(prefix) else node["name"]
            own = relative[len(base):] if base and relative.startswith(base) else relative
            if node["kind"] == "repeat":
                repeats[relative] = {"labels": node.get("labels", {}), "parent": repeat, "key": own}
                yield from walk(node.get("children", []), relative, relative + "/")
            elif node["kind"] == "group":
                yield from walk(node.get("children", []), repeat, base)
            else:
                yield node, repeat, own

    yield from walk(tree["fields"], "", "")


def _is_select(node: dict) -> bool:
    return node.get("type") in ("select1", "select") and node.get("control") in ("select1", "select")


def _read(written: str, node: dict, row: int | None) -> tuple[str | None, list[float] | None]:
    """The kind and bands a cell of the column declares, or ``FormError`` naming the cell."""
    words = str(written or "").strip().split()
    if not words:
        return None, None

    def refuse(message: str):
        raise FormError(f"'{' '.join(words)}' for '{node['name']}': {message}", sheet="survey", row=row, column=COLUMN)

    kind = words[0].lower()
    if kind == DIMENSION and len(words) == 1:
        if not _is_select(node):
            refuse("only a select_one or select_multiple can be a dimension")
        return DIMENSION, None
    if kind == BANDS:
        if not (node.get("type") in _NUMBERS or node.get("calculate")):
            refuse("bands are only for an integer, a decimal or a calculate")
        try:
            bounds = [float(word) for word in words[1:]]
        except ValueError:
            refuse("bands are numbers, such as 'bands 0 6 15 20 60'")
        if len(bounds) < 2 or any(b >= a for a, b in zip(bounds[1:], bounds)):
            refuse("bands need two or more numbers in strictly ascending order")
        return BANDS, [int(b) if b.is_integer() else b for b in bounds]
    if kind == IDENTITY and len(words) == 1:
        if not (node.get("type") in _IDENTITY_TYPES or node.get("calculate")):
            refuse("an identity is a text, integer or calculate field")
        return IDENTITY, None
    refuse("the network column takes 'dimension', 'bands' with numbers, 'identity' or nothing")


def band_labels(bounds: list[float]) -> list[str]:
    """The labels of the bands, in order: ``0-5``, ``6-14``, … ``60+`` (``0-<5.5`` for decimal bounds)."""
    whole = all(float(b).is_integer() for b in bounds)
    labels = []
    for low, high in zip(bounds, bounds[1:]):
        labels.append(f"{_number(low)}-{_number(high - 1)}" if whole else f"{_number(low)}-<{_number(high)}")
    return [*labels, f"{_number(bounds[-1])}+"]


def band_of(value: str, bounds: list[float]) -> str | None:
    """The label of the band a written number falls in; None below the first bound or not a number."""
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number < bounds[0]:
        return None
    labels = band_labels(bounds)
    for index, high in enumerate(bounds[1:]):
        if number < high:
            return labels[index]
    return labels[-1]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
