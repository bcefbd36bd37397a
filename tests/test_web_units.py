"""The plain functions behind the pages: what changes for exports, relevance in words, a submission
read against its field tree, labels in the page's language (the catalogue: test_translations.py)."""

from __future__ import annotations

from formserver.web import changes, display, i18n, relevance
from formserver.xform import field_tree, iter_fields
from formserver.xlsform import convert

from .web_fixtures import CHOICES, EN, SURVEY, TH, instance, intake_form
from .xlsforms import xlsform


def tree_of(content: bytes) -> dict:
    return field_tree(convert(content, "intake.xlsx").xform)


# -- what changes for exports --------------------------------------------------------------------


def test_the_first_version_has_every_column_added():
    result = changes.compare(None, tree_of(intake_form()))
    assert result.first_version and not result.unchanged
    assert {c.path for c in result.columns_added} >= {"name", "consent", "household/members", "member/member_name"}
    assert [s.path for s in result.sheets_added] == ["member"]


def test_a_note_is_not_a_column():
    survey = SURVEY + [{"type": "note", "name": "thanks", TH: "ขอบคุณ", EN: "Thank you"}]
    assert changes.compare(tree_of(intake_form("1")), tree_of(intake_form("2", survey=survey))).unchanged


def test_the_same_form_changes_nothing():
    assert changes.compare(tree_of(intake_form("1")), tree_of(intake_form("2"))).unchanged


def test_columns_added_removed_and_moved():
    old = tree_of(intake_form("1"))
    survey = [row for row in SURVEY if row.get("name") != "members"]  # removed
    survey.insert(1, {"type": "text", "name": "village", TH: "หมู่บ้าน", EN: "Village"})  # added
    # "name" moves into the household group
    survey = [row for row in survey if row.get("name") != "name"]
    survey.insert(survey.index(next(r for r in survey if r.get("name") == "household")) + 1, {"type": "text", "name": "name", TH: "ชื่อ", EN: "Name"})
    result = changes.compare(old, tree_of(intake_form("2", survey=survey)))
    assert [c.path for c in result.columns_added] == ["village"]
    assert [c.path for c in result.columns_removed] == ["household/members"]
    assert [(a.path, b.path) for a, b in result.columns_moved] == [("name", "household/name")]
    assert ("household/name", "Name") in [(new.path, new.labels["English (en)"]) for _, new in result.labels_changed]


def test_repeats_are_sheets_and_their_columns_say_so():
    survey = SURVEY + [
        {"type": "begin_repeat", "name": "visit", TH: "การเยี่ยม", EN: "Visit"},
        {"type": "date", "name": "visit_date", TH: "วันที่", EN: "Date"},
        {"type": "end_repeat"},
    ]
    result = changes.compare(tree_of(intake_form("1")), tree_of(intake_form("2", survey=survey)))
    assert [s.path for s in result.sheets_added] == ["visit"]
    assert [(c.path, c.sheet) for c in result.columns_added] == [("visit/visit_date", "visit")]


def test_choices_added_removed_renamed_and_relabelled():
    new_choices = [
        {"list_name": "yesno", "name": "y", TH: "ยินยอม", EN: "Yes"},  # renamed from "yes": same labels
        {"list_name": "yesno", "name": "no", TH: "ไม่ยินยอม", EN: "No, not at all"},  # relabelled
        {"list_name": "yesno", "name": "later", TH: "ภายหลัง", EN: "Later"},  # added
    ]
    result = changes.compare(tree_of(intake_form("1")), tree_of(intake_form("2", choices=new_choices)))
    assert [(old["name"], new["name"]) for _, old, new in result.choices_renamed] == [("yes", "y")]
    assert [(c.path, new["labels"]["English (en)"]) for c, _, new in result.choices_relabelled] == [("consent", "No, not at all")]
    assert [ch["name"] for _, ch in result.choices_added] == ["later"]
    assert result.choices_removed == []
    dropped = changes.compare(tree_of(intake_form("1")), tree_of(intake_form("2", choices=CHOICES[:1])))
    assert [ch["name"] for _, ch in dropped.choices_removed] == ["no"]


def test_a_changed_type_is_named():
    survey = [dict(row, type="integer") if row.get("name") == "name" else row for row in SURVEY]
    result = changes.compare(tree_of(intake_form("1")), tree_of(intake_form("2", survey=survey)))
    assert [(a.type, b.type) for a, b in result.types_changed] == [("string", "int")]


# -- relevance in words --------------------------------------------------------------------------

def words(expression: str, node_path: str, tree: dict, language: str = "en") -> str | None:
    return relevance.in_words(expression, node_path, tree["fields"], language, lambda labels: i18n.label_of(labels, tree, language))


def test_a_simple_condition_is_said_in_words_in_both_languages():
    tree = tree_of(intake_form())
    household = next(n for n in tree["fields"] if n["name"] == "household")
    assert words(household["relevant"], household["path"], tree) == "“Do you consent?” is “Yes”"
    assert words(household["relevant"], household["path"], tree, "th") == "“ยินยอมให้ข้อมูลหรือไม่” คือ “ยินยอม”"


def test_relative_paths_selected_not_and_or():
    tree = tree_of(
        xlsform(
            [
                {"type": "select_multiple needs", "name": "needs", "label": "Needs"},
                {"type": "integer", "name": "age", "label": "Age"},
                {"type": "begin_repeat", "name": "r", "label": "R"},
                {"type": "text", "name": "a", "label": "A"},
                {"type": "text", "name": "b", "label": "B", "relevant": "${a} != '' and (${age} >= 15 or not(selected(${needs}, 'none')))"},
                {"type": "end_repeat"},
            ],
            choices=[{"list_name": "needs", "name": "none", "label": "None"}, {"list_name": "needs", "name": "legal", "label": "Legal aid"}],
            settings={"form_id": "f", "version": "1"},
        )
    )
    b = tree["fields"][2]["children"][1]
    assert words(b["relevant"], b["path"], tree) == "“A” is answered and (“Age” is at least 15 or “Needs” does not include “None”)"


def test_an_expression_that_is_not_simple_is_shown_as_written():
    expression = " /data/age  > 15 and string-length( /data/name ) > 2"
    tree = {"fields": [], "languages": ["default"]}
    assert words(expression, "/data/x", tree) is None
    assert relevance.as_written(expression) == "${age} > 15 and string-length(${name}) > 2"
    assert relevance.as_written(" ../record_status  = 'yes'") == "${record_status} = 'yes'"


# -- a submission read against its field tree -------------------------------------------------------


def test_walk_nests_groups_and_repeats_and_names_chosen_choices():
    tree = tree_of(intake_form())
    answers = display.walk(tree, instance("uuid:1"))
    by_name = {a.node["name"]: a for a in answers}
    assert by_name["consent"].chosen[0]["labels"]["Thai (th)"] == "ยินยอม"
    household = {a.node["name"]: a for a in by_name["household"].children}
    assert household["photo"].is_file and household["photo"].value == "photo.png"
    assert [[a.value for a in item] for item in by_name["member"].instances] == [["นิด"], ["น้อย"]]
    places = [a.path for a in display.flatten(answers)]
    assert "/data/member[2]/member_name" in places


def test_side_by_side_marks_the_differences():
    tree = tree_of(intake_form())
    rows = display.side_by_side(display.walk(tree, instance("uuid:1")), display.walk(tree, instance("uuid:1", members="4")))
    differing = [place for place, _a, _b, differs in rows if differs]
    assert differing == ["/data/household/members"]


def test_question_kinds_in_words():
    tree = tree_of(intake_form())
    kinds = {n["name"]: display.type_name(n) for n in iter_fields(tree["fields"]) if n["kind"] == "field"}
    assert kinds["photo"] == "photo" and kinds["consent"] == "select one" and kinds["members"] == "integer"
    assert kinds["instanceID"] in ("calculated", "hidden")


# -- labels and the catalogue ----------------------------------------------------------------------


def test_the_form_language_matching_the_page_language_is_chosen():
    tree = {"languages": ["Thai (th)", "English (en)"], "default_language": "Thai (th)"}
    labels = {"Thai (th)": "ชื่อ", "English (en)": "Name"}
    assert i18n.label_of(labels, tree, "th") == "ชื่อ"
    assert i18n.label_of(labels, tree, "en") == "Name"
    assert i18n.label_of({"Thai (th)": "ชื่อ"}, tree, "en") == "ชื่อ"  # falls back to the default language
    assert i18n.form_language(["ภาษาไทย", "English"], "th") == "ภาษาไทย"
    assert i18n.form_language(["default"], "en") is None

