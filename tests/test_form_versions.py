"""Uploading forms: ids, versions, drafts, media and what phones are served."""

from __future__ import annotations

import shutil

import pytest
from lxml import etree

from formserver import forms
from formserver.accounts import create_organisation
from formserver.problems import Problem
from formserver.xform import summarise
from formserver.xlsform import FormError

from .xlsforms import simple_form, xlsform


@pytest.fixture
def organisation(session):
    return create_organisation(session, "hillnet", "Hill network")


def upload(session, blobs, organisation, content, filename="simple.xlsx", **options):
    return forms.add_form_version(session, blobs, organisation, content, filename, **options)


def test_uploading_a_new_version_of_a_form_adds_a_version_and_serves_the_newest(session, blobs, organisation):
    first = upload(session, blobs, organisation, simple_form(version="1"))
    second = upload(session, blobs, organisation, simple_form(version="2", extra=[{"type": "note", "name": "n", "label": "Hi"}]))
    assert first.form.id == second.form.id
    assert [v.version for v in first.form.versions] == ["1", "2"]
    assert forms.served_version(session, first.form).version == "2"


def test_reuploading_identical_content_changes_nothing(session, blobs, organisation):
    content = simple_form(version="1")
    first = upload(session, blobs, organisation, content)
    again = upload(session, blobs, organisation, content)
    assert not again.created
    assert again.version.id == first.version.id
    assert len(first.form.versions) == 1


def test_reuploading_identical_content_without_a_version_changes_nothing(session, blobs, organisation):
    content = simple_form(version=None)
    first = upload(session, blobs, organisation, content)
    again = upload(session, blobs, organisation, content)
    assert not again.created and again.version.id == first.version.id


def test_different_content_under_an_existing_version_is_refused(session, blobs, organisation):
    upload(session, blobs, organisation, simple_form(version="1"))
    changed = simple_form(version="1", extra=[{"type": "text", "name": "village", "label": "Village"}])
    with pytest.raises(Problem) as refused:
        upload(session, blobs, organisation, changed)
    assert refused.value.code == "form.version_exists"
    assert "Change the version" in refused.value.en
    assert "โปรดเปลี่ยน version" in refused.value.text("th")
    assert len(forms.form_by_id(session, organisation, "simple").versions) == 1


def test_a_form_without_a_version_gets_the_upload_time_written_into_the_xform(session, blobs, organisation):
    stored = upload(session, blobs, organisation, simple_form(version=None)).version
    assert len(stored.version) == 14 and stored.version.isdigit()
    assert summarise(stored.xform).version == stored.version


def test_a_form_without_form_id_takes_it_from_the_file_name_as_xls2xform_does(session, blobs, organisation):
    content = xlsform([{"type": "text", "name": "q", "label": "Q"}])
    stored = upload(session, blobs, organisation, content, filename="2026 status survey (v2).xlsx")
    assert stored.form.form_id == "_2026_status_survey__v2_"
    root = etree.fromstring(stored.version.xform)
    assert root.find(".//{http://www.w3.org/2002/xforms}instance")[0].get("id") == "_2026_status_survey__v2_"


def test_a_draft_is_not_served_until_published(session, blobs, organisation):
    upload(session, blobs, organisation, simple_form(version="1"))
    draft = upload(session, blobs, organisation, simple_form(version="2", title="Changed"), draft=True)
    assert draft.version.is_draft
    assert forms.served_version(session, draft.form).version == "1"
    forms.publish(session, draft.version)
    assert forms.served_version(session, draft.form).version == "2"
    assert draft.form.title == "Changed"


def test_a_rejected_form_stores_nothing(session, blobs, organisation):
    broken = xlsform([{"type": "calculate", "name": "total", "label": "Total"}])
    with pytest.raises(FormError) as refused:
        upload(session, blobs, organisation, broken)
    assert refused.value.sheet == "survey" and refused.value.row == 2
    assert forms.forms_of(session, organisation) == []


def test_a_file_that_is_not_a_form_is_refused_by_name(session, blobs, organisation):
    with pytest.raises(Problem, match="notes.pdf is not an XLSForm") as refused:
        upload(session, blobs, organisation, b"%PDF", filename="notes.pdf")
    assert refused.value.code == "form.unreadable"


IMAGE_FORM = [
    {"type": "note", "name": "logo", "label": "Logo", "media::image": "logo.png"},
    {"type": "select_one_from_file villages.csv", "name": "village", "label": "Village"},
]


def test_missing_media_is_named_and_the_version_stays_incomplete(session, blobs, organisation):
    result = upload(session, blobs, organisation, xlsform(IMAGE_FORM, settings={"form_id": "media", "version": "1"}))
    assert result.version.missing_media == ["logo.png", "villages.csv"]
    assert any("logo.png" in warning for warning in result.warnings)
    forms.attach_media(session, blobs, result.version, "logo.png", b"\x89PNG...")
    forms.attach_media(session, blobs, result.version, "villages.csv", "name,label\nban1,บ้านหนึ่ง\n".encode())
    assert result.version.missing_media == []


def test_a_new_version_keeps_the_previous_media_unless_new_files_are_given(session, blobs, organisation):
    first = upload(
        session,
        blobs,
        organisation,
        xlsform(IMAGE_FORM, settings={"form_id": "media", "version": "1"}),
        media=[("logo.png", b"old logo"), ("villages.csv", b"name,label\n")],
    )
    second = upload(
        session,
        blobs,
        organisation,
        xlsform(IMAGE_FORM, settings={"form_id": "media", "version": "2"}),
        media=[("logo.png", b"new logo")],
    )
    by_name = {m.filename: m for m in second.version.media}
    assert blobs.read(by_name["logo.png"].sha256) == b"new logo"
    assert by_name["villages.csv"].sha256 == {m.filename: m for m in first.version.media}["villages.csv"].sha256
    assert second.version.missing_media == []


def test_external_choices_get_their_itemsets_csv_from_the_server(session, blobs, organisation):
    content = xlsform(
        [
            {"type": "select_one province", "name": "province", "label": "Province"},
            {"type": "select_one_external district", "name": "district", "label": "District", "choice_filter": "province=${province}"},
        ],
        choices=[{"list_name": "province", "name": "57", "label": "เชียงราย"}],
        settings={"form_id": "ext", "version": "1"},
    )
    workbook_with_external = _add_sheet(content, "external_choices", [["list_name", "name", "label", "province"], ["district", "5715", "แม่ฟ้าหลวง", "57"]])
    result = upload(session, blobs, organisation, workbook_with_external)
    media = {m.filename: m for m in result.version.media}
    assert "itemsets.csv" in media
    assert "แม่ฟ้าหลวง" in blobs.read(media["itemsets.csv"].sha256).decode("utf-8")
    assert result.version.missing_media == []


def _add_sheet(content: bytes, title: str, rows: list[list[str]]) -> bytes:
    from io import BytesIO

    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(content))
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_unexpected_media_file_is_refused(session, blobs, organisation):
    result = upload(session, blobs, organisation, simple_form())
    with pytest.raises(Problem, match="does not use a media file named other.png"):
        forms.attach_media(session, blobs, result.version, "other.png", b"x")


def test_form_state_accepts_only_open_closing_closed(session, blobs, organisation):
    form = upload(session, blobs, organisation, simple_form()).form
    forms.set_state(session, form, "closing")
    assert form.state == "closing"
    with pytest.raises(Problem, match="not a form state"):
        forms.set_state(session, form, "archived")


def test_an_xform_upload_is_taken_as_it_is(session, blobs, organisation):
    xml = (
        '<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">'
        "<h:head><h:title>Raw</h:title><model><instance><data id=\"raw\"><q/></data></instance>"
        '<bind nodeset="/data/q" type="string"/></model></h:head>'
        '<h:body><input ref="/data/q"><label>Q</label></input></h:body></h:html>'
    ).encode()
    stored = upload(session, blobs, organisation, xml, filename="raw.xml").version
    assert stored.form.form_id == "raw"
    assert stored.xform.replace(f' version="{stored.version}"'.encode(), b"") == xml


@pytest.mark.skipif(shutil.which("java") is None, reason="Java is not installed: JavaRosa validation is optional")
def test_javarosa_errors_refuse_the_upload_and_store_nothing(session, blobs, organisation):
    content = xlsform(
        [
            {"type": "integer", "name": "a", "label": "A"},
            {"type": "calculate", "name": "b", "calculation": "unknownfunc(${a})"},
        ],
        settings={"form_id": "jr", "version": "1"},
    )
    with pytest.raises(FormError) as refused:
        upload(session, blobs, organisation, content, validate_with_java=True)
    assert "JavaRosa" in refused.value.message
    assert "cannot handle function 'unknownfunc'" in refused.value.message
    assert "Exception" not in refused.value.message
    assert forms.forms_of(session, organisation) == []
