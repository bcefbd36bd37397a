"""The one suppression function, attacked: tables built so that a careless rule leaks a small
count, and many random tables checked by exact linear algebra that knows nothing of the graph
``suppress`` reasons with."""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction

import pytest

from formserver.network.suppression import percentage, suppress
from formserver.network.table import NOT_ANSWERED, Choice, Dimension, Shown, ShownTable, TableRequest
from tests.network_tables import (
    DOCUMENTS, LEGAL_STATUS, PROVINCE, SEX, crosstable, documents_by_sex, legal_status,
    legal_status_by_province, months,
)

K = 5
TOTAL = "total"


# -- the attacker: what the published numbers determine -------------------------------------


def published_entries(shown: ShownTable) -> dict:
    """Every published number of the augmented table by (row, column); TOTAL names a total line."""
    entries = {}
    if shown.columns is None:
        for (r, _), value in shown.cells.items():
            entries[(r, None)] = value
        entries[(TOTAL, None)] = shown.total
        return entries
    entries.update(shown.cells)
    entries.update({(r, TOTAL): value for r, value in shown.row_totals.items()})
    entries.update({(TOTAL, c): value for c, value in shown.column_totals.items()})
    entries[(TOTAL, TOTAL)] = shown.total
    return entries


def equations(shown: ShownTable) -> list[dict]:
    """The sums that truly hold, each as {entry: coefficient} (= 0): a line adds up unless the
    dimension across it is a select_multiple."""
    rows = [c.name for c in shown.rows.choices]
    if shown.columns is None:
        if shown.rows.multiple:
            return []
        return [{**{(r, None): 1 for r in rows}, (TOTAL, None): -1}]
    columns = [c.name for c in shown.columns.choices]
    found = []
    if not shown.columns.multiple:
        for r in rows + [TOTAL]:
            found.append({**{(r, c): 1 for c in columns}, (r, TOTAL): -1})
    if not shown.rows.multiple:
        for c in columns + [TOTAL]:
            found.append({**{(r, c): 1 for r in rows}, (TOTAL, c): -1})
    return found


def determined(shown: ShownTable) -> set:
    """The hidden entries that the published numbers fix, by Gauss–Jordan over the rationals: an
    unknown is fixed when it is a pivot whose reduced row has no free unknown in it."""
    entries = published_entries(shown)
    unknowns = sorted((key for key, value in entries.items() if value.count is None), key=repr)
    index = {key: i for i, key in enumerate(unknowns)}
    matrix = [[Fraction(0)] * len(unknowns) for _ in equations(shown)]
    for line, equation in zip(matrix, equations(shown)):
        for key, coefficient in equation.items():
            if key in index:
                line[index[key]] += coefficient
    pivots = []
    row = 0
    for column in range(len(unknowns)):
        pivot = next((i for i in range(row, len(matrix)) if matrix[i][column] != 0), None)
        if pivot is None:
            continue
        matrix[row], matrix[pivot] = matrix[pivot], matrix[row]
        head = matrix[row][column]
        matrix[row] = [value / head for value in matrix[row]]
        for i in range(len(matrix)):
            if i != row and matrix[i][column] != 0:
                factor = matrix[i][column]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[row])]
        pivots.append(column)
        row += 1
    free = set(range(len(unknowns))) - set(pivots)
    return {
        unknowns[column] for line, column in zip(matrix, pivots)
        if not any(line[f] != 0 for f in free)
    }


def assert_safe(table, shown: ShownTable, k: int = K) -> None:
    """The promises of ``suppress``: no count 1..k−1 shown, zeros and large counts shown as they
    are, nothing hidden that the sums give away."""
    truth = published_entries(suppress_nothing(table))
    for key, value in published_entries(shown).items():
        real = truth[key].count
        if value.count is not None:
            assert value.count == real and not 0 < real < k, (key, value, real)
        else:
            assert real > 0, f"a zero was hidden at {key}"
            assert value.mark in (f"<{k}", "x")
            assert (value.mark == f"<{k}") == (real < k), (key, value, real)
    assert not determined(shown), f"recoverable: {determined(shown)}"


def suppress_nothing(table) -> ShownTable:
    return suppress(table, 1)


def primaries_only(table, k: int = K) -> ShownTable:
    """What a careless rule publishes: the small counts hidden and nothing else."""
    shown = suppress_nothing(table)
    hide = lambda v: Shown(None, f"<{k}") if 0 < v.count < k else v  # noqa: E731
    return dataclasses.replace(
        shown, cells={key: hide(v) for key, v in shown.cells.items()},
        row_totals={key: hide(v) for key, v in shown.row_totals.items()},
        column_totals={key: hide(v) for key, v in shown.column_totals.items()}, total=hide(shown.total),
    )


# -- tables built to defeat it --------------------------------------------------------------


def test_a_single_small_cell_in_a_row_takes_a_second_cell_of_its_row_with_it():
    table = crosstable(SEX, PROVINCE, [[40, 3, 60, 71], [52, 48, 66, 90], [20, 31, 25, 18]])
    assert determined(primaries_only(table)) == {("male", "57")}
    shown = suppress(table, K)
    assert shown.cells[("male", "57")] == Shown(None, "<5")
    assert [key for key, v in shown.cells.items() if v.mark == "x" and key[0] == "male"]
    assert_safe(table, shown)


def test_a_small_row_total_recoverable_only_through_the_grand_total_is_protected():
    table = crosstable(SEX, PROVINCE, [[1, 2, 0, 0], [25, 25, 30, 40], [30, 30, 22, 19]])
    careless = primaries_only(table)
    assert ("male", TOTAL) in determined(careless)  # 3 = 341 − 140 − 101 − … through the grand total
    shown = suppress(table, K)
    assert shown.row_totals["male"] == Shown(None, "<5")
    assert_safe(table, shown)


def test_a_small_count_in_a_list_is_not_left_to_be_subtracted_from_the_total():
    table = crosstable(LEGAL_STATUS, None, [207, 25, 181, 3, 0])
    assert determined(primaries_only(table)) == {("migrant", None)}
    shown = suppress(table, K)
    assert shown.cells[("migrant", None)] == Shown(None, "<5")
    assert shown.cells[("s7bis", None)] == Shown(None, "x"), "the smallest other count hides it"
    assert shown.total == Shown(416)
    assert_safe(table, shown)


def test_two_hidden_cycles_joined_by_one_cell_are_undone_by_chaining_rows_and_columns():
    six = Dimension("row", {"en": "Row"}, tuple(Choice(f"r{i}") for i in range(5)))
    cols = Dimension("column", {"en": "Column"}, tuple(Choice(f"c{i}") for i in range(5)))
    grid = [[1, 2, 40, 50, 60],
            [3, 4, 2, 70, 80],
            [90, 91, 1, 3, 92],
            [93, 94, 4, 2, 95],
            [96, 97, 98, 99, 100]]
    table = crosstable(six, cols, grid)
    careless = primaries_only(table)
    # every row and column holding a small count holds two: a rule "two per line" is satisfied,
    # yet the cell joining the two cycles falls out of the sums of several lines.
    assert determined(careless) == {("r1", "c2")}
    shown = suppress(table, K)
    assert_safe(table, shown)


def test_a_table_of_one_row_hides_the_column_total_beside_each_small_cell():
    one = Dimension("sex", SEX.labels, SEX.choices[:1])
    table = crosstable(one, PROVINCE, [[3, 40, 50, 61]])
    shown = suppress(table, K)
    assert shown.column_totals["50"] == Shown(None, "<5"), "a column of one row is its cell"
    assert sum(v.count is None for v in shown.cells.values()) >= 2
    assert_safe(table, shown)


def test_a_table_of_one_column_hides_the_row_total_beside_each_small_cell():
    one = Dimension("province", PROVINCE.labels, PROVINCE.choices[:1])
    table = crosstable(LEGAL_STATUS, one, [[120], [14], [61], [2], [30]])
    shown = suppress(table, K)
    assert shown.row_totals["migrant"] == Shown(None, "<5")
    assert shown.cells[("s7bis", "50")] == Shown(None, "x")
    assert_safe(table, shown)


def test_a_select_multiple_column_does_not_add_up_so_a_small_cell_needs_a_partner_in_its_column():
    table = crosstable(SEX, DOCUMENTS, [[40, 22, 2, 9], [38, 25, 17, 11], [12, 8, 6, 7]],
                       row_totals={"male": 60, "female": 70, "other": 20})
    shown = suppress(table, K)
    hidden = [key for key, v in shown.cells.items() if v.count is None]
    assert ("male", "card_no_status") in hidden
    assert [key for key in hidden if key[1] == "card_no_status" and key[0] != "male"], \
        "a cell hidden in the same row would not help: the row does not add up"
    assert shown.row_totals == {"male": Shown(60), "female": Shown(70), "other": Shown(20)}
    assert_safe(table, shown)


def test_a_select_multiple_list_hides_only_its_small_counts():
    table = crosstable(DOCUMENTS, None, [80, 48, 3, 24], total=120)
    shown = suppress(table, K)
    assert [v.text for v in shown.cells.values()] == ["80", "48", "<5", "24"]
    assert shown.total == Shown(120)
    assert_safe(table, shown)


def test_a_filter_that_narrows_a_province_to_one_household_withholds_the_whole_table():
    table = crosstable(LEGAL_STATUS, SEX, [[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]], unit=None)
    table = dataclasses.replace(table, request=dataclasses.replace(table.request, filters={"province": ("58",)}))
    shown = suppress(table, K)
    assert shown.withheld
    assert shown.cells == {} and shown.row_totals == {} and shown.column_totals == {}
    assert shown.total == Shown(None, "<5")
    assert 1 not in _numbers(shown)


def test_zeros_stay_zero_and_large_counts_stay_as_counted():
    shown = suppress(legal_status_by_province(), K)
    assert shown.cells[("s7bis", "58")] == Shown(0)
    assert shown.cells[("no_reg_status", "57")] == Shown(77)
    assert shown.total == Shown(514)


def test_the_marks_name_the_k_in_force():
    shown = suppress(legal_status(), 10)
    assert [v.text for v in shown.cells.values()] == ["207", "25", "181", "<10", "<10"]


def test_persons_without_identity_are_shown_only_from_k():
    assert suppress(legal_status_by_province(), K).without_identity == Shown(None, "<5")
    assert suppress(crosstable(SEX, None, [30, 40, 5], without_identity=12), K).without_identity == Shown(12)


def test_a_choice_counted_but_not_listed_such_as_not_answered_gets_a_row():
    table = crosstable(SEX, None, [30, 40, 5])
    table = dataclasses.replace(table, counts={**table.counts, (NOT_ANSWERED, None): 9}, total=84)
    shown = suppress(table, K)
    assert shown.rows.choices[-1].name == NOT_ANSWERED
    assert shown.cells[(NOT_ANSWERED, None)] == Shown(9)


def test_the_same_table_is_always_hidden_the_same_way():
    first = suppress(legal_status_by_province(), K)
    assert all(suppress(legal_status_by_province(), K) == first for _ in range(3))


@pytest.mark.parametrize("make", [legal_status_by_province, documents_by_sex, legal_status, months])
def test_the_shared_tables_are_safe_and_hold_no_small_number(make):
    table = make()
    shown = suppress(table, K)
    assert_safe(table, shown)
    assert not set(_numbers(shown)) & {1, 2, 3, 4}


def _numbers(value):
    """Every int anywhere in a dataclass's fields (k aside)."""
    data = dataclasses.asdict(value)
    data.pop("k")

    def walk(item):
        if isinstance(item, bool):
            return
        if isinstance(item, int):
            yield item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield from walk(key)
                yield from walk(inner)
        elif isinstance(item, (list, tuple, set)):
            for inner in item:
                yield from walk(inner)
    return list(walk(data))


# -- many random tables ---------------------------------------------------------------------


def random_table(rng: random.Random):
    """A table as a counting could give it: many zeros and small counts; totals of a
    select_multiple are the units that answered (between the largest count and the sum)."""
    def count():
        return rng.choice([0, 0, 0, rng.randint(1, 4), rng.randint(1, 4), rng.randint(5, 12), rng.randint(5, 90)])

    def dim(prefix, size, multiple):
        return Dimension(prefix, {"en": prefix}, tuple(Choice(f"{prefix}{i}") for i in range(size)), multiple)

    rows = dim("r", rng.randint(1, 6), rng.random() < 0.25)
    if rng.random() < 0.25:
        grid = [count() for _ in rows.choices]
        total = rng.randint(max(grid), sum(grid)) if rows.multiple else None
        return crosstable(rows, None, grid, total=total)
    columns = dim("c", rng.randint(1, 6), rng.random() < 0.25)
    grid = [[count() for _ in columns.choices] for _ in rows.choices]

    def answered(line):
        return rng.randint(max(line), sum(line))

    row_totals = {r.name: (answered(line) if columns.multiple else sum(line)) for r, line in zip(rows.choices, grid)}
    column_totals = {c.name: (answered([line[j] for line in grid]) if rows.multiple else sum(line[j] for line in grid))
                     for j, c in enumerate(columns.choices)}
    if not columns.multiple:
        total = sum(column_totals.values())
    elif not rows.multiple:
        total = sum(row_totals.values())
    else:
        total = rng.randint(max([0, *row_totals.values(), *column_totals.values()]),
                            sum(row_totals.values()) + 1)
    return crosstable(rows, columns, grid, row_totals=row_totals, column_totals=column_totals, total=total)


def test_no_hidden_count_of_many_random_tables_can_be_worked_out():
    rng = random.Random(20261205)
    seen = {"withheld": 0, "secondary": 0}
    for _ in range(1000):
        table = random_table(rng)
        k = rng.choice([3, 5, 5, 10])
        shown = suppress(table, k)
        if shown.withheld:
            assert table.total < k and not shown.cells
            seen["withheld"] += 1
            continue
        assert_safe(table, shown, k)
        seen["secondary"] += any(v.mark == "x" for v in published_entries(shown).values())
    assert seen["withheld"] > 20 and seen["secondary"] > 250, seen


# -- percentages ----------------------------------------------------------------------------


def test_a_percentage_stands_only_beside_a_shown_count_of_a_shown_total():
    assert percentage(Shown(25), Shown(200)) == 12.5
    assert percentage(Shown(None, "<5"), Shown(200)) is None
    assert percentage(Shown(None, "x"), Shown(200)) is None
    assert percentage(Shown(25), Shown(None, "x")) is None
    assert percentage(Shown(0), Shown(0)) is None
