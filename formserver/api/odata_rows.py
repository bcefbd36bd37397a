"""A form's OData tables and their rows: the field tree gives the shape, the flattened copy the answers.

``Submissions`` is the main table; each repeat is a table of its own named by its
path (``Submissions.member``, ``Submissions.household.person``), its rows keyed by a
stable ``__id`` and joined to their parent by ``__Submissions-id`` (or
``__Submissions-member-id`` one level down). Groups are nested objects. Numbers
are numbers, geopoints GeoJSON (or WKT with ``$wkt=true``), everything else text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import quote

from ..exports.columns import to_float, to_int

EDM_TYPES = {
    "int": "Edm.Int64",
    "decimal": "Edm.Decimal",
    "date": "Edm.Date",
    "dateTime": "Edm.DateTimeOffset",
    "geopoint": "Edm.GeographyPoint",
    "geotrace": "Edm.GeographyLineString",
    "geoshape": "Edm.GeographyPolygon",
}


@dataclass
class ODataTable:
    name: str  # Submissions, Submissions.member
    relative: str  # the repeat's path below the root ("" for Submissions, "household/member")
    nodes: list[dict]
    parent: str | None = None
    children: list[str] = field(default_factory=list)

    @property
    def parent_key(self) -> str | None:
        return f"__{self.parent.replace('.', '-')}-id" if self.parent else None


def tables(tree: dict) -> dict[str, ODataTable]:
    """Every table of a form, Submissions first, keyed by name."""
    prefix = "/" + tree["root"] + "/"
    found = {"Submissions": ODataTable("Submissions", "", tree["fields"])}

    def walk(nodes: list[dict], table: ODataTable) -> None:
        for node in nodes:
            if node["kind"] == "repeat":
                relative = node["path"][len(prefix):]
                name = "Submissions." + relative.replace("/", ".")
                found[name] = ODataTable(name, relative, node.get("children", []), table.name)
                table.children.append(name)
                walk(node.get("children", []), found[name])
            elif node["kind"] == "group":
                walk(node.get("children", []), table)

    walk(tree["fields"], found["Submissions"])
    return found


def geo(value: str, wkt: bool):
    parts = [to_float(p) for p in value.split()[:3]]
    if len(parts) < 2 or not all(isinstance(p, float) for p in parts):
        return value
    lon_lat = [parts[1], parts[0]] + parts[2:3]
    return f"POINT ({' '.join(repr(p) for p in lon_lat)})" if wkt else {"type": "Point", "coordinates": lon_lat}


def converter(node: dict, wkt: bool):
    """How a field's text becomes its OData value: None keeps the text."""
    kind = node.get("type")
    if kind == "int":
        return _integer
    if kind == "decimal":
        return _decimal
    if kind == "geopoint":
        return lambda text: geo(text, wkt)
    return None


def _integer(text: str):
    number = to_int(text)
    return number if isinstance(number, int) else text


def _decimal(text: str):
    number = to_float(text)
    return number if isinstance(number, float) else text


def repeat_id(parent_id: str, relative: str, index: int) -> str:
    """A repeat row's stable key: its record (or parent row), its path and its place."""
    return hashlib.sha1(f"{parent_id}/{relative}/{index}".encode("utf-8")).hexdigest()


VALUE, GROUP, REPEAT = 0, 1, 2


class RowMaker:
    """Turns one record's flattened answers into the rows of one table.

    Each list of nodes is read once into a plan of steps (a value with its key and converter, a
    group, a repeat), so that a row costs a walk over the plan rather than over the field tree.
    """

    def __init__(self, tree: dict, *, wkt: bool = False, expand: bool = False):
        self.prefix = "/" + tree["root"] + "/"
        self.tables = tables(tree)
        self.wkt, self.expand = wkt, expand
        self._plans: dict[tuple[int, str], list[tuple]] = {}

    def plan(self, nodes: list[dict], base: str) -> list[tuple]:
        """The steps of ``nodes`` whose answers are keyed below ``base`` (a repeat's path and "/")."""
        found = self._plans.get((id(nodes), base))
        if found is None:
            found = self._plans[(id(nodes), base)] = []
            for node in nodes:
                relative = node["path"][len(self.prefix):]
                key = relative[len(base):] if base else relative
                if node["kind"] == "group":
                    found.append((GROUP, node["name"], self.plan(node.get("children", []), base)))
                elif node["kind"] == "repeat":
                    found.append((REPEAT, node["name"], key, relative, self.plan(node.get("children", []), relative + "/")))
                else:
                    found.append((VALUE, node["name"], key, converter(node, self.wkt)))
        return found

    def fields(self, plan: list[tuple], row: dict, own_id: str, link: str) -> dict:
        out: dict = {}
        get = row.get
        for step in plan:
            kind = step[0]
            if kind == VALUE:
                value = get(step[2])
                out[step[1]] = value if value is None or step[3] is None else step[3](value)
            elif kind == GROUP:
                out[step[1]] = self.fields(step[2], row, own_id, link)
            elif self.expand:
                out[step[1]] = [
                    self.fields(step[4], entry, rid, "") | {"__id": rid}
                    for rid, entry in self.entries(get(step[2]), own_id, step[3])
                ]
            else:
                out[step[1] + "@odata.navigationLink"] = f"{link}/{step[1]}"
        return out

    @staticmethod
    def entries(values, parent_id: str, relative: str):
        return [(repeat_id(parent_id, relative, index), entry) for index, entry in enumerate(values or [])]

    def submission(self, key: str, data: dict, system: dict) -> dict:
        link = f"Submissions('{quote(key, safe='')}')"
        plan = self.plan(self.tables["Submissions"].nodes, "")
        return {"__id": key, **self.fields(plan, data, key, link), "__system": system}

    def repeat_rows(self, table: ODataTable, key: str, data: dict):
        """(row id, row) of one record in a repeat table, walking down from the record to the repeat."""
        chain = []
        current = table
        while current.parent is not None:
            chain.append(current)
            current = self.tables[current.parent]
        yield from self._down(list(reversed(chain)), data, key, "")

    def _down(self, chain: list[ODataTable], row: dict, parent_id: str, base: str):
        table, rest = chain[0], chain[1:]
        relative_key = table.relative[len(base):] if base else table.relative
        for rid, entry in self.entries(row.get(relative_key), parent_id, table.relative):
            if rest:
                yield from self._down(rest, entry, rid, table.relative + "/")
            else:
                link = f"{table.name}('{rid}')"
                fields = self.fields(self.plan(table.nodes, table.relative + "/"), entry, rid, link)
                yield rid, {**fields, "__id": rid, table.parent_key: parent_id}
