"""Thai text goes through XLSForm, XForm, database and field tree byte for byte."""

from __future__ import annotations

import unicodedata

from formserver import forms
from formserver.accounts import create_organisation
from formserver.models import FormVersion

from .xlsforms import xlsform

# Thai with tone marks, and a sara am that NFKC normalisation would split in two: it must not be normalised.
QUESTION = "ชื่อ-นามสกุล ของสมาชิกในครัวเรือน (ผู้ใหญ่บ้าน) ่้๊๋ ำ"
SARA_AM = "น\u0e33"
CHOICE = "ไม่มีสัญชาติ"


def test_thai_labels_and_choices_round_trip_byte_for_byte(session, blobs):
    assert unicodedata.normalize("NFKC", SARA_AM) != SARA_AM
    content = xlsform(
        [
            {"type": "text", "name": "full_name", "label::Thai (th)": QUESTION, "label::English (en)": "Full name"},
            {"type": "select_one status", "name": "status", "label::Thai (th)": SARA_AM, "label::English (en)": "Status"},
        ],
        choices=[{"list_name": "status", "name": "stateless", "label::Thai (th)": CHOICE, "label::English (en)": "Stateless"}],
        settings={"form_id": "thai", "version": "1", "form_title": "แบบสำรวจ สถานะบุคคล", "default_language": "Thai (th)"},
    )
    organisation = create_organisation(session, "thai", "องค์กรทดสอบ")
    upload = forms.add_form_version(session, blobs, organisation, content, "thai.xlsx")
    session.commit()
    session.expire_all()

    stored = session.get(FormVersion, upload.version.id)
    assert QUESTION.encode("utf-8") in stored.xform
    assert SARA_AM.encode("utf-8") in stored.xform
    assert CHOICE.encode("utf-8") in stored.xform
    assert stored.title == "แบบสำรวจ สถานะบุคคล"
    assert stored.source == content
    fields = {node["name"]: node for node in stored.field_tree["fields"]}
    assert fields["full_name"]["labels"]["Thai (th)"] == QUESTION
    assert fields["status"]["labels"]["Thai (th)"] == SARA_AM
    assert fields["status"]["choices"][0]["labels"] == {"Thai (th)": CHOICE, "English (en)": "Stateless"}
    assert stored.field_tree["default_language"] == "Thai (th)"
