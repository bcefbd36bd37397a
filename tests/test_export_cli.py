"""``formserver export``: the operator's way to an export file, and to rebuilt flattened copies."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select, update

from formserver.cli.exports import ProgressBar
from formserver.exports.samples import add_submission
from formserver.models import AuditEvent, Submission

from .test_export_support import NAPAT, SOMCHAI, organisation, read_workbook, table, visit  # noqa: F401 - fixtures



@pytest.fixture
def stored(session, visit):
    add_submission(session, visit, SOMCHAI, instance_id="uuid:a")
    add_submission(session, visit, NAPAT, instance_id="uuid:b")
    session.commit()  # the command uses its own connections
    return visit


def test_export_writes_the_workbook_and_says_what_is_in_it(run, stored, tmp_path, database):
    target = tmp_path / "visit.xlsx"
    code, out, err = run("export", "hillnet", "visit", "-o", str(target), "--lang", "en")
    assert code == 0, err
    assert err == ""  # no progress bar when stderr is not a terminal
    assert out.strip() == f"{target}: 2 submissions (visit 2, member 3, document 3)"
    sheets = read_workbook(target)
    assert sheets["visit"][1][1] == "Head of household"
    assert not list(tmp_path.glob(".*partial"))
    with database.sessions() as fresh:
        event = fresh.scalar(select(AuditEvent).where(AuditEvent.action == "export.create"))
        assert (event.target, event.details["via"], event.details["lang"]) == ("visit", "command line", "en")


def test_export_csv_without_bom_with_names_only(run, stored, tmp_path):
    target = tmp_path / "visit.csv.zip"
    code, _, err = run("export", "hillnet", "visit", "-o", str(target), "--format", "csv", "--no-bom", "--header", "names", "--values", "names")
    assert code == 0, err
    with zipfile.ZipFile(target) as archive:
        main = archive.read("visit.csv").decode("utf-8")
    assert main.startswith("SubmissionDate (Asia/Bangkok),household-head_name,")
    assert ",yes," in main.splitlines()[1]


def test_export_filters_by_the_day_received(run, session, stored, tmp_path):
    code, out, _ = run("export", "hillnet", "visit", "-o", str(tmp_path / "x.xlsx"), "--since", "2000-01-01", "--until", "2000-01-02")
    assert code == 0 and ": 0 submissions" in out


def test_export_with_media_writes_a_zip(run, stored, tmp_path):
    target = tmp_path / "visit-media.zip"
    code, _, err = run("export", "hillnet", "visit", "-o", str(target), "--media")
    assert code == 0, err
    assert zipfile.ZipFile(target).namelist() == ["visit-media.xlsx"]


def test_a_bad_option_or_unknown_form_exits_non_zero_with_one_line(run, stored, tmp_path):
    code, _, err = run("export", "hillnet", "visit", "-o", str(tmp_path / "x.xlsx"), "--since", "last week")
    assert code == 1 and err.count("\n") == 1 and "since" in err
    code, _, err = run("export", "hillnet", "nothing", "-o", str(tmp_path / "x.xlsx"))
    assert code == 1 and "nothing" in err
    code, _, err = run("export", "hillnet", "visit")
    assert code == 2 and "-o FILE" in err
    assert not list(tmp_path.glob("*x.xlsx*")) and not list(tmp_path.glob(".x.xlsx*"))


def test_export_rebuild_recomputes_the_flattened_copies(run, session, stored, tmp_path, database):
    with database.sessions() as fresh:
        fresh.execute(update(Submission).values(data=None))
        fresh.commit()
    code, out, err = run("export", "rebuild", "hillnet", "visit")
    assert code == 0, err
    assert out.strip() == "visit: rebuilt the flattened copy of 2 submissions"
    with database.sessions() as fresh:
        assert all(data["household/has_land"] for data in fresh.scalars(select(Submission.data)))


def test_the_progress_bar_shows_rows_done_of_the_total():
    stream = io.StringIO()
    bar = ProgressBar(stream, width=10)
    bar(5, 20)
    bar(20, 20)
    bar.finish()
    assert "[##--------]  25%  5/20 submissions" in stream.getvalue()
    assert stream.getvalue().endswith("[##########] 100%  20/20 submissions\n")
