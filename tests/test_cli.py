"""The ``formserver`` command: its output and exit codes are a contract other tools rely on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


from .xlsforms import simple_form, xlsform



@pytest.fixture
def org(run):
    assert run("org", "create", "hillnet", "--name", "เครือข่ายบนดอย")[0] == 0
    return "hillnet"


def test_db_upgrade_is_safe_to_run_again(run):
    assert run("db", "upgrade")[0] == 0
    code, out, _ = run("db", "upgrade")
    assert code == 0 and "up to date" in out


def test_org_create_twice_fails_with_a_one_line_reason(run, org):
    code, out, err = run("org", "create", "hillnet", "--name", "Again")
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "Organisation hillnet already exists" in err


def test_user_create_and_member_add(run, org):
    assert run("user", "create", "Som@Example.org", "--password", "correct horse battery")[0] == 0
    code, out, _ = run("member", "add", "hillnet", "som@example.org", "--role", "collector")
    assert code == 0 and "som@example.org is collector of hillnet" in out


def test_member_add_with_an_unknown_role_says_which_roles_exist(run, org):
    run("user", "create", "a@example.org", "--password", "correct horse battery")
    code, _, err = run("member", "add", "hillnet", "a@example.org", "--role", "boss")
    assert code == 1 and "use manager, collector or viewer" in err


def test_a_short_password_is_refused(run):
    code, _, err = run("user", "create", "a@example.org", "--password", "short")
    assert code == 1 and "at least 10 characters" in err


def test_form_add_prints_form_id_and_version_on_its_last_line(run, org, tmp_path):
    path = tmp_path / "simple.xlsx"
    path.write_bytes(simple_form(version="7"))
    code, out, _ = run("form", "add", "hillnet", str(path))
    assert code == 0
    assert out.strip().splitlines()[-1] == "simple 7"


def test_form_add_of_a_broken_form_names_the_row(run, org, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(xlsform([{"type": "text", "name": "ok", "label": "OK"}, {"type": "calculate", "name": "c", "label": "C"}]))
    code, out, err = run("form", "add", "hillnet", str(path))
    assert code == 1
    assert "sheet 'survey', row 3" in err and "Missing calculation" in err
    assert run("form", "list", "hillnet")[1] == ""


def test_form_add_to_an_unknown_organisation_fails(run, tmp_path):
    path = tmp_path / "simple.xlsx"
    path.write_bytes(simple_form())
    code, _, err = run("form", "add", "nowhere", str(path))
    assert code == 1 and "There is no organisation nowhere" in err


def test_form_add_of_a_missing_file_fails_with_one_line(run, org, tmp_path):
    code, _, err = run("form", "add", "hillnet", str(tmp_path / "absent.xlsx"))
    assert code == 1 and "absent.xlsx" in err and err.strip().count("\n") == 0


def test_form_list_shows_version_state_draft_and_missing_media(run, org, tmp_path):
    path = tmp_path / "media.xlsx"
    path.write_bytes(
        xlsform(
            [{"type": "note", "name": "logo", "label": "Logo", "media::image": "logo.png"}],
            settings={"form_id": "media", "version": "3"},
        )
    )
    run("form", "add", "hillnet", str(path), "--draft")
    _, out, _ = run("form", "list", "hillnet")
    assert out.strip().split("\t") == ["media", "3", "open", "draft", "incomplete: missing logo.png"]
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG")
    assert run("form", "media", "hillnet", "media", str(logo))[1].strip() == "media complete"
    assert run("form", "publish", "hillnet", "media")[0] == 0
    run("form", "state", "hillnet", "media", "closing")
    _, out, _ = run("form", "list", "hillnet")
    assert out.strip().split("\t") == ["media", "3", "closing", "published", "media complete"]


def test_form_state_refuses_an_unknown_state(run, org, tmp_path):
    path = tmp_path / "simple.xlsx"
    path.write_bytes(simple_form())
    run("form", "add", "hillnet", str(path))
    code, _, err = run("form", "state", "hillnet", "simple", "archived")
    assert code == 1 and "archived is not a form state" in err


def test_setup_creates_the_default_organisation_loads_forms_and_prints_the_password_once(run, tmp_path):
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "simple.xlsx").write_bytes(simple_form(title="แบบสำรวจ"))
    code, out, _ = run("setup", "--forms", str(folder))
    assert code == 0
    assert "created organisation default" in out
    assert "form simple 1 loaded" in out
    assert "created administrator admin@example.org with password" in out
    code, out, _ = run("setup", "--forms", str(folder))
    assert code == 0
    assert "form simple 1 already loaded" in out
    assert "password" not in out


def test_the_installed_console_script_exits_non_zero_with_one_line(environment):
    executable = shutil.which("formserver", path=str(Path(sys.executable).parent))
    assert executable, "pip install -e . installs the formserver command"
    result = subprocess.run(
        [executable, "org", "create", "Bad Slug", "--name", "x"], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "cannot be an organisation's short name" in result.stderr


def test_commands_on_a_database_without_tables_say_to_run_db_upgrade(run, monkeypatch, tmp_path):
    monkeypatch.setenv("FORMSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    for command in (("org", "list"), ("appuser", "list", "default"), ("serve", "--port", "1")):
        code, out, err = run(*command)
        assert code == 1 and out == "", command
        assert err.count("\n") == 1 and "run `formserver db upgrade`" in err and "revision none" in err, command
    code, out, _ = run("db", "upgrade")
    assert code == 0
    assert run("org", "list")[0] == 0
