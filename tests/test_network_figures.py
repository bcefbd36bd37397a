"""The network's cross-table: who is counted, once, and only while their organisation shares."""

from __future__ import annotations

from datetime import date

import pytest

from formserver.network.figures import pooled_forms, registered_by_several
from formserver.network.suppression import suppress
from formserver.network.table import MONTH, NOT_ANSWERED, ORGANISATION, TableRequest
from formserver.network.words import unit_label
from formserver.network.workbook import from_json, to_json
from formserver.problems import Problem

from .network_world import FORM_ID, count, household_xml, member, send, share, sharing_organisation

HEAD_ID = "1570100012345"
PERSON_ID = "3570100098765"


def persons_by_status(session, blobs, **options):
    return count(session, blobs, TableRequest(FORM_ID, rows="legal_status", unit="member", **options))


def test_a_form_not_shared_is_never_counted(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, _ = sharing_organisation(session, blobs, "rivernet", shared=False)
    send(session, blobs, hill, household_xml("uuid:h1", members=[member("นา")]))
    send(session, blobs, river, household_xml("uuid:r1", members=[member("คำ"), member("แสง")]))
    table = persons_by_status(session, blobs)
    assert table.total == 1 and table.organisations == ("hillnet",)
    assert set(pooled_forms(session)[FORM_ID].organisations) == {"hillnet"}


def test_a_form_shared_by_nobody_has_no_table(session, blobs):
    sharing_organisation(session, blobs, "hillnet", shared=False)
    with pytest.raises(Problem) as refused:
        persons_by_status(session, blobs)
    assert refused.value.code == "network.no_form"


def test_withdrawing_sharing_removes_the_organisation_at_once_and_sharing_again_brings_it_back(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, river_form = sharing_organisation(session, blobs, "rivernet")
    send(session, blobs, hill, household_xml("uuid:h1", members=[member("นา")]))
    send(session, blobs, river, household_xml("uuid:r1", members=[member("คำ"), member("แสง")]))
    assert persons_by_status(session, blobs).total == 3
    share(session, blobs, river_form, False)
    assert persons_by_status(session, blobs).total == 1
    share(session, blobs, river_form, True)
    assert persons_by_status(session, blobs).total == 3


def test_a_person_registered_by_two_organisations_is_counted_once_with_the_newest_answers(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, _ = sharing_organisation(session, blobs, "rivernet")
    send(session, blobs, hill, household_xml("uuid:h1", members=[member("นา", PERSON_ID, "pending")]))
    send(session, blobs, river, household_xml("uuid:r1", members=[member("นา", "3-5701-00098-76-5", "thai")]))
    table = persons_by_status(session, blobs)
    assert table.total == 1
    assert table.row_totals["thai"] == 1 and table.row_totals["pending"] == 0
    assert registered_by_several(session, pooled_forms(session)[FORM_ID], "member") == 1


def test_a_household_counted_once_brings_its_members_from_the_newest_record_only(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, _ = sharing_organisation(session, blobs, "rivernet")
    send(session, blobs, hill, household_xml("uuid:h1", head_id=HEAD_ID, members=[member("นา"), member("คำ"), member("แสง")]))
    send(session, blobs, river, household_xml("uuid:r1", head_id=HEAD_ID, province="63", members=[member("นา"), member("คำ")]))
    households = count(session, blobs, TableRequest(FORM_ID, rows="province"))
    assert households.total == 1 and households.row_totals["63"] == 1
    persons = persons_by_status(session, blobs, filters={})
    assert persons.total == 2  # the newest record's two members, not 3 + 2
    by_organisation = count(session, blobs, TableRequest(FORM_ID, rows=ORGANISATION, unit="member"))
    assert by_organisation.row_totals == {"hillnet": 0, "rivernet": 2}


def test_persons_without_an_identity_are_counted_as_they_are_and_reported(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, _ = sharing_organisation(session, blobs, "rivernet")
    send(session, blobs, hill, household_xml("uuid:h1", members=[member("นา"), member("คำ", "12345")]))
    send(session, blobs, river, household_xml("uuid:r1", members=[member("นา"), member("แสง", PERSON_ID)]))
    table = persons_by_status(session, blobs)
    assert table.total == 4
    assert table.without_identity == 3  # "12345" is not 13 digits: no identity, not matched


def test_an_edited_record_counts_only_its_current_version(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    send(session, blobs, hill, household_xml("uuid:v1", members=[member("นา", status="pending")]))
    send(session, blobs, hill, household_xml("uuid:v2", deprecated="uuid:v1", members=[member("นา", status="thai")]))
    table = persons_by_status(session, blobs)
    assert table.total == 1 and table.row_totals["thai"] == 1


def test_a_two_dimension_table_adds_up_with_not_answered_as_a_choice(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    send(session, blobs, hill, household_xml("uuid:h1", province="50", members=[member("นา", age="4"), member("คำ", age="")]))
    send(session, blobs, hill, household_xml("uuid:h2", province="57", members=[member("แสง", status="thai", age="70")]))
    table = count(session, blobs, TableRequest(FORM_ID, rows="age", columns="province", unit="member"))
    assert [choice.name for choice in table.rows.choices] == ["0-17", "18-59", "60+", NOT_ANSWERED]
    assert table.counts[("0-17", "50")] == 1 and table.counts[(NOT_ANSWERED, "50")] == 1
    assert table.counts[("60+", "57")] == 1 and table.counts[("18-59", "63")] == 0
    assert sum(table.row_totals.values()) == sum(table.column_totals.values()) == table.total == 3


def test_a_select_multiple_totals_count_units_not_choices(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    send(session, blobs, hill, household_xml("uuid:h1", members=[member("นา", documents="birth tr14"), member("คำ", documents="birth")]))
    table = count(session, blobs, TableRequest(FORM_ID, rows="legal_status", columns="documents", unit="member"))
    assert table.columns.multiple
    assert table.column_totals["birth"] == 2 and table.column_totals["tr14"] == 1
    assert table.row_totals["stateless"] == 2 and table.total == 2


def test_filters_by_month_province_and_organisation(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, _ = sharing_organisation(session, blobs, "rivernet")
    send(session, blobs, hill, household_xml("uuid:h1", province="50", members=[member("นา")]))
    send(session, blobs, river, household_xml("uuid:r1", province="57", members=[member("คำ"), member("แสง")]))
    assert persons_by_status(session, blobs, filters={"province": ("57",)}).total == 2
    assert persons_by_status(session, blobs, filters={ORGANISATION: ("hillnet",)}).total == 1
    month = pooled_forms(session)[FORM_ID].months[0]
    assert persons_by_status(session, blobs, filters={MONTH: (month,)}).total == 3
    assert persons_by_status(session, blobs, until=date(2000, 1, 31)).total == 0
    assert persons_by_status(session, blobs, since=date.today().replace(day=1)).total == 3


def test_a_field_that_is_not_declared_cannot_be_asked(session, blobs):
    sharing_organisation(session, blobs, "hillnet")
    for field in ("head_name", "id_number", "gps", "remark", "member_name"):
        with pytest.raises(Problem) as refused:
            count(session, blobs, TableRequest(FORM_ID, rows=field, unit="member"))
        assert refused.value.code == "network.no_dimension"


def test_labels_come_from_the_form_in_thai_and_english(session, blobs):
    sharing_organisation(session, blobs, "hillnet")
    dimension = pooled_forms(session)[FORM_ID].dimension("member", "legal_status")
    assert dimension.label("th") == "สถานะ" and dimension.label("en") == "Legal status"
    assert dimension.choices[1].label("th") == "ไร้สัญชาติ"
    assert dimension.choices[-1].name == NOT_ANSWERED and dimension.choices[-1].label("en") == "Not answered"


def test_counting_between_arrivals_gives_what_counting_once_gives(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, _ = sharing_organisation(session, blobs, "rivernet")
    send(session, blobs, hill, household_xml("uuid:h1", head_id=HEAD_ID, members=[member("นา", PERSON_ID), member("คำ")]))
    assert persons_by_status(session, blobs).total == 2
    send(session, blobs, river, household_xml("uuid:r1", head_id=HEAD_ID, members=[member("นา", PERSON_ID, "thai")]))
    table = persons_by_status(session, blobs)
    assert table.total == 1 and table.row_totals["thai"] == 1  # the household's newest record, with its one member
    send(session, blobs, hill, household_xml("uuid:h2", members=[member("แสง", PERSON_ID, "pending")]))
    table = persons_by_status(session, blobs)
    assert table.total == 1 and table.row_totals["pending"] == 1  # the same person in a newer household


def test_withdrawing_brings_back_the_older_record_it_hid(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, river_form = sharing_organisation(session, blobs, "rivernet")
    send(session, blobs, hill, household_xml("uuid:h1", members=[member("นา", PERSON_ID, "pending")]))
    send(session, blobs, river, household_xml("uuid:r1", members=[member("นา", PERSON_ID, "thai")]))
    assert persons_by_status(session, blobs).row_totals["thai"] == 1
    share(session, blobs, river_form, False)
    table = persons_by_status(session, blobs)
    assert table.total == 1 and table.row_totals["pending"] == 1


def test_a_select_multiple_on_the_rows_counts_each_unit_once_in_its_total(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    send(session, blobs, hill, household_xml("uuid:h1", members=[member("นา", PERSON_ID, documents="birth tr14"), member("คำ", documents="birth")]))
    alone = count(session, blobs, TableRequest(FORM_ID, rows="documents", unit="member"))
    assert alone.counts[("birth", None)] == 2 and alone.counts[("tr14", None)] == 1
    assert alone.total == 2 and alone.without_identity == 1
    crossed = count(session, blobs, TableRequest(FORM_ID, rows="documents", columns="legal_status", unit="member"))
    assert crossed.column_totals["stateless"] == 2 and crossed.row_totals["birth"] == 2
    assert crossed.total == 2 and crossed.without_identity == 1


def test_a_table_of_persons_names_its_unit_by_the_repeat_label_in_each_language(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    send(session, blobs, hill, household_xml("uuid:h1", members=[member("นา")]))
    persons = suppress(persons_by_status(session, blobs), 5)
    assert (unit_label(persons, "th"), unit_label(persons, "en")) == ("แถวของ สมาชิก", "Rows of Member")
    assert from_json(to_json(persons)).unit_labels == {"th": "สมาชิก", "en": "Member"}
    households = suppress(count(session, blobs, TableRequest(FORM_ID, rows="province")), 5)
    assert households.unit_labels == {} and unit_label(households, "en") == "Households (submissions)"
