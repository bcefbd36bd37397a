"""What a new form version changes for exports, compared from the two field trees.

Each question (but a note) is a column of the export (in the sheet of the repeat around it,
or the main sheet); each repeat is a sheet. ``compare(published, draft)``
says which columns and sheets come and go, which move, which change type
or label, and, for questions that stay, which choices are added, removed,
renamed (same label, new name: old exports keep the old name) or relabelled
(same name, new label). It is a plain function so that it is tested without pages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field



@dataclass(frozen=True)
class Column:
    path: str  # without the root element, e.g. "intake/member/dob"
    name: str
    type: str
    sheet: str  # the repeat the column sits in ("" for the main sheet)
    labels: dict = field(default_factory=dict, compare=False, hash=False)
    choices: tuple = field(default=(), compare=False, hash=False)


@dataclass
class FormChanges:
    first_version: bool = False
    columns_added: list[Column] = field(default_factory=list)
    columns_removed: list[Column] = field(default_factory=list)
    columns_moved: list[tuple[Column, Column]] = field(default_factory=list)
    types_changed: list[tuple[Column, Column]] = field(default_factory=list)
    labels_changed: list[tuple[Column, Column]] = field(default_factory=list)
    sheets_added: list[Column] = field(default_factory=list)
    sheets_removed: list[Column] = field(default_factory=list)
    choices_added: list[tuple[Column, dict]] = field(default_factory=list)
    choices_removed: list[tuple[Column, dict]] = field(default_factory=list)
    choices_renamed: list[tuple[Column, dict, dict]] = field(default_factory=list)
    choices_relabelled: list[tuple[Column, dict, dict]] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.first_version and not any(
            (
                self.columns_added,
                self.columns_removed,
                self.columns_moved,
                self.types_changed,
                self.labels_changed,
                self.sheets_added,
                self.sheets_removed,
                self.choices_added,
                self.choices_removed,
                self.choices_renamed,
                self.choices_relabelled,
            )
        )


def is_note(node: dict) -> bool:
    """A note shows text and holds no data, so it is no column (the same rule as the exports')."""
    return (
        node.get("control") in ("input", "trigger")
        and node.get("type", "string") == "string"
        and node.get("readonly") in ("true()", "true")
        and not node.get("calculate")
    )


def _relative(path: str) -> str:
    return path.strip("/").partition("/")[2]


def columns(tree: dict) -> tuple[dict[str, Column], dict[str, Column]]:
    """The tree's columns and sheets (repeats), each by path."""
    found: dict[str, Column] = {}
    sheets: dict[str, Column] = {}

    def walk(nodes: list[dict], sheet: str) -> None:
        for node in nodes:
            path = _relative(node["path"])
            if node["kind"] == "repeat":
                sheets[path] = Column(path, node["name"], "repeat", sheet, node.get("labels") or {})
                walk(node.get("children", []), path)
            elif node["kind"] == "group":
                walk(node.get("children", []), sheet)
            elif not is_note(node):
                found[path] = Column(
                    path,
                    node["name"],
                    node.get("type", "string"),
                    sheet,
                    node.get("labels") or {},
                    tuple(node.get("choices") or ()),
                )

    walk(tree.get("fields", []), "")
    return found, sheets


def compare(old: dict | None, new: dict) -> FormChanges:
    """What changes for exports from the field tree ``old`` (the published version) to ``new``."""
    if old is None:
        return FormChanges(first_version=True, columns_added=list(columns(new)[0].values()), sheets_added=list(columns(new)[1].values()))
    old_columns, old_sheets = columns(old)
    new_columns, new_sheets = columns(new)
    changes = FormChanges()
    changes.sheets_added = [s for p, s in new_sheets.items() if p not in old_sheets]
    changes.sheets_removed = [s for p, s in old_sheets.items() if p not in new_sheets]

    removed = [c for p, c in old_columns.items() if p not in new_columns]
    added = [c for p, c in new_columns.items() if p not in old_columns]
    # A question with the same name in a new place (into a group, or another repeat) is a move.
    removed_names = Counter(c.name for c in removed)
    added_names = Counter(c.name for c in added)
    pairs = []
    for column in list(removed):
        if removed_names[column.name] == 1 and added_names[column.name] == 1:
            target = next(c for c in added if c.name == column.name)
            pairs.append((column, target))
            removed.remove(column)
            added.remove(target)
    changes.columns_removed, changes.columns_added, changes.columns_moved = removed, added, pairs

    kept = [(old_columns[p], new_columns[p]) for p in new_columns if p in old_columns] + pairs
    for before, after in kept:
        if before.type != after.type:
            changes.types_changed.append((before, after))
        if _labels(before.labels) != _labels(after.labels):
            changes.labels_changed.append((before, after))
        _compare_choices(changes, before, after)
    return changes


def _labels(labels: dict) -> dict:
    return {language: " ".join(text.split()) for language, text in (labels or {}).items() if text}


def _compare_choices(changes: FormChanges, before: Column, after: Column) -> None:
    old = {c["name"]: c for c in before.choices}
    new = {c["name"]: c for c in after.choices}
    removed = [c for name, c in old.items() if name not in new]
    added = [c for name, c in new.items() if name not in old]
    for choice in list(removed):
        labels = _labels(choice.get("labels"))
        same = [c for c in added if labels and _labels(c.get("labels")) == labels]
        if len(same) == 1:
            changes.choices_renamed.append((after, choice, same[0]))
            removed.remove(choice)
            added.remove(same[0])
    changes.choices_removed.extend((after, c) for c in removed)
    changes.choices_added.extend((after, c) for c in added)
    for name, choice in new.items():
        if name in old and _labels(old[name].get("labels")) != _labels(choice.get("labels")):
            changes.choices_relabelled.append((after, old[name], choice))
