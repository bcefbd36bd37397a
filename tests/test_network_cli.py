"""``formserver network table``: the figures as anyone may see them, in a CSV or XLSX file, from the
command line; small counts never written as numbers, nothing of a household ever written."""

from __future__ import annotations

import csv
import io
import logging
import zipfile

import openpyxl
import pytest

from .network_population import CANARIES, NOT_SHARED, fill_network

K = "<5"


@pytest.fixture
def network(session, blobs):
    people = fill_network(session, blobs)
    session.close()  # the command opens its own session (SQLite: one writer at a time)
    return people


def persons_by_province(run, *extra: str):
    return run("network", "table", "household_visit", "--unit", "member", "--rows", "legal_status", "--columns", "province", *extra)


def test_without_a_file_the_table_is_printed_as_csv(run, network):
    code, out, err = persons_by_province(run)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "legal_status" and rows[0][-1] == "total", out
    by_name = {row[0]: row[1:] for row in rows[1:]}
    header = rows[0][1:]
    assert by_name["pending"][header.index("50")] == "6", out
    assert by_name["stateless"][header.index("total")] == "12"
    assert by_name["total"][header.index("57")] == "11"
    assert by_name["total"][header.index("total")] == "21"
    assert by_name["stateless"][header.index("57")] == "x"  # 9, hidden: with 12 it would give away the 3 in 50
    assert by_name["thai"][header.index("57")] == K  # two persons: too few to show
    assert by_name["pending"][header.index("63")] == K  # one person


def test_no_count_under_k_is_written_as_a_number_in_the_csv_or_the_workbook(run, network, tmp_path):
    code, out, _ = persons_by_province(run)
    values = [value for row in list(csv.reader(io.StringIO(out)))[1:] for value in row[1:]]
    book_path = tmp_path / "table.xlsx"
    assert persons_by_province(run, "-o", str(book_path))[0] == 0
    book = openpyxl.load_workbook(book_path)
    table = book.worksheets[0]
    values += [cell for row in table.iter_rows(min_row=2, min_col=2, values_only=True) for cell in row if cell is not None]
    assert K in values
    for value in values:
        assert value in (K, "x") or int(value) == 0 or int(value) >= 5, value
    assert "method" in book.sheetnames


def test_the_workbook_names_the_organisations_included_and_nothing_of_a_household(run, network, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "table.xlsx"
    code, out, err = persons_by_province(run, "-o", str(path), "--lang", "en")
    assert code == 0, err
    with zipfile.ZipFile(path) as archive:
        everything = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    assert "hillnet" in everything and "rivernet" in everything
    for text in (everything, out, err, caplog.text):
        for canary in CANARIES:
            assert canary not in text
        assert "lakenet" not in text and NOT_SHARED not in text
    assert "Stateless" in everything  # the labels in the language asked


def test_a_csv_file_is_the_same_as_the_csv_printed(run, network, tmp_path):
    path = tmp_path / "table.csv"
    assert persons_by_province(run, "-o", str(path))[0] == 0
    printed = persons_by_province(run)[1]
    assert path.read_bytes().decode("utf-8") == printed


def test_households_by_province_with_a_filter_below_k_is_withheld(run, network):
    code, out, _ = run("network", "table", "household_visit", "--rows", "province")
    rows = {row[0]: row[1] for row in list(csv.reader(io.StringIO(out)))[1:]}
    assert rows["57"] == "6" and rows["50"] == K and rows["63"] == K
    code, out, _ = run("network", "table", "household_visit", "--rows", "province", "--filter", "province=63")
    assert code == 0 and list(csv.reader(io.StringIO(out)))[-1] == ["total", K]


def test_an_unknown_form_or_a_field_that_is_no_dimension_is_said_in_clear_words(run, network):
    code, _, err = run("network", "table", "no_such_form", "--rows", "province")
    assert code == 1 and "No organisation shares a form no_such_form with the network" in err
    code, _, err = run("network", "table", "household_visit", "--rows", "head_name")
    assert code == 2 and "cannot be counted by head_name" in err and "province" in err
    code, _, err = run("network", "table", "household_visit", "--rows", "province", "--since", "March")
    assert code == 2 and "YYYY-MM" in err
    code, _, err = run("network", "table", "household_visit", "--rows", "province", "-o", "table.pdf")
    assert code == 2 and ".xlsx or .csv" in err
