"""Real forms with nested repeats from the shared corpus, exported and compared with the peers' expected exports."""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings

from formserver.exports.samples import add_instance

from .conftest import shared_path
from .test_export_support import export, organisation, read_workbook, table  # noqa: F401 - fixtures
from .test_export_support import upload as upload_form


def upload(session, blobs, organisation, *parts):
    path = shared_path(*parts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's remarks about the corpus files' styles
        return upload_form(session, blobs, organisation, path.read_bytes(), path.name)


def test_onas_nested_repeats_give_the_same_children_and_values_as_onas_export(session, blobs, settings, organisation, tmp_path):
    folder = ("corpus", "xlsforms", "onadata", "nested_repeats")
    version = upload(session, blobs, organisation, *folder, "nested_repeats.xlsx")
    for name in ("nested_repeats_01.xml", "nested_repeats_02.xml"):
        add_instance(session, version, shared_path(*folder, name).read_bytes())
    sheets = read_workbook(export(session, settings, organisation, version.form, tmp_path, values="names"))
    assert list(sheets) == ["nested_repeats", "kids_details", "kids_immunization"]
    main, kids, shots = (table(sheets[name]) for name in sheets)

    with shared_path(*folder, "nested_repeats.csv").open(encoding="utf-8", newline="") as handle:
        expected_rows = list(csv.DictReader(handle))
    compared = 0
    for expected in expected_rows:
        key = expected["meta/instanceID"]
        row = next(r for r in main if r["KEY"] == key)
        assert row["kids-nested_group-nested_name"] == expected["kids/nested_group/nested_name"]
        assert row["kids-nested_group-nested_age"] == int(expected["kids/nested_group/nested_age"])
        for part, theirs in zip(("Latitude", "Longitude", "Altitude", "Accuracy"), ("latitude", "longitude", "altitude", "precision")):
            assert row[f"gps-{part}"] == float(expected[f"_gps_{theirs}"])
        for browser in ("firefox", "chrome", "ie", "safari"):
            assert row[f"web_browsers/{browser}"] == (1 if expected[f"web_browsers/{browser}"] == "True" else 0)
        # Ona's flat columns kids/kids_details[i]/... and kids/kids_details[i]/kids_immunization[j]/...
        for column, value in expected.items():
            found = re.fullmatch(r"kids/kids_details\[(\d+)\](?:/kids_immunization\[(\d+)\])?/(\w+)", column)
            if not found or value == "n/a":
                continue
            child, shot, field = found.groups()
            compared += 1
            kid_key = f"{key}/kids/kids_details[{child}]"
            if shot is None:
                kid = next(r for r in kids if r["KEY"] == kid_key)
                assert str(kid[field]) == value and kid["PARENT_KEY"] == key and kid["_parent_index"] == row["_index"]
            else:
                entry = next(r for r in shots if r["KEY"] == f"{kid_key}/kids_immunization[{shot}]")
                parent = next(r for r in kids if r["KEY"] == kid_key)
                assert entry[field] == value
                assert (entry["PARENT_KEY"], entry["_parent_table_name"], entry["_parent_index"]) == (kid_key, "kids_details", parent["_index"])
    assert compared == 21  # 5 kids x (name, age) and 11 immunizations
    assert len(kids) == 5 and len(shots) == 11


def test_kobos_three_level_repeat_gets_kobos_parent_indexes(session, blobs, settings, organisation, tmp_path):
    folder = ("corpus", "xlsforms", "formpack", "derived")
    version = upload(session, blobs, organisation, *folder, "nested_grouped_repeatable.xlsx")
    for number in (1, 2):
        add_instance(session, version, shared_path(*folder, f"nested_grouped_repeatable_submission_{number}.xml").read_bytes())
    sheets = read_workbook(export(session, settings, organisation, version.form, tmp_path, values="names"))
    assert list(sheets) == ["nested_grouped_repeatable", "group_tree", "group_nest", "group_egg"]
    main, trees, nests, eggs = (table(sheets[name]) for name in sheets)
    # exports.md, worked example B (formpack's test_nested_repeats_with_copy_fields)
    assert [r["_index"] for r in main] == [1, 2]
    assert [(r["What_kind_of_tree_is_this"], r["_index"], r["_parent_index"]) for r in trees] == [
        ("pine", 1, 1), ("spruce", 2, 1), ("maple", 3, 2),
    ]
    assert [(r["How_high_above_the_ground_is_the_nest"], r["How_many_eggs_are_in_the_nest"], r["_parent_index"]) for r in nests] == [
        (13, 3, 1), (15, 1, 1), (10, 2, 2), (23, 1, 3),
    ]
    assert [r["_parent_index"] for r in eggs] == [1, 1, 1, 2, 3, 3, 4]
    assert [r["_parent_table_name"] for r in trees + nests + eggs] == ["nested_grouped_repeatable"] * 3 + ["group_tree"] * 4 + ["group_nest"] * 7
    # Central's keys, as in its "nested-repeats" test: uuid:…/g1[3]/g2[1]
    assert eggs[1]["KEY"] == "uuid:f16d9a3f-0892-413e-81d4-758ab188ea0b/group_tree[1]/group_nest[1]/group_egg[2]"
    assert eggs[1]["PARENT_KEY"] == "uuid:f16d9a3f-0892-413e-81d4-758ab188ea0b/group_tree[1]/group_nest[1]"
    assert eggs[1]["Describe_the_egg"] == "brown and speckled; large; cracked"
    # start and end were sent with -05:00; they are shown in Bangkok time (+07:00)
    assert main[0]["start"] == dt.datetime(2017, 12, 28, 3, 53, 26)
