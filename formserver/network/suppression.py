"""The one suppression function: what of a cross-table may be shown, so that no one is recognised.

Every count from 1 to k−1, cells and totals alike, is hidden as ``"<k"`` (primary suppression);
zero stays 0. Then further counts are hidden as ``"x"`` (secondary suppression) until no hidden
count can be worked out from the published ones, even by chaining rows and columns.

Why a graph. Lay the table out with its totals (row totals as a last column, column totals as a
last row, the grand total in the corner). Every row and every column of that augmented table that
really adds up is one equation; the hidden counts are its unknowns. Make each such line a vertex
and each hidden count an edge between its row and its column: an unknown is determined by the
equations exactly when its edge is a bridge (summing the equations on one side of the bridge
isolates it), and it is safe exactly when it lies on a cycle of hidden counts. Lines that do not
add up — the columns when the rows are a select_multiple, the rows when the columns are — are no
equations: they are merged into one free vertex, so a hidden count on one of them is safe only
when another path closes the cycle. A one-dimension table is one column with its total: its rows
hold a single number each and are no equations either.

``tests/test_network_suppression.py`` checks the result against exact linear algebra on many
random tables, independently of this graph.
"""

from __future__ import annotations

import heapq
from dataclasses import replace

from .table import Choice, CrossTable, Dimension, Shown, ShownTable

SECONDARY = "x"
TOTAL = ("total",)  # the key of a total line; never a choice name, which is a str
FREE = ("free",)  # the one vertex of every line that is no equation


def mark(k: int) -> str:
    """How a count too small to show reads: ``<5`` with the k in force."""
    return f"<{k}"


def suppress(table: CrossTable, k: int) -> ShownTable:
    """The table as it may be published with ``k`` as the smallest count shown.

    A one-dimension table (``columns`` None) is read from ``counts`` and ``total``; its shown
    ``row_totals`` are its cells (a row of one number is its own total). A name counted but not
    among the dimension's choices (``NOT_ANSWERED``) is added to it as a last choice.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    rows = _with_counted_choices(table.rows, {r for r, _ in table.counts} | set(table.row_totals))
    columns = None
    if table.columns is not None:
        names = {c for _, c in table.counts if c is not None} | set(table.column_totals)
        columns = _with_counted_choices(table.columns, names)
    without_identity = _primary(table.without_identity, k)
    if table.total < k:
        return ShownTable(
            request=table.request, rows=rows, columns=columns, k=k, cells={}, row_totals={},
            column_totals={}, total=Shown(None, mark(k)), organisations=table.organisations,
            withheld=True, without_identity=without_identity, unit_labels=table.unit_labels,
        )
    grid = _Grid(table, rows, columns)
    hidden = {key for key, value in grid.values.items() if 0 < value < k}
    secondary = _secondary(grid, hidden)
    shown = {
        key: Shown(None, SECONDARY if key in secondary else mark(k)) if key in hidden | secondary else Shown(value)
        for key, value in grid.values.items()
    }
    return _shown_table(table, rows, columns, k, shown, without_identity)


def _primary(count: int, k: int) -> Shown:
    return Shown(None, mark(k)) if 0 < count < k else Shown(count)


def percentage(part: Shown, whole: Shown) -> float | None:
    """The share of a shown count in its shown total, in percent; None when either is hidden (or
    the total is 0), so that a percentage never stands beside a hidden number."""
    if part.count is None or whole.count is None or whole.count == 0:
        return None
    return 100.0 * part.count / whole.count


def _with_counted_choices(dimension: Dimension, names: set) -> Dimension:
    """The dimension with any counted name it does not list (``NOT_ANSWERED``) as a last choice."""
    known = {choice.name for choice in dimension.choices}
    extra = sorted(name for name in names if name is not None and name not in known)
    if not extra:
        return dimension
    return replace(dimension, choices=dimension.choices + tuple(Choice(name) for name in extra))


class _Grid:
    """The augmented table: every count by (row key, column key), and the line graph's vertices.

    A one-dimension table is one column (key None) with its total at ``(TOTAL, None)``.
    """

    def __init__(self, table: CrossTable, rows: Dimension, columns: Dimension | None):
        row_names = [choice.name for choice in rows.choices]
        values: dict[tuple, int] = {}
        if columns is None:
            for r in row_names:
                values[(r, None)] = table.counts.get((r, None), 0)
            values[(TOTAL, None)] = table.total
            self.rows_add_up = False  # a row of one number says nothing more
            self.columns_add_up = not rows.multiple
        else:
            column_names = [choice.name for choice in columns.choices]
            for r in row_names:
                for c in column_names:
                    values[(r, c)] = table.counts.get((r, c), 0)
                values[(r, TOTAL)] = table.row_totals.get(r, 0)
            for c in column_names:
                values[(TOTAL, c)] = table.column_totals.get(c, 0)
            values[(TOTAL, TOTAL)] = table.total
            self.rows_add_up = not columns.multiple
            self.columns_add_up = not rows.multiple
        self.values = values

    def ends(self, key: tuple) -> tuple[tuple, tuple]:
        """The two vertices (lines) an entry joins."""
        r, c = key
        return (("r", r) if self.rows_add_up else FREE), (("c", c) if self.columns_add_up else FREE)


def _secondary(grid: _Grid, primary: set) -> set:
    """The further entries to hide so that every hidden entry lies on a cycle."""
    hidden = set(primary)
    while True:
        bridges = _bridges(grid, hidden)
        if not bridges:
            break
        hidden |= _cheapest_closing_path(grid, hidden, min(bridges, key=_sort_key))
    return _without_needless(grid, hidden, hidden - primary)


def _without_needless(grid: _Grid, hidden: set, secondary: set) -> set:
    """The secondary entries less those that can be shown again without making a bridge, the
    largest first: closing one bridge at a time may hide more than the cycles finally need."""
    kept = set(secondary)
    for key in sorted(secondary, key=lambda entry: (-grid.values[entry], _sort_key(entry))):
        if not _bridges(grid, hidden - {key}):
            hidden = hidden - {key}
            kept.discard(key)
    return kept


def _bridges(grid: _Grid, hidden: set) -> list:
    """The hidden entries whose edge is a bridge of the multigraph of hidden entries (Tarjan,
    iterative; a parallel edge or a loop is never a bridge)."""
    adjacency: dict[tuple, list] = {}
    for key in hidden:
        a, b = grid.ends(key)
        adjacency.setdefault(a, []).append((b, key))
        adjacency.setdefault(b, []).append((a, key))
    order: dict[tuple, int] = {}
    low: dict[tuple, int] = {}
    found = []
    for root in sorted(adjacency, key=_sort_key):
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, None, iter(adjacency[root]))]
        while stack:
            vertex, via, edges = stack[-1]
            for neighbour, key in edges:
                if key == via:
                    continue
                if neighbour in order:
                    low[vertex] = min(low[vertex], order[neighbour])
                else:
                    order[neighbour] = low[neighbour] = len(order)
                    stack.append((neighbour, key, iter(adjacency[neighbour])))
                    break
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > order[parent]:
                        found.append(via)
    return found


def _cheapest_closing_path(grid: _Grid, hidden: set, bridge: tuple) -> set:
    """The shown non-zero entries whose hiding puts ``bridge`` on a cycle, found as the cheapest
    path between its two ends that avoids it (hidden entries cost nothing). Cost, in order: totals
    hidden (cells are preferred), entries hidden, entries outside the bridge's own lines, the sum
    of their counts (the smallest first)."""
    start, goal = grid.ends(bridge)
    own_row, own_column = bridge
    adjacency: dict[tuple, list] = {}
    for key, value in grid.values.items():
        if key == bridge or (key not in hidden and value == 0):
            continue
        if key in hidden:
            cost = (0, 0, 0, 0)
        else:
            r, c = key
            cost = (int(TOTAL in key), 1, int(r != own_row and c != own_column), value)
        a, b = grid.ends(key)
        adjacency.setdefault(a, []).append((b, key, cost))
        adjacency.setdefault(b, []).append((a, key, cost))
    best = {start: (0, 0, 0, 0)}
    came_by: dict[tuple, tuple] = {}
    queue = [((0, 0, 0, 0), _sort_key(start), start)]
    while queue:
        distance, _, vertex = heapq.heappop(queue)
        if vertex == goal:
            break
        if distance > best[vertex]:
            continue
        for neighbour, key, cost in sorted(adjacency.get(vertex, ()), key=lambda edge: _sort_key(edge[1])):
            candidate = tuple(map(sum, zip(distance, cost)))
            if neighbour not in best or candidate < best[neighbour]:
                best[neighbour] = candidate
                came_by[neighbour] = (vertex, key)
                heapq.heappush(queue, (candidate, _sort_key(neighbour), neighbour))
    if goal not in came_by:
        raise AssertionError("a bridge that no entry can close: every non-zero count is already hidden")
    path = set()
    vertex = goal
    while vertex != start:
        vertex, key = came_by[vertex]
        path.add(key)
    return path - hidden


def _sort_key(item) -> str:
    """A stable order for vertices and entries, so that the same table is always hidden the same way."""
    return repr(item)


def _shown_table(table: CrossTable, rows: Dimension, columns: Dimension | None, k: int,
                 shown: dict, without_identity: Shown) -> ShownTable:
    if columns is None:
        cells = {(r, None): shown[(r, None)] for r, _ in _keys(rows, None)}
        row_totals = {r: cells[(r, None)] for r, _ in cells}
        column_totals: dict[str, Shown] = {}
        total = shown[(TOTAL, None)]
    else:
        cells = {key: shown[key] for key in _keys(rows, columns)}
        row_totals = {choice.name: shown[(choice.name, TOTAL)] for choice in rows.choices}
        column_totals = {choice.name: shown[(TOTAL, choice.name)] for choice in columns.choices}
        total = shown[(TOTAL, TOTAL)]
    return ShownTable(
        request=table.request, rows=rows, columns=columns, k=k, cells=cells, row_totals=row_totals,
        column_totals=column_totals, total=total, organisations=table.organisations,
        without_identity=without_identity, unit_labels=table.unit_labels,
    )


def _keys(rows: Dimension, columns: Dimension | None) -> list[tuple]:
    column_names = [None] if columns is None else [choice.name for choice in columns.choices]
    return [(row.name, c) for row in rows.choices for c in column_names]
