"""Every real XLSForm of the shared corpus behaves as its MANIFEST.md says.

Valid forms are accepted, stored, and their XForm is deterministic (a stable
md5); invalid ones are refused with a message naming where, never a crash.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from formserver import forms
from formserver.accounts import create_organisation
from formserver.xlsform import FormError, convert

from .conftest import shared_path

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)

ACCEPTED = [
    "pyxform/UCL_Biomass_Plot_Form.xlsx",
    "pyxform/xlsform_spec_test.xlsx",
    "pyxform/widgets.xls",
    "pyxform/or_other.xlsx",
    "pyxform/case_insensitivity.xlsx",
    "onadata/transportation/transportation.xlsx",
    "onadata/tutorial_w_repeats/tutorial_w_repeats.xlsx",
    "onadata/nested_repeats/nested_repeats.xlsx",
    "onadata/childrens_survey/childrens_survey.xlsx",
    "onadata/subdistrict_profiling_tool.xlsx",
    "onadata/grains.xlsx",
    "onadata/geolocation/GeoLocationForm.xlsx",
    "onadata/gps_in_repeats/gps_in_repeats.xlsx",
    "onadata/tutorial_arabic_labels.xlsx",
    "formpack/derived/nested_grouped_repeatable.xlsx",
    "formpack/derived/grouped_translated.xlsx",
    "humind/REACH_2024_MSNA-kobo-tool_draft_v11.xlsx",
    "cleaningtools/kobo_tool.xlsx",
    "osm-fieldwork/buildings.xls",
    "osm-fieldwork/highways.xls",
    "bangladesh-admin-boundary-xlsform/Full Bangladesh Division To Union.xlsx",
]

# (file, sheet, row, words the message must contain)
REFUSED = [
    ("pyxform/calculate_without_calculation.xls", "survey", 34, "Missing calculation"),
    ("pyxform/duplicate_columns.xlsx", None, None, "Duplicate column header: label"),
    ("pyxform/group_name_test.xls", "survey", 3, "no name"),
    ("pyxform/unknown_question_type.xls", "survey", 1, "bind:relevant"),  # the header row
    ("pyxform/include.xlsx", None, None, "not been included"),
    ("onadata/MCH_v1.xlsx", "survey", 17, "Unknown question type 'Select one from source'"),  # found in the workbook
    ("onadata/duplicate_choice_form.xlsx", "choices", 6, "Choice names must be unique"),
    ("cht-core/person-create.xlsx", "survey", 45, "reserved for form metadata"),
    ("osm-fieldwork/waterways.xls", None, None, "could not read this workbook"),
    ("humind/dummy_raw_data.xlsx", None, None, "sheet named 'survey'"),
]


@pytest.mark.parametrize("relative", ACCEPTED)
def test_valid_corpus_form_is_accepted_with_a_stable_xform(relative, session, blobs):
    path = shared_path("corpus", "xlsforms", relative)
    content = path.read_bytes()
    organisation = create_organisation(session, "corpus", "Corpus")
    upload = forms.add_form_version(session, blobs, organisation, content, path.name)
    assert upload.created
    stored = upload.version
    assert hashlib.md5(stored.xform).hexdigest() == stored.xform_md5
    assert stored.field_tree["fields"], "the field tree lists the form's questions"
    again = convert(content, path.name, now=NOW)
    expected = again.xform.replace(again.version.encode(), stored.version.encode()) if again.version_assigned else again.xform
    assert expected == stored.xform, "conversion is deterministic, so the md5 phones see is stable"


@pytest.mark.parametrize("relative,sheet,row,words", REFUSED)
def test_invalid_corpus_form_is_refused_saying_where(relative, sheet, row, words, session, blobs):
    path = shared_path("corpus", "xlsforms", relative)
    organisation = create_organisation(session, "corpus", "Corpus")
    with pytest.raises(FormError) as refused:
        forms.add_form_version(session, blobs, organisation, path.read_bytes(), path.name)
    error = refused.value
    assert words in error.message
    assert error.sheet == sheet
    assert error.row == row
    if row is not None:
        assert f"row {row}" in str(error)
    assert forms.forms_of(session, organisation) == []
