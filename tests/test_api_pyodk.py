"""ODK's own Python client, pyodk, against a real ``formserver serve``: what an analyst's script does."""

from __future__ import annotations

import csv
import io
import subprocess
import zipfile
from urllib.parse import unquote

import pytest
from pyodk.client import Client
from pyodk.errors import PyODKError

from .servers import formserver_executable, running_server
from .web_fixtures import PHOTO, build_world, instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def pyodk_client(database, blobs, settings, environment, tmp_path):
    world = build_world(database, blobs, settings)
    with running_server(environment, workers=1) as (base, _pid):
        config = tmp_path / "pyodk_config.toml"
        config.write_text(
            f'[central]\nbase_url = "{base}"\nusername = "manager@hill.example"\n'
            f'password = "correct horse battery"\ndefault_project_id = {world.own.org_id}\n'
        )
        with Client(config_path=config, cache_path=tmp_path / "pyodk_cache.toml") as client:
            yield client, world


def test_pyodk_reads_projects_forms_submissions_and_the_feed(pyodk_client):
    client, world = pyodk_client
    assert [p.id for p in client.projects.list()] == [world.own.org_id]
    assert [(f.xmlFormId, f.version, f.name) for f in client.forms.list()] == [("intake", "1", "แบบสำรวจครัวเรือน")]
    assert [s.instanceId for s in client.submissions.list(form_id="intake")] == ["uuid:hillnet-1"]
    table = client.submissions.get_table(form_id="intake", expand="*", filter="__system/submissionDate gt 2020-01-01")
    row = table["value"][0]
    assert row["name"] == "สมชาย" and row["household"]["members"] == 3
    assert [m["member_name"] for m in row["member"]] == ["นิด", "น้อย"]
    assert client.submissions.get_table(form_id="intake", filter="__system/submissionDate lt 2020-01-01")["value"] == []
    xml = client.session.get(f"projects/{world.own.org_id}/forms/intake/submissions/uuid:hillnet-1.xml")
    assert "สมชาย" in xml.content.decode("utf-8")
    photo = client.session.get(f"projects/{world.own.org_id}/forms/intake/submissions/uuid:hillnet-1/attachments/photo.png")
    assert photo.content == PHOTO


def test_pyodk_creates_once_reviews_and_comments(pyodk_client):
    client, world = pyodk_client
    xml = instance("uuid:pyodk-1", name="สมหญิง", photo=None).decode("utf-8")
    created = client.submissions.create(xml=xml, form_id="intake", device_id="pyodk-test")
    assert created.instanceId == "uuid:pyodk-1" and created.deviceId == "pyodk-test"
    with pytest.raises(PyODKError) as resend:
        client.submissions.create(xml=xml, form_id="intake")
    assert "409" in str(resend.value)
    assert sorted(s.instanceId for s in client.submissions.list(form_id="intake")) == ["uuid:hillnet-1", "uuid:pyodk-1"]
    client.submissions.review(instance_id="uuid:pyodk-1", review_state="approved", form_id="intake", comment="ดีมาก")
    assert client.submissions.get(instance_id="uuid:pyodk-1", form_id="intake").reviewState == "approved"
    assert [c.body for c in client.submissions.list_comments(instance_id="uuid:pyodk-1", form_id="intake")] == ["ดีมาก"]


def flattened(row: dict, prefix: str = ""):
    """(column name, answer) of a feed row as an export names its columns: groups joined with "-"."""
    for key, value in row.items():
        if key.startswith("__") or "@odata" in key or isinstance(value, list):
            continue
        if isinstance(value, dict):
            yield from flattened(value, f"{prefix}{key}-")
        else:
            yield prefix + key, value


def csv_export(environment: dict, folder) -> dict[str, list[dict]]:
    """``formserver export … --format csv --header names --values names``: each table's rows."""
    target = folder / "intake.csv.zip"
    command = [formserver_executable(), "export", "hillnet", "intake", "-o", str(target), "--format", "csv",
               "--header", "names", "--values", "names"]
    subprocess.run(command, env=environment, check=True, capture_output=True)
    with zipfile.ZipFile(target) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in archive.namelist()
        }


def test_the_feed_pyodk_reads_holds_the_answers_of_our_csv_export(pyodk_client, environment, tmp_path):
    client, world = pyodk_client
    xml = instance("uuid:pyodk-thai", name="สมหญิง ดอยคำ", members="5", photo=None).decode("utf-8")
    client.submissions.create(xml=xml, form_id="intake")
    feed = client.submissions.get_table(form_id="intake", expand="*")["value"]
    fields = client.session.get(f"projects/{world.own.org_id}/forms/intake/fields?odata=false").json()
    files = {f["path"][1:].replace("/", "-") for f in fields if f["binary"]}
    tables = csv_export(environment, tmp_path)
    exported = {row["KEY"]: row for row in tables["intake.csv"]}
    assert sorted(exported) == sorted(row["__id"] for row in feed) == ["uuid:hillnet-1", "uuid:pyodk-thai"]
    compared = set()
    for row in feed:
        cells = exported[row["__id"]]
        for column, answer in flattened(row):
            compared.add(column)
            cell = cells[column]
            if column in files and cell:
                cell = unquote(cell.rsplit("/", 1)[-1])  # the export links the file, the feed names it
            assert cell == ("" if answer is None else str(answer)), (row["__id"], column)
        members = [m["member_name"] for m in tables["member.csv"] if m["PARENT_KEY"] == row["__id"]]
        assert members == [m["member_name"] for m in row["member"]]
    assert compared == {"name", "consent", "household-members", "household-photo", "meta-instanceID"}
    assert exported["uuid:pyodk-thai"]["name"] == "สมหญิง ดอยคำ" and exported["uuid:pyodk-thai"]["household-members"] == "5"
