"""The flattened copy of a submission: derived from its XML, kept at ingest, rebuilt on demand."""

from __future__ import annotations

from sqlalchemy import select, update

from formserver.exports.flatten import ensure_flattened, flatten, flattened_copy, rebuild, repeat_paths
from formserver.exports.samples import add_submission
from formserver.models import Submission

from .test_export_support import SOMCHAI, organisation, visit  # noqa: F401 - fixtures

REPEATS = frozenset({"member", "member/document", "group/rep"})


def test_answers_are_keyed_by_their_path_relative_to_their_row_and_repeats_are_lists():
    xml = b"""<data id="f"><household><head>A</head><members>3</members></household>
    <member><name>X</name><document><kind>tr14</kind></document><document><kind>birth</kind></document></member>
    <member><name>Y</name></member><meta><instanceID>uuid:1</instanceID></meta></data>"""
    assert flatten(xml, REPEATS) == {
        "household/head": "A",
        "household/members": "3",
        "member": [
            {"name": "X", "document": [{"kind": "tr14"}, {"kind": "birth"}]},
            {"name": "Y"},
        ],
        "meta/instanceID": "uuid:1",
    }


def test_empty_answers_are_left_out_and_text_is_kept_exactly():
    xml = "<data><a/><b></b><c>  two  spaces </c><d>0570189001238</d><e>\n</e></data>".encode()
    assert flatten(xml, frozenset()) == {"c": "  two  spaces ", "d": "0570189001238"}


def test_a_repeat_with_one_entry_inside_a_group_is_still_a_list():
    xml = b"<data><group><rep><q>1</q></rep><after>z</after></group></data>"
    assert flatten(xml, REPEATS) == {"group/rep": [{"q": "1"}], "group/after": "z"}


def test_namespaces_and_repeat_templates_do_not_matter():
    xml = b"""<d:data xmlns:d="http://opendatakit.org/submissions" xmlns:jr="http://openrosa.org/javarosa">
    <d:member jr:template=""><d:name/></d:member><d:member><d:name>N</d:name></d:member></d:data>"""
    assert flatten(xml, REPEATS) == {"member": [{"name": "N"}]}


def test_the_repeats_come_from_the_field_tree(session, visit):
    assert repeat_paths(visit.field_tree) == {"member", "member/document"}


def test_missing_copies_are_filled_in_and_rebuild_recomputes_every_copy(session, visit):
    kept = add_submission(session, visit, SOMCHAI)
    missing = add_submission(session, visit, SOMCHAI, flattened=False)
    session.commit()
    assert ensure_flattened(session, visit.form) == 1
    session.refresh(missing)
    assert missing.data["member"][0]["id_number"] == "0570189001238"
    session.execute(update(Submission).where(Submission.id == kept.id).values(data={"stale": "1"}))
    session.commit()
    assert rebuild(session, visit.form) == 2
    rebuilt = session.scalar(select(Submission.data).where(Submission.id == kept.id))
    assert rebuilt["household/head_name"] == "สมชาย ใจดี" and "stale" not in rebuilt


def test_ingest_keeps_the_flattened_copy_of_a_new_submission(session, visit):
    submission = add_submission(session, visit, SOMCHAI)
    copy = flattened_copy(session, visit.id, submission.xml, visit.xform_md5)
    assert copy == submission.data
    assert flattened_copy(session, visit.id, b"<not xml", visit.xform_md5) is None


def test_a_submission_received_from_a_phone_is_stored_with_its_flattened_copy(session, blobs, organisation, visit):
    from formserver.exports.samples import instance_xml
    from formserver.submissions import ingest

    xml = instance_xml(visit.field_tree, SOMCHAI, instance_id="uuid:from-a-phone")
    outcome = ingest(session, blobs, organisation, xml)
    stored = session.scalar(select(Submission).where(Submission.instance_id == "uuid:from-a-phone"))
    assert outcome is not None and stored.data == flatten(xml, repeat_paths(visit.field_tree))
    assert stored.data["member"][0]["id_number"] == "0570189001238"
