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


def value_of(node: dict, text: str | None, wkt: bool):
    if text is None:
        return None
    kind = node.get("type")
    if kind == "int":
        number = to_int(text)
        return number if isinstance(number, int) else text
    if kind == "decimal":
        number = to_float(text)
        return number if isinstance(number, float) else text
    if kind == "geopoint":
        return geo(text, wkt)
    return text


def repeat_id(parent_id: str, relative: str, index: int) -> str:
    """A repeat row's stable key: its record (or parent row), its path and its place."""
    return hashlib.sha1(f"{parent_id}/{relative}/{index}".encode("utf-8")).hexdigest()


class RowMaker:
    """Turns one record's flattened answers into the rows of one table."""

    def __init__(self, tree: dict, *, wkt: bool = False, expand: bool = False):
        self.prefix = "/" + tree["root"] + "/"
        self.tables = tables(tree)
        self.wkt, self.expand = wkt, expand

    def fields(self, nodes: list[dict], row: dict, base: str, own_id: str, link: str) -> dict:
        out: dict = {}
        for node in nodes:
            relative = node["path"][len(self.prefix):]
            key = relative[len(base):] if base else relative
            if node["kind"] == "group":
                out[node["name"]] = self.fields(node.get("children", []), row, base, own_id, link)
            elif node["kind"] == "repeat":
                if self.expand:
                    out[node["name"]] = [
                        self.fields(node.get("children", []), entry, relative + "/", rid, "") | {"__id": rid}
                        for rid, entry in self.entries(row.get(key), own_id, relative)
                    ]
                else:
                    out[node["name"] + "@odata.navigationLink"] = f"{link}/{node['name']}"
            else:
                out[node["name"]] = value_of(node, row.get(key), self.wkt)
        return out

    @staticmethod
    def entries(values, parent_id: str, relative: str):
        return [(repeat_id(parent_id, relative, index), entry) for index, entry in enumerate(values or [])]

    def submission(self, key: str, data: dict, system: dict) -> dict:
        link = f"Submissions('{quote(key, safe='')}')"
        return {"__id": key, **self.fields(self.tables["Submissions"].nodes, data, "", key, link), "__system": system}

    def repeat_rows(self, table: ODataTable, key: str, data: dict):
        """(row id, row) of one record in a repeat table, walking down from the record to the repeat."""
        chain = []
        current = table
        while current.parent is not None:
            chain.append(current)
            current = self.tables[current.parent]
        yield from self._down(list(reversed(chain)), data, key, "", key)

    def _down(self, chain: list[ODataTable], row: dict, parent_id: str, base: str, key: str):
        table, rest = chain[0], chain[1:]
        relative_key = table.relative[len(base):] if base else table.relative
        for rid, entry in self.entries(row.get(relative_key), parent_id, table.relative):
            if rest:
                yield from self._down(rest, entry, rid, table.relative + "/", key)
            else:
                link = f"{table.name}('{rid}')"
                fields = self.fields(table.nodes, entry, table.relative + "/", rid, link)
                yield rid, {**fields, "__id": rid, table.parent_key: parent_id}
