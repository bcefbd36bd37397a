"""The survey sheet's ``network`` column: what a form lets the network count, refused where it is wrong."""

from __future__ import annotations

import pytest

from formserver import forms
from formserver.accounts import create_organisation
from formserver.models import FormVersion
from formserver.network.declaration import band_labels, band_of
from formserver.xlsform import FormError

from .network_world import SURVEY, household_form
from .xlsforms import xlsform


def upload(session, blobs, content: bytes, filename: str = "household_visit.xlsx") -> FormVersion:
    organisation = create_organisation(session, "hillnet", "Hill network")
    return forms.add_form_version(session, blobs, organisation, content, filename).version


def with_cell(name: str, value: str) -> list[dict]:
    return [dict(row, network=value) if row["name"] == name else row for row in SURVEY]


def test_the_declaration_is_stored_with_the_version(session, blobs):
    version = upload(session, blobs, household_form())
    declared = {field["name"]: field for field in version.network["fields"]}
    assert set(declared) == {"province", "head_id", "id_number", "legal_status", "documents", "age"}
    assert declared["legal_status"]["kind"] == "dimension" and declared["legal_status"]["repeat"] == "member"
    assert declared["province"]["repeat"] == "" and declared["head_id"]["kind"] == "identity"
    assert declared["age"]["bands"] == [0, 18, 60]


@pytest.mark.parametrize(
    "name, value, words, at",
    [
        ("head_name", "dimension", "only a select_one or select_multiple", "head_name"),
        ("gps", "identity", "an identity is a text, integer or calculate", "gps"),
        ("legal_status", "bands 0 18", "bands are only for an integer", "legal_status"),
        ("age", "bands 0 18 18", "strictly ascending", "age"),
        ("age", "bands 0 ten", "bands are numbers", "age"),
        ("age", "bands 5", "two or more numbers", "age"),
        ("remark", "count it", "takes 'dimension', 'bands'", "remark"),
        # member_name is the member's identity now, so id_number after it is one too many
        ("member_name", "identity", "only one identity field is allowed at this level", "id_number"),
    ],
)
def test_a_bad_value_is_refused_naming_sheet_row_and_column(session, blobs, name, value, words, at):
    with pytest.raises(FormError) as refused:
        upload(session, blobs, household_form(with_cell(name, value)))
    row = next(index for index, row in enumerate(SURVEY) if row["name"] == at) + 2
    assert (refused.value.sheet, refused.value.row, refused.value.column) == ("survey", row, "network")
    assert words in refused.value.message
    assert session.query(FormVersion).count() == 0


def test_without_the_column_every_select_is_a_dimension_and_nothing_else(session, blobs):
    survey = [{key: value for key, value in row.items() if key != "network"} for row in SURVEY]
    version = upload(session, blobs, household_form(survey))
    assert {(f["name"], f["kind"]) for f in version.network["fields"]} == {
        ("province", "dimension"), ("legal_status", "dimension"), ("documents", "dimension")
    }


def test_an_xform_uploaded_as_xml_counts_its_selects(session, blobs):
    from formserver.xlsform import convert

    survey = [{"type": "text", "name": "name", "label": "Name"}, {"type": "select_one yn", "name": "ok", "label": "OK"}]
    choices = [{"list_name": "yn", "name": "yes", "label": "Yes"}, {"list_name": "yn", "name": "no", "label": "No"}]
    xml = convert(xlsform(survey, choices, {"form_id": "simple", "version": "1"}), "simple.xlsx")
    organisation = create_organisation(session, "hillnet", "Hill network")
    version = forms.add_form_version(session, blobs, organisation, xml.xform, "simple.xml").version
    assert [(f["name"], f["kind"]) for f in version.network["fields"]] == [("ok", "dimension")]


def test_a_number_shows_only_as_its_band():
    bounds = [0, 6, 15, 20, 60]
    assert band_labels(bounds) == ["0-5", "6-14", "15-19", "20-59", "60+"]
    assert [band_of(v, bounds) for v in ("0", "5", "5.9", "6", "59", "60", "97", "-1", "abc")] == [
        "0-5", "0-5", "0-5", "6-14", "20-59", "60+", "60+", None, None
    ]


def test_the_intake_form_declares_what_the_network_counts(session, blobs):
    from pathlib import Path

    content = (Path(__file__).parents[1] / "forms" / "household_status_intake.xlsx").read_bytes()
    version = upload(session, blobs, content, "household_status_intake.xlsx")
    kinds = {field["name"]: field["kind"] for field in version.network["fields"]}
    assert kinds == {
        "province": "dimension", "district": "dimension", "head_id_number": "identity", "sex": "dimension",
        "age": "bands", "id_number": "identity", "legal_status": "dimension", "documents": "dimension",
        "status_problem": "dimension", "process_step": "dimension", "health_cover": "dimension",
        "work_permit": "dimension", "schooling": "dimension", "travel": "dimension", "violation_type": "dimension",
    }
