"""A submission read against its form's field tree, for pages: groups and repeats nested, answers with their choices.

``walk(tree, xml)`` parses the stored XML with the one safe parser and returns
``Answer`` objects in the order of the form; ``flatten`` lists the answers by
their place in the instance (``/data/member[2]/name``), which is how two
versions of one record are compared side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..translations import N_
from ..xml import local_name, parse

INLINE_IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}

TYPE_NAMES = {
    "string": N_("text"),
    "int": N_("integer"),
    "integer": N_("integer"),
    "decimal": N_("decimal"),
    "date": N_("date"),
    "dateTime": N_("date and time"),
    "time": N_("time"),
    "geopoint": N_("location"),
    "geotrace": N_("line"),
    "geoshape": N_("area"),
    "binary": N_("file"),
    "barcode": N_("barcode"),
    "select1": N_("select one"),
    "select": N_("select multiple"),
    "boolean": N_("yes/no"),
}


def type_name(node: dict) -> str:
    """The kind of question in English words marked for translation (the template translates them)."""
    kind = node.get("type", "string")
    mediatype = node.get("mediatype", "")
    if kind == "binary":
        return {"image": N_("photo"), "audio": N_("audio"), "video": N_("video")}.get(mediatype.split("/")[0], N_("file"))
    if node.get("calculate") is not None and node.get("control") is None:
        return N_("calculated")
    if node.get("control") is None:
        return N_("hidden")
    if kind == "string" and node.get("readonly") == "true()":
        return N_("note")
    return TYPE_NAMES.get(kind, kind)


@dataclass
class Answer:
    node: dict
    path: str
    value: str | None = None
    chosen: list[dict] = field(default_factory=list)
    children: list["Answer"] = field(default_factory=list)
    instances: list[list["Answer"]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.node["kind"]

    @property
    def is_file(self) -> bool:
        return self.node.get("type") == "binary" and bool(self.value)

    @property
    def is_select(self) -> bool:
        return self.node.get("type") in ("select1", "select")

    @property
    def answered(self) -> bool:
        """Whether this answer, or anything inside this group or repeat, has a value."""
        if self.kind == "repeat":
            return bool(self.instances)
        if self.kind == "group":
            return any(child.answered for child in self.children)
        return bool(self.value)


def walk(tree: dict, xml: bytes) -> list[Answer]:
    root = parse(xml)
    return _children(tree.get("fields", []), root, "/" + local_name(root))


def _elements(parent, name: str) -> list:
    return [child for child in parent if isinstance(child.tag, str) and local_name(child) == name]


def _children(nodes: list[dict], element, path: str) -> list[Answer]:
    answers = []
    for node in nodes:
        found = _elements(element, node["name"]) if element is not None else []
        here = f"{path}/{node['name']}"
        if node["kind"] == "repeat":
            answers.append(
                Answer(
                    node,
                    here,
                    instances=[
                        _children(node.get("children", []), item, f"{here}[{number}]")
                        for number, item in enumerate(found, start=1)
                    ],
                )
            )
        elif node["kind"] == "group":
            answers.append(Answer(node, here, children=_children(node.get("children", []), found[0] if found else None, here)))
        else:
            value = (found[0].text or "").strip() if found else None
            answers.append(Answer(node, here, value=value, chosen=_chosen(node, value)))
    return answers


def _chosen(node: dict, value: str | None) -> list[dict]:
    if not value or node.get("type") not in ("select1", "select"):
        return []
    by_name = {choice["name"]: choice for choice in node.get("choices", [])}
    names = value.split() if node["type"] == "select" else [value]
    return [by_name.get(name, {"name": name, "labels": {}}) for name in names]


def flatten(answers: list[Answer]) -> list[Answer]:
    """Every answered or unanswered question, in form order, repeats expanded."""
    result = []
    for answer in answers:
        if answer.kind == "repeat":
            for instance in answer.instances:
                result.extend(flatten(instance))
        elif answer.kind == "group":
            result.extend(flatten(answer.children))
        else:
            result.append(answer)
    return result


def side_by_side(stored: list[Answer], new: list[Answer]) -> list[tuple[str, Answer | None, Answer | None, bool]]:
    """Rows (place, stored answer, new answer, differs) over the union of both records' places."""
    left = {a.path: a for a in flatten(stored)}
    right = {a.path: a for a in flatten(new)}
    order = list(left) + [p for p in right if p not in left]
    rows = []
    for place in order:
        a, b = left.get(place), right.get(place)
        differs = (a.value if a else None) != (b.value if b else None)
        rows.append((place, a, b, differs))
    return rows
